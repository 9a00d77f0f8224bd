// AVX2 + FMA + F16C kernels (compiled with those flags only; see kernels/CMakeLists.txt). Haswell-era baseline: no
// VNNI, so u8 x s8 dots go through maddubs + madd and signed weights use the sign trick.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "core/quant/block_formats.h"
#include "kernels/cpu/isa_kernels.h"

namespace strata::cpu::avx2 {

// Per-ISA copies of the shared helpers and 256-bit kernels (see x86_simd.h for why they are not shared).
#include "kernels/cpu/kernels_x86_dot.h"
#include "kernels/cpu/x86_simd.h"

namespace {

template <typename Load>
float dot_f32_with(int64_t n, const float* y, Load load) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int j = 0; j < 4; ++j) acc[j] = _mm256_fmadd_ps(load(i + 8 * j), _mm256_loadu_ps(y + i + 8 * j), acc[j]);
  }
  for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(load(i), _mm256_loadu_ps(y + i), acc[0]);
  return x86::hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

}  // namespace

float vec_dot_f16_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  const int64_t n8 = n & ~int64_t{7};
  float sum = dot_f32_with(
      n8, y, [x](int64_t i) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))); });
  for (int64_t i = n8; i < n; ++i) sum += x86::fp16(x[i]) * y[i];
  return sum;
}

float vec_dot_bf16_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  const int64_t n8 = n & ~int64_t{7};
  float sum = dot_f32_with(n8, y, [x](int64_t i) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  });
  for (int64_t i = n8; i < n; ++i) sum += x86::bf16(x[i]) * y[i];
  return sum;
}

float vec_dot_f32_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  const auto* y = static_cast<const float*>(a);
  const int64_t n8 = n & ~int64_t{7};
  float sum = dot_f32_with(n8, y, [x](int64_t i) { return _mm256_loadu_ps(x + i); });
  for (int64_t i = n8; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

namespace {

// Register tile of R weight rows x C activation rows, 32 elements per step. 4 x 2 fits the 16 ymm registers:
// 8 accumulators, 2 activation vectors and their scales, and one weight row's operands at a time.
template <int R, int C>
void i8_tile(const WeightPanel& w, const ActPanel& a, float* y, int64_t ldy) {
  const int64_t k = w.k;
  __m256 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t kk = 0; kk < k; kk += 32) {
    __m256i aq[C];
    __m256 ad[C];
    for (int c = 0; c < C; ++c) {
      aq[c] = x86::load256(a.q + c * k + kk);
      ad[c] = _mm256_broadcast_ss(a.d + c * (k / 32) + kk / 32);
    }
    for (int r = 0; r < R; ++r) {
      const __m256i wq = x86::load256(w.q + r * k + kk);
      const __m256i wabs = _mm256_sign_epi8(wq, wq);
      const __m256 ws = _mm256_loadu_ps(w.lane_scale + r * (k / 4) + kk / 4);
      for (int c = 0; c < C; ++c) {
        const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(wabs, _mm256_sign_epi8(aq[c], wq)), ones);
        acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(ws, ad[c]), acc[r][c]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      const float* go = w.group_offset + r * (k / 16);
      const float* ds = a.dsum + c * (k / 16);
      __m256 off = _mm256_setzero_ps();
      int64_t g = 0;
      for (; g + 8 <= k / 16; g += 8) off = _mm256_fmadd_ps(_mm256_loadu_ps(go + g), _mm256_loadu_ps(ds + g), off);
      float sum = x86::hsum(_mm256_add_ps(acc[r][c], off));
      for (; g < k / 16; ++g) sum += go[g] * ds[g];
      y[c * ldy + r] = sum;
    }
  }
}

template <int R, int C>
void f32_tile(const float* w, const float* a, int64_t k, float* y, int64_t ldy) {
  __m256 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
  const int64_t k8 = k & ~int64_t{7};
  for (int64_t kk = 0; kk < k8; kk += 8) {
    __m256 av[C];
    for (int c = 0; c < C; ++c) av[c] = _mm256_loadu_ps(a + c * k + kk);
    for (int r = 0; r < R; ++r) {
      const __m256 wv = _mm256_loadu_ps(w + r * k + kk);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(wv, av[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      float sum = x86::hsum(acc[r][c]);
      for (int64_t kk = k8; kk < k; ++kk) sum += w[r * k + kk] * a[c * k + kk];
      y[c * ldy + r] = sum;
    }
  }
}

}  // namespace

// Compile-time tile shapes for every (rows, cols) up to kGemmTileRows x kGemmTileCols; matrix edges use the
// smaller ones.
void gemm_i8_tile(const WeightPanel& w, int rows, const ActPanel& a, int cols, float* y, int64_t ldy) {
  using Fn = void (*)(const WeightPanel&, const ActPanel&, float*, int64_t);
  static constexpr Fn kTable[4][2] = {{i8_tile<1, 1>, i8_tile<1, 2>},
                                      {i8_tile<2, 1>, i8_tile<2, 2>},
                                      {i8_tile<3, 1>, i8_tile<3, 2>},
                                      {i8_tile<4, 1>, i8_tile<4, 2>}};
  kTable[rows - 1][cols - 1](w, a, y, ldy);
}

void gemm_f32_tile(const float* w, int rows, const float* a, int cols, int64_t k, float* y, int64_t ldy) {
  using Fn = void (*)(const float*, const float*, int64_t, float*, int64_t);
  static constexpr Fn kTable[4][2] = {{f32_tile<1, 1>, f32_tile<1, 2>},
                                      {f32_tile<2, 1>, f32_tile<2, 2>},
                                      {f32_tile<3, 1>, f32_tile<3, 2>},
                                      {f32_tile<4, 1>, f32_tile<4, 2>}};
  kTable[rows - 1][cols - 1](w, a, k, y, ldy);
}

}  // namespace strata::cpu::avx2
