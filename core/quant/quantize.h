// Reference quantization of f32 rows to GGUF element types, producing the same bytes as ggml's
// quantize_row_*_ref (the path llama.cpp takes without an importance matrix).
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "core/gguf/ggml_type.h"

namespace strata {

// True when quantize_row handles `type`: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K..Q6_K, Q8_K.
bool can_quantize(GgmlType type);

// Quantizes `n` floats into n / block_size blocks of `type` at `dst` (row_size(type, n) bytes, no alignment
// required). InvalidArgument when n is negative or not a multiple of the block size; Unimplemented, naming the type,
// when can_quantize(type) is false.
absl::Status quantize_row(GgmlType type, const float* src, void* dst, int64_t n);  // src: [n]

// Bytes taken by `n` elements of `type`; 0 when the type is unknown to the quant code or n is negative or not a
// multiple of its block size (quantize_row / dequantize_row report which).
size_t row_size(GgmlType type, int64_t n);

}  // namespace strata
