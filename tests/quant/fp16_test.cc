// fp16 / bf16 conversions: exhaustive over all 65536 bit patterns, and rounding of random and tie-case floats
// against references computed independently (exact double arithmetic over a table of every half value).
#include "core/quant/fp16.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace strata {
namespace {

bool is_fp16_nan(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0; }

// Value of a finite half from its definition: (-1)^s * 2^(e-15) * 1.m, or 2^-14 * 0.m for e == 0.
double fp16_reference_value(uint16_t h) {
  const int e = (h >> 10) & 0x1F;
  const int m = h & 0x3FF;
  const double mag = e == 0 ? std::ldexp(m, -24) : std::ldexp(1024 + m, e - 25);
  return (h & 0x8000) ? -mag : mag;
}

// Nearest half (ties to the even bit pattern) by binary search over all finite non-negative halves.
uint16_t fp16_reference_round(float f) {
  static const std::vector<double> table = [] {
    std::vector<double> t;
    for (uint32_t h = 0; h < 0x7C00; ++h) t.push_back(fp16_reference_value(static_cast<uint16_t>(h)));
    return t;
  }();
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double a = std::fabs(static_cast<double>(f));
  if (a >= 65520.0) return sign | 0x7C00;  // 65520 = halfway from 65504 to 2^16, rounds (to even) to infinity
  if (a >= 65504.0) return sign | 0x7BFF;  // above the table's last entry but nearer to it than to 2^16
  const auto it = std::lower_bound(table.begin(), table.end(), a);
  const uint32_t hi = static_cast<uint32_t>(it - table.begin());
  if (hi == 0 || table[hi] == a) return sign | hi;
  const uint32_t lo = hi - 1;
  const double dlo = a - table[lo], dhi = table[hi] - a;
  if (dlo < dhi) return sign | lo;
  if (dhi < dlo) return sign | hi;
  return sign | ((lo & 1) ? hi : lo);
}

uint16_t bf16_reference_round(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint32_t lo = bits & 0xFFFF0000u;
  float flo, fhi;
  const uint32_t hi_bits = lo + 0x10000u;
  std::memcpy(&flo, &lo, 4);
  std::memcpy(&fhi, &hi_bits, 4);
  // Exact in double: both candidates and f are floats.
  const double dlo = std::fabs(static_cast<double>(f) - flo);
  const double dhi = std::isinf(fhi) ? std::fabs(static_cast<double>(f) - std::ldexp(1.0, 128) * std::copysign(1.0, f))
                                     : std::fabs(static_cast<double>(fhi) - f);
  if (dlo < dhi) return static_cast<uint16_t>(lo >> 16);
  if (dhi < dlo) return static_cast<uint16_t>(hi_bits >> 16);
  return static_cast<uint16_t>(((lo >> 16) & 1) ? hi_bits >> 16 : lo >> 16);
}

TEST(Fp16Test, AllHalvesConvertExactlyAndBack) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const uint16_t h = static_cast<uint16_t>(i);
    const float f = fp16_to_f32(h);
    if (is_fp16_nan(h)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
      const uint16_t back = f32_to_fp16(f);
      ASSERT_TRUE(is_fp16_nan(back)) << std::hex << h;
      ASSERT_EQ(back & 0x8000, h & 0x8000) << std::hex << h;
      continue;
    }
    if ((h & 0x7FFF) == 0x7C00) {
      ASSERT_TRUE(std::isinf(f)) << std::hex << h;
      ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0);
    } else {
      ASSERT_EQ(static_cast<double>(f), fp16_reference_value(h)) << std::hex << h;
      ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << h;  // -0 stays -0
    }
    ASSERT_EQ(f32_to_fp16(f), h) << std::hex << h;
#if defined(__FLT16_MAX__)
    // Second, compiler-provided reference where the toolchain has _Float16.
    _Float16 c;
    std::memcpy(&c, &h, 2);
    ASSERT_EQ(static_cast<float>(c), f) << std::hex << h;
