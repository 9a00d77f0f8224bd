// Dot tiles and activation quantization of every ISA against the scalar kernels and a float64 reference, and the
// tile-shape invariance every batch-invariant matmul rests on.
#include <cstring>
#include <string>
#include <vector>

#include "core/quant/dequantize.h"
#include "gtest/gtest.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/kernel_table.h"
#include "tests/kernels/matmul_reference.h"
#include "tests/kernels/random_weights.h"

namespace strata::cpu {
namespace {

using testing::normalized_error;
using testing::random_activations;
using testing::random_weights;

constexpr GgmlType kTypes[] = {GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kQ4_0, GgmlType::kQ4_1,
                               GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0, GgmlType::kQ2_K, GgmlType::kQ3_K,
                               GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K};

// The per-block activation sums of `cols` rows, for kernels that read them (WeightKernel::act_sums).
struct ActSums {
  std::vector<float> d, s;
  std::vector<int32_t> sum;
  int64_t per_row = 0;
  ActSums(const WeightKernel& wk, const uint8_t* a, int64_t a_stride, int64_t cols, int64_t k) {
    if (!wk.act_sums) return;
    per_row = activation_sums_per_row(wk.partner, k);
    d.resize(cols * per_row);
    s.resize(d.size());
    sum.resize(d.size());
    for (int64_t c = 0; c < cols; ++c) {
      activation_sums(wk.partner, a + c * a_stride, k, &d[c * per_row], &sum[c * per_row], &s[c * per_row]);
    }
  }
  void attach(DotTile& t) const {
    if (d.empty()) return;
    t.a_d = d.data();
    t.a_sum = sum.data();
    t.a_s = s.data();
    t.a_sums_stride = per_row;
  }
};

// One output through a 1 x 1 tile.
float dot1(const WeightKernel& wk, int64_t k, const uint8_t* w, const void* a) {
  float y = 0.0f;
  DotTile t;
  t.n = k;
  t.w = w;
  t.a = static_cast<const uint8_t*>(a);
  t.y = &y;
  t.ldy = 1;
  const ActSums sums(wk, t.a, 0, 1, k);
  sums.attach(t);
  wk.dot(t, 1, 1);
  return y;
}

std::vector<Isa> simd_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (isa_supported(isa)) out.push_back(isa);
  }
  return out;
}

// Every ISA must produce the scalar kernel's exact bytes: the GEMV and GEMM paths of all ISAs then see the same
// integers, which is what makes their results comparable to ~1e-6.
TEST(ActivationQuantTest, SimdBytesEqualScalar) {
  const int64_t k = 1024;
  const std::vector<float> x = random_activations(1, k, 7);
  const IsaKernels& ref = isa_kernels(Isa::kScalar);
  for (Isa isa : simd_isas()) {
    const IsaKernels& kt = isa_kernels(isa);
    for (auto [name, ref_fn, fn, bytes] : {std::tuple{"Q8_0", ref.quantize_q8_0, kt.quantize_q8_0, k / 32 * 34},
                                           std::tuple{"Q8_1", ref.quantize_q8_1, kt.quantize_q8_1, k / 32 * 36},
                                           std::tuple{"Q8_K", ref.quantize_q8_k, kt.quantize_q8_k, k / 256 * 292}}) {
      std::vector<uint8_t> a(bytes), b(bytes);
      ref_fn(x.data(), a.data(), k);
      fn(x.data(), b.data(), k);
      EXPECT_EQ(a, b) << name << " on " << isa_name(isa);
    }
  }
}

// Dots against float64 over the dequantized weights and dequantized activations: checks the integer arithmetic,
// independent of activation rounding. Q4_1 / Q5_1 use the partner's cached fp16 d * sum(q) (as ggml does), which
// carries fp16 rounding (2^-11 relative) into the min term, hence their looser bound.
TEST(VecDotTest, MatchesFloat64OfDequantizedOperands) {
  const int64_t rows = 32, k = 768;
  for (GgmlType type : kTypes) {
    const std::vector<uint8_t> w = random_weights(type, rows, k, 11);
    const std::vector<float> x = random_activations(1, k, 12);
    const GgmlTypeInfo* info = ggml_type_info(type);
    const int64_t row_bytes = k / info->block_size * info->type_size;
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
      if (!isa_supported(isa)) continue;
      const WeightKernel wk = isa_kernels(isa).weight_kernel(type);
      ASSERT_NE(wk.dot, nullptr);
      std::vector<uint8_t> a;
      std::vector<float> xa = x;  // the activations the dot actually sees
      if (wk.quantize) {
        const GgmlTypeInfo* pinfo = ggml_type_info(wk.partner);
        a.resize(k / pinfo->block_size * pinfo->type_size);
        wk.quantize(x.data(), a.data(), k);
        ASSERT_TRUE(dequantize_row(wk.partner, a.data(), xa.data(), k).ok());
      } else {
        a.resize(k * sizeof(float));
        std::memcpy(a.data(), x.data(), a.size());
      }
      std::vector<float> got(rows);
      std::vector<double> want(rows);
      std::vector<float> wf(k);
      for (int64_t r = 0; r < rows; ++r) {
        got[r] = dot1(wk, k, w.data() + r * row_bytes, a.data());
        ASSERT_TRUE(dequantize_row(type, w.data() + r * row_bytes, wf.data(), k).ok());
        double acc = 0.0;
        for (int64_t e = 0; e < k; ++e) acc += static_cast<double>(wf[e]) * xa[e];
        want[r] = acc;
      }
      const bool fp16_sum = type == GgmlType::kQ4_1 || type == GgmlType::kQ5_1;
      EXPECT_LT(normalized_error(got, want), fp16_sum ? 2e-3 : 1e-5) << info->name << " on " << isa_name(isa);
    }
  }
}

