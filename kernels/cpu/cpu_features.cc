#include "kernels/cpu/cpu_features.h"

#include <cstdint>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define STRATA_X86 1
#endif

namespace strata::cpu {
namespace {

#if defined(STRATA_X86)
struct CpuidRegs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs cpuid(uint32_t leaf, uint32_t subleaf) {
  CpuidRegs r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

// XCR0 says which register states the OS saves on context switch; without it the wide registers are unusable even
// when cpuid advertises the instructions. Read with the raw encoding so no -mxsave flag is needed.
uint64_t read_xcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

Isa detect() {
  if (__get_cpuid_max(0, nullptr) < 7) return Isa::kScalar;
  const CpuidRegs l1 = cpuid(1, 0);
  const bool osxsave = (l1.ecx >> 27) & 1;
  const bool fma = (l1.ecx >> 12) & 1;
  const bool f16c = (l1.ecx >> 29) & 1;
  const bool avx = (l1.ecx >> 28) & 1;
  if (!osxsave || !avx) return Isa::kScalar;
  const uint64_t xcr0 = read_xcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;    // SSE + AVX state
  const bool zmm_state = (xcr0 & 0xE6) == 0xE6;  // + opmask, ZMM_Hi256, Hi16_ZMM
  const CpuidRegs l7 = cpuid(7, 0);
  const bool avx2 = (l7.ebx >> 5) & 1;
  const bool bmi2 = (l7.ebx >> 8) & 1;
  const bool avx512f = (l7.ebx >> 16) & 1;
  const bool avx512dq = (l7.ebx >> 17) & 1;
  const bool avx512bw = (l7.ebx >> 30) & 1;
  const bool avx512vl = (l7.ebx >> 31) & 1;
  const bool avx512vnni = (l7.ecx >> 11) & 1;
  if (!(ymm_state && avx2 && fma && f16c && bmi2)) return Isa::kScalar;
  if (zmm_state && avx512f && avx512dq && avx512bw && avx512vl && avx512vnni) return Isa::kAvx512;
  return Isa::kAvx2;
}
#else
Isa detect() { return Isa::kScalar; }
#endif

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

absl::StatusOr<Isa> parse_isa(std::string_view name) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (name == isa_name(isa)) return isa;
  }
  return absl::InvalidArgumentError("unknown CPU ISA name (expected scalar, avx2 or avx512)");
}

Isa detected_isa() {
  static const Isa isa = detect();
  return isa;
}

bool isa_supported(Isa isa) { return static_cast<int>(isa) <= static_cast<int>(detected_isa()); }

Isa active_isa() {
  static const Isa isa = [] {
    const char* env = std::getenv("STRATA_CPU_ISA");
    if (env == nullptr) return detected_isa();
    absl::StatusOr<Isa> forced = parse_isa(env);
    if (!forced.ok() || !isa_supported(*forced)) return detected_isa();
    return *forced;
  }();
  return isa;
}

}  // namespace strata::cpu
