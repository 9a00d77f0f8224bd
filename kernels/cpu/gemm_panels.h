// Decoded operands of the tiled GEMM path (m > 4 activation rows).
//
// Every quantized weight format is decoded, a few rows at a time, to one uniform layout: signed 8-bit integers, a
// float scale per group of 16 elements (stored once per 4 elements, the span of one int32 lane of a u8 x s8 dot
// instruction, so a tile multiplies lanes by scales without shuffling), and a float offset per group of 16:
//   w[e] = lane_scale[e / 4] * q[e] + true_offset[e / 16]
// Every format fits: Q4_0..Q8_0 have one scale per 32, Q4_K/Q5_K a scale and a min per 32, Q2_K/Q3_K/Q6_K one per 16.
// Decoding costs about one dot product per weight row and is then reused by every activation row, which is what
// makes prefill compute-bound instead of decode-bound.
//
// Activations are quantized exactly as for the GEMV path (the weight type's partner format) and then laid out as
// int8 values, a scale per 32 and d * sum(q) per 16, so the offsets cost one float FMA per 16 elements.
//
// `bias`: the VNNI dpbusd multiplies unsigned by signed bytes. Those tiles feed it a + 128 (activations flipped on
// load) times the signed weights, which adds 128 * sum(w) per int32 lane; decoding stores -128 * sum(w) per lane
// (lane_corr) as the instruction's starting accumulator, so the integer sums stay exact. Folding the correction
// into the float offsets instead would cancel large float terms (1e-4 relative error for Q2_K).
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "core/gguf/ggml_type.h"

namespace strata::cpu {

// Rows of a panel are stored one after another, each row's arrays with the lengths below.
struct WeightPanel {
  int64_t k = 0;
  const int8_t* q = nullptr;            // [rows, k]
  const float* lane_scale = nullptr;    // [rows, k / 4]
  const int32_t* lane_corr = nullptr;   // [rows, k / 4]: -bias * sum of the lane's 4 q
  const float* group_offset = nullptr;  // [rows, k / 16]
};

struct ActPanel {
  int64_t k = 0;
  const int8_t* q = nullptr;    // [cols, k]
  const float* d = nullptr;     // [cols, k / 32]
  const float* dsum = nullptr;  // [cols, k / 16]: d * sum of the group's q
};

// Bytes of decoded panel storage one weight row (or activation row) of length k needs.
inline int64_t weight_panel_row_bytes(int64_t k) { return k + k + k + k / 4; }
inline int64_t act_panel_row_bytes(int64_t k) { return k + k / 8 + k / 4; }

// True for the quantized types with a decoder (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K).
bool has_weight_decoder(GgmlType type);

// Decodes `rows` consecutive weight rows of `type` (each k elements, `row_bytes` apart) into the storage at `buf`
// (rows * weight_panel_row_bytes(k) bytes, 64-byte aligned) and returns the panel viewing it.
WeightPanel decode_weight_panel(GgmlType type, const uint8_t* w, int64_t row_bytes, int rows, int64_t k, int bias,
                                void* buf);

// A panel of `cols` activation rows over the storage at `buf` (cols * act_panel_row_bytes(k) bytes).
ActPanel act_panel_view(void* buf, int64_t cols, int64_t k);

// Fills rows [c0, c0 + cols) of `panel` (a view from act_panel_view) from activation rows already quantized to
// `partner` (Q8_0, Q8_1 or Q8_K), the first at `a`, each `row_bytes` apart.
void fill_act_panel(GgmlType partner, const uint8_t* a, int64_t row_bytes, int64_t c0, int64_t cols,
                    const ActPanel& panel);

}  // namespace strata::cpu
