// matmul for every weight type x every ISA this CPU has x GEMV / GEMM paths, against a float64 reference.
//
// Tolerances (normalized error ||y - ref|| / ||ref||; against float64 the denominator is the outputs' natural scale
// sqrt(sum (w x)^2) instead of |ref|, see matmul_reference.h, so a single output that happens to cancel is fair):
//  - Quantized types vs float64 of the unquantized activations: 2e-2. The only approximation is rounding the
//    activations to 8 bits: per element a uniform error of +-d/2 with d = amax / 127. For N(0, 1) inputs the max of
//    a 32-block is ~2.1 and of a 256-block (Q8_K) ~2.9, so the error's std is d / sqrt(12) ~ 0.5-0.7 % of the
//    input's; independent of the weights, the output error is the same fraction of the output. 2e-2 leaves 3x.
//  - Float types: 1e-5 (f32 accumulation of exactly converted weights).
//  - Scalar vs SIMD, same path: 2e-5. Identical activation bytes and integer sums (vec_dot_test checks both); only
//    float summation order and, on AVX-512 GEMM, the folded 128-bias differ.
//  - GEMV vs GEMM, same ISA: 2e-5, except Q4_1 / Q5_1 at 2e-3: GEMV uses the Q8_1 block's fp16-rounded d * sum(q)
//    for the min term (as ggml does), GEMM the exact per-16 sums.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/quant_matmul.h"
#include "tests/kernels/matmul_reference.h"
#include "tests/kernels/random_weights.h"

namespace strata::cpu {
namespace {

using testing::normalized_error;
using testing::random_activations;
using testing::random_weights;
using testing::reference_matmul;

bool is_float(GgmlType t) { return t == GgmlType::kF32 || t == GgmlType::kF16 || t == GgmlType::kBF16; }
bool has_fp16_min_sum(GgmlType t) { return t == GgmlType::kQ4_1 || t == GgmlType::kQ5_1; }

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (isa_supported(isa)) out.push_back(isa);
  }
  return out;
}

std::vector<float> run(GgmlType type, const std::vector<uint8_t>& w, int64_t n, int64_t k, const std::vector<float>& x,
                       int64_t m, ThreadPool& pool, Isa isa, MatmulPath path) {
  std::vector<float> y(m * n, -12345.0f);
  MatmulOptions options;
  options.isa = isa;
  options.path = path;
  const absl::Status s = matmul(type, w.data(), n, k, x.data(), m, y.data(), pool, options);
  EXPECT_TRUE(s.ok()) << s;
  return y;
}

class MatmulTypeTest : public ::testing::TestWithParam<GgmlType> {};

TEST_P(MatmulTypeTest, MatchesReferenceOnEveryIsaAndPath) {
  const GgmlType type = GetParam();
  const std::string name(ggml_type_info(type)->name);
  ThreadPool pool(2);
  std::vector<int64_t> ks = {256, 768};
  if (ggml_type_info(type)->block_size == 32) ks.push_back(96);  // not a multiple of 64: the AVX-512 half step
  if (is_float(type)) ks = {1, 7, 33, 256};
  uint32_t seed = 100;
  for (int64_t k : ks) {
    for (int64_t n : {1, 3, 17, 65}) {
      for (int64_t m : {1, 3, 4, 5, 17, 65}) {
        const std::vector<uint8_t> w = random_weights(type, n, k, ++seed);
        const std::vector<float> x = random_activations(m, k, ++seed);
        const testing::Reference ref = reference_matmul(type, w, n, k, x, m);
        const std::string where =
            name + " n=" + std::to_string(n) + " k=" + std::to_string(k) + " m=" + std::to_string(m);
        const double tol_ref = is_float(type) ? 1e-5 : 2e-2;
        const double tol_paths = has_fp16_min_sum(type) ? 2e-3 : 2e-5;
        std::vector<float> scalar_gemv, scalar_gemm;
        for (Isa isa : available_isas()) {
          const std::vector<float> y_auto = run(type, w, n, k, x, m, pool, isa, MatmulPath::kAuto);
          const std::vector<float> gemv = run(type, w, n, k, x, m, pool, isa, MatmulPath::kGemv);
          const std::vector<float> gemm = run(type, w, n, k, x, m, pool, isa, MatmulPath::kGemm);
          const std::string at = where + " " + std::string(isa_name(isa));
          EXPECT_LT(normalized_error(y_auto, ref), tol_ref) << at;
          EXPECT_LT(normalized_error(gemv, ref), tol_ref) << at << " gemv";
          EXPECT_LT(normalized_error(gemm, ref), tol_ref) << at << " gemm";
          EXPECT_LT(normalized_error(gemm, gemv), tol_paths) << at << " gemm vs gemv";
          if (isa == Isa::kScalar) {
            scalar_gemv = gemv;
            scalar_gemm = gemm;
          } else {
            EXPECT_LT(normalized_error(gemv, scalar_gemv), 2e-5) << at << " gemv vs scalar";
            EXPECT_LT(normalized_error(gemm, scalar_gemm), 2e-5) << at << " gemm vs scalar";
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulTypeTest,
                         ::testing::Values(GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ4_0,
                                           GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0,
                                           GgmlType::kQ2_K, GgmlType::kQ3_K, GgmlType::kQ4_K, GgmlType::kQ5_K,
                                           GgmlType::kQ6_K),
                         [](const ::testing::TestParamInfo<GgmlType>& info) {
                           return std::string(ggml_type_info(info.param)->name);
                         });

TEST(MatmulTest, SingleThreadAndManyThreadsAgree) {
  const int64_t n = 67, k = 512, m = 9;
  const std::vector<uint8_t> w = random_weights(GgmlType::kQ4_K, n, k, 5);
  const std::vector<float> x = random_activations(m, k, 6);
  ThreadPool one(1), three(3);
  for (MatmulPath path : {MatmulPath::kGemv, MatmulPath::kGemm}) {
    const auto a = run(GgmlType::kQ4_K, w, n, k, x, m, one, active_isa(), path);
    const auto b = run(GgmlType::kQ4_K, w, n, k, x, m, three, active_isa(), path);
    EXPECT_EQ(a, b);  // same work per output element, whatever thread computes it
  }
}

TEST(MatmulTest, RejectsBadArguments) {
  ThreadPool pool(1);
  std::vector<uint8_t> w(4096);
  std::vector<float> x(1024), y(1024);
  EXPECT_EQ(matmul(GgmlType::kQ4_K, w.data(), 2, 128, x.data(), 1, y.data(), pool).code(),
            absl::StatusCode::kInvalidArgument);  // k not a multiple of 256
  EXPECT_EQ(matmul(GgmlType::kQ4_0, w.data(), 2, 48, x.data(), 1, y.data(), pool).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(matmul(GgmlType::kQ4_0, w.data(), -1, 32, x.data(), 1, y.data(), pool).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(matmul(GgmlType::kQ4_0, nullptr, 2, 32, x.data(), 1, y.data(), pool).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(matmul(GgmlType::kIQ2_XXS, w.data(), 1, 256, x.data(), 1, y.data(), pool).code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(matmul(GgmlType::kQ8_K, w.data(), 1, 256, x.data(), 1, y.data(), pool).code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(matmul(static_cast<GgmlType>(99), w.data(), 1, 256, x.data(), 1, y.data(), pool).code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(matmul(GgmlType::kQ4_0, w.data(), 0, 32, x.data(), 1, y.data(), pool).ok());
}

}  // namespace
}  // namespace strata::cpu
