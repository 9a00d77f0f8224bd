// Portable reference kernels: the behaviour every SIMD version must reproduce (same activation bytes and integer
// sums; only the float summation order differs). Also the fallback for CPUs without AVX2.
//
// Each tile decodes a weight block to plain integers once per weight row and reuses it for every activation row;
// each output then takes the float steps of the single-output formula, so tile shape never changes a result.
#include <cmath>
#include <cstring>

#include "core/quant/block_formats.h"
#include "core/quant/fp16.h"
#include "core/quant/k_scales.h"
#include "kernels/cpu/dot_tile_dispatch.h"
#include "kernels/cpu/isa_kernels.h"

namespace strata::cpu::scalar {
namespace {

// Symmetric 8-bit quantization of `n` values: d = amax / 127, q = round-half-even(x / d). Nearest-even matches the
// SIMD versions' cvtps (the MXCSR default), so every ISA produces the same bytes.
float quantize_i8(const float* x, int n, int8_t* q) {
  float amax = 0.0f;
  for (int j = 0; j < n; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < n; ++j) q[j] = static_cast<int8_t>(std::nearbyint(x[j] * id));
  return d;
}

template <typename Block>
const Block& block_at(const uint8_t* row, int64_t i) {
  return reinterpret_cast<const Block*>(row)[i];
}

// A 32-element weight block as integers: w[e] = d * q[e] (+ m for the _1 formats).
struct Decoded32 {
  int q[32];
  float d;
  float m;
};

template <typename Block, int kZero>
void decode_q4(const Block& b, Decoded32& o) {
  for (int j = 0; j < 16; ++j) {
    o.q[j] = (b.qs[j] & 0xF) - kZero;
    o.q[j + 16] = (b.qs[j] >> 4) - kZero;
  }
  o.d = fp16_to_f32(b.d);
  if constexpr (kZero == 0) o.m = fp16_to_f32(b.m);
}

template <typename Block, int kZero>
void decode_q5(const Block& b, Decoded32& o) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  for (int j = 0; j < 16; ++j) {
    const int h0 = ((qh >> j) << 4) & 0x10;
    const int h1 = (qh >> (j + 12)) & 0x10;
    o.q[j] = ((b.qs[j] & 0xF) | h0) - kZero;
    o.q[j + 16] = ((b.qs[j] >> 4) | h1) - kZero;
  }
  o.d = fp16_to_f32(b.d);
  if constexpr (kZero == 0) o.m = fp16_to_f32(b.m);
}

void decode_q8(const BlockQ8_0& b, Decoded32& o) {
  for (int j = 0; j < 32; ++j) o.q[j] = b.qs[j];
  o.d = fp16_to_f32(b.d);
}

// Q4_0 / Q5_0 / Q8_0 against Q8_0 (kHasMin false) and Q4_1 / Q5_1 against Q8_1 (kHasMin true):
// sum += sumi * (dx * dy) [+ m * s].
template <typename Block, typename Partner, bool kHasMin, void (*kDecode)(const Block&, Decoded32&)>
struct Legacy {
  template <int R, int C>
  static void run(const DotTile& t) {
    float sum[R][C] = {};
    for (int64_t i = 0; i < t.n / 32; ++i) {
      Decoded32 x[R];
      for (int r = 0; r < R; ++r) kDecode(block_at<Block>(t.w + r * t.w_stride, i), x[r]);
      for (int c = 0; c < C; ++c) {
        const Partner& y = block_at<Partner>(t.a + c * t.a_stride, i);
        const float dy = fp16_to_f32(y.d);
        for (int r = 0; r < R; ++r) {
          int sumi = 0;
          for (int j = 0; j < 32; ++j) sumi += x[r].q[j] * y.qs[j];
          if constexpr (kHasMin) {
            sum[r][c] += sumi * (x[r].d * dy) + x[r].m * fp16_to_f32(y.s);
          } else {
            sum[r][c] += sumi * (x[r].d * dy);
          }
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) t.y[c * t.ldy + r] = sum[r][c];
  }
};

// A 256-element k-quant super-block as integers: w[e] = d * scale[e / 16] * q[e] - dmin * min[e / 16].
struct DecodedK {
  int q[256];
  int scale[16];
  int min[16];
  float d;
  float dmin;
};

void decode_q2_k(const BlockQ2_K& b, DecodedK& o) {
  const uint8_t* q2 = b.qs;
  int g = 0;
  for (int n128 = 0; n128 < 2; ++n128, q2 += 32) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half, ++g) {
        for (int l = 0; l < 16; ++l) o.q[16 * g + l] = (q2[l + 16 * half] >> shift) & 3;
        o.scale[g] = b.scales[g] & 0xF;
        o.min[g] = b.scales[g] >> 4;
      }
    }
  }
  o.d = fp16_to_f32(b.d);
  o.dmin = fp16_to_f32(b.dmin);
}

