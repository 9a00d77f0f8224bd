#include "kernels/cpu/memory_bandwidth.h"

#include <immintrin.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/cpu/host_memory.h"

namespace strata::cpu {
namespace {

// Sums 64-bit words so the loads cannot be optimized away; four accumulators keep several loads in flight.
uint64_t read_scalar(const uint64_t* p, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}

// 256-bit loads: the widest the GEMV kernels stream with on AVX2 machines. With kPrefetchBytes > 0, also software
// prefetch into L2 that far ahead, as the GEMV kernels do: on some machines one core's demand misses and the
// hardware prefetchers alone leave bandwidth unused (this 2-vCPU Sapphire Rapids VM, huge pages: 29 GB/s plain,
// 32 at 4 KiB, 34.5 at 2 KiB).
template <size_t kPrefetchBytes>
__attribute__((target("avx2"))) uint64_t read_avx2(const uint64_t* p, size_t n) {
  constexpr bool kPrefetch = kPrefetchBytes > 0;
  constexpr size_t kAheadWords = kPrefetchBytes / sizeof(uint64_t);
  __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
  size_t i = 0;
  for (; i + 16 + (kPrefetch ? kAheadWords : 0) <= n; i += 16) {
    if constexpr (kPrefetch) {
      _mm_prefetch(reinterpret_cast<const char*>(p + i + kAheadWords), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(p + i + kAheadWords + 8), _MM_HINT_T1);
    }
    a = _mm256_add_epi64(a, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    b = _mm256_add_epi64(b, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
    c = _mm256_add_epi64(c, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
    d = _mm256_add_epi64(d, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
  }
  const __m256i s = _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(c, d));
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + read_scalar(p + i, n - i);
}

// 512-bit loads, with prefetch into L2 kL2Bytes ahead and into L1 kL1Bytes ahead (0: none), one of each per line:
// the widest loads, and the prefetch scheme of the AVX-512 GEMV kernels (3 KiB into L2, 640 B into L1). kStreams
// splits the thread's part in that many pieces read side by side: two streams per core read ~5 % more than one
// on the VM above at a moment its bandwidth was constrained (26 vs 24.5 GB/s), where the 256-bit loops read 23; at a
// fast moment, one stream 36.2, two at 2-3 KiB each 37.6-38.6, four at 1.5 KiB each 38.5-38.7 GB/s.
template <size_t kL2Bytes, size_t kL1Bytes, size_t kStreams>
__attribute__((target("avx512f"))) uint64_t read_avx512(const uint64_t* p, size_t n) {
  constexpr size_t kAheadWords = std::max(kL2Bytes, kL1Bytes) / sizeof(uint64_t);
  const size_t per_stream = n / kStreams & ~size_t{15};
  __m512i a = _mm512_setzero_si512(), b = a;
  size_t i = 0;
  for (; i + 16 + kAheadWords <= per_stream; i += 16) {
    for (size_t s = 0; s < kStreams; ++s) {
      const uint64_t* q = p + s * per_stream + i;
      const char* line = reinterpret_cast<const char*>(q);
      if constexpr (kL2Bytes > 0) {
        _mm_prefetch(line + kL2Bytes, _MM_HINT_T1);
        _mm_prefetch(line + kL2Bytes + 64, _MM_HINT_T1);
      }
      if constexpr (kL1Bytes > 0) {
        _mm_prefetch(line + kL1Bytes, _MM_HINT_T0);
        _mm_prefetch(line + kL1Bytes + 64, _MM_HINT_T0);
      }
      a = _mm512_add_epi64(a, _mm512_load_si512(q));
      b = _mm512_add_epi64(b, _mm512_load_si512(q + 8));
    }
  }
  uint64_t tail = 0;  // what the vector loop left of each stream, and of the part
  for (size_t s = 0; s < kStreams; ++s) tail += read_scalar(p + s * per_stream + i, per_stream - i);
  tail += read_scalar(p + kStreams * per_stream, n - kStreams * per_stream);
  return static_cast<uint64_t>(_mm512_reduce_add_epi64(_mm512_add_epi64(a, b))) + tail;
}

using ReadLoop = uint64_t (*)(const uint64_t*, size_t);

// Every load loop this CPU can run.
std::vector<ReadLoop> read_loops() {
  __builtin_cpu_init();
  std::vector<ReadLoop> loops = {read_scalar};
  if (__builtin_cpu_supports("avx2")) {
    loops = {read_avx2<0>, read_avx2<2048>, read_avx2<4096>};
  }
  if (__builtin_cpu_supports("avx512f")) {
    for (ReadLoop f :
         {read_avx512<0, 0, 1>, read_avx512<2048, 0, 1>, read_avx512<3072, 640, 1>, read_avx512<4096, 0, 1>,
          read_avx512<2048, 640, 2>, read_avx512<3072, 640, 2>, read_avx512<1536, 640, 4>}) {
      loops.push_back(f);
    }
  }
  return loops;
}

}  // namespace

size_t memory_bandwidth_buffer_bytes() {
  size_t bytes = std::max(size_t{1} << 30, 4 * last_level_cache_bytes());
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_size > 0) {
    bytes = std::min(bytes, static_cast<size_t>(pages) * static_cast<size_t>(page_size) / 4);
  }
  return bytes;
}

ReadBandwidthMeter::ReadBandwidthMeter(size_t bytes) {
  if (bytes == 0) bytes = memory_bandwidth_buffer_bytes();
  words_ = bytes / sizeof(uint64_t);
  // The same memory the weights live in (huge pages where the system grants them).
  buffer_ = static_cast<uint64_t*>(allocate_host_memory(words_ * sizeof(uint64_t)));
  if (buffer_ == nullptr) return;
  // Touch every page with non-zero data so reads hit real memory, not the shared zero page.
  for (size_t i = 0; i < words_; ++i) buffer_[i] = i * 0x9e3779b97f4a7c15ull;
}

ReadBandwidthMeter::~ReadBandwidthMeter() { release_host_memory(buffer_); }

double ReadBandwidthMeter::measure(ThreadPool& pool, int repeats) {
  if (buffer_ == nullptr) return 0;
  const std::vector<ReadLoop> loops = read_loops();
  const int threads = pool.num_threads();
  std::vector<uint64_t> sink(threads);
  double best = 0;
  // Each repeat runs every loop: the best of all is the machine's read bandwidth, whichever reaches it here.
  for (int r = 0; r < repeats; ++r) {
    for (ReadLoop loop : loops) {
      const auto start = std::chrono::steady_clock::now();
      pool.parallel_for(threads, [&](int64_t task, int) {
        const size_t chunk = (words_ / threads) & ~size_t{15};
        const size_t begin = static_cast<size_t>(task) * chunk;
        const size_t n = task + 1 == threads ? words_ - begin : chunk;
        sink[task] += loop(buffer_ + begin, n);
      });
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      best = std::max(best, static_cast<double>(words_ * sizeof(uint64_t)) / s / 1e9);
    }
  }
  volatile uint64_t keep = 0;
  for (uint64_t v : sink) keep = keep + v;
  return best;
}

double measure_read_bandwidth(ThreadPool& pool, size_t bytes, int repeats) {
  ReadBandwidthMeter meter(bytes);
  return meter.measure(pool, repeats);
}

size_t last_level_cache_bytes() {
#if defined(_SC_LEVEL3_CACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
  for (int name : {_SC_LEVEL3_CACHE_SIZE, _SC_LEVEL2_CACHE_SIZE}) {
    const long bytes = sysconf(name);
    if (bytes > 0) return static_cast<size_t>(bytes);
  }
#endif
  return 0;
}

}  // namespace strata::cpu
