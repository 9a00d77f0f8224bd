#include "kernels/cpu/host_memory.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

namespace strata::cpu {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

}  // namespace

void* allocate_host_memory(size_t bytes) {
  const size_t alignment = bytes >= kHugePage ? kHugePage : 64;
  // Rounded to whole cache lines, not to whole huge pages: a 2.3 MiB matrix must not hold 4 MiB (a model's
  // matrices would waste a quarter of their size). The tail past the last 2 MiB boundary takes 4 KiB pages.
  const size_t rounded = ((bytes == 0 ? 1 : bytes) + 63) / 64 * 64;
  void* p = nullptr;
  if (posix_memalign(&p, alignment, rounded) != 0) return nullptr;
  // Advice only: where transparent huge pages are off ("never") the kernel ignores it and 4 KiB pages serve.
  if (alignment == kHugePage) (void)madvise(p, rounded / kHugePage * kHugePage, MADV_HUGEPAGE);
  // Zeroing also faults every page in now (as huge pages where granted), not during the first forward pass.
  std::memset(p, 0, rounded);
  return p;
}

void release_host_memory(void* p) { std::free(p); }

}  // namespace strata::cpu
