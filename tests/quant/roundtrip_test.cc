// quantize_row -> dequantize_row on random data (fixed seeds, several row lengths and distributions).
//
// Legacy formats and Q8_K: a per-element bound that is known exactly. An element at level q of a block with stored
// f16 scale d (and min m) is off by at most half a step, |d| / 2, plus what rounding the f32 scale to f16 moved it:
// |q| * |d| * 2^-11 (and |m| * 2^-11 for the min). The symmetric 4/5-bit formats have one level fewer above zero
// than below, so their top level absorbs values up to a full step away. Everything times (1 + 1e-3) for f32
// arithmetic.
//
// K-quants: every element sits on the level nearest to it under the sub-block scale actually stored (checked per
// element, except at the ends of the level range where values clip), and the normalized RMS error
// rms(x - x_hat) / rms(x) stays under a per-format threshold. The thresholds are what ggml's reference
// quantizers achieve, with ~20 % margin (measured values beside the tests); a layout bug is far above them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/quant/block_formats.h"
#include "core/quant/dequantize.h"
#include "core/quant/fp16.h"
#include "core/quant/k_scales.h"
#include "core/quant/quant_traits.h"
#include "core/quant/quantize.h"

namespace strata {
namespace {

constexpr double kF16ScaleRounding = 1.0 / 2048;  // 2^-11: relative rounding error of an f32 -> f16 scale
constexpr double kArithmeticSlack = 1 + 1e-3;

enum class Dist { kGaussian, kSmallGaussian, kUniform, kPositiveUniform };

std::string dist_name(Dist d) {
  switch (d) {
    case Dist::kGaussian:
      return "N(0,1)";
    case Dist::kSmallGaussian:
      return "N(0.01,0.02)";
    case Dist::kUniform:
      return "U(-1,1)";
    case Dist::kPositiveUniform:
      return "U(0.5,2)";
  }
  return "?";
}

std::vector<float> make_data(Dist dist, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::normal_distribution<float> small_gauss(0.01f, 0.02f);  // the scale of real weight matrices, off-centre
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::uniform_real_distribution<float> positive(0.5f, 2.0f);  // no zero crossing: exercises the mins
  std::vector<float> x(n);
  for (float& v : x) {
    switch (dist) {
      case Dist::kGaussian:
        v = gauss(rng);
        break;
      case Dist::kSmallGaussian:
        v = small_gauss(rng);
        break;
      case Dist::kUniform:
        v = uniform(rng);
        break;
      case Dist::kPositiveUniform:
        v = positive(rng);
        break;
    }
  }
  return x;
}

constexpr Dist kDists[] = {Dist::kGaussian, Dist::kSmallGaussian, Dist::kUniform, Dist::kPositiveUniform};

template <GgmlType T>
std::vector<typename QuantTraits<T>::Block> quantize(const std::vector<float>& x) {
  std::vector<typename QuantTraits<T>::Block> blocks(x.size() / QuantTraits<T>::kBlockSize);
  const absl::Status status = quantize_row(T, x.data(), blocks.data(), static_cast<int64_t>(x.size()));
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(row_size(T, static_cast<int64_t>(x.size())), blocks.size() * sizeof(blocks[0]));
  return blocks;
}

template <typename Block>
std::vector<float> dequantize(GgmlType type, const std::vector<Block>& blocks, int64_t n) {
  std::vector<float> y(n);
  const absl::Status status = dequantize_row(type, blocks.data(), y.data(), n);
  EXPECT_TRUE(status.ok()) << status;
  return y;
}

double normalized_rms_error(const std::vector<float>& x, const std::vector<float>& y) {
  double err = 0, ref = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
    ref += static_cast<double>(x[i]) * x[i];
  }
  return std::sqrt(err / ref);
}

// ---- legacy formats and Q8_K: exact per-element bounds ----

struct LegacySpec {
  double zero_level;  // stored level of value 0 (8 for Q4_0); 0 for the formats with a min
  int top_level;      // highest level; for symmetric formats it clips (see file comment)
  bool symmetric;
};

// d, m: the block's stored scale and min as f32. Returns the max over the block of |x - y| / bound.
double legacy_worst_ratio(const float* x, const float* y, int n, double d, double m, const LegacySpec& spec) {
  double worst = 0;
  for (int j = 0; j < n; ++j) {
    // x_hat = d * raw + m, where raw is the stored level minus the zero level of symmetric formats.
    const double raw = d != 0 ? std::round((y[j] - m) / d) : 0;
    const double level = spec.symmetric ? raw + spec.zero_level : raw;
    const double centred = raw;
    const double step = spec.symmetric && level == spec.top_level ? 1.0 : 0.5;
    const double bound =
        (std::fabs(d) * (step + std::fabs(centred) * kF16ScaleRounding) + std::fabs(m) * kF16ScaleRounding) *
            kArithmeticSlack +
        1e-30;
    worst = std::max(worst, std::fabs(static_cast<double>(x[j]) - y[j]) / bound);
  }
  return worst;
}

template <GgmlType T>
void check_legacy(const LegacySpec& spec) {
  using Block = typename QuantTraits<T>::Block;
  constexpr int kBs = QuantTraits<T>::kBlockSize;
  uint32_t seed = 100;
  for (const Dist dist : kDists) {
    for (const int64_t n : {int64_t{32}, int64_t{96}, int64_t{4096}}) {
      const std::vector<float> x = make_data(dist, n, ++seed);
      const std::vector<Block> blocks = quantize<T>(x);
      const std::vector<float> y = dequantize(T, blocks, n);
      double worst = 0;
      for (size_t b = 0; b < blocks.size(); ++b) {
        double m = 0;
        if constexpr (requires { blocks[b].m; }) m = fp16_to_f32(blocks[b].m);
        worst = std::max(
            worst, legacy_worst_ratio(x.data() + b * kBs, y.data() + b * kBs, kBs, fp16_to_f32(blocks[b].d), m, spec));
      }
      EXPECT_LE(worst, 1.0) << dist_name(dist) << " n=" << n;
    }
  }
}

TEST(RoundTripTest, Q4_0WithinHalfStep) { check_legacy<GgmlType::kQ4_0>({8, 15, true}); }
TEST(RoundTripTest, Q4_1WithinHalfStep) { check_legacy<GgmlType::kQ4_1>({0, 15, false}); }
TEST(RoundTripTest, Q5_0WithinHalfStep) { check_legacy<GgmlType::kQ5_0>({16, 31, true}); }
TEST(RoundTripTest, Q5_1WithinHalfStep) { check_legacy<GgmlType::kQ5_1>({0, 31, false}); }
TEST(RoundTripTest, Q8_0WithinHalfStep) { check_legacy<GgmlType::kQ8_0>({0, 127, false}); }
TEST(RoundTripTest, Q8_1WithinHalfStep) { check_legacy<GgmlType::kQ8_1>({0, 127, false}); }

TEST(RoundTripTest, Q8_1SumMatchesItsLevels) {
  const std::vector<float> x = make_data(Dist::kGaussian, 256, 7);
  const auto blocks = quantize<GgmlType::kQ8_1>(x);
  for (const BlockQ8_1& b : blocks) {
    int sum = 0;
    for (int8_t q : b.qs) sum += q;
    const double d = fp16_to_f32(b.d);
    // s = f16(d_f32 * sum): d_f32 differs from the stored d by 2^-11 relative, then one more f16 rounding.
    EXPECT_NEAR(fp16_to_f32(b.s), d * sum, std::fabs(d * sum) * 3 * kF16ScaleRounding + 1e-6);
  }
}

TEST(RoundTripTest, Q8_KWithinHalfStepAndBsums) {
  uint32_t seed = 200;
  for (const Dist dist : kDists) {
    for (const int64_t n : {int64_t{256}, int64_t{768}, int64_t{4096}}) {
      const std::vector<float> x = make_data(dist, n, ++seed);
      const auto blocks = quantize<GgmlType::kQ8_K>(x);
      const std::vector<float> y = dequantize(GgmlType::kQ8_K, blocks, n);
      for (size_t b = 0; b < blocks.size(); ++b) {
        // f32 scale: only the half-step rounding error remains.
        const double bound = 0.5 * std::fabs(blocks[b].d) * kArithmeticSlack;
        for (int i = 0; i < kQK_K; ++i) {
          ASSERT_LE(std::fabs(x[b * kQK_K + i] - y[b * kQK_K + i]), bound) << dist_name(dist) << " " << i;
        }
        for (int s = 0; s < kQK_K / 16; ++s) {
          int sum = 0;
          for (int l = 0; l < 16; ++l) sum += blocks[b].qs[16 * s + l];
          ASSERT_EQ(blocks[b].bsums[s], sum);
        }
      }
    }
  }
}

// ---- k-quants ----

// Scale and offset of element i of a decoded block: x_hat = scale * level + offset, level in [lo, hi].
struct SubBlock {
  double scale;
  double offset;
  int lo, hi;
};

SubBlock sub_block(const BlockQ2_K& b, int i) {
  const uint8_t s = b.scales[i / 16];
  return {fp16_to_f32(b.d) * (s & 0xF), -static_cast<double>(fp16_to_f32(b.dmin)) * (s >> 4), 0, 3};
}
SubBlock sub_block(const BlockQ3_K& b, int i) {
  return {static_cast<double>(fp16_to_f32(b.d)) * get_scale_q3_k(i / 16, b.scales), 0, -4, 3};
}
SubBlock sub_block(const BlockQ4_K& b, int i) {
  uint8_t sc, m;
  get_scale_min_k4(i / 32, b.scales, &sc, &m);
  return {static_cast<double>(fp16_to_f32(b.d)) * sc, -static_cast<double>(fp16_to_f32(b.dmin)) * m, 0, 15};
}
SubBlock sub_block(const BlockQ5_K& b, int i) {
  uint8_t sc, m;
  get_scale_min_k4(i / 32, b.scales, &sc, &m);
  return {static_cast<double>(fp16_to_f32(b.d)) * sc, -static_cast<double>(fp16_to_f32(b.dmin)) * m, 0, 31};
}
SubBlock sub_block(const BlockQ6_K& b, int i) {
  return {static_cast<double>(fp16_to_f32(b.d)) * b.scales[i / 16], 0, -32, 31};
}

// Returns the normalized RMS error; checks the nearest-level property on the way.
template <GgmlType T>
double check_k_quant(Dist dist, int64_t n, uint32_t seed) {
  const std::vector<float> x = make_data(dist, n, seed);
  const auto blocks = quantize<T>(x);
  const std::vector<float> y = dequantize(T, blocks, n);
  int64_t off_level = 0;
  for (size_t b = 0; b < blocks.size(); ++b) {
    for (int i = 0; i < kQK_K; ++i) {
      const SubBlock s = sub_block(blocks[b], i);
      if (s.scale == 0) continue;
      const size_t k = b * kQK_K + i;
      const double level = std::round((y[k] - s.offset) / s.scale);
      if (level <= s.lo || level >= s.hi) continue;  // clipped values may be farther
      const double bound = 0.5 * std::fabs(s.scale) * kArithmeticSlack + 1e-6 * std::fabs(s.offset);
      if (std::fabs(x[k] - y[k]) > bound) ++off_level;
    }
  }
  EXPECT_EQ(off_level, 0) << dist_name(dist) << " n=" << n;
  return normalized_rms_error(x, y);
}

template <GgmlType T>
void check_k_quant_all(double threshold) {
  uint32_t seed = 300;
  for (const Dist dist : kDists) {
    for (const int64_t n : {int64_t{256}, int64_t{768}, int64_t{4096}}) {
      const double err = check_k_quant<T>(dist, n, ++seed);
      EXPECT_LE(err, threshold) << dist_name(dist) << " n=" << n;
      EXPECT_GT(err, 0.0) << dist_name(dist) << " n=" << n;
    }
  }
}

// Worst normalized RMS error measured over the cases above (always N(0,1), single-block rows worst), and the
// threshold with ~20 % margin. They sit at or below the uniform-quantizer estimate step / sqrt(12) with step =
// (expected range of a sub-block) / (levels - 1): e.g. Q6_K, 16 values with max |x| ~ 2 sigma over 64 levels:
// 2 / 32 / sqrt(12) = 0.018; Q4_K, 32 values spanning ~4.1 sigma over 16 levels: 0.079 before the scale search,
// 0.071-0.075 after it.
TEST(RoundTripTest, Q2_K) { check_k_quant_all<GgmlType::kQ2_K>(0.37); }   // measured 0.310
TEST(RoundTripTest, Q3_K) { check_k_quant_all<GgmlType::kQ3_K>(0.18); }   // measured 0.152
TEST(RoundTripTest, Q4_K) { check_k_quant_all<GgmlType::kQ4_K>(0.09); }   // measured 0.075
TEST(RoundTripTest, Q5_K) { check_k_quant_all<GgmlType::kQ5_K>(0.048); }  // measured 0.040
TEST(RoundTripTest, Q6_K) { check_k_quant_all<GgmlType::kQ6_K>(0.022); }  // measured 0.018

// ---- plain types ----

TEST(RoundTripTest, F16AndBf16RoundOnce) {
  const std::vector<float> x = make_data(Dist::kGaussian, 1000, 400);
  std::vector<uint16_t> h(x.size()), b(x.size());
  std::vector<float> y(x.size()), z(x.size()), w(x.size());
  ASSERT_TRUE(quantize_row(GgmlType::kF16, x.data(), h.data(), 1000).ok());
  ASSERT_TRUE(quantize_row(GgmlType::kBF16, x.data(), b.data(), 1000).ok());
  ASSERT_TRUE(dequantize_row(GgmlType::kF16, h.data(), y.data(), 1000).ok());
  ASSERT_TRUE(dequantize_row(GgmlType::kBF16, b.data(), z.data(), 1000).ok());
  ASSERT_TRUE(quantize_row(GgmlType::kF32, x.data(), w.data(), 1000).ok());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(std::fabs(x[i] - y[i]), std::fabs(x[i]) * std::ldexp(1.0, -11) + std::ldexp(1.0, -25));
    EXPECT_LE(std::fabs(x[i] - z[i]), std::fabs(x[i]) * std::ldexp(1.0, -8));
    EXPECT_EQ(w[i], x[i]);
  }
}

}  // namespace
}  // namespace strata