TEST(VecDotTest, SimdMatchesScalar) {
  const int64_t rows = 32, k = 512;
  for (GgmlType type : kTypes) {
    const std::vector<uint8_t> w = random_weights(type, rows, k, 21);
    const std::vector<float> x = random_activations(1, k, 22);
    const GgmlTypeInfo* info = ggml_type_info(type);
    const int64_t row_bytes = k / info->block_size * info->type_size;
    const WeightKernel ref = isa_kernels(Isa::kScalar).weight_kernel(type);
    std::vector<uint8_t> a(k * sizeof(float) + 1024);
    if (ref.quantize) {
      ref.quantize(x.data(), a.data(), k);
    } else {
      std::memcpy(a.data(), x.data(), k * sizeof(float));
    }
    std::vector<float> want(rows);
    for (int64_t r = 0; r < rows; ++r) want[r] = dot1(ref, k, w.data() + r * row_bytes, a.data());
    for (Isa isa : simd_isas()) {
      const WeightKernel wk = isa_kernels(isa).weight_kernel(type);
      std::vector<float> got(rows);
      for (int64_t r = 0; r < rows; ++r) got[r] = dot1(wk, k, w.data() + r * row_bytes, a.data());
      EXPECT_LT(normalized_error(got, want), 1e-5) << info->name << " on " << isa_name(isa);
    }
  }
}

// Plain float types take any length: exercise the vector tails.
TEST(VecDotTest, FloatTypesHandleOddLengths) {
  for (GgmlType type : {GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16}) {
    for (int64_t k : {1, 7, 9, 33, 100}) {
      const std::vector<uint8_t> w = random_weights(type, 1, k, 31);
      const std::vector<float> x = random_activations(1, k, 32);
      const float want = dot1(isa_kernels(Isa::kScalar).weight_kernel(type), k, w.data(), x.data());
      for (Isa isa : simd_isas()) {
        const float got = dot1(isa_kernels(isa).weight_kernel(type), k, w.data(), x.data());
        EXPECT_NEAR(got, want, 1e-5 * (1.0 + std::fabs(want))) << ggml_type_info(type)->name << " k=" << k;
      }
    }
  }
}

// Every output of every tile shape must be bit-identical to the same output computed alone: this is what makes the
// matmul paths batch invariant. Lengths cover odd block counts, more than the AVX-512 row-lane kernels' 64-block
// activation chunk (2304: 72 blocks, 9 super-blocks), and the float kernels' tails.
TEST(DotTileTest, EveryShapeMatchesOneByOneBitwise) {
  for (GgmlType type : kTypes) {
    const GgmlTypeInfo* info = ggml_type_info(type);
    const bool is_float = info->block_size == 1;
    for (int64_t k :
         is_float ? std::vector<int64_t>{7, 48, 100} : std::vector<int64_t>{224, 256, 352, 416, 768, 2304}) {
      if (k % info->block_size != 0) continue;
      const int64_t max_rows = 16, max_cols = 8;  // the largest tile of any ISA (AVX-512 row lanes)
      const std::vector<uint8_t> w = random_weights(type, max_rows, k, 41);
      const std::vector<float> x = random_activations(max_cols, k, 42);
      const int64_t row_bytes = k / info->block_size * info->type_size;
      for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
        if (!isa_supported(isa)) continue;
        const WeightKernel wk = isa_kernels(isa).weight_kernel(type);
        int64_t a_row_bytes = k * static_cast<int64_t>(sizeof(float));
        std::vector<uint8_t> a(max_cols * a_row_bytes);
        if (wk.quantize) {
          const GgmlTypeInfo* pinfo = ggml_type_info(wk.partner);
          a_row_bytes = k / pinfo->block_size * pinfo->type_size;
          for (int64_t c = 0; c < max_cols; ++c) wk.quantize(x.data() + c * k, a.data() + c * a_row_bytes, k);
        } else {
          std::memcpy(a.data(), x.data(), a.size());
        }
        for (int rows = 1; rows <= wk.tile_rows; ++rows) {
          for (int cols = 1; cols <= wk.tile_cols; ++cols) {
            std::vector<float> y(cols * rows);
            DotTile t;
            t.n = k;
            t.w = w.data();
            t.w_stride = row_bytes;
            t.a = a.data();
            t.a_stride = a_row_bytes;
            t.y = y.data();
            t.ldy = rows;
            const ActSums sums(wk, a.data(), a_row_bytes, cols, k);
            sums.attach(t);
            wk.dot(t, rows, cols);
            for (int r = 0; r < rows; ++r) {
              for (int c = 0; c < cols; ++c) {
                const float alone = dot1(wk, k, w.data() + r * row_bytes, a.data() + c * a_row_bytes);
                EXPECT_EQ(std::memcmp(&y[c * rows + r], &alone, sizeof(float)), 0)
                    << info->name << " on " << isa_name(isa) << " k=" << k << " tile " << rows << "x" << cols
                    << " output (" << r << ", " << c << "): " << y[c * rows + r] << " vs " << alone;
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace strata::cpu
