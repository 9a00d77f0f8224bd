#include <immintrin.h>

#include <cstring>

#include "kernels/ops/cpu_ops.h"

namespace strata::cpu {
namespace {

void add_scalar(const float* x, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

// The residual adds (two per layer): the generic build's 4-wide loop behind an overlap check is several times slower.
__attribute__((target("avx512f"))) void add_avx512(const float* x, int64_t n, float* y) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i), _mm512_loadu_ps(x + i)));
  add_scalar(x + i, n - i, y + i);
}

__attribute__((target("avx2"))) void add_avx2(const float* x, int64_t n, float* y) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
  add_scalar(x + i, n - i, y + i);
}

}  // namespace

void add(const float* x, int64_t m, int64_t n, float* y, ThreadPool& pool) {
  static const auto fn = by_isa(add_avx512, add_avx2, add_scalar);
  parallel_rows(pool, m, [&](int64_t r0, int64_t r1) { fn(x + r0 * n, (r1 - r0) * n, y + r0 * n); });
}

void add_bias(const float* bias, int64_t m, int64_t n, float* y) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) y[i * n + j] += bias[j];
  }
}

void gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t n, float* y) {
  for (int64_t i = 0; i < m; ++i) std::memcpy(y + i * n, x + static_cast<int64_t>(rows[i]) * n, n * sizeof(float));
}

}  // namespace strata::cpu
