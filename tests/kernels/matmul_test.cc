// matmul for every weight type x every ISA this CPU has x GEMV / GEMM paths: against a float64 reference, and
// bitwise batch invariance (a row's outputs never depend on m, path, thread count or the other rows).
//
// Tolerances (normalized error ||y - ref|| / ||ref||; against float64 the denominator is the outputs' natural scale
// sqrt(sum (w x)^2) instead of |ref|, see matmul_reference.h, so a single output that happens to cancel is fair):
//  - Quantized types vs float64 of the unquantized activations: 2e-2. The only approximation is rounding the
//    activations to 8 bits: per element a uniform error of +-d/2 with d = amax / 127. For N(0, 1) inputs the max of
//    a 32-block is ~2.1 and of a 256-block (Q8_K) ~2.9, so the error's std is d / sqrt(12) ~ 0.5-0.7 % of the
//    input's; independent of the weights, the output error is the same fraction of the output. 2e-2 leaves 3x.
//  - Float types: 1e-5 (f32 accumulation of exactly converted weights).
//  - Scalar vs SIMD, same path: 2e-5. Identical activation bytes and integer sums (vec_dot_test checks both); only
//    float summation order differs.
//  - GEMV vs GEMM, same ISA: bit-identical (both run the same dot tiles).
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "core/quant/block_formats.h"
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

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (isa_supported(isa)) out.push_back(isa);
  }
  return out;
}

