#include <immintrin.h>

#include <cmath>

#include "kernels/ops/cpu_ops.h"
#include "kernels/ops/exp_avx2.h"
#include "kernels/ops/exp_avx512.h"

namespace strata::cpu {
namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;

void silu_mul_scalar(const float* gate, const float* up, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

// GELU, tanh approximation (what Gemma was trained with).
void gelu_mul_scalar(const float* gate, const float* up, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    y[i] = 0.5f * g * (1.0f + std::tanh(kSqrt2OverPi * (g + 0.044715f * g * g * g))) * up[i];
  }
}

// SwiGLU's gate is the decode step's largest elementwise op (n_ff values per token); std::exp one value at a time
// cost ~2 % of a decode step.
__attribute__((target("avx512f"))) void silu_mul_avx512(const float* gate, const float* up, int64_t n, float* y) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 g = _mm512_loadu_ps(gate + i);
    const __m512 e = exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), g));
    const __m512 silu = _mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
    _mm512_storeu_ps(y + i, _mm512_mul_ps(silu, _mm512_loadu_ps(up + i)));
  }
  silu_mul_scalar(gate + i, up + i, n - i, y + i);
}

// 0.5 g (1 + tanh(u)) = g / (1 + exp(-2u)): the same exp as SiLU.
__attribute__((target("avx512f"))) void gelu_mul_avx512(const float* gate, const float* up, int64_t n, float* y) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 g = _mm512_loadu_ps(gate + i);
    const __m512 g3 = _mm512_mul_ps(_mm512_mul_ps(g, g), g);
    const __m512 u = _mm512_mul_ps(_mm512_set1_ps(kSqrt2OverPi), _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), g3, g));
    const __m512 e = exp_avx512(_mm512_mul_ps(_mm512_set1_ps(-2.0f), u));
    const __m512 gelu = _mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
    _mm512_storeu_ps(y + i, _mm512_mul_ps(gelu, _mm512_loadu_ps(up + i)));
  }
  gelu_mul_scalar(gate + i, up + i, n - i, y + i);
}

// The same on 8 floats with exp_avx2, for CPUs without AVX-512: the scalar loop's std::exp per value took 2.6 % of
// an AVX2 decode step and 3.8 % of a 128-token prefill (850M Q4_0).
__attribute__((target("avx2,fma"))) void silu_mul_avx2(const float* gate, const float* up, int64_t n, float* y) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), g));
    const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
  }
  silu_mul_scalar(gate + i, up + i, n - i, y + i);
}

__attribute__((target("avx2,fma"))) void gelu_mul_avx2(const float* gate, const float* up, int64_t n, float* y) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 g3 = _mm256_mul_ps(_mm256_mul_ps(g, g), g);
    const __m256 u = _mm256_mul_ps(_mm256_set1_ps(kSqrt2OverPi), _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), g3, g));
    const __m256 e = exp_avx2(_mm256_mul_ps(_mm256_set1_ps(-2.0f), u));
    const __m256 gelu = _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(gelu, _mm256_loadu_ps(up + i)));
  }
  gelu_mul_scalar(gate + i, up + i, n - i, y + i);
}

using GatedFn = void (*)(const float*, const float*, int64_t, float*);

// A single row is split over the pool from this many values (a hand-off costs about as much as a few thousand);
// pieces start at multiples of the widest vector loop's step.
constexpr int64_t kSplitRowValues = 2048;
constexpr int64_t kSplitAlign = 16;

}  // namespace

void gated_activation(const float* gate, const float* up, int64_t m, int64_t n, FfnActivation act, float* y,
                      ThreadPool& pool) {
  static const GatedFn silu = by_isa<GatedFn>(silu_mul_avx512, silu_mul_avx2, silu_mul_scalar);
  static const GatedFn gelu = by_isa<GatedFn>(gelu_mul_avx512, gelu_mul_avx2, gelu_mul_scalar);
  const GatedFn fn = act == FfnActivation::kSilu ? silu : gelu;
  // Row by row, so which values take the vector loop and which its scalar tail never depends on the batch.
  if (m >= pool.num_threads() || n < kSplitRowValues) {
    parallel_rows(pool, m, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) fn(gate + r * n, up + r * n, n, y + r * n);
    });
    return;
  }
  // Fewer rows than threads (decode): each row in pieces over the pool. The gate and up rows were just written by
  // the matmul's non-temporal stores, so reading them is a few microseconds from memory that the other thread
  // would spend waiting. Pieces start at multiples of kSplitAlign values, so every value takes the vector loop or
  // the scalar tail exactly as it does in one call over the whole row: the same bits.
  const int64_t pieces = (pool.num_threads() + m - 1) / m;
  const int64_t piece = (n / pieces + kSplitAlign - 1) / kSplitAlign * kSplitAlign;
  pool.parallel_for(m * pieces, [&](int64_t task, int) {
    const int64_t r = task / pieces, c0 = std::min(n, task % pieces * piece);
    const int64_t c1 = task % pieces == pieces - 1 ? n : std::min(n, c0 + piece);
    fn(gate + r * n + c0, up + r * n + c0, c1 - c0, y + r * n + c0);
  });
}

}  // namespace strata::cpu
