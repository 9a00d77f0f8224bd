// Tensor element types as GGUF stores them (ggml's `ggml_type` numbering, which is part of the file format).
#pragma once

#include <cstdint>
#include <string_view>

namespace strata {

enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  // 4 and 5 (Q4_2, Q4_3) were removed from the format.
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
};

// Layout of one type: `block_size` elements are stored in `type_size` bytes.
struct GgmlTypeInfo {
  std::string_view name;  // "Q4_K", as llama.cpp prints it
  uint32_t block_size;    // elements per block (1 for plain types)
  uint32_t type_size;     // bytes per block
};

// Returns nullptr for a number that is no known type (the reader turns that into an error).
const GgmlTypeInfo* ggml_type_info(GgmlType type);
const GgmlTypeInfo* ggml_type_info(uint32_t raw_type);

}  // namespace strata
