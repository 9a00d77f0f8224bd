#include "core/quant/fp16.h"
#include "kernels/ops/cpu_ops.h"

namespace strata::cpu {

void kv_store(const float* k, const float* v, const int32_t* slots, int64_t n_tokens, int64_t kv_dim_k,
              int64_t kv_dim_v, uint16_t* k_cache, uint16_t* v_cache) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    uint16_t* kd = k_cache + static_cast<int64_t>(slots[t]) * kv_dim_k;
    uint16_t* vd = v_cache + static_cast<int64_t>(slots[t]) * kv_dim_v;
    for (int64_t j = 0; j < kv_dim_k; ++j) kd[j] = f32_to_fp16(k[t * kv_dim_k + j]);
    for (int64_t j = 0; j < kv_dim_v; ++j) vd[j] = f32_to_fp16(v[t * kv_dim_v + j]);
  }
}

}  // namespace strata::cpu
