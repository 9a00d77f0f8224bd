#include "worker/shard/kv_cache.h"

#include "core/util/status_macros.h"

namespace strata {

size_t KvCache::block_bytes(const ModelConfig& c, int64_t n_layers, int64_t block_size) {
  return static_cast<size_t>(n_layers * block_size * (c.kv_dim_k() + c.kv_dim_v())) * sizeof(uint16_t);
}

absl::StatusOr<std::unique_ptr<KvCache>> KvCache::create(Backend& backend, const ModelConfig& c, int64_t n_layers,
                                                         int64_t n_blocks, int64_t block_size) {
  if (n_blocks <= 0 || block_size <= 0) return absl::InvalidArgumentError("kv cache: no blocks");
  std::unique_ptr<KvCache> cache(new KvCache(backend));
  cache->n_blocks_ = n_blocks;
  cache->block_size_ = block_size;
  const size_t slots = static_cast<size_t>(n_blocks * block_size);
  for (int64_t il = 0; il < n_layers; ++il) {
    STRATA_ASSIGN_OR_RETURN(void* k, backend.allocate(slots * c.kv_dim_k() * sizeof(uint16_t)));
    cache->k_.push_back(static_cast<uint16_t*>(k));
    STRATA_ASSIGN_OR_RETURN(void* v, backend.allocate(slots * c.kv_dim_v() * sizeof(uint16_t)));
    cache->v_.push_back(static_cast<uint16_t*>(v));
  }
  return cache;
}

KvCache::~KvCache() {
  for (uint16_t* p : k_) backend_.release(p);
  for (uint16_t* p : v_) backend_.release(p);
}

}  // namespace strata
