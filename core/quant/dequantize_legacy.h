// Reference dequantization of one block of the 32-element formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1), with
// ggml's exact semantics. Host and device: the CUDA backend reuses these for its plain dequantize kernels.
#pragma once

#include <cstdint>

#include "core/quant/block_formats.h"
#include "core/quant/fp16.h"
#include "core/quant/host_device.h"

namespace strata {

// Q4_0: byte j holds element j (low nibble) and element j + 16 (high nibble); x = d * (q - 8).
STRATA_HOST_DEVICE STRATA_INLINE void dequantize_block(const BlockQ4_0& b, float* y) {  // y: [32]
  const float d = fp16_to_f32(b.d);
  for (int j = 0; j < kQK4_0 / 2; ++j) {
    y[j] = static_cast<float>((b.qs[j] & 0xF) - 8) * d;
    y[j + kQK4_0 / 2] = static_cast<float>((b.qs[j] >> 4) - 8) * d;
  }
}

// Q4_1: nibbles as Q4_0; x = d * q + m.
STRATA_HOST_DEVICE STRATA_INLINE void dequantize_block(const BlockQ4_1& b, float* y) {  // y: [32]
  const float d = fp16_to_f32(b.d);
  const float m = fp16_to_f32(b.m);
  for (int j = 0; j < kQK4_1 / 2; ++j) {
    y[j] = static_cast<float>(b.qs[j] & 0xF) * d + m;
    y[j + kQK4_1 / 2] = static_cast<float>(b.qs[j] >> 4) * d + m;
  }
}

// The fifth bit of element j of a Q5 block: bit j of the little-endian 32-bit qh.
STRATA_HOST_DEVICE STRATA_INLINE uint32_t q5_high_bits(const uint8_t* qh) {
  return static_cast<uint32_t>(qh[0]) | (static_cast<uint32_t>(qh[1]) << 8) | (static_cast<uint32_t>(qh[2]) << 16) |
         (static_cast<uint32_t>(qh[3]) << 24);
}

// Q5_0: low 4 bits as Q4_0, fifth bit from qh; x = d * (q - 16).
STRATA_HOST_DEVICE STRATA_INLINE void dequantize_block(const BlockQ5_0& b, float* y) {  // y: [32]
  const float d = fp16_to_f32(b.d);
  const uint32_t qh = q5_high_bits(b.qh);
  for (int j = 0; j < kQK5_0 / 2; ++j) {
    const int q0 = (b.qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1u) << 4);
    const int q1 = (b.qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
    y[j] = static_cast<float>(q0 - 16) * d;
    y[j + kQK5_0 / 2] = static_cast<float>(q1 - 16) * d;
  }
}

// Q5_1: bits as Q5_0; x = d * q + m.
STRATA_HOST_DEVICE STRATA_INLINE void dequantize_block(const BlockQ5_1& b, float* y) {  // y: [32]
  const float d = fp16_to_f32(b.d);
  const float m = fp16_to_f32(b.m);
  const uint32_t qh = q5_high_bits(b.qh);
  for (int j = 0; j < kQK5_1 / 2; ++j) {
    const int q0 = (b.qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1u) << 4);
    const int q1 = (b.qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
    y[j] = static_cast<float>(q0) * d + m;
    y[j + kQK5_1 / 2] = static_cast<float>(q1) * d + m;
  }
}

STRATA_HOST_DEVICE STRATA_INLINE void dequantize_block(const BlockQ8_0& b, float* y) {  // y: [32]
  const float d = fp16_to_f32(b.d);
  for (int j = 0; j < kQK8_0; ++j) y[j] = static_cast<float>(b.qs[j]) * d;
}

// Q8_1: `s` is only a cached d * sum(q) for dot products; the values are d * q as in Q8_0.
STRATA_HOST_DEVICE STRATA_INLINE void dequantize_block(const BlockQ8_1& b, float* y) {  // y: [32]
  const float d = fp16_to_f32(b.d);
  for (int j = 0; j < kQK8_1; ++j) y[j] = static_cast<float>(b.qs[j]) * d;
}

}  // namespace strata
