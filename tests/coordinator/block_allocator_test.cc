// KV block bookkeeping: allocation, sharing, all-or-nothing growth, and the prefix cache's reuse and LRU eviction.
#include "coordinator/kv/block_allocator.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace strata {
namespace {

TEST(KvBlockAllocator, AllocatesEveryBlockOnceThenReportsExhaustion) {
  KvBlockAllocator a(4);
  std::set<int32_t> got;
  for (int i = 0; i < 4; ++i) {
    auto b = a.allocate();
    ASSERT_TRUE(b.ok());
    got.insert(*b);
  }
  EXPECT_EQ(got.size(), 4u);
  EXPECT_EQ(a.allocate().status().code(), absl::StatusCode::kResourceExhausted);
  a.release(*got.begin());
  EXPECT_TRUE(a.allocate().ok());
}

TEST(KvBlockAllocator, SharedBlockFreesAfterLastHolder) {
  KvBlockAllocator a(1);
  const int32_t b = *a.allocate();
  a.retain(b);
  a.release(b);
  EXPECT_FALSE(a.allocate().ok());  // still held once
  a.release(b);
  EXPECT_TRUE(a.allocate().ok());
}

TEST(SequenceBlocks, GrowthIsAllOrNothing) {
  KvBlockAllocator a(3);
  SequenceBlocks s(a, 16);
  ASSERT_TRUE(s.reserve(20).ok());  // 2 blocks
  EXPECT_EQ(s.table().size(), 2u);
  EXPECT_EQ(s.reserve(100).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.table().size(), 2u);
  EXPECT_EQ(a.num_available(), 1);
  s.release_all();
  EXPECT_EQ(a.num_available(), 3);
}

TEST(PrefixCache, PublishedBlockIsReusedAfterRelease) {
  KvBlockAllocator a(2);
  const std::vector<int32_t> tokens = {5, 6, 7, 8};
  const uint64_t h = kv_block_hash(0, tokens);
  const int32_t b = *a.allocate();
  a.publish(b, h);
  a.release(b);
  EXPECT_EQ(a.num_available(), 2);  // evictable counts as available
  EXPECT_EQ(a.lookup(h), b);
  EXPECT_EQ(a.ref_count(b), 1);
  EXPECT_EQ(a.lookup(kv_block_hash(h, tokens)), -1);  // a different prefix
}

TEST(PrefixCache, EvictsLeastRecentlyReleasedFirst) {
  KvBlockAllocator a(2);
  const int32_t b0 = *a.allocate(), b1 = *a.allocate();
  const uint64_t h0 = kv_block_hash(0, std::vector<int32_t>{1}), h1 = kv_block_hash(0, std::vector<int32_t>{2});
  a.publish(b0, h0);
  a.publish(b1, h1);
  a.release(b1);  // released first: evicted first
  a.release(b0);
  const int32_t fresh = *a.allocate();
  EXPECT_EQ(fresh, b1);
  EXPECT_EQ(a.lookup(h1), -1);
  EXPECT_EQ(a.lookup(h0), b0);
}

TEST(PrefixCache, HashChainsDistinguishPositions) {
  const std::vector<int32_t> x = {1, 2, 3}, y = {1, 2, 4};
  EXPECT_NE(kv_block_hash(0, x), kv_block_hash(0, y));
  EXPECT_NE(kv_block_hash(kv_block_hash(0, x), x), kv_block_hash(0, x));
  EXPECT_EQ(kv_block_hash(7, x), kv_block_hash(7, x));
}

}  // namespace
}  // namespace strata
