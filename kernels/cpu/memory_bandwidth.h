// Measures this machine's memory read bandwidth, the ceiling of memory-bound decode, so benchmarks can report
// how close a kernel gets to it.
#pragma once

#include <cstddef>

#include "kernels/cpu/thread_pool.h"

namespace strata::cpu {

// Best-of-`repeats` GB/s (1e9 bytes/s) for all pool threads streaming through a `bytes`-long buffer (far larger
// than the caches), each thread reading its own contiguous part, as the GEMV splits weight rows. Each repeat tries
// every load loop the CPU can run (256-bit and, with AVX-512, 512-bit loads; no prefetch, and software prefetch
// at several distances, including the GEMV kernels' L2 + L1 scheme); the best of all is reported, so the figure is
// the most this machine was seen to read, not what one access pattern gets.
double measure_read_bandwidth(ThreadPool& pool, size_t bytes = size_t{1} << 30, int repeats = 5);

// Bytes of the last-level cache (one instance, as the OS reports it), 0 when unknown. Data that fits there can be
// read faster than measure_read_bandwidth's DRAM figure.
size_t last_level_cache_bytes();

}  // namespace strata::cpu
