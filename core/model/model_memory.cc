#include "core/model/model_memory.h"

#include <algorithm>

namespace strata {

KvCacheEstimate estimate_kv_cache(const ModelConfig& c, int64_t ctx_size, int bytes_per_element) {
  const uint64_t per_layer_token = static_cast<uint64_t>(c.kv_dim_k() + c.kv_dim_v()) * bytes_per_element;
  KvCacheEstimate e;
  e.bytes_per_token_full = per_layer_token * c.n_layer;
  for (int64_t il = 0; il < c.n_layer; ++il) {
    const int64_t tokens = c.is_sliding_layer(il) ? std::min(ctx_size, c.sliding_window) : ctx_size;
    e.bytes += per_layer_token * static_cast<uint64_t>(tokens);
  }
  return e;
}

}  // namespace strata
