#include "coordinator/kv/block_allocator.h"

#include <cassert>

#include "absl/strings/str_cat.h"

namespace strata {

uint64_t kv_block_hash(uint64_t parent_hash, std::span<const int32_t> tokens) {
  // splitmix64-style mixing of each token into the chain: cheap, and a 64-bit state keeps accidental collisions
  // between distinct prefixes far below one in a lifetime of requests.
  uint64_t h = parent_hash ^ 0x9e3779b97f4a7c15ull;
  for (int32_t t : tokens) {
    h ^= static_cast<uint64_t>(static_cast<uint32_t>(t)) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    h ^= h >> 31;
  }
  return h;
}

KvBlockAllocator::KvBlockAllocator(int32_t n_blocks)
    : ref_counts_(n_blocks, 0), block_hash_(n_blocks, 0), has_hash_(n_blocks, 0), lru_pos_(n_blocks) {
  free_.reserve(n_blocks);
  for (int32_t b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
}

absl::StatusOr<int32_t> KvBlockAllocator::allocate() {
  int32_t block;
  if (!free_.empty()) {
    block = free_.back();
    free_.pop_back();
  } else if (!evictable_.empty()) {
    block = evictable_.front();  // least recently released cached prefix
    evictable_.pop_front();
    cached_.erase(block_hash_[block]);
    has_hash_[block] = 0;
  } else {
    return absl::ResourceExhaustedError(absl::StrCat("kv cache: all ", ref_counts_.size(), " blocks are in use"));
  }
  ref_counts_[block] = 1;
  return block;
}

void KvBlockAllocator::retain(int32_t block) {
  assert(ref_counts_[block] > 0 && "retain of an unheld block");
  ++ref_counts_[block];
}

void KvBlockAllocator::release(int32_t block) {
  assert(ref_counts_[block] > 0 && "release of an unheld block");
  if (--ref_counts_[block] > 0) return;
  if (has_hash_[block]) {
    lru_pos_[block] = evictable_.insert(evictable_.end(), block);
  } else {
    free_.push_back(block);
  }
}

int32_t KvBlockAllocator::lookup(uint64_t hash) {
  auto it = cached_.find(hash);
  if (it == cached_.end()) return -1;
  const int32_t block = it->second;
  if (ref_counts_[block] == 0) evictable_.erase(lru_pos_[block]);
  ++ref_counts_[block];
  return block;
}

void KvBlockAllocator::publish(int32_t block, uint64_t hash) {
  if (has_hash_[block] || cached_.count(hash) > 0) return;
  has_hash_[block] = 1;
  block_hash_[block] = hash;
  cached_[hash] = block;
}

SequenceBlocks::SequenceBlocks(SequenceBlocks&& other) noexcept
    : allocator_(other.allocator_), block_size_(other.block_size_), table_(std::move(other.table_)) {
  other.table_.clear();
}

SequenceBlocks& SequenceBlocks::operator=(SequenceBlocks&& other) noexcept {
  if (this != &other) {
    release_all();
    allocator_ = other.allocator_;
    block_size_ = other.block_size_;
    table_ = std::move(other.table_);
    other.table_.clear();
  }
  return *this;
}

absl::Status SequenceBlocks::reserve(int64_t n_tokens) {
  const int64_t needed = (n_tokens + block_size_ - 1) / block_size_;
  const size_t before = table_.size();
  while (static_cast<int64_t>(table_.size()) < needed) {
    auto block = allocator_->allocate();
    if (!block.ok()) {
      while (table_.size() > before) {  // all or nothing
        allocator_->release(table_.back());
        table_.pop_back();
      }
      return block.status();
    }
    table_.push_back(*block);
  }
  return absl::OkStatus();
}

void SequenceBlocks::release_all() {
  for (int32_t block : table_) allocator_->release(block);
  table_.clear();
}

}  // namespace strata
