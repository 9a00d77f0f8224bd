#include <cmath>

#include "kernels/ops/cpu_ops.h"

namespace strata::cpu {

void rms_norm(const float* x, const float* w, int64_t m, int64_t n, float eps, float* y) {
  for (int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * n;
    float* yi = y + i * n;
    // Sum in double: a 4096-wide row of activations in the hundreds loses digits in float.
    double sum_sq = 0;
    for (int64_t j = 0; j < n; ++j) sum_sq += static_cast<double>(xi[j]) * xi[j];
    const float inv_rms = static_cast<float>(1.0 / std::sqrt(sum_sq / n + eps));
    for (int64_t j = 0; j < n; ++j) yi[j] = xi[j] * inv_rms * w[j];
  }
}

}  // namespace strata::cpu