std::vector<float> run(GgmlType type, const std::vector<uint8_t>& w, int64_t n, int64_t k, const std::vector<float>& x,
                       int64_t m, ThreadPool& pool, Isa isa, MatmulPath path,
                       WeightLayout layout = WeightLayout::kGguf) {
  // y 64-byte aligned, as the backend's buffers are: the packed GEMV writes whole aligned lines of y with
  // non-temporal stores (DotTile::stream_y), and only there.
  std::vector<float> storage(m * n + 16, -12345.0f);
  float* y = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64 / sizeof(float);
  MatmulOptions options;
  options.isa = isa;
  options.path = path;
  options.layout = layout;
  const absl::Status s = matmul(type, w.data(), n, k, x.data(), m, y, pool, options);
  EXPECT_TRUE(s.ok()) << s;
  return std::vector<float>(y, y + m * n);
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
        std::vector<float> scalar_gemv, scalar_gemm;
        for (Isa isa : available_isas()) {
          const std::vector<float> y_auto = run(type, w, n, k, x, m, pool, isa, MatmulPath::kAuto);
          const std::vector<float> gemv = run(type, w, n, k, x, m, pool, isa, MatmulPath::kGemv);
          const std::vector<float> gemm = run(type, w, n, k, x, m, pool, isa, MatmulPath::kGemm);
          const std::string at = where + " " + std::string(isa_name(isa));
          EXPECT_LT(normalized_error(y_auto, ref), tol_ref) << at;
          EXPECT_LT(normalized_error(gemv, ref), tol_ref) << at << " gemv";
          EXPECT_LT(normalized_error(gemm, ref), tol_ref) << at << " gemm";
          EXPECT_EQ(std::memcmp(gemm.data(), gemv.data(), gemv.size() * sizeof(float)), 0) << at << " gemm vs gemv";
          EXPECT_EQ(std::memcmp(y_auto.data(), gemv.data(), gemv.size() * sizeof(float)), 0) << at << " auto vs gemv";
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

// The engine's batch invariance: the same activation row decoded alone (m = 1) or anywhere inside a batch, on any
// path and thread count, gives the same bits. k covers the 512-bit kernels' groups of 8 blocks, pair steps and
// single last block; n = 37 leaves partial row tiles and uneven thread chunks.
TEST_P(MatmulTypeTest, RowsAreBitIdenticalWhateverTheBatch) {
  const GgmlType type = GetParam();
  const std::string name(ggml_type_info(type)->name);
  const int64_t k = is_float(type) ? 100 : (ggml_type_info(type)->block_size == 32 ? 352 : 512);
  const int64_t n = 37, rows_total = 40;
  const std::vector<uint8_t> w = random_weights(type, n, k, 77);
  const std::vector<float> x = random_activations(rows_total, k, 78);
  ThreadPool one(1), two(2), three(3);
  ThreadPool* pools[] = {&one, &two, &three};
  for (Isa isa : available_isas()) {
    // Each row alone, single-threaded GEMV: the decode result every other configuration must reproduce.
    std::vector<std::vector<float>> alone(rows_total);
    for (int64_t i = 0; i < rows_total; ++i) {
      const std::vector<float> xi(x.begin() + i * k, x.begin() + (i + 1) * k);
      alone[i] = run(type, w, n, k, xi, 1, one, isa, MatmulPath::kGemv);
    }
    for (int64_t m : {1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 33}) {
      // Rows [first, first + m): a row lands at different positions in different batches.
      const int64_t first = (m * 7) % (rows_total - m + 1);
      const std::vector<float> xb(x.begin() + first * k, x.begin() + (first + m) * k);
      for (MatmulPath path : {MatmulPath::kAuto, MatmulPath::kGemv, MatmulPath::kGemm}) {
        for (int p = 0; p < 3; ++p) {
          const std::vector<float> y = run(type, w, n, k, xb, m, *pools[p], isa, path);
          for (int64_t i = 0; i < m; ++i) {
            EXPECT_EQ(std::memcmp(y.data() + i * n, alone[first + i].data(), n * sizeof(float)), 0)
                << name << " " << isa_name(isa) << " m=" << m << " path=" << static_cast<int>(path)
                << " threads=" << p + 1 << " row " << first + i;
          }
        }
      }
    }
  }
}

// The packed layout (pack_weights) is the same blocks rearranged for the AVX-512 kernels: every output must be the
// GGUF layout's bit for bit, on both paths, for row counts that leave a partial group of 16 and thread chunks that
// split groups unevenly.
TEST_P(MatmulTypeTest, PackedWeightsGiveTheSameBits) {
  const GgmlType type = GetParam();
  const std::string name(ggml_type_info(type)->name);
  if (!isa_supported(Isa::kAvx512)) GTEST_SKIP() << "no AVX-512 on this CPU";
  const int64_t block = ggml_type_info(type)->block_size;
  for (int64_t k : {block, 7 * block, 2048 / block * block + block}) {
    const size_t bytes = packed_weight_bytes(type, 37, k, Isa::kAvx512);
    if (bytes == 0) {
      EXPECT_FALSE(ggml_type_info(type)->block_size == 32 && !is_float(type)) << name << " should have a packed layout";
      std::vector<uint8_t> dst(64);
      ThreadPool pool(1);
      EXPECT_EQ(pack_weights(type, dst.data(), 37, k, dst.data(), pool, Isa::kAvx512).code(),
                absl::StatusCode::kInvalidArgument);
      return;
    }
    // n = 96 and 100: each thread gets two full groups or more, which the GEMV reads as two streams; with n = 96
    // every output row of y starts on a cache line (non-temporal stores for all columns). n = 200: a thread's
    // 5-7 groups go as 4 streams (the 32-block formats), then 2, then 1.
    for (int64_t n : {1, 16, 37, 96, 100, 200}) {
      const std::vector<uint8_t> w = random_weights(type, n, k, 300 + n);
      const size_t row_bytes = w.size() / n;
      ASSERT_EQ(packed_weight_bytes(type, n, k, Isa::kAvx512), (n + 15) / 16 * 16 * row_bytes) << name;
      std::vector<uint8_t> packed(packed_weight_bytes(type, n, k, Isa::kAvx512), 0xCD);
      ThreadPool two(2), three(3);
      ASSERT_TRUE(pack_weights(type, w.data(), n, k, packed.data(), two, Isa::kAvx512).ok());
      for (int64_t m : {1, 3, 8, 37}) {
        const std::vector<float> x = random_activations(m, k, 400 + m);
        for (MatmulPath path : {MatmulPath::kGemv, MatmulPath::kGemm}) {
          const std::vector<float> want = run(type, w, n, k, x, m, two, Isa::kAvx512, path);
          for (ThreadPool* pool : {&two, &three}) {
            const std::vector<float> got =
                run(type, packed, n, k, x, m, *pool, Isa::kAvx512, path, WeightLayout::kCpuRowLanes16);
            EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0)
                << name << " n=" << n << " k=" << k << " m=" << m << " path=" << static_cast<int>(path)
                << " threads=" << pool->num_threads();
          }
        }
      }
    }
  }
}

// AVX2 reads the AVX-512 packed layout of every quantized format (8 rows per register), packed without AVX-512
// (row_lane_pack.h): the packer writes the AVX-512 packer's bytes, and the AVX2 row-lane kernels match the float64
// reference, the AVX2 GGUF-layout kernels up to float summation order (2e-5), and their own GEMV / GEMM and thread
// counts bit for bit.
TEST_P(MatmulTypeTest, Avx2PackedWeightsMatchTheReference) {
  const GgmlType type = GetParam();
  const std::string name(ggml_type_info(type)->name);
  if (!isa_supported(Isa::kAvx2)) GTEST_SKIP() << "no AVX2 on this CPU";
  if (packed_weight_bytes(type, 16, 256, Isa::kAvx2) == 0) {
    EXPECT_TRUE(is_float(type)) << name << " should have an AVX2 packed layout";
    return;
  }
  const int64_t block = ggml_type_info(type)->block_size;
  for (int64_t k : {block, 3 * block, 2048 + block}) {
    // n = 96 and 100: each of 2 or 3 threads gets at least two full groups, which the GEMV reads as two streams;
    // with n = 96 every output row of y starts on a cache line (non-temporal stores for all columns).
    for (int64_t n : {1, 9, 16, 37, 96, 100}) {
      const std::vector<uint8_t> w = random_weights(type, n, k, 600 + n);
      std::vector<uint8_t> packed(packed_weight_bytes(type, n, k, Isa::kAvx2), 0xCD);
      ThreadPool two(2), three(3);
      ASSERT_TRUE(pack_weights(type, w.data(), n, k, packed.data(), two, Isa::kAvx2).ok());
      if (isa_supported(Isa::kAvx512)) {
        std::vector<uint8_t> wide(packed.size(), 0x5A);
        ASSERT_TRUE(pack_weights(type, w.data(), n, k, wide.data(), two, Isa::kAvx512).ok());
        EXPECT_EQ(wide, packed) << name << " n=" << n << " k=" << k << ": the AVX-512 packer's bytes";
      }
      // m = 3 and 5: tiles of 3 and of 4 + 1 columns (kPackedTileCols); every row must have the bits it gets alone.
      for (int64_t m : {1, 2, 3, 5}) {
        const std::vector<float> x = random_activations(m, k, 700 + m);
        const testing::Reference ref = reference_matmul(type, w, n, k, x, m);
        const std::string at = name + " n=" + std::to_string(n) + " k=" + std::to_string(k) + " m=" + std::to_string(m);
        std::vector<float> first;
        for (int64_t r = 0; r < m && m > 1; ++r) {
          const std::vector<float> xr(x.begin() + r * k, x.begin() + (r + 1) * k);
          const std::vector<float> alone =
              run(type, packed, n, k, xr, 1, two, Isa::kAvx2, MatmulPath::kGemv, WeightLayout::kCpuRowLanes16);
          const std::vector<float> batch =
              run(type, packed, n, k, x, m, two, Isa::kAvx2, MatmulPath::kAuto, WeightLayout::kCpuRowLanes16);
          EXPECT_EQ(std::memcmp(alone.data(), batch.data() + r * n, n * sizeof(float)), 0) << at << " row " << r;
        }
        for (MatmulPath path : {MatmulPath::kGemv, MatmulPath::kGemm}) {
          const std::vector<float> gguf = run(type, w, n, k, x, m, two, Isa::kAvx2, path);
          for (ThreadPool* pool : {&two, &three}) {
            const std::vector<float> got =
                run(type, packed, n, k, x, m, *pool, Isa::kAvx2, path, WeightLayout::kCpuRowLanes16);
            EXPECT_LT(normalized_error(got, ref), 2e-2) << at;
            EXPECT_LT(normalized_error(got, gguf), 2e-5) << at << " vs the GGUF layout";
            if (first.empty()) first = got;
            EXPECT_EQ(std::memcmp(got.data(), first.data(), first.size() * sizeof(float)), 0)
                << at << " path=" << static_cast<int>(path) << " threads=" << pool->num_threads();
          }
        }
      }
    }
  }
}

// Extreme weights per type: its fp16 scale fields set to 1.0 in a block of 0xFF bytes, and a run of bytes set otherwise
// (Q8_0's quants to -128, Q6_K's int8 scales to -128: 0xFF would be -1 for both).
struct ExtremeBlock {
  GgmlType type;
  std::vector<size_t> fp16_ones;
  size_t fill_at = 0, fill_bytes = 0;
  uint8_t fill = 0;
};

const ExtremeBlock kExtremeBlocks[] = {
    {GgmlType::kQ4_0, {offsetof(BlockQ4_0, d)}},
    {GgmlType::kQ4_1, {offsetof(BlockQ4_1, d), offsetof(BlockQ4_1, m)}},
    {GgmlType::kQ5_0, {offsetof(BlockQ5_0, d)}},
    {GgmlType::kQ5_1, {offsetof(BlockQ5_1, d), offsetof(BlockQ5_1, m)}},
    {GgmlType::kQ8_0, {offsetof(BlockQ8_0, d)}, offsetof(BlockQ8_0, qs), sizeof(BlockQ8_0::qs), 0x80},
    {GgmlType::kQ2_K, {offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)}},
    {GgmlType::kQ3_K, {offsetof(BlockQ3_K, d)}},
    {GgmlType::kQ4_K, {offsetof(BlockQ4_K, d), offsetof(BlockQ4_K, dmin)}},
    {GgmlType::kQ5_K, {offsetof(BlockQ5_K, d), offsetof(BlockQ5_K, dmin)}},
    {GgmlType::kQ6_K, {offsetof(BlockQ6_K, d)}, offsetof(BlockQ6_K, scales), sizeof(BlockQ6_K::scales), 0x80},
};

