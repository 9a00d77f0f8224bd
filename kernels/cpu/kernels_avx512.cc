// AVX-512 (F/BW/VL/DQ) + VNNI kernels (compiled with those flags only; see kernels/CMakeLists.txt). The 256-bit
// quantized dot products of kernels_x86_dot.h pick up VNNI here; float dots and the GEMM tiles are 512-bit.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "core/quant/block_formats.h"
#include "kernels/cpu/isa_kernels.h"

namespace strata::cpu::avx512 {

// Per-ISA copies of the shared helpers and 256-bit kernels (see x86_simd.h for why they are not shared).
#include "kernels/cpu/kernels_x86_dot.h"
#include "kernels/cpu/x86_simd.h"

namespace {

inline __mmask16 tail_mask16(int64_t left) { return static_cast<__mmask16>((1u << left) - 1u); }

// Four accumulators of 16 cover the FMA latency (4 cycles) at two FMAs per cycle.
template <typename Load>
float dot_f32_with(int64_t n, const float* y, Load load) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    for (int j = 0; j < 4; ++j) {
      acc[j] = _mm512_fmadd_ps(load(i + 16 * j, __mmask16{0xFFFF}), _mm512_loadu_ps(y + i + 16 * j), acc[j]);
    }
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16{0xFFFF} : tail_mask16(n - i);
    acc[0] = _mm512_fmadd_ps(load(i, m), _mm512_maskz_loadu_ps(m, y + i), acc[0]);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

}  // namespace

float vec_dot_f16_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  return dot_f32_with(n, static_cast<const float*>(a),
                      [x](int64_t i, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, x + i)); });
}

float vec_dot_bf16_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  return dot_f32_with(n, static_cast<const float*>(a), [x](int64_t i, __mmask16 m) {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, x + i));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  });
}

float vec_dot_f32_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  return dot_f32_with(n, static_cast<const float*>(a),
                      [x](int64_t i, __mmask16 m) { return _mm512_maskz_loadu_ps(m, x + i); });
}

namespace {

// Register tile of R weight rows x C activation rows, 64 elements (two 32-blocks) per step: 4 x 4 uses 16 of the
// 32 zmm registers for accumulators and 8 for the weight rows' bytes and lane scales.
//
// One VNNI dpbusd (u8 x s8) does 64 multiply-adds: activations are flipped to a + 128 once per step and tile
// column, and each dpbusd starts from the weight row's lane_corr (-128 * sum of its 4 weights), so the lane sums
// are exact. Per pair and step: dpbusd, cvt, mul (weight lane scale x activation block scale), fma.
template <int R, int C>
void i8_tile(const WeightPanel& w, const ActPanel& a, float* y, int64_t ldy) {
  const int64_t k = w.k;
  __m512 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  // Lane l of a 64-element step belongs to block l / 8.
  const __m512i block_of_lane = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  auto step = [&](int64_t kk, __mmask64 byte_mask, __mmask16 lane_mask) {
    __m512i wq[R];
    __m512 ws[R];
    for (int r = 0; r < R; ++r) {
      wq[r] = _mm512_maskz_loadu_epi8(byte_mask, w.q + r * k + kk);
      ws[r] = _mm512_maskz_loadu_ps(lane_mask, w.lane_scale + r * (k / 4) + kk / 4);
    }
    for (int c = 0; c < C; ++c) {
      const __m512i au = _mm512_xor_si512(_mm512_maskz_loadu_epi8(byte_mask, a.q + c * k + kk), flip);
      const __m128 d2 = _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(a.d + c * (k / 32) + kk / 32)));
      const __m512 ad = _mm512_permutexvar_ps(block_of_lane, _mm512_castps128_ps512(d2));
      for (int r = 0; r < R; ++r) {
        const __m512i corr = _mm512_maskz_loadu_epi32(lane_mask, w.lane_corr + r * (k / 4) + kk / 4);
        const __m512i p = _mm512_dpbusd_epi32(corr, au, wq[r]);
        acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(ws[r], ad), acc[r][c]);
      }
    }
  };
  int64_t kk = 0;
  for (; kk + 64 <= k; kk += 64) step(kk, ~__mmask64{0}, __mmask16{0xFFFF});
  // k is a multiple of 32, so at most one 32-element step is left; it runs with the upper lanes masked to zero
  // (its own loads, since the 64-wide step would read one activation scale past the row).
  if (kk < k) {
    for (int c = 0; c < C; ++c) {
      const __m512i au = _mm512_xor_si512(_mm512_maskz_loadu_epi8(0xFFFFFFFFull, a.q + c * k + kk), flip);
      const __m512 ad = _mm512_maskz_mov_ps(0x00FF, _mm512_set1_ps(a.d[c * (k / 32) + kk / 32]));
      for (int r = 0; r < R; ++r) {
        const __m512i wq = _mm512_maskz_loadu_epi8(0xFFFFFFFFull, w.q + r * k + kk);
        const __m512 ws = _mm512_maskz_loadu_ps(0x00FF, w.lane_scale + r * (k / 4) + kk / 4);
        const __m512i corr = _mm512_maskz_loadu_epi32(0x00FF, w.lane_corr + r * (k / 4) + kk / 4);
        const __m512i p = _mm512_dpbusd_epi32(corr, au, wq);
        acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(ws, ad), acc[r][c]);
      }
    }
  }
  const int64_t groups = k / 16;
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      const float* go = w.group_offset + r * groups;
      const float* ds = a.dsum + c * groups;
      __m512 sum = acc[r][c];
      for (int64_t g = 0; g < groups; g += 16) {
        const __mmask16 m = groups - g >= 16 ? __mmask16{0xFFFF} : tail_mask16(groups - g);
        sum = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, go + g), _mm512_maskz_loadu_ps(m, ds + g), sum);
      }
      y[c * ldy + r] = _mm512_reduce_add_ps(sum);
    }
  }
}

