// Reference dequantization of a row of any supported GGUF element type to f32.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "core/gguf/ggml_type.h"

namespace strata {

// True when dequantize_row handles `type`: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K..Q6_K, Q8_K.
bool can_dequantize(GgmlType type);

// Converts `n` elements stored as `type` at `src` (n / block_size blocks, no alignment required) to f32 in `dst`.
// InvalidArgument when n is negative or not a multiple of the type's block size; Unimplemented, naming the type,
// when can_dequantize(type) is false.
absl::Status dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);  // dst: [n]

}  // namespace strata
