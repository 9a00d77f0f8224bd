// Run-time selection of the CPU kernel instruction set.
//
// The binary is built for a generic x86-64 target; each SIMD kernel lives in its own translation unit compiled with
// that ISA's flags, and nothing calls into it unless the running CPU (and its OS, which must save the wider register
// state) supports it.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"

namespace strata::cpu {

// Ordered: a higher value needs everything a lower one does.
enum class Isa {
  kScalar = 0,  // portable C++
  kAvx2 = 1,    // AVX2 + FMA + F16C (Haswell and later)
  kAvx512 = 2,  // AVX-512 F/BW/VL/DQ + VNNI (Ice Lake, Sapphire Rapids, Zen 4)
};

std::string_view isa_name(Isa isa);
absl::StatusOr<Isa> parse_isa(std::string_view name);

// The best ISA this CPU and OS support (cpuid + xgetbv), ignoring the environment.
Isa detected_isa();

// True when kernels of `isa` may run here.
bool isa_supported(Isa isa);

// The ISA kernels use by default: detected_isa(), lowered by STRATA_CPU_ISA=scalar|avx2|avx512 when set. Asking for
// more than the CPU supports (or an unknown name) falls back to detected_isa(). Computed once.
Isa active_isa();

}  // namespace strata::cpu