void decode_q3_k(const BlockQ3_K& b, DecodedK& o) {
  const uint8_t* q3 = b.qs;
  int g = 0;
  uint8_t m = 1;
  for (int n128 = 0; n128 < 2; ++n128, q3 += 32) {
    for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
      for (int half = 0; half < 2; ++half, ++g) {
        for (int l = 0; l < 16; ++l) {
          const int e = l + 16 * half;
          o.q[16 * g + l] = ((q3[e] >> shift) & 3) - ((b.hmask[e] & m) ? 0 : 4);
        }
        o.scale[g] = get_scale_q3_k(g, b.scales);
      }
    }
  }
  o.d = fp16_to_f32(b.d);
}

template <typename Block, bool kHighBit>
void decode_q45_k(const Block& b, DecodedK& o) {
  const uint8_t* qs = b.qs;
  for (int j = 0; j < 4; ++j, qs += 32) {
    uint8_t sc0, m0, sc1, m1;
    get_scale_min_k4(2 * j, b.scales, &sc0, &m0);
    get_scale_min_k4(2 * j + 1, b.scales, &sc1, &m1);
    for (int l = 0; l < 32; ++l) {
      int lo = qs[l] & 0xF, hi = qs[l] >> 4;
      if constexpr (kHighBit) {
        lo |= ((b.qh[l] >> (2 * j)) & 1) << 4;
        hi |= ((b.qh[l] >> (2 * j + 1)) & 1) << 4;
      }
      o.q[64 * j + l] = lo;
      o.q[64 * j + 32 + l] = hi;
    }
    o.scale[4 * j] = o.scale[4 * j + 1] = sc0;
    o.scale[4 * j + 2] = o.scale[4 * j + 3] = sc1;
    o.min[4 * j] = o.min[4 * j + 1] = m0;
    o.min[4 * j + 2] = o.min[4 * j + 3] = m1;
  }
  o.d = fp16_to_f32(b.d);
  o.dmin = fp16_to_f32(b.dmin);
}

