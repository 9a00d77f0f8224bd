// Logical KV blocks: which physical block ids are free, who shares them (reference counts), which full blocks hold
// a known token prefix (automatic prefix caching), and the block table of each sequence. Pure bookkeeping — the
// coordinator decides, workers only hold the pages these ids address.
//
// A block whose last holder lets go stays cached (evictable) when it holds a published prefix: a later request
// with the same prefix takes it back instead of recomputing. Allocation prefers never-cached free blocks and
// then evicts the least recently released cached block.
#pragma once

#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace strata {

// Hash of a full block's tokens chained with the hash of everything before it, so equal hashes mean equal prefixes.
uint64_t kv_block_hash(uint64_t parent_hash, std::span<const int32_t> tokens);

class KvBlockAllocator {
 public:
  explicit KvBlockAllocator(int32_t n_blocks);

  // A block with reference count 1; ResourceExhausted when every block is held.
  absl::StatusOr<int32_t> allocate();
  // Another holder of `block` (prefix sharing).
  void retain(int32_t block);
  // Drops one reference; at zero the block becomes free, or evictable if it caches a prefix.
  void release(int32_t block);

  // The cached block holding the prefix `hash`, with one more reference; -1 when not cached.
  int32_t lookup(uint64_t hash);
  // Records that held block `block` now holds the full prefix `hash` (no-op if that prefix is already cached).
  void publish(int32_t block, uint64_t hash);

  int32_t num_blocks() const { return static_cast<int32_t>(ref_counts_.size()); }
  // Blocks an allocation can obtain: free plus evictable.
  int32_t num_available() const { return static_cast<int32_t>(free_.size() + evictable_.size()); }
  int32_t num_in_use() const { return num_blocks() - num_available(); }
  int32_t ref_count(int32_t block) const { return ref_counts_[block]; }

 private:
  std::vector<int32_t> free_;                          // never-cached free ids; low ids come out first
  std::vector<int32_t> ref_counts_;                    // [n_blocks]
  std::vector<uint64_t> block_hash_;                   // [n_blocks] prefix hash, valid where has_hash_
  std::vector<uint8_t> has_hash_;                      // [n_blocks]
  std::unordered_map<uint64_t, int32_t> cached_;       // prefix hash -> block
  std::list<int32_t> evictable_;                       // cached blocks nobody holds, least recently released first
  std::vector<std::list<int32_t>::iterator> lru_pos_;  // [n_blocks] position in evictable_
};

// The blocks one sequence uses, in position order.
class SequenceBlocks {
 public:
  SequenceBlocks(KvBlockAllocator& allocator, int32_t block_size) : allocator_(&allocator), block_size_(block_size) {}
  ~SequenceBlocks() { release_all(); }
  SequenceBlocks(SequenceBlocks&& other) noexcept;
  SequenceBlocks& operator=(SequenceBlocks&& other) noexcept;
  SequenceBlocks(const SequenceBlocks&) = delete;
  SequenceBlocks& operator=(const SequenceBlocks&) = delete;

  // Grows the table to cover `n_tokens` positions. On ResourceExhausted the table is unchanged.
  absl::Status reserve(int64_t n_tokens);
  // Appends an already-held block (a prefix-cache hit); the table takes over that reference.
  void adopt(int32_t block) { table_.push_back(block); }
  void release_all();
  const std::vector<int32_t>& table() const { return table_; }
  int64_t capacity() const { return static_cast<int64_t>(table_.size()) * block_size_; }
  int32_t block_size() const { return block_size_; }

 private:
  KvBlockAllocator* allocator_;
  int32_t block_size_;
  std::vector<int32_t> table_;
};

}  // namespace strata
