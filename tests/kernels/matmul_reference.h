// Float64 reference of matmul and the normalized error used by the kernel tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/gguf/ggml_type.h"
#include "core/quant/dequantize.h"
#include "gtest/gtest.h"

namespace strata::cpu::testing {

struct Reference {
  std::vector<double> y;      // [m, n]: sum_k x[i, k] * dequantize(W)[j, k], accumulated in double
  std::vector<double> scale;  // [m, n]: sqrt(sum_k (x[i, k] * W[j, k])^2), the size y has for uncorrelated inputs
};

// The error of an output with a few random terms is judged against `scale` rather than |y|: y can cancel to near
// zero for one (i, j), while rounding errors of its terms do not cancel; over many outputs both give the same ratio.
inline Reference reference_matmul(GgmlType type, const std::vector<uint8_t>& w, int64_t n, int64_t k,
                                  const std::vector<float>& x, int64_t m) {
  const GgmlTypeInfo* info = ggml_type_info(type);
  const int64_t row_bytes = k / info->block_size * info->type_size;
  std::vector<float> wf(k);
  Reference ref{std::vector<double>(m * n), std::vector<double>(m * n)};
  for (int64_t j = 0; j < n; ++j) {
    EXPECT_TRUE(dequantize_row(type, w.data() + j * row_bytes, wf.data(), k).ok());
    for (int64_t i = 0; i < m; ++i) {
      double acc = 0.0, sq = 0.0;
      for (int64_t e = 0; e < k; ++e) {
        const double t = static_cast<double>(wf[e]) * x[i * k + e];
        acc += t;
        sq += t * t;
      }
      ref.y[i * n + j] = acc;
      ref.scale[i * n + j] = std::sqrt(sq);
    }
  }
  return ref;
}

// ||y - ref.y|| / ||ref.scale||; NaN anywhere in y gives infinity.
inline double normalized_error(const std::vector<float>& y, const Reference& ref) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (std::isnan(y[i])) return INFINITY;
    const double d = y[i] - ref.y[i];
    num += d * d;
    den += ref.scale[i] * ref.scale[i];
  }
  return den > 0.0 ? std::sqrt(num / den) : std::sqrt(num);
}

// ||y - ref|| / ||ref||; NaN anywhere in y gives infinity.
template <typename A, typename B>
double normalized_error(const std::vector<A>& y, const std::vector<B>& ref) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (std::isnan(static_cast<double>(y[i]))) return INFINITY;
    const double d = static_cast<double>(y[i]) - static_cast<double>(ref[i]);
    num += d * d;
    den += static_cast<double>(ref[i]) * static_cast<double>(ref[i]);
  }
  return den > 0.0 ? std::sqrt(num / den) : std::sqrt(num);
}

}  // namespace strata::cpu::testing
