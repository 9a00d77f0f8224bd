// The 32-block formats as a compile-time parameter of the row-lane kernels (AVX-512 LaneLegacy, AVX2 LanePacked8):
// their block types and the traits those kernels branch on. Types and constants only, so both ISA units may share it.
#pragma once

#include <type_traits>

#include "core/quant/block_formats.h"

namespace strata::cpu {

enum class Legacy { kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ8_0 };

template <Legacy kFormat>
struct LegacyFormat {
  static constexpr bool kQ8 = kFormat == Legacy::kQ8_0;
  static constexpr bool kFive = kFormat == Legacy::kQ5_0 || kFormat == Legacy::kQ5_1;
  static constexpr bool kHasMin = kFormat == Legacy::kQ4_1 || kFormat == Legacy::kQ5_1;
  using Block = std::conditional_t<
      kFormat == Legacy::kQ4_0, BlockQ4_0,
      std::conditional_t<kFormat == Legacy::kQ4_1, BlockQ4_1,
                         std::conditional_t<kFormat == Legacy::kQ5_0, BlockQ5_0,
                                            std::conditional_t<kFormat == Legacy::kQ5_1, BlockQ5_1, BlockQ8_0>>>>;
  // The activation format: Q8_1 (with d * sum) for the formats with a min.
  using Partner = std::conditional_t<kHasMin, BlockQ8_1, BlockQ8_0>;
};

}  // namespace strata::cpu
