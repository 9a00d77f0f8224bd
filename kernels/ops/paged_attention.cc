// Causal grouped-query attention over the paged f16 KV cache, one pass with online softmax.
//
// A task is one (token, KV head) pair: each K/V row is converted from f16 once and used by all the query heads of
// its group, so GQA models read the cache once per group rather than once per query head.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/quant/fp16.h"
#include "kernels/ops/cpu_ops.h"

namespace strata::cpu {
namespace {

using ConvertFn = void (*)(const uint16_t* src, float* dst, int64_t n);

void convert_scalar(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(src[i]);
}

// F16C converts 8 halves per instruction; the scalar conversion is ~10x slower and would dominate long contexts.
__attribute__((target("avx2,f16c"))) void convert_f16c(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  for (; i < n; ++i) dst[i] = fp16_to_f32(src[i]);
}

ConvertFn pick_convert() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") ? convert_f16c : convert_scalar;
}

float dot(const float* a, const float* b, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace

void paged_attention(const PagedAttentionArgs& a, ThreadPool& pool) {
  static const ConvertFn convert = pick_convert();
  const int64_t group = a.n_head / a.n_head_kv;
  const int64_t kv_stride_k = a.n_head_kv * a.head_dim_k;  // elements per cache slot
  const int64_t kv_stride_v = a.n_head_kv * a.head_dim_v;

  pool.parallel_for(a.n_tokens * a.n_head_kv, [&](int64_t task, int) {
    const int64_t t = task / a.n_head_kv;
    const int64_t kvh = task % a.n_head_kv;
    const int32_t* table = a.block_tables + static_cast<int64_t>(a.token_seq[t]) * a.max_blocks_per_seq;
    const int64_t pos = a.token_pos[t];
    const int64_t first = a.window > 0 ? std::max<int64_t>(0, pos - a.window + 1) : 0;

    thread_local std::vector<float> scratch;
    scratch.resize(a.head_dim_k + a.head_dim_v + group * (a.head_dim_v + 2));
    float* k = scratch.data();                // [head_dim_k]
    float* v = k + a.head_dim_k;              // [head_dim_v]
    float* acc = v + a.head_dim_v;            // [group, head_dim_v]
    float* run_max = acc + group * a.head_dim_v;  // [group]
    float* run_sum = run_max + group;             // [group]
    std::fill(acc, acc + group * a.head_dim_v, 0.0f);
    std::fill(run_max, run_max + group, -std::numeric_limits<float>::infinity());
    std::fill(run_sum, run_sum + group, 0.0f);

    const float* q0 = a.q + (t * a.n_head + kvh * group) * a.head_dim_k;  // [group, head_dim_k]
    for (int64_t p = first; p <= pos; ++p) {
      const int64_t slot = static_cast<int64_t>(table[p / a.block_size]) * a.block_size + p % a.block_size;
      convert(a.k_cache + slot * kv_stride_k + kvh * a.head_dim_k, k, a.head_dim_k);
      convert(a.v_cache + slot * kv_stride_v + kvh * a.head_dim_v, v, a.head_dim_v);
      for (int64_t g = 0; g < group; ++g) {
        const float s = dot(q0 + g * a.head_dim_k, k, a.head_dim_k) * a.scale;
        float* acc_g = acc + g * a.head_dim_v;
        if (s > run_max[g]) {
          // Rescale what was accumulated under the old maximum (exp(-inf) = 0 on the first position).
          const float correction = std::exp(run_max[g] - s);
          run_sum[g] *= correction;
          for (int64_t j = 0; j < a.head_dim_v; ++j) acc_g[j] *= correction;
          run_max[g] = s;
        }
        const float w = std::exp(s - run_max[g]);
        run_sum[g] += w;
        for (int64_t j = 0; j < a.head_dim_v; ++j) acc_g[j] += w * v[j];
      }
    }
    for (int64_t g = 0; g < group; ++g) {
      float* out = a.out + (t * a.n_head + kvh * group + g) * a.head_dim_v;
      const float inv = run_sum[g] > 0 ? 1.0f / run_sum[g] : 0.0f;
      for (int64_t j = 0; j < a.head_dim_v; ++j) out[j] = acc[g * a.head_dim_v + j] * inv;
    }
  });
}

}  // namespace strata::cpu
