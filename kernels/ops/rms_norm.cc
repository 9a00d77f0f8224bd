#include <immintrin.h>

#include <cmath>

#include "kernels/ops/cpu_ops.h"

namespace strata::cpu {
namespace {

// Sum of squares in double: a 4096-wide row of activations in the hundreds loses digits in float.
double sum_squares_scalar(const float* x, int64_t n) {
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) sum += static_cast<double>(x[j]) * x[j];
  return sum;
}

// The same in four double accumulators of 8: the one-accumulator loop waits on the add latency for every element
// (~3 us for a 2048-wide decode row, twice per layer).
__attribute__((target("avx512f"))) double sum_squares_avx512(const float* x, int64_t n) {
  __m512d acc[4] = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd()};
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    for (int a = 0; a < 4; ++a) {
      const __m512d v = _mm512_cvtps_pd(_mm256_loadu_ps(x + j + 8 * a));
      acc[a] = _mm512_fmadd_pd(v, v, acc[a]);
    }
  }
  const double vector_sum =
      _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(acc[0], acc[1]), _mm512_add_pd(acc[2], acc[3])));
  return vector_sum + sum_squares_scalar(x + j, n - j);
}

// And in four double accumulators of 4 on AVX2.
__attribute__((target("avx2,fma"))) double sum_squares_avx2(const float* x, int64_t n) {
  __m256d acc[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    for (int a = 0; a < 4; ++a) {
      const __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(x + j + 4 * a));
      acc[a] = _mm256_fmadd_pd(v, v, acc[a]);
    }
  }
  const __m256d sum = _mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3]));
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, sum);
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + sum_squares_scalar(x + j, n - j);
}

using SumSquaresFn = double (*)(const float*, int64_t);

// y = x * inv_rms * w, the same two roundings per element on every path.
void scale_scalar(const float* x, const float* w, float inv_rms, int64_t n, float* y) {
  for (int64_t j = 0; j < n; ++j) y[j] = x[j] * inv_rms * w[j];
}

// The generic build's loop runs 4 floats at a time and, since y may alias x, behind a run-time overlap check: ~1.4 us
// of a 2048-wide decode row, twice per layer.
__attribute__((target("avx512f"))) void scale_avx512(const float* x, const float* w, float inv_rms, int64_t n,
                                                     float* y) {
  const __m512 inv = _mm512_set1_ps(inv_rms);
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    _mm512_storeu_ps(y + j, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + j), inv), _mm512_loadu_ps(w + j)));
  }
  scale_scalar(x + j, w + j, inv_rms, n - j, y + j);
}

__attribute__((target("avx2"))) void scale_avx2(const float* x, const float* w, float inv_rms, int64_t n, float* y) {
  const __m256 inv = _mm256_set1_ps(inv_rms);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    _mm256_storeu_ps(y + j, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + j), inv), _mm256_loadu_ps(w + j)));
  }
  scale_scalar(x + j, w + j, inv_rms, n - j, y + j);
}

using ScaleFn = void (*)(const float*, const float*, float, int64_t, float*);

}  // namespace

void rms_norm(const float* x, const float* w, int64_t m, int64_t n, float eps, float* y, ThreadPool& pool) {
  static const SumSquaresFn sum_squares =
      by_isa<SumSquaresFn>(sum_squares_avx512, sum_squares_avx2, sum_squares_scalar);
  static const ScaleFn scale = by_isa<ScaleFn>(scale_avx512, scale_avx2, scale_scalar);
  parallel_rows(pool, m, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const float* xi = x + i * n;
      const float inv_rms = static_cast<float>(1.0 / std::sqrt(sum_squares(xi, n) / n + eps));
      scale(xi, w, inv_rms, n, y + i * n);
    }
  });
}

}  // namespace strata::cpu
