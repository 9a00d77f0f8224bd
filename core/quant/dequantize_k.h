// Reference dequantization of one 256-element k-quant super-block (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K), with
// ggml's exact semantics. Host and device: the CUDA backend reuses these for its plain dequantize kernels.
//
// All k-quants share one element order: a super-block is processed in halves of 128 (Q2_K, Q3_K, Q6_K) or quarters
// of 64 (Q4_K, Q5_K); within such a chunk, successive groups of 32 elements take successive bit fields of the same
// 32 bytes of quants.
#pragma once

#include <cstdint>

#include "core/quant/block_formats.h"
#include "core/quant/fp16.h"
#include "core/quant/host_device.h"
#include "core/quant/k_scales.h"

namespace strata {

// Q2_K: element 128*h + 32*g + l (g < 4, l < 32) is bits 2g..2g+1 of qs[32*h + l]; sub-block (16 elements) s has
// scale scales[s] & 0xF and min scales[s] >> 4; x = d * scale * q - dmin * min.
STRATA_HOST_DEVICE STRATA_INLINE void dequantize_block(const BlockQ2_K& b, float* y) {  // y: [256]
  const float d = fp16_to_f32(b.d);
  const float dmin = fp16_to_f32(b.dmin);
  for (int i = 0; i < kQK_K; ++i) {
    const int h = i / 128, g = (i % 128) / 32, l = i % 32, s = i / 16;
    const int q = (b.qs[32 * h + l] >> (2 * g)) & 3;
    y[i] =
        d * static_cast<float>(b.scales[s] & 0xF) * static_cast<float>(q) - dmin * static_cast<float>(b.scales[s] >> 4);
  }
}

// Q3_K: low 2 bits as Q2_K; the third bit of element i is bit i / 32 of hmask[i % 32], and a clear bit means
// "subtract 4"; x = d * (scale - 32) * q with q in [-4, 3].
STRATA_HOST_DEVICE STRATA_INLINE void dequantize_block(const BlockQ3_K& b, float* y) {  // y: [256]
  const float d = fp16_to_f32(b.d);
  for (int i = 0; i < kQK_K; ++i) {
    const int h = i / 128, g = (i % 128) / 32, l = i % 32;
    const int low = (b.qs[32 * h + l] >> (2 * g)) & 3;
    const int q = low - (((b.hmask[l] >> (i / 32)) & 1) ? 0 : 4);
    y[i] = d * static_cast<float>(get_scale_q3_k(i / 16, b.scales)) * static_cast<float>(q);
  }
}

// Q4_K: element 64*c + 32*n + l (n < 2) is nibble n of qs[32*c + l]; sub-block (32 elements) s = 2c + n;
// x = d * scale_s * q - dmin * min_s.
STRATA_HOST_DEVICE STRATA_INLINE void dequantize_block(const BlockQ4_K& b, float* y) {  // y: [256]
  const float d = fp16_to_f32(b.d);
  const float dmin = fp16_to_f32(b.dmin);
  for (int s = 0; s < kQK_K / 32; ++s) {
    uint8_t sc, m;
    get_scale_min_k4(s, b.scales, &sc, &m);
    const float ds = d * sc;
    const float ms = dmin * m;
    const uint8_t* q = b.qs + 32 * (s / 2);
    const int shift = 4 * (s % 2);
    for (int l = 0; l < 32; ++l) y[32 * s + l] = ds * static_cast<float>((q[l] >> shift) & 0xF) - ms;
  }
}

// Q5_K: low nibbles as Q4_K; the fifth bit of sub-block s is bit s of qh[l].
STRATA_HOST_DEVICE STRATA_INLINE void dequantize_block(const BlockQ5_K& b, float* y) {  // y: [256]
  const float d = fp16_to_f32(b.d);
  const float dmin = fp16_to_f32(b.dmin);
  for (int s = 0; s < kQK_K / 32; ++s) {
    uint8_t sc, m;
    get_scale_min_k4(s, b.scales, &sc, &m);
    const float ds = d * sc;
    const float ms = dmin * m;
    const uint8_t* q = b.qs + 32 * (s / 2);
    const int shift = 4 * (s % 2);
    for (int l = 0; l < 32; ++l) {
      const int v = ((q[l] >> shift) & 0xF) | (((b.qh[l] >> s) & 1) << 4);
      y[32 * s + l] = ds * static_cast<float>(v) - ms;
    }
  }
}

// Q6_K: element 128*h + 32*g + l: low 4 bits are nibble g / 2 of ql[64*h + 32*(g % 2) + l], high 2 bits are bits
// 2g..2g+1 of qh[32*h + l]; sub-block (16 elements) s = i / 16 has a signed 8-bit scale; x = d * scale * (q - 32).
STRATA_HOST_DEVICE STRATA_INLINE void dequantize_block(const BlockQ6_K& b, float* y) {  // y: [256]
  const float d = fp16_to_f32(b.d);
  for (int i = 0; i < kQK_K; ++i) {
    const int h = i / 128, g = (i % 128) / 32, l = i % 32;
    const int low = (b.ql[64 * h + 32 * (g % 2) + l] >> (4 * (g / 2))) & 0xF;
    const int high = (b.qh[32 * h + l] >> (2 * g)) & 3;
    y[i] = d * static_cast<float>(b.scales[i / 16]) * static_cast<float>((low | (high << 4)) - 32);
  }
}

// Q8_K: f32 scale, x = d * q (bsums are a cache for dot products).
STRATA_HOST_DEVICE STRATA_INLINE void dequantize_block(const BlockQ8_K& b, float* y) {  // y: [256]
  for (int i = 0; i < kQK_K; ++i) y[i] = b.d * static_cast<float>(b.qs[i]);
}

}  // namespace strata
