// Reference quantizers of one block per format (ggml's quantize_row_*_ref, block by block). Host only; the row
// entry point is quantize_row in core/quant/quantize.h.
#pragma once

#include "core/quant/block_formats.h"

namespace strata {

// quantize_legacy.cc; x: [32]
void quantize_block(const float* x, BlockQ4_0* y);
void quantize_block(const float* x, BlockQ4_1* y);
void quantize_block(const float* x, BlockQ5_0* y);
void quantize_block(const float* x, BlockQ5_1* y);
void quantize_block(const float* x, BlockQ8_0* y);
void quantize_block(const float* x, BlockQ8_1* y);

// quantize_k.cc; x: [256]
void quantize_block(const float* x, BlockQ2_K* y);
void quantize_block(const float* x, BlockQ3_K* y);
void quantize_block(const float* x, BlockQ4_K* y);
void quantize_block(const float* x, BlockQ5_K* y);
void quantize_block(const float* x, BlockQ6_K* y);
void quantize_block(const float* x, BlockQ8_K* y);

}  // namespace strata
