// Measures this machine's memory read bandwidth, the ceiling of memory-bound decode, so benchmarks can report
// how close a kernel gets to it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/thread_pool.h"

namespace strata::cpu {

// Best-of-`repeats` GB/s (1e9 bytes/s) for all pool threads streaming through a buffer, each thread reading its own
// contiguous part, as the GEMV splits weight rows. Each repeat tries every load loop the CPU can run (256-bit and,
// with AVX-512, 512-bit loads; no prefetch, and software prefetch at several distances, including the GEMV kernels'
// L2 + L1 scheme); the best of all is reported, so the figure is the most this machine was seen to read, not what
// one access pattern gets.
//
// The meter holds its buffer from construction to destruction, so a benchmark measures before and after its runs
// with one allocation and frees it only at the end: freeing gigabytes perturbs what runs in the next seconds. On
// a 2-vCPU Firecracker VM, decode right after a freed 1.9 GiB buffer had runs 12-17 % slower than the rest (64-69
// vs 76-84 tok/s, 850M Q4_0), a second or two apart: the guest's free-page work takes a core from the 2 threads.
class ReadBandwidthMeter {
 public:
  // bytes = 0: memory_bandwidth_buffer_bytes(). Touches every page of the buffer (written, not zero pages).
  explicit ReadBandwidthMeter(size_t bytes = 0);
  ~ReadBandwidthMeter();
  ReadBandwidthMeter(const ReadBandwidthMeter&) = delete;
  ReadBandwidthMeter& operator=(const ReadBandwidthMeter&) = delete;

  // 0 when the buffer could not be allocated.
  double measure(ThreadPool& pool, int repeats = 5);
  // The buffer's size (0 when it could not be allocated).
  size_t bytes() const { return buffer_ == nullptr ? 0 : words_ * sizeof(uint64_t); }

 private:
  uint64_t* buffer_ = nullptr;
  size_t words_ = 0;
};

// One ReadBandwidthMeter's measure: allocates, measures and frees.
double measure_read_bandwidth(ThreadPool& pool, size_t bytes = 0, int repeats = 5);

// A buffer large enough that reading it measures DRAM, not the caches: STREAM's rule, 4 x the last-level cache, and
// at least 1 GiB (at most a quarter of physical memory). A cyclic read of a buffer only twice the cache still hits
// it in part: on a 2-vCPU VM with a 480 MiB shared L3, 2 threads read 1 GiB at 36.1-36.6 GB/s and 4 GiB at
// 35.4-35.7 (512 MiB: 38.1-38.4, 64 MiB: 58-60).
size_t memory_bandwidth_buffer_bytes();

// Bytes of the last-level cache (one instance, as the OS reports it), 0 when unknown. Data that fits there can be
// read faster than measure_read_bandwidth's DRAM figure.
size_t last_level_cache_bytes();

}  // namespace strata::cpu
