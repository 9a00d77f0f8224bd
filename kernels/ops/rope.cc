#include <cmath>
#include <vector>

#include "kernels/ops/cpu_ops.h"

namespace strata::cpu {

void rope(float* x, const int32_t* pos, int64_t m, int64_t n_heads, int64_t head_dim, const RopeParams& p) {
  const int64_t half = p.rope_dim / 2;
  // Per-pair inverse frequencies base^(-2i/d), computed once per call rather than per head.
  std::vector<double> inv_freq(half);
  for (int64_t i = 0; i < half; ++i) inv_freq[i] = std::pow(static_cast<double>(p.freq_base), -2.0 * i / p.rope_dim);
  std::vector<float> cos_t(half), sin_t(half);
  for (int64_t t = 0; t < m; ++t) {
    const double position = static_cast<double>(pos[t]) * p.freq_scale;
    for (int64_t i = 0; i < half; ++i) {
      const double theta = position * inv_freq[i];
      cos_t[i] = static_cast<float>(std::cos(theta));
      sin_t[i] = static_cast<float>(std::sin(theta));
    }
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        // kNormal rotates adjacent pairs; kNeox rotates element i with element i + rope_dim/2.
        const int64_t a = p.layout == RopeLayout::kNormal ? 2 * i : i;
        const int64_t b = p.layout == RopeLayout::kNormal ? 2 * i + 1 : i + half;
        const float x0 = v[a], x1 = v[b];
        v[a] = x0 * cos_t[i] - x1 * sin_t[i];
        v[b] = x0 * sin_t[i] + x1 * cos_t[i];
      }
    }
  }
}

}  // namespace strata::cpu
