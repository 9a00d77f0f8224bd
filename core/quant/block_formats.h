// GGUF quantized block layouts, declared once for host and device code.
//
// These are the on-disk layouts (ggml's): kernels read the mapped file's bytes through these structs directly.
// Half-precision scales are stored as raw IEEE binary16 bits (uint16_t) so the header needs no CUDA types;
// core/quant/fp16.h converts them. Every size is checked against the format with static_assert.
#pragma once

#include <cstdint>

namespace strata {

inline constexpr int kQK4_0 = 32;
inline constexpr int kQK4_1 = 32;
inline constexpr int kQK5_0 = 32;
inline constexpr int kQK5_1 = 32;
inline constexpr int kQK8_0 = 32;
inline constexpr int kQK8_1 = 32;
inline constexpr int kQK_K = 256;          // super-block size of the k-quants
inline constexpr int kKScaleSize = 12;     // packed 6-bit scales+mins of Q4_K / Q5_K

// 4-bit, symmetric: x = d * (q - 8). qs: low nibbles hold elements 0..15, high nibbles 16..31.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK4_0 / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// 4-bit with minimum: x = d * q + m.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK4_1 / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// 5-bit, symmetric: x = d * (q - 16); the fifth bits of the 32 elements are packed in qh (bit j = element j).
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK5_0 / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// 5-bit with minimum: x = d * q + m.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK5_1 / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// 8-bit, symmetric: x = d * q.
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34);

// 8-bit with s = d * sum(qs), the activation partner of Q4_1 / Q5_1 dot products.
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK8_1];
};
static_assert(sizeof(BlockQ8_1) == 36);

// 2-bit k-quant: 16 sub-blocks of 16; scales holds 4-bit scale (low) and 4-bit min (high) per sub-block.
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d;
  uint16_t dmin;
};
static_assert(sizeof(BlockQ2_K) == 84);

// 3-bit k-quant: low 2 bits in qs, high bit in hmask, 16 6-bit scales packed in 12 bytes.
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;
};
static_assert(sizeof(BlockQ3_K) == 110);

// 4-bit k-quant: 8 sub-blocks of 32 with 6-bit scales and mins packed in `scales`; x = d*sc*q - dmin*m.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// 5-bit k-quant: as Q4_K plus the fifth bits in qh.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// 6-bit k-quant: low 4 bits in ql, high 2 bits in qh, 16 signed 8-bit sub-block scales; x = d*sc*(q - 32).
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// 8-bit activation block of the k-quant dot products: f32 scale and per-16 sums of qs.
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace strata
