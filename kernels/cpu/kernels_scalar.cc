// Portable reference kernels: the behaviour every SIMD version must reproduce (same integer sums; only the float
// summation order differs). Also the fallback for CPUs without AVX2.
#include <cmath>
#include <cstring>

#include "core/quant/block_formats.h"
#include "core/quant/fp16.h"
#include "core/quant/k_scales.h"
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

float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK4_0; ++i) {
    int sumi = 0;
    for (int j = 0; j < 16; ++j) {
      sumi += ((x[i].qs[j] & 0xF) - 8) * y[i].qs[j] + ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + 16];
    }
    sum += sumi * (fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d));
  }
  return sum;
}

float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK4_1; ++i) {
    int sumi = 0;
    for (int j = 0; j < 16; ++j) sumi += (x[i].qs[j] & 0xF) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + 16];
    sum += sumi * (fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d)) + fp16_to_f32(x[i].m) * fp16_to_f32(y[i].s);
  }
  return sum;
}

namespace {
template <typename Block>
int q5_block_sum(const Block& x, const int8_t* y, int zero) {
  uint32_t qh;
  std::memcpy(&qh, x.qh, 4);
  int sumi = 0;
  for (int j = 0; j < 16; ++j) {
    const int h0 = ((qh >> j) << 4) & 0x10;
    const int h1 = (qh >> (j + 12)) & 0x10;
    sumi += (((x.qs[j] & 0xF) | h0) - zero) * y[j] + (((x.qs[j] >> 4) | h1) - zero) * y[j + 16];
  }
  return sumi;
}
}  // namespace

float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK5_0; ++i) {
    sum += q5_block_sum(x[i], y[i].qs, 16) * (fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d));
  }
  return sum;
}

float vec_dot_q5_1_q8_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK5_1; ++i) {
    sum += q5_block_sum(x[i], y[i].qs, 0) * (fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d)) +
           fp16_to_f32(x[i].m) * fp16_to_f32(y[i].s);
  }
  return sum;
}

float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    int sumi = 0;
    for (int j = 0; j < 32; ++j) sumi += x[i].qs[j] * y[i].qs[j];
    sum += sumi * (fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d));
  }
  return sum;
}

float vec_dot_q2_k_q8_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const int8_t* q8 = y[i].qs;
    const uint8_t* q2 = x[i].qs;
    int sum_scaled = 0, sum_mins = 0, g = 0;
    for (int n128 = 0; n128 < 2; ++n128, q2 += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int half = 0; half < 2; ++half, ++g, q8 += 16) {
          int s = 0;
          for (int l = 0; l < 16; ++l) s += ((q2[l + 16 * half] >> shift) & 3) * q8[l];
          sum_scaled += (x[i].scales[g] & 0xF) * s;
          sum_mins += (x[i].scales[g] >> 4) * y[i].bsums[g];
        }
      }
    }
    sum += y[i].d * (fp16_to_f32(x[i].d) * sum_scaled - fp16_to_f32(x[i].dmin) * sum_mins);
  }
  return sum;
}

float vec_dot_q3_k_q8_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const int8_t* q8 = y[i].qs;
    const uint8_t* q3 = x[i].qs;
    int sumi = 0, g = 0;
    uint8_t m = 1;
    for (int n128 = 0; n128 < 2; ++n128, q3 += 32) {
      for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
        for (int half = 0; half < 2; ++half, ++g, q8 += 16) {
          int s = 0;
          for (int l = 0; l < 16; ++l) {
            const int e = l + 16 * half;
            s += (((q3[e] >> shift) & 3) - ((x[i].hmask[e] & m) ? 0 : 4)) * q8[l];
          }
          sumi += get_scale_q3_k(g, x[i].scales) * s;
        }
      }
    }
    sum += y[i].d * fp16_to_f32(x[i].d) * sumi;
  }
  return sum;
}

