// The vector exp of the softmax and gated activations (exp_avx2.h, exp_avx512.h) against double-precision exp.
#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/ops/exp_avx2.h"
#include "kernels/ops/exp_avx512.h"

namespace strata::cpu {
namespace {

// Inputs over [-100, 100] in steps of 1/1024 (every value exact in float), plus the ends the softmax meets.
std::vector<float> inputs() {
  std::vector<float> x;
  for (int i = -100 * 1024; i <= 100 * 1024; ++i) x.push_back(static_cast<float>(i) / 1024.0f);
  x.push_back(-std::numeric_limits<float>::infinity());
  x.push_back(std::numeric_limits<float>::infinity());
  x.push_back(-87.33654f);
  x.push_back(88.72283f);
  return x;
}

__attribute__((target("avx2,fma"))) std::vector<float> run_avx2(const std::vector<float>& x) {
  std::vector<float> y(x.size() + 8);
  for (size_t i = 0; i < x.size(); i += 8) {
    float in[8] = {};
    for (size_t j = 0; j < 8 && i + j < x.size(); ++j) in[j] = x[i + j];
    _mm256_storeu_ps(y.data() + i, exp_avx2(_mm256_loadu_ps(in)));
  }
  y.resize(x.size());
  return y;
}

__attribute__((target("avx512f"))) std::vector<float> run_avx512(const std::vector<float>& x) {
  std::vector<float> y(x.size() + 16);
  for (size_t i = 0; i < x.size(); i += 16) {
    float in[16] = {};
    for (size_t j = 0; j < 16 && i + j < x.size(); ++j) in[j] = x[i + j];
    _mm512_storeu_ps(y.data() + i, exp_avx512(_mm512_loadu_ps(in)));
  }
  y.resize(x.size());
  return y;
}

// Within 2 ulp (relative 2^-22) where e^x is a normal float; where it is below the smallest normal float, within
// that of it (AVX-512 returns denormals there, AVX2 0), and exactly 0 for -inf; inf where it is above the largest.
void expect_close(const std::vector<float>& x, const std::vector<float>& y, const char* isa) {
  int bad = 0;
  for (size_t i = 0; i < x.size() && bad < 10; ++i) {
    const double want = std::exp(static_cast<double>(x[i]));
    const double got = y[i];
    bool ok = want >= FLT_MIN ? std::abs(got - want) <= want * 0x1p-22 : std::abs(got - want) <= FLT_MIN;
    if (want > FLT_MAX) ok = std::isinf(got) && got > 0;
    if (!ok || (x[i] == -std::numeric_limits<float>::infinity() && got != 0.0)) {
      ADD_FAILURE() << isa << ": exp(" << x[i] << ") = " << got << ", want " << want;
      ++bad;
    }
  }
}

TEST(VectorExp, Avx2MatchesDoublePrecision) {
  if (!isa_supported(Isa::kAvx2)) GTEST_SKIP() << "no AVX2 on this CPU";
  const std::vector<float> x = inputs();
  expect_close(x, run_avx2(x), "avx2");
}

TEST(VectorExp, Avx512MatchesDoublePrecision) {
  if (!isa_supported(Isa::kAvx512)) GTEST_SKIP() << "no AVX-512 on this CPU";
  const std::vector<float> x = inputs();
  expect_close(x, run_avx512(x), "avx512");
}

}  // namespace
}  // namespace strata::cpu