#endif
  }
}

TEST(Fp16Test, TiesRoundToEven) {
  // Every midpoint between consecutive finite positive halves is exact in f32; ties go to the even pattern, and
  // one f32 ulp either side decides the direction.
  for (uint32_t h = 0; h < 0x7BFF; ++h) {
    const float a = fp16_to_f32(static_cast<uint16_t>(h));
    const float b = fp16_to_f32(static_cast<uint16_t>(h + 1));
    const float mid = 0.5f * (a + b);
    ASSERT_EQ(static_cast<double>(mid), 0.5 * (static_cast<double>(a) + b));
    const uint32_t even = (h & 1) ? h + 1 : h;
    ASSERT_EQ(f32_to_fp16(mid), even) << h;
    ASSERT_EQ(f32_to_fp16(-mid), even | 0x8000) << h;
    ASSERT_EQ(f32_to_fp16(std::nextafter(mid, 0.0f)), h) << h;
    ASSERT_EQ(f32_to_fp16(std::nextafter(mid, 1e9f)), h + 1) << h;
  }
  EXPECT_EQ(f32_to_fp16(65504.0f), 0x7BFF);
  EXPECT_EQ(f32_to_fp16(65519.99f), 0x7BFF);
  EXPECT_EQ(f32_to_fp16(65520.0f), 0x7C00);
  EXPECT_EQ(f32_to_fp16(-1e30f), 0xFC00);
  EXPECT_EQ(f32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);                        // tie between 0 and 2^-24
  EXPECT_EQ(f32_to_fp16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);  // just above it
  EXPECT_EQ(f32_to_fp16(1e-30f), 0x0000);
  EXPECT_EQ(f32_to_fp16(-1e-30f), 0x8000);
  EXPECT_TRUE(is_fp16_nan(f32_to_fp16(std::nanf(""))));
}

TEST(Fp16Test, RandomFloatsRoundToNearest) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<uint32_t> any_bits;
  std::uniform_real_distribution<float> exponent(-30.0f, 17.0f);
  for (int i = 0; i < 400000; ++i) {
    float f;
    if (i % 2 == 0) {
      const uint32_t bits = any_bits(rng);
      std::memcpy(&f, &bits, 4);
      if (std::isnan(f)) continue;
    } else {
      // Concentrated on the half range, subnormals included.
      f = std::ldexp(1.0f + (any_bits(rng) >> 9) * 0x1p-23f, static_cast<int>(exponent(rng)));
      if (any_bits(rng) & 1) f = -f;
    }
    ASSERT_EQ(f32_to_fp16(f), fp16_reference_round(f)) << f;
#if defined(__FLT16_MAX__)
    const _Float16 c = static_cast<_Float16>(f);
    uint16_t cbits;
    std::memcpy(&cbits, &c, 2);
    ASSERT_EQ(f32_to_fp16(f), cbits) << f;
#endif
  }
}

TEST(Bf16Test, AllBf16ConvertExactlyAndBack) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const uint16_t b = static_cast<uint16_t>(i);
    const float f = bf16_to_f32(b);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    ASSERT_EQ(bits, static_cast<uint32_t>(b) << 16);
    const uint16_t back = f32_to_bf16(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(bf16_to_f32(back))) << std::hex << b;
      ASSERT_EQ(back & 0x8000, b & 0x8000);
    } else {
      ASSERT_EQ(back, b) << std::hex << b;
    }
  }
}

TEST(Bf16Test, RandomFloatsRoundToNearestEven) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<uint32_t> any_bits;
  for (int i = 0; i < 400000; ++i) {
    uint32_t bits = any_bits(rng);
    if (i % 4 == 0) bits = (bits & 0xFFFF0000u) | 0x8000u;  // exact ties
    float f;
    std::memcpy(&f, &bits, 4);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(f))));
      continue;
    }
    ASSERT_EQ(f32_to_bf16(f), bf16_reference_round(f)) << std::hex << bits;
  }
}

}  // namespace
}  // namespace strata