std::vector<uint8_t> extreme_weights(const ExtremeBlock& e, int64_t n, int64_t k) {
  const GgmlTypeInfo* info = ggml_type_info(e.type);
  const int64_t blocks = n * k / info->block_size;
  std::vector<uint8_t> w(blocks * info->type_size, 0xFF);
  constexpr uint16_t kOne = 0x3C00;  // fp16 1.0
  for (int64_t b = 0; b < blocks; ++b) {
    uint8_t* block = w.data() + b * info->type_size;
    for (size_t offset : e.fp16_ones) std::memcpy(block + offset, &kOne, 2);
    std::memset(block + e.fill_at, e.fill, e.fill_bytes);
  }
  return w;
}

// Weights whose every quant has its largest magnitude (and the k-quant sub-block scales theirs) against
// activations that quantize to +-127 everywhere: the integer sums at their bounds. The AVX2 kernels add several
// registers' vpmaddubsw pair sums in int16 before widening (dot_groups), which is exact only within those bounds;
// one wrap-around would be off by 65536 in a block's sum. Rows: x = +7.9375 and -7.9375 (amax / 127 = 1/16, exact
// in fp16), so the activations carry no rounding and the outputs match float64 to float32 summation (1e-5).
TEST(MatmulTest, ExtremeQuantsStayExact) {
  ThreadPool two(2);
  for (const ExtremeBlock& e : kExtremeBlocks) {
    const GgmlType type = e.type;
    const std::string name(ggml_type_info(type)->name);
    const int64_t k = 8 * ggml_type_info(type)->block_size, n = 37, m = 2;
    const std::vector<uint8_t> w = extreme_weights(e, n, k);
    std::vector<float> x(m * k, 7.9375f);
    std::fill(x.begin() + k, x.end(), -7.9375f);
    const testing::Reference ref = reference_matmul(type, w, n, k, x, m);
    for (Isa isa : available_isas()) {
      std::vector<WeightLayout> layouts = {WeightLayout::kGguf};
      std::vector<uint8_t> packed(packed_weight_bytes(type, n, k, isa));
      if (!packed.empty()) {
        ASSERT_TRUE(pack_weights(type, w.data(), n, k, packed.data(), two, isa).ok());
        layouts.push_back(WeightLayout::kCpuRowLanes16);
      }
      for (WeightLayout layout : layouts) {
        for (MatmulPath path : {MatmulPath::kGemv, MatmulPath::kGemm}) {
          const bool is_packed = layout == WeightLayout::kCpuRowLanes16;
          const std::vector<float> y = run(type, is_packed ? packed : w, n, k, x, m, two, isa, path, layout);
          EXPECT_LT(normalized_error(y, ref), 1e-5)
              << name << " " << isa_name(isa) << (is_packed ? " packed" : "") << " path=" << static_cast<int>(path);
        }
      }
    }
  }
}