template <int R, int C>
void f32_tile(const float* w, const float* a, int64_t k, float* y, int64_t ldy) {
  __m512 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < k; kk += 16) {
    const __mmask16 m = k - kk >= 16 ? __mmask16{0xFFFF} : tail_mask16(k - kk);
    __m512 av[C];
    for (int c = 0; c < C; ++c) av[c] = _mm512_maskz_loadu_ps(m, a + c * k + kk);
    for (int r = 0; r < R; ++r) {
      const __m512 wv = _mm512_maskz_loadu_ps(m, w + r * k + kk);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(wv, av[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) y[c * ldy + r] = _mm512_reduce_add_ps(acc[r][c]);
}

}  // namespace

// Compile-time tile shapes for every (rows, cols) up to kGemmTileRows x kGemmTileCols; matrix edges use the
// smaller ones.
void gemm_i8_tile(const WeightPanel& w, int rows, const ActPanel& a, int cols, float* y, int64_t ldy) {
  using Fn = void (*)(const WeightPanel&, const ActPanel&, float*, int64_t);
  static constexpr Fn kTable[4][4] = {
      {i8_tile<1, 1>, i8_tile<1, 2>, i8_tile<1, 3>, i8_tile<1, 4>},
      {i8_tile<2, 1>, i8_tile<2, 2>, i8_tile<2, 3>, i8_tile<2, 4>},
      {i8_tile<3, 1>, i8_tile<3, 2>, i8_tile<3, 3>, i8_tile<3, 4>},
      {i8_tile<4, 1>, i8_tile<4, 2>, i8_tile<4, 3>, i8_tile<4, 4>},
  };
  kTable[rows - 1][cols - 1](w, a, y, ldy);
}

void gemm_f32_tile(const float* w, int rows, const float* a, int cols, int64_t k, float* y, int64_t ldy) {
  using Fn = void (*)(const float*, const float*, int64_t, float*, int64_t);
  static constexpr Fn kTable[4][4] = {
      {f32_tile<1, 1>, f32_tile<1, 2>, f32_tile<1, 3>, f32_tile<1, 4>},
      {f32_tile<2, 1>, f32_tile<2, 2>, f32_tile<2, 3>, f32_tile<2, 4>},
      {f32_tile<3, 1>, f32_tile<3, 2>, f32_tile<3, 3>, f32_tile<3, 4>},
      {f32_tile<4, 1>, f32_tile<4, 2>, f32_tile<4, 3>, f32_tile<4, 4>},
  };
  kTable[rows - 1][cols - 1](w, a, k, y, ldy);
}

}  // namespace strata::cpu::avx512
