// AVX2 + FMA + F16C kernels (compiled with those flags only; see kernels/CMakeLists.txt). Haswell-era baseline: no
// VNNI, so u8 x s8 dots go through maddubs + madd and signed weights use the sign trick.
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/quant/block_formats.h"
#include "kernels/cpu/dot_tile_dispatch.h"
#include "kernels/cpu/isa_kernels.h"

namespace strata::cpu::avx2 {

// Per-ISA copies of the shared helpers and 256-bit kernels (see x86_simd.h for why they are not shared).
#include "kernels/cpu/x86_simd.h"
// The kernels use the helpers above: keep this order.
#include "kernels/cpu/kernels_x86_dot.h"

namespace {

struct LoadF32 {
  static __m256 vec(const uint8_t* row, int64_t e) { return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + e); }
  static float one(const uint8_t* row, int64_t e) { return reinterpret_cast<const float*>(row)[e]; }
};
struct LoadF16 {
  static __m256 vec(const uint8_t* row, int64_t e) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * e)));
  }
  static float one(const uint8_t* row, int64_t e) { return x86::fp16(reinterpret_cast<const uint16_t*>(row)[e]); }
};
struct LoadBF16 {
  static __m256 vec(const uint8_t* row, int64_t e) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * e)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float one(const uint8_t* row, int64_t e) { return x86::bf16(reinterpret_cast<const uint16_t*>(row)[e]); }
};

// Float weights against f32 activations: two accumulators per output (16 elements per step), then 8-wide steps
// into the first, then a scalar tail after the horizontal sum.
template <class Load>
struct DotFloat {
  template <int R, int C>
  static void run(const DotTile& t) {
    __m256 acc[R][C][2];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) acc[r][c][0] = acc[r][c][1] = _mm256_setzero_ps();
    auto step = [&](int64_t e, int slot) {
      __m256 wv[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) wv[r] = Load::vec(t.w + r * t.w_stride, e);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m256 xv = _mm256_loadu_ps(reinterpret_cast<const float*>(t.a + c * t.a_stride) + e);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r][c][slot] = _mm256_fmadd_ps(wv[r], xv, acc[r][c][slot]);
      }
    };
    int64_t e = 0;
    for (; e + 16 <= t.n; e += 16) {
      step(e, 0);
      step(e + 8, 1);
    }
    for (; e + 8 <= t.n; e += 8) step(e, 0);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const auto* x = reinterpret_cast<const float*>(t.a + c * t.a_stride);
        float sum = x86::hsum(_mm256_add_ps(acc[r][c][0], acc[r][c][1]));
        for (int64_t j = e; j < t.n; ++j) sum += Load::one(t.w + r * t.w_stride, j) * x[j];
        t.y[c * t.ldy + r] = sum;
      }
    }
  }
};

}  // namespace

void dot_f16_f32(const DotTile& t, int rows, int cols) { detail::dispatch<DotFloat<LoadF16>>(t, rows, cols); }
void dot_bf16_f32(const DotTile& t, int rows, int cols) { detail::dispatch<DotFloat<LoadBF16>>(t, rows, cols); }
void dot_f32_f32(const DotTile& t, int rows, int cols) { detail::dispatch<DotFloat<LoadF32>>(t, rows, cols); }

}  // namespace strata::cpu::avx2
