#include <cmath>

#include "kernels/ops/cpu_ops.h"

namespace strata::cpu {

void gated_activation(const float* gate, const float* up, int64_t m, int64_t n, FfnActivation act, float* y) {
  const int64_t total = m * n;
  if (act == FfnActivation::kSilu) {
    for (int64_t i = 0; i < total; ++i) y[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
  } else {
    // GELU, tanh approximation (what Gemma was trained with).
    constexpr float kSqrt2OverPi = 0.7978845608028654f;
    for (int64_t i = 0; i < total; ++i) {
      const float g = gate[i];
      y[i] = 0.5f * g * (1.0f + std::tanh(kSqrt2OverPi * (g + 0.044715f * g * g * g))) * up[i];
    }
  }
}

}  // namespace strata::cpu
