// IEEE binary16 and bfloat16 conversions on raw bits, usable from host and device code.
//
// Portable integer implementations: every block scale in a GGUF file goes through fp16_to_f32, so it must be exact
// for subnormals, infinities and NaNs on any host. Kernels use hardware conversions (F16C, __half2float) on their
// hot paths and are checked against these.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/quant/host_device.h"

namespace strata {

STRATA_HOST_DEVICE STRATA_INLINE float f32_from_bits(uint32_t bits) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(bits);
#else
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
#endif
}

STRATA_HOST_DEVICE STRATA_INLINE uint32_t f32_to_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits;
#endif
}

// Exact: every binary16 value is representable in binary32. NaN payloads are kept (shifted into the top mantissa).
STRATA_HOST_DEVICE STRATA_INLINE float fp16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  if (exp == 0x1F) return f32_from_bits(sign | 0x7F800000u | (mant << 13));  // inf, NaN
  if (exp != 0) return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
  if (mant == 0) return f32_from_bits(sign);  // signed zero
  // Subnormal half (mant * 2^-24): normalize so the value becomes a normal binary32.
  uint32_t e = 113;  // biased binary32 exponent of 2^-14, the value of mantissa bit 10
  while ((mant & 0x400u) == 0) {
    mant <<= 1;
    --e;
  }
  return f32_from_bits(sign | (e << 23) | ((mant & 0x3FFu) << 13));
}

// Round to nearest, ties to even. Overflow gives infinity, tiny values give subnormals or signed zero, NaN stays a
// (quiet) NaN.
STRATA_HOST_DEVICE STRATA_INLINE uint16_t f32_to_fp16(float f) {
  const uint32_t bits = f32_to_bits(f);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));  // NaN
  // 65520 is halfway between 65504 (largest half, odd mantissa) and 65536: ties-to-even rounds it up to infinity.
  if (abs >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);
  if (abs < 0x38800000u) {  // below 2^-14: a subnormal half or zero
    // 2^-25 is halfway between 0 and the smallest subnormal 2^-24; ties-to-even gives 0.
    if (abs <= 0x33000000u) return sign;
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126 - e;  // value = m * 2^(e-150); in units of 2^-24 that is m >> (126 - e)
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) ++q;  // a carry to 0x400 is the smallest normal, as it should be
    return static_cast<uint16_t>(sign | q);
  }
  uint32_t q = (abs - 0x38000000u) >> 13;  // rebias exponent 127 -> 15, keep 10 mantissa bits
  const uint32_t rem = abs & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (q & 1u))) ++q;  // a mantissa carry correctly bumps the exponent
  return static_cast<uint16_t>(sign | q);
}

// Exact: bfloat16 is the top half of a binary32.
STRATA_HOST_DEVICE STRATA_INLINE float bf16_to_f32(uint16_t b) { return f32_from_bits(static_cast<uint32_t>(b) << 16); }

// Round to nearest, ties to even (subnormals included, as plain integer rounding of the bits); NaN stays a quiet NaN.
STRATA_HOST_DEVICE STRATA_INLINE uint16_t f32_to_bf16(float f) {
  const uint32_t bits = f32_to_bits(f);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

}  // namespace strata
