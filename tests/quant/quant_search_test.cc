// The k-quant scale searches must beat the plain min/max (or max-abs) grid they start from: that is their whole
// point, and the reason the k-quants reach llama.cpp's quality rather than a naive quantizer's.
#include "core/quant/quant_search.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace strata {
namespace {

std::vector<float> gaussian(int n, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

TEST(QuantSearchTest, NearestIntRoundsHalfToEven) {
  EXPECT_EQ(nearest_int(2.5f), 2);
  EXPECT_EQ(nearest_int(3.5f), 4);
  EXPECT_EQ(nearest_int(-2.5f), -2);
  EXPECT_EQ(nearest_int(-0.49f), 0);
  EXPECT_EQ(nearest_int(126.51f), 127);
}

// Q4_K's setting (32 values, 16 levels, weights rms + |x|): the search never loses (it only accepts improvements)
// and on Gaussian groups gains clearly on average in weighted squared error.
TEST(QuantSearchTest, Qkx2SearchBeatsMinMaxGrid) {
  std::mt19937 rng(5);
  double plain_total = 0, searched_total = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const std::vector<float> x = gaussian(32, rng);
    float sum_x2 = 0;
    for (float v : x) sum_x2 += v * v;
    std::vector<float> w(32);
    for (int i = 0; i < 32; ++i) w[i] = std::sqrt(sum_x2 / 32) + std::fabs(x[i]);
    uint8_t l0[32], l1[32], aux[32];
    float min0, min1;
    const float s0 = make_qkx2_quants(32, 15, x.data(), w.data(), l0, &min0, aux, -1.0f, 0.1f, 0, false);
    const float s1 = make_qkx2_quants(32, 15, x.data(), w.data(), l1, &min1, aux, -1.0f, 0.1f, 20, false);
    double e0 = 0, e1 = 0;
    for (int i = 0; i < 32; ++i) {
      ASSERT_LE(l1[i], 15);
      e0 += w[i] * std::pow(s0 * l0[i] - min0 - x[i], 2);
      e1 += w[i] * std::pow(s1 * l1[i] - min1 - x[i], 2);
    }
    ASSERT_LE(e1, e0 * (1 + 1e-5)) << trial;
    plain_total += e0;
    searched_total += e1;
  }
  EXPECT_LT(searched_total / plain_total, 0.9);  // measured 0.80
}

// Q6_K's setting (16 values, levels -32..31, x^2 weights): the refit scale beats the max-abs scale.
TEST(QuantSearchTest, QxSearchBeatsMaxAbsScale) {
  std::mt19937 rng(6);
  double plain_total = 0, searched_total = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const std::vector<float> x = gaussian(16, rng);
    int8_t l0[16], l1[16];
    const float s0 = make_qx_quants(16, 32, x.data(), l0, 0, nullptr);
    const float s1 = make_qx_quants(16, 32, x.data(), l1, 1, nullptr);
    double e0 = 0, e1 = 0;
    for (int i = 0; i < 16; ++i) {
      ASSERT_GE(l1[i], 0);
      ASSERT_LE(l1[i], 63);
      const double w = x[i] * x[i];
      e0 += w * std::pow(s0 * (l0[i] - 32) - x[i], 2);
      e1 += w * std::pow(s1 * (l1[i] - 32) - x[i], 2);
    }
    ASSERT_LE(e1, e0 * (1 + 1e-3)) << trial;  // equal up to f32 accumulation
    plain_total += e0;
    searched_total += e1;
  }
  EXPECT_LT(searched_total / plain_total, 0.8);  // measured 0.70
}

// Q3_K's setting (16 values, levels -4..3): the level-by-level refinement beats the max-abs grid.
TEST(QuantSearchTest, Q3SearchBeatsMaxAbsScale) {
  std::mt19937 rng(7);
  double plain_total = 0, searched_total = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const std::vector<float> x = gaussian(16, rng);
    int8_t l0[16], l1[16];
    const float s0 = make_q3_quants(16, 4, x.data(), l0, false);
    const float s1 = make_q3_quants(16, 4, x.data(), l1, true);
    double e0 = 0, e1 = 0;
    for (int i = 0; i < 16; ++i) {
      ASSERT_GE(l1[i], 0);
      ASSERT_LE(l1[i], 7);
      const double w = x[i] * x[i];
      e0 += w * std::pow(s0 * (l0[i] - 4) - x[i], 2);
      e1 += w * std::pow(s1 * (l1[i] - 4) - x[i], 2);
    }
    plain_total += e0;
    searched_total += e1;
  }
  EXPECT_LT(searched_total / plain_total, 0.9);  // measured 0.80
}

TEST(QuantSearchTest, ConstantGroupGivesZeroScale) {
  std::vector<float> x(32, 0.7f), w(32, 1.0f);
  uint8_t l[32], aux[32];
  float min = -1;
  // All values equal and positive: min is clamped to 0, so the range is 0.7 and the scale non-zero.
  EXPECT_GT(make_qkx2_quants(32, 15, x.data(), w.data(), l, &min, aux, -1.0f, 0.1f, 20, false), 0.0f);
  std::vector<float> zeros(32, 0.0f);
  EXPECT_EQ(make_qkx2_quants(32, 15, zeros.data(), w.data(), l, &min, aux, -1.0f, 0.1f, 20, false), 0.0f);
  EXPECT_EQ(min, 0.0f);
  int8_t lq[32];
  EXPECT_EQ(make_qx_quants(32, 32, zeros.data(), lq, 1, nullptr), 0.0f);
}

}  // namespace
}  // namespace strata