// A group (Q/K/V, gate/up) shares the activations' quantization and one pool hand-off: each product must be the
// bits of matmul alone, with weights of different types, partner formats and layouts in one group. Q3_K first: when
// it had no AVX2 row-lane kernel, the group's Q8_K activations were quantized without the block sums Q4_K's packed
// kernel reads (a segfault); matmul_group now computes them whenever any product of a partner format needs them.
TEST(MatmulGroupTest, EachProductEqualsMatmulAlone) {
  const int64_t k = 512;
  const GgmlType types[] = {GgmlType::kQ3_K, GgmlType::kQ6_K, GgmlType::kQ4_K,
                            GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kF16};
  const int64_t ns[] = {32, 37, 64, 16, 3, 20};
  for (Isa isa : available_isas()) {
    for (int64_t m : {1, 4, 9}) {
      std::vector<std::vector<uint8_t>> weights, packed;
      std::vector<std::vector<float>> ys, want;
      std::vector<MatmulProduct> products;
      const std::vector<float> x = random_activations(m, k, 500 + m);
      ThreadPool pool(2);
      for (size_t i = 0; i < std::size(types); ++i) weights.push_back(random_weights(types[i], ns[i], k, 600 + i));
      for (size_t i = 0; i < std::size(types); ++i) {
        MatmulProduct product{types[i], weights[i].data(), ns[i], WeightLayout::kGguf, nullptr};
        // Every other packable weight packed, so layouts mix too.
        if (const size_t bytes = packed_weight_bytes(types[i], ns[i], k, isa); bytes > 0 && i % 2 == 0) {
          packed.emplace_back(bytes);
          ASSERT_TRUE(pack_weights(types[i], weights[i].data(), ns[i], k, packed.back().data(), pool, isa).ok());
          product.w = packed.back().data();
          product.layout = WeightLayout::kCpuRowLanes16;
        }
        ys.emplace_back(m * ns[i], -12345.0f);
        products.push_back(product);
      }
      MatmulOptions options;
      options.isa = isa;
      for (size_t i = 0; i < products.size(); ++i) {  // each product alone, in the same layout
        want.emplace_back(m * ns[i], -12345.0f);
        options.layout = products[i].layout;
        ASSERT_TRUE(matmul(types[i], products[i].w, ns[i], k, x.data(), m, want[i].data(), pool, options).ok());
        products[i].y = ys[i].data();
      }
      ASSERT_TRUE(matmul_group(products, k, x.data(), m, pool, options).ok());
      for (size_t i = 0; i < products.size(); ++i) {
        EXPECT_EQ(std::memcmp(ys[i].data(), want[i].data(), want[i].size() * sizeof(float)), 0)
            << isa_name(isa) << " m=" << m << " product " << i << " " << ggml_type_info(types[i])->name;
      }
    }
  }
}

