// Host memory for the CPU backend's large buffers (weights, KV cache, benchmark buffers).
#pragma once

#include <cstddef>

namespace strata::cpu {

// Zeroed, 64-byte aligned memory for `bytes` (at least one byte), or null when the system has none. Buffers of 2 MiB
// and more are 2 MiB aligned and marked for transparent huge pages: decode streams every weight once per token, and
// with 4 KiB pages the page walks of a virtual machine (two-level translation) cost a quarter of the bandwidth
// (measured on a 2-vCPU Sapphire Rapids VM: 26.6 vs 34.6 GB/s streaming read). Free with release_host_memory.
void* allocate_host_memory(size_t bytes);
void release_host_memory(void* p);

}  // namespace strata::cpu
