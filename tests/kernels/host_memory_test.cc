// The CPU backend's memory: zeroed, aligned for whole cache lines, and 2 MiB aligned (huge-page candidates) from
// 2 MiB up; the read-bandwidth measurement built on it returns a plausible figure.
#include "kernels/cpu/host_memory.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "gtest/gtest.h"
#include "kernels/cpu/memory_bandwidth.h"
#include "kernels/cpu/thread_pool.h"

namespace strata::cpu {
namespace {

TEST(HostMemoryTest, ZeroedAndAligned) {
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{100}, size_t{4096}, (size_t{2} << 20) - 1, size_t{2} << 20,
                       (size_t{5} << 20) + 3}) {
    auto* p = static_cast<uint8_t*>(allocate_host_memory(bytes));
    ASSERT_NE(p, nullptr) << bytes;
    const auto addr = reinterpret_cast<uintptr_t>(p);
    EXPECT_EQ(addr % 64, 0u) << bytes;
    if (bytes >= (size_t{2} << 20)) EXPECT_EQ(addr % (size_t{2} << 20), 0u) << bytes;
    for (size_t i = 0; i < bytes; i += 997) ASSERT_EQ(p[i], 0) << bytes << " at " << i;
    if (bytes > 0) EXPECT_EQ(p[bytes - 1], 0) << bytes;
    std::memset(p, 0xAB, bytes);  // all of it is writable
    release_host_memory(p);
  }
}

TEST(HostMemoryTest, ReadBandwidthIsPlausible) {
  ThreadPool pool(2);
  const double gbs = measure_read_bandwidth(pool, size_t{64} << 20, 2);
  EXPECT_GT(gbs, 0.5);     // any machine streams faster than this
  EXPECT_LT(gbs, 5000.0);  // and none this fast: a broken timer or an optimized-away loop
}

// The default buffer measures DRAM, not the last-level cache: 4 x the LLC (STREAM's rule) and at least 1 GiB, unless
// that would take more than a quarter of physical memory.
TEST(HostMemoryTest, BandwidthBufferOutsizesTheCache) {
  const size_t bytes = memory_bandwidth_buffer_bytes();
  const size_t physical = static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
  EXPECT_LE(bytes, physical / 4);
  if (physical / 4 >= std::max(size_t{1} << 30, 4 * last_level_cache_bytes())) {
    EXPECT_GE(bytes, size_t{1} << 30);
    EXPECT_GE(bytes, 4 * last_level_cache_bytes());
  }
}

}  // namespace
}  // namespace strata::cpu
