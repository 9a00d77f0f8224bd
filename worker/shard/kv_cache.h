// Physical KV pages of one shard: for each of its layers, `n_blocks` blocks of `block_size` token slots holding
// K and V in f16. Which blocks a sequence uses is decided by the coordinator's block manager (block tables).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/model_config.h"
#include "kernels/backend.h"

namespace strata {

class KvCache {
 public:
  static absl::StatusOr<std::unique_ptr<KvCache>> create(Backend& backend, const ModelConfig& config, int64_t n_layers,
                                                         int64_t n_blocks, int64_t block_size);
  ~KvCache();
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  // Bytes one block takes across all layers of this shard.
  static size_t block_bytes(const ModelConfig& config, int64_t n_layers, int64_t block_size);

  uint16_t* k(int64_t layer) { return k_[layer]; }  // [n_blocks * block_size, kv_dim_k]
  uint16_t* v(int64_t layer) { return v_[layer]; }  // [n_blocks * block_size, kv_dim_v]
  int64_t n_blocks() const { return n_blocks_; }
  int64_t block_size() const { return block_size_; }

 private:
  KvCache(Backend& backend) : backend_(backend) {}
  Backend& backend_;
  int64_t n_blocks_ = 0;
  int64_t block_size_ = 0;
  std::vector<uint16_t*> k_, v_;
};

}  // namespace strata
