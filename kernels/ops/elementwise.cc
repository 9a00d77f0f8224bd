#include <cstring>

#include "kernels/ops/cpu_ops.h"

namespace strata::cpu {

void add(const float* x, int64_t m, int64_t n, float* y) {
  const int64_t total = m * n;
  for (int64_t i = 0; i < total; ++i) y[i] += x[i];
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
