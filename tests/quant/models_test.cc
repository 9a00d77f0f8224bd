// Every tensor of both real models dequantizes (row by row, row length = shape[0]) to finite values, and the token
// embeddings look like trained weights: a check of our reading of the formats against the files llama.cpp wrote.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/gguf/gguf_file.h"
#include "core/quant/dequantize.h"
#include "core/quant/quantize.h"

namespace strata {
namespace {

struct TensorStats {
  GgmlType type = GgmlType::kF32;
  double mean_abs = 0;
  double mean = 0;
  double variance = 0;
  int64_t n = 0;
};

// Dequantizes every tensor; fails on any type we cannot read, any size mismatch, any non-finite value.
std::map<std::string, TensorStats> dequantize_all(const std::string& path) {
  std::map<std::string, TensorStats> stats;
  auto file = GgufFile::open(path);
  EXPECT_TRUE(file.ok()) << path << ": " << file.status();
  if (!file.ok()) return stats;
  EXPECT_FALSE((*file)->tensors().empty());
  std::vector<float> row;
  for (const GgufTensorInfo& t : (*file)->tensors()) {
    const std::string name(t.name);
    EXPECT_TRUE(can_dequantize(t.type)) << name << " type " << static_cast<uint32_t>(t.type);
    if (!can_dequantize(t.type)) continue;
    const int64_t row_len = static_cast<int64_t>(t.shape[0]);
    const int64_t n_rows = static_cast<int64_t>(t.n_elements) / row_len;
    const size_t row_bytes = row_size(t.type, row_len);
    EXPECT_EQ(row_bytes * n_rows, t.n_bytes) << name;
    if (row_bytes * n_rows != t.n_bytes) continue;
    row.resize(row_len);
    double sum = 0, sum_abs = 0, sum_sq = 0;
    int64_t non_finite = 0;
    for (int64_t r = 0; r < n_rows; ++r) {
      const absl::Status s = dequantize_row(t.type, t.data + r * row_bytes, row.data(), row_len);
      EXPECT_TRUE(s.ok()) << name << ": " << s;
      if (!s.ok()) break;
      for (float v : row) {
        if (!std::isfinite(v)) ++non_finite;
        sum += v;
        sum_abs += std::fabs(v);
        sum_sq += static_cast<double>(v) * v;
      }
    }
    EXPECT_EQ(non_finite, 0) << name;
    TensorStats st;
    st.type = t.type;
    st.n = static_cast<int64_t>(t.n_elements);
    st.mean = sum / st.n;
    st.mean_abs = sum_abs / st.n;
    st.variance = sum_sq / st.n - st.mean * st.mean;
    stats[name] = st;
  }
  return stats;
}

// Fraction of the rows of `name` whose values vary (row variance > min_variance); every 7th row is sampled.
double varying_row_fraction(const std::string& path, const std::string& name, double min_variance) {
  auto file = GgufFile::open(path);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return 0;
  const GgufTensorInfo* t = (*file)->find_tensor(name);
  EXPECT_NE(t, nullptr) << name;
  if (t == nullptr) return 0;
  const int64_t row_len = static_cast<int64_t>(t->shape[0]);
  const int64_t n_rows = static_cast<int64_t>(t->n_elements) / row_len;
  const size_t row_bytes = row_size(t->type, row_len);
  std::vector<float> row(row_len);
  int64_t sampled = 0, varying = 0;
  for (int64_t r = 0; r < n_rows; r += 7) {
    EXPECT_TRUE(dequantize_row(t->type, t->data + r * row_bytes, row.data(), row_len).ok());
    double sum = 0, sum_sq = 0;
    for (float v : row) {
      sum += v;
      sum_sq += static_cast<double>(v) * v;
    }
    const double mean = sum / row_len;
    ++sampled;
    if (sum_sq / row_len - mean * mean > min_variance) ++varying;
  }
  return static_cast<double>(varying) / static_cast<double>(sampled);
}

// Every quantized tensor (norms and biases are F32) holds trained weights: mean |x| well inside (1e-3, 1), and a
// bell-shaped, moderately heavy-tailed distribution: rms / mean|x| is 1.25 for a Gaussian, 1.41 for a Laplacian,
// 1.15 for a uniform. Scales applied to the wrong sub-blocks or levels read from the wrong bits break one or both.
void expect_plausible_weights(const std::map<std::string, TensorStats>& stats) {
  int quantized = 0;
  for (const auto& [name, st] : stats) {
    if (st.type == GgmlType::kF32 || st.type == GgmlType::kF16 || st.type == GgmlType::kBF16) continue;
    ++quantized;
    EXPECT_GT(st.mean_abs, 1e-3) << name;
    EXPECT_LT(st.mean_abs, 1.0) << name;
    const double rms = std::sqrt(st.variance + st.mean * st.mean);
    EXPECT_GT(rms / st.mean_abs, 1.1) << name;
    EXPECT_LT(rms / st.mean_abs, 3.0) << name;
  }
  EXPECT_GT(quantized, 100);
}

TEST(QuantModelsTest, SmolLm2Q4_1) {
  const auto stats = dequantize_all(STRATA_SOURCE_DIR "/models/SmolLM2-135M-Instruct.Q4_1.gguf");
  ASSERT_GT(stats.size(), 100u);
  expect_plausible_weights(stats);
  // The token embedding of this file is Q8_0 (llama.cpp keeps it at 8 bits); the 210 matrices are Q4_1.
  ASSERT_TRUE(stats.count("token_embd.weight"));
  ASSERT_TRUE(stats.count("blk.0.ffn_down.weight"));
  EXPECT_EQ(stats.at("blk.0.ffn_down.weight").type, GgmlType::kQ4_1);
  const TensorStats& e = stats.at("token_embd.weight");
  // Trained embeddings of a 576-wide model: entries of order 0.1; all-zero or exploded values mean a layout bug.
  EXPECT_GT(e.mean_abs, 0.01);
  EXPECT_LT(e.mean_abs, 1.0);
  EXPECT_GT(e.variance, 1e-4);
}

TEST(QuantModelsTest, Gemma3Q4_K_M) {
  const std::string path = STRATA_SOURCE_DIR "/models/gemma-3-270m-q4_k_m.gguf";
  const auto stats = dequantize_all(path);
  ASSERT_GT(stats.size(), 100u);
  expect_plausible_weights(stats);
  // Q4_K, Q6_K and Q5_0 matrices and a Q8_0 embedding: each k-quant layout is exercised on real data.
  ASSERT_TRUE(stats.count("blk.0.attn_output.weight"));
  EXPECT_EQ(stats.at("blk.0.attn_output.weight").type, GgmlType::kQ4_K);
  ASSERT_TRUE(stats.count("blk.0.ffn_down.weight"));
  EXPECT_EQ(stats.at("blk.0.ffn_down.weight").type, GgmlType::kQ6_K);
  const std::string name = stats.count("output.weight") ? "output.weight" : "token_embd.weight";
  ASSERT_TRUE(stats.count(name));
  const TensorStats& e = stats.at(name);
  EXPECT_GT(e.variance, 1e-5) << name;
  EXPECT_GT(e.mean_abs, 1e-3) << name;
  EXPECT_LT(e.mean_abs, 1.0) << name;
  // Row by row too: a scale-unpacking bug tends to zero or flatten whole rows (blocks) rather than whole tensors.
  EXPECT_GT(varying_row_fraction(path, name, 1e-6), 0.99) << name;
}

}  // namespace
}  // namespace strata
