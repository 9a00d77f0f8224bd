// Argument checking, type coverage and layout facts of the row-level API and the traits.
#include <gtest/gtest.h>

#include <type_traits>
#include <vector>

#include "core/gguf/ggml_type.h"
#include "core/quant/dequantize.h"
#include "core/quant/quant_traits.h"
#include "core/quant/quantize.h"

namespace strata {
namespace {

constexpr GgmlType kSupported[] = {GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kQ4_0, GgmlType::kQ4_1,
                                   GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0, GgmlType::kQ8_1, GgmlType::kQ2_K,
                                   GgmlType::kQ3_K, GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kQ8_K};

TEST(QuantApiTest, TraitsAgreeWithTheGgufTypeTable) {
  for (const GgmlType type : kSupported) {
    const GgmlTypeInfo* info = ggml_type_info(type);
    ASSERT_NE(info, nullptr);
    const QuantBlockShape shape = quant_block_shape(type);
    EXPECT_EQ(shape.block_size, info->block_size) << info->name;
    EXPECT_EQ(shape.block_bytes, info->type_size) << info->name;
    EXPECT_TRUE(can_dequantize(type)) << info->name;
    EXPECT_TRUE(can_quantize(type)) << info->name;
  }
}

TEST(QuantApiTest, DotPartners) {
  EXPECT_EQ(quant_dot_type(GgmlType::kQ4_0), GgmlType::kQ8_0);
  EXPECT_EQ(quant_dot_type(GgmlType::kQ5_0), GgmlType::kQ8_0);
  EXPECT_EQ(quant_dot_type(GgmlType::kQ8_0), GgmlType::kQ8_0);
  EXPECT_EQ(quant_dot_type(GgmlType::kQ4_1), GgmlType::kQ8_1);
  EXPECT_EQ(quant_dot_type(GgmlType::kQ5_1), GgmlType::kQ8_1);
  for (const GgmlType k : {GgmlType::kQ2_K, GgmlType::kQ3_K, GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K}) {
    EXPECT_EQ(quant_dot_type(k), GgmlType::kQ8_K);
  }
  static_assert(std::is_same_v<QuantTraits<GgmlType::kQ4_K>::Block, BlockQ4_K>);
  static_assert(QuantTraits<GgmlType::kQ6_K>::kBlockBytes == 210);
}

TEST(QuantApiTest, RowSize) {
  EXPECT_EQ(row_size(GgmlType::kQ4_0, 64), 36u);
  EXPECT_EQ(row_size(GgmlType::kQ4_K, 512), 288u);
  EXPECT_EQ(row_size(GgmlType::kF16, 3), 6u);
  EXPECT_EQ(row_size(GgmlType::kQ4_K, 100), 0u);
  EXPECT_EQ(row_size(GgmlType::kQ8_0, -32), 0u);
  EXPECT_EQ(row_size(GgmlType::kIQ2_XXS, 256), 0u);
}

TEST(QuantApiTest, RejectsPartialBlocksAndNegativeLengths) {
  std::vector<float> x(300, 1.0f), y(300);
  std::vector<uint8_t> q(4096);
  absl::Status s = dequantize_row(GgmlType::kQ4_K, q.data(), y.data(), 300);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("Q4_K"), absl::string_view::npos) << s;
  EXPECT_EQ(quantize_row(GgmlType::kQ8_0, x.data(), q.data(), 33).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(quantize_row(GgmlType::kQ8_0, x.data(), q.data(), -32).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(dequantize_row(GgmlType::kQ8_0, q.data(), y.data(), 0).ok());
}

TEST(QuantApiTest, UnsupportedTypesAreUnimplementedAndNamed) {
  std::vector<float> x(256, 1.0f), y(256);
  std::vector<uint8_t> q(4096);
  absl::Status s = dequantize_row(GgmlType::kIQ2_XXS, q.data(), y.data(), 256);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("IQ2_XXS"), absl::string_view::npos) << s;
  s = quantize_row(static_cast<GgmlType>(77), x.data(), q.data(), 256);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("77"), absl::string_view::npos) << s;
  EXPECT_FALSE(can_dequantize(GgmlType::kIQ4_XS));
  EXPECT_FALSE(can_quantize(GgmlType::kI32));
}

TEST(QuantApiTest, AllZeroBlocksStayZero) {
  // Zero groups take the special paths of every scale search (no division by a zero range).
  std::vector<float> x(512, 0.0f), y(512, 1.0f);
  std::vector<uint8_t> q(4096);
  for (const GgmlType type : kSupported) {
    ASSERT_TRUE(quantize_row(type, x.data(), q.data(), 512).ok());
    ASSERT_TRUE(dequantize_row(type, q.data(), y.data(), 512).ok());
    for (float v : y) ASSERT_EQ(v, 0.0f) << ggml_type_info(type)->name;
  }
}

}  // namespace
}  // namespace strata
