// Memory a model needs beyond its weights: the KV cache, which planners and `strata inspect` size up front.
#pragma once

#include <cstdint>

#include "core/model/model_config.h"

namespace strata {

struct KvCacheEstimate {
  uint64_t bytes = 0;                 // K and V for every layer at the given context (f16)
  uint64_t bytes_per_token_full = 0;  // per token, counting every layer as full attention
};

// Sliding-window layers keep at most `sliding_window` tokens, so they cost less at long contexts.
KvCacheEstimate estimate_kv_cache(const ModelConfig& config, int64_t ctx_size, int bytes_per_element = 2);

}  // namespace strata