TEST(MatmulTest, PackedWeightsNeedTheirIsa) {
  if (!isa_supported(Isa::kAvx512)) GTEST_SKIP() << "no AVX-512 on this CPU";
  EXPECT_EQ(packed_weight_bytes(GgmlType::kQ4_0, 16, 64, Isa::kScalar), 0u);
  EXPECT_EQ(packed_weight_bytes(GgmlType::kQ4_0, 16, 48, Isa::kAvx512), 0u);  // k not a multiple of 32
  EXPECT_EQ(packed_weight_bytes(GgmlType::kQ4_0, 17, 64, Isa::kAvx512), 32u * 2 * 18);
  EXPECT_EQ(packed_weight_bytes(GgmlType::kF16, 16, 256, Isa::kAvx2), 0u);  // float weights are never packed
  ThreadPool pool(1);
  std::vector<uint8_t> w = random_weights(GgmlType::kQ3_K, 16, 256, 5);
  std::vector<float> x = random_activations(1, 256, 6), y(16);
  MatmulOptions options;
  options.isa = Isa::kScalar;  // no row-lane kernels: packed weights are refused, not misread
  options.layout = WeightLayout::kCpuRowLanes16;
  EXPECT_EQ(matmul(GgmlType::kQ3_K, w.data(), 16, 256, x.data(), 1, y.data(), pool, options).code(),
            absl::StatusCode::kFailedPrecondition);
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
