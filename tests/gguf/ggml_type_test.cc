#include "core/gguf/ggml_type.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace strata {
namespace {

struct Expected {
  GgmlType type;
  const char* name;
  uint32_t block_size;
  uint32_t type_size;
};

TEST(GgmlType, TableMatchesGgml) {
  const Expected expected[] = {
      {GgmlType::kF32, "F32", 1, 4},
      {GgmlType::kF16, "F16", 1, 2},
      {GgmlType::kQ4_0, "Q4_0", 32, 18},
      {GgmlType::kQ4_1, "Q4_1", 32, 20},
      {GgmlType::kQ5_0, "Q5_0", 32, 22},
      {GgmlType::kQ5_1, "Q5_1", 32, 24},
      {GgmlType::kQ8_0, "Q8_0", 32, 34},
      {GgmlType::kQ8_1, "Q8_1", 32, 36},
      {GgmlType::kQ2_K, "Q2_K", 256, 84},
      {GgmlType::kQ3_K, "Q3_K", 256, 110},
      {GgmlType::kQ4_K, "Q4_K", 256, 144},
      {GgmlType::kQ5_K, "Q5_K", 256, 176},
      {GgmlType::kQ6_K, "Q6_K", 256, 210},
      {GgmlType::kQ8_K, "Q8_K", 256, 292},
      {GgmlType::kIQ2_XXS, "IQ2_XXS", 256, 66},
      {GgmlType::kIQ2_XS, "IQ2_XS", 256, 74},
      {GgmlType::kIQ3_XXS, "IQ3_XXS", 256, 98},
      {GgmlType::kIQ1_S, "IQ1_S", 256, 50},
      {GgmlType::kIQ4_NL, "IQ4_NL", 32, 18},
      {GgmlType::kIQ3_S, "IQ3_S", 256, 110},
      {GgmlType::kIQ2_S, "IQ2_S", 256, 82},
      {GgmlType::kIQ4_XS, "IQ4_XS", 256, 136},
      {GgmlType::kI8, "I8", 1, 1},
      {GgmlType::kI16, "I16", 1, 2},
      {GgmlType::kI32, "I32", 1, 4},
      {GgmlType::kI64, "I64", 1, 8},
      {GgmlType::kF64, "F64", 1, 8},
      {GgmlType::kIQ1_M, "IQ1_M", 256, 56},
      {GgmlType::kBF16, "BF16", 1, 2},
      {GgmlType::kTQ1_0, "TQ1_0", 256, 54},
      {GgmlType::kTQ2_0, "TQ2_0", 256, 66},
  };
  for (const Expected& e : expected) {
    const GgmlTypeInfo* info = ggml_type_info(e.type);
    ASSERT_NE(info, nullptr) << e.name;
    EXPECT_EQ(info->name, e.name);
    EXPECT_EQ(info->block_size, e.block_size) << e.name;
    EXPECT_EQ(info->type_size, e.type_size) << e.name;
    EXPECT_EQ(ggml_type_info(static_cast<uint32_t>(e.type)), info) << e.name;
  }
}

TEST(GgmlType, UnknownNumbersAreNull) {
  for (uint32_t raw : {4u, 5u, 31u, 32u, 33u, 36u, 39u, 1000u, 0xFFFFFFFFu}) {
    EXPECT_EQ(ggml_type_info(raw), nullptr) << raw;
  }
}

TEST(GgmlType, ExactlyTheListedTypesAreKnown) {
  int known = 0;
  for (uint32_t raw = 0; raw < 256; ++raw) known += ggml_type_info(raw) != nullptr;
  EXPECT_EQ(known, 31);
}

}  // namespace
}  // namespace strata