void decode_q6_k(const BlockQ6_K& b, DecodedK& o) {
  const uint8_t* ql = b.ql;
  const uint8_t* qh = b.qh;
  for (int n128 = 0; n128 < 2; ++n128, ql += 64, qh += 32) {
    int* q = o.q + 128 * n128;
    for (int l = 0; l < 32; ++l) {
      q[l] = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      q[l + 32] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      q[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      q[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
    }
  }
  for (int g = 0; g < 16; ++g) o.scale[g] = b.scales[g];
  o.d = fp16_to_f32(b.d);
}

// k-quants against Q8_K: sum += yd * (d * sum_scaled - dmin * sum_mins) with mins, sum += yd * d * sum_scaled
// without.
template <typename Block, bool kHasMin, void (*kDecode)(const Block&, DecodedK&)>
struct KQuant {
  template <int R, int C>
  static void run(const DotTile& t) {
    float sum[R][C] = {};
    for (int64_t i = 0; i < t.n / kQK_K; ++i) {
      DecodedK x[R];
      for (int r = 0; r < R; ++r) kDecode(block_at<Block>(t.w + r * t.w_stride, i), x[r]);
      for (int c = 0; c < C; ++c) {
        const BlockQ8_K& y = block_at<BlockQ8_K>(t.a + c * t.a_stride, i);
        for (int r = 0; r < R; ++r) {
          int sum_scaled = 0, sum_mins = 0;
          for (int g = 0; g < 16; ++g) {
            int s = 0;
            for (int l = 0; l < 16; ++l) s += x[r].q[16 * g + l] * y.qs[16 * g + l];
            sum_scaled += x[r].scale[g] * s;
            if constexpr (kHasMin) sum_mins += x[r].min[g] * y.bsums[g];
          }
          if constexpr (kHasMin) {
            sum[r][c] += y.d * (x[r].d * sum_scaled - x[r].dmin * sum_mins);
          } else {
            sum[r][c] += y.d * x[r].d * sum_scaled;
          }
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) t.y[c * t.ldy + r] = sum[r][c];
  }
};

template <float (*kToF32)(const uint8_t* row, int64_t e)>
struct Float {
  template <int R, int C>
  static void run(const DotTile& t) {
    float sum[R][C] = {};
    for (int64_t e = 0; e < t.n; ++e) {
      float w[R];
      for (int r = 0; r < R; ++r) w[r] = kToF32(t.w + r * t.w_stride, e);
      for (int c = 0; c < C; ++c) {
        const float x = reinterpret_cast<const float*>(t.a + c * t.a_stride)[e];
        for (int r = 0; r < R; ++r) sum[r][c] += w[r] * x;
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) t.y[c * t.ldy + r] = sum[r][c];
  }
};

float load_f32(const uint8_t* row, int64_t e) { return reinterpret_cast<const float*>(row)[e]; }
float load_f16(const uint8_t* row, int64_t e) { return fp16_to_f32(reinterpret_cast<const uint16_t*>(row)[e]); }
float load_bf16(const uint8_t* row, int64_t e) { return bf16_to_f32(reinterpret_cast<const uint16_t*>(row)[e]); }

template <class K>
void dispatch(const DotTile& t, int rows, int cols) {
  dispatch_dot_tile<kTileRows, kTileCols, K>(t, rows, cols);
}

template <class K>
void dispatch_k(const DotTile& t, int rows, int cols) {
  dispatch_dot_tile<kTileRowsK, kTileCols, K>(t, rows, cols);
}

}  // namespace

void quantize_row_q8_0(const float* x, void* y, int64_t k) {
  auto* b = static_cast<BlockQ8_0*>(y);
  for (int64_t i = 0; i < k / kQK8_0; ++i) b[i].d = f32_to_fp16(quantize_i8(x + i * kQK8_0, kQK8_0, b[i].qs));
}

void quantize_row_q8_1(const float* x, void* y, int64_t k) {
  auto* b = static_cast<BlockQ8_1*>(y);
  for (int64_t i = 0; i < k / kQK8_1; ++i) {
    const float d = quantize_i8(x + i * kQK8_1, kQK8_1, b[i].qs);
    int sum = 0;
    for (int j = 0; j < kQK8_1; ++j) sum += b[i].qs[j];
    b[i].d = f32_to_fp16(d);
    b[i].s = f32_to_fp16(d * sum);
  }
}

void quantize_row_q8_k(const float* x, void* y, int64_t k) {
  auto* b = static_cast<BlockQ8_K*>(y);
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    b[i].d = quantize_i8(x + i * kQK_K, kQK_K, b[i].qs);
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += b[i].qs[16 * g + l];
      b[i].bsums[g] = static_cast<int16_t>(sum);
    }
  }
}

void dot_q4_0_q8_0(const DotTile& t, int rows, int cols) {
  dispatch<Legacy<BlockQ4_0, BlockQ8_0, false, decode_q4<BlockQ4_0, 8>>>(t, rows, cols);
}
void dot_q4_1_q8_1(const DotTile& t, int rows, int cols) {
  dispatch<Legacy<BlockQ4_1, BlockQ8_1, true, decode_q4<BlockQ4_1, 0>>>(t, rows, cols);
}
void dot_q5_0_q8_0(const DotTile& t, int rows, int cols) {
  dispatch<Legacy<BlockQ5_0, BlockQ8_0, false, decode_q5<BlockQ5_0, 16>>>(t, rows, cols);
}
void dot_q5_1_q8_1(const DotTile& t, int rows, int cols) {
  dispatch<Legacy<BlockQ5_1, BlockQ8_1, true, decode_q5<BlockQ5_1, 0>>>(t, rows, cols);
}
void dot_q8_0_q8_0(const DotTile& t, int rows, int cols) {
  dispatch<Legacy<BlockQ8_0, BlockQ8_0, false, decode_q8>>(t, rows, cols);
}
void dot_q2_k_q8_k(const DotTile& t, int rows, int cols) {
  dispatch_k<KQuant<BlockQ2_K, true, decode_q2_k>>(t, rows, cols);
}
void dot_q3_k_q8_k(const DotTile& t, int rows, int cols) {
  dispatch_k<KQuant<BlockQ3_K, false, decode_q3_k>>(t, rows, cols);
}
void dot_q4_k_q8_k(const DotTile& t, int rows, int cols) {
  dispatch_k<KQuant<BlockQ4_K, true, decode_q45_k<BlockQ4_K, false>>>(t, rows, cols);
}
void dot_q5_k_q8_k(const DotTile& t, int rows, int cols) {
  dispatch_k<KQuant<BlockQ5_K, true, decode_q45_k<BlockQ5_K, true>>>(t, rows, cols);
}
void dot_q6_k_q8_k(const DotTile& t, int rows, int cols) {
  dispatch_k<KQuant<BlockQ6_K, false, decode_q6_k>>(t, rows, cols);
}
void dot_f16_f32(const DotTile& t, int rows, int cols) { dispatch<Float<load_f16>>(t, rows, cols); }
void dot_bf16_f32(const DotTile& t, int rows, int cols) { dispatch<Float<load_bf16>>(t, rows, cols); }
void dot_f32_f32(const DotTile& t, int rows, int cols) { dispatch<Float<load_f32>>(t, rows, cols); }

}  // namespace strata::cpu::scalar