namespace {
template <bool kHighBit, typename Block>
float q45_k_dot(int64_t n, const Block* x, const BlockQ8_K* y) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* qs = x[i].qs;
    const int8_t* q8 = y[i].qs;
    int sum_scaled = 0, sum_mins = 0;
    for (int j = 0; j < 4; ++j, qs += 32, q8 += 64) {
      uint8_t sc0, m0, sc1, m1;
      get_scale_min_k4(2 * j, x[i].scales, &sc0, &m0);
      get_scale_min_k4(2 * j + 1, x[i].scales, &sc1, &m1);
      int s0 = 0, s1 = 0;
      for (int l = 0; l < 32; ++l) {
        int lo = qs[l] & 0xF, hi = qs[l] >> 4;
        if constexpr (kHighBit) {
          lo |= ((x[i].qh[l] >> (2 * j)) & 1) << 4;
          hi |= ((x[i].qh[l] >> (2 * j + 1)) & 1) << 4;
        }
        s0 += lo * q8[l];
        s1 += hi * q8[l + 32];
      }
      sum_scaled += sc0 * s0 + sc1 * s1;
      sum_mins +=
          m0 * (y[i].bsums[4 * j] + y[i].bsums[4 * j + 1]) + m1 * (y[i].bsums[4 * j + 2] + y[i].bsums[4 * j + 3]);
    }
    sum += y[i].d * (fp16_to_f32(x[i].d) * sum_scaled - fp16_to_f32(x[i].dmin) * sum_mins);
  }
  return sum;
}
}  // namespace

float vec_dot_q4_k_q8_k(int64_t n, const void* w, const void* a) {
  return q45_k_dot<false>(n, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(a));
}

float vec_dot_q5_k_q8_k(int64_t n, const void* w, const void* a) {
  return q45_k_dot<true>(n, static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(a));
}

float vec_dot_q6_k_q8_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    const int8_t* q8 = y[i].qs;
    int sumi = 0;
    for (int n128 = 0; n128 < 2; ++n128, ql += 64, qh += 32, sc += 8, q8 += 128) {
      int s[8] = {};
      for (int l = 0; l < 32; ++l) {
        const int h = l / 16;
        s[h] += (((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32) * q8[l];
        s[h + 2] += (((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32) * q8[l + 32];
        s[h + 4] += (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32) * q8[l + 64];
        s[h + 6] += (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32) * q8[l + 96];
      }
      for (int g = 0; g < 8; ++g) sumi += sc[g] * s[g];
    }
    sum += y[i].d * fp16_to_f32(x[i].d) * sumi;
  }
  return sum;
}

float vec_dot_f16_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += fp16_to_f32(x[i]) * y[i];
  return sum;
}

float vec_dot_bf16_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += bf16_to_f32(x[i]) * y[i];
  return sum;
}

float vec_dot_f32_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  const auto* y = static_cast<const float*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

void convert_f16_to_f32(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_f32(x[i]);
}

void convert_bf16_to_f32(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_f32(x[i]);
}

void gemm_i8_tile(const WeightPanel& w, int rows, const ActPanel& a, int cols, float* y, int64_t ldy) {
  const int64_t k = w.k;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const int8_t* wq = w.q + r * k;
      const int8_t* aq = a.q + c * k;
      const float* ls = w.lane_scale + r * (k / 4);
      const float* ad = a.d + c * (k / 32);
      float acc = 0.0f;
      for (int64_t lane = 0; lane < k / 4; ++lane) {
        int s = 0;
        for (int l = 0; l < 4; ++l) s += wq[4 * lane + l] * aq[4 * lane + l];
        acc += s * (ls[lane] * ad[lane / 8]);
      }
      const float* go = w.group_offset + r * (k / 16);
      const float* ds = a.dsum + c * (k / 16);
      for (int64_t g = 0; g < k / 16; ++g) acc += go[g] * ds[g];
      y[c * ldy + r] = acc;
    }
  }
}

void gemm_f32_tile(const float* w, int rows, const float* a, int cols, int64_t k, float* y, int64_t ldy) {
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) y[c * ldy + r] = vec_dot_f32_f32(k, w + r * k, a + c * k);
  }
}

}  // namespace strata::cpu::scalar
