// The 32-element formats. Scales are chosen from the block's extreme values (no search), exactly as ggml does, so
// files we write match llama.cpp's byte for byte. The inverse scale is taken from the f32 scale before it is rounded
// to f16, again as ggml does.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/quant/fp16.h"
#include "core/quant/quantize_blocks.h"

namespace strata {
namespace {

// The value of largest magnitude, with its sign (the first one on ties).
float signed_abs_max(const float* x, int n) {
  float amax = 0, max = 0;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float* min, float* max) {
  *min = FLT_MAX;
  *max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    *min = std::min(*min, x[j]);
    *max = std::max(*max, x[j]);
  }
}

// Round half up of a non-negative value already offset into [0, 2 * offset] (ggml truncates x + offset + 0.5),
// capped at `top`: the symmetric formats have one level fewer above zero than below, so the extreme opposite to the
// block's signed maximum clips by up to one step.
uint8_t offset_level(float v, float offset_plus_half, int top) {
  return static_cast<uint8_t>(std::min(top, static_cast<int>(static_cast<int8_t>(v + offset_plus_half))));
}

void store_q5_high_bits(uint32_t qh, uint8_t* dst) {
  for (int k = 0; k < 4; ++k) dst[k] = static_cast<uint8_t>(qh >> (8 * k));
}

}  // namespace

void quantize_block(const float* x, BlockQ4_0* y) {
  const float d = signed_abs_max(x, kQK4_0) / -8;  // the signed maximum maps to level -8
  const float id = d != 0 ? 1.0f / d : 0.0f;
  y->d = f32_to_fp16(d);
  for (int j = 0; j < kQK4_0 / 2; ++j) {
    const uint8_t q0 = offset_level(x[j] * id, 8.5f, 15);
    const uint8_t q1 = offset_level(x[j + kQK4_0 / 2] * id, 8.5f, 15);
    y->qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
  }
}

void quantize_block(const float* x, BlockQ4_1* y) {
  float min, max;
  min_max(x, kQK4_1, &min, &max);
  const float d = (max - min) / 15;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  y->d = f32_to_fp16(d);
  y->m = f32_to_fp16(min);
  for (int j = 0; j < kQK4_1 / 2; ++j) {
    const uint8_t q0 = offset_level((x[j] - min) * id, 0.5f, 15);
    const uint8_t q1 = offset_level((x[j + kQK4_1 / 2] - min) * id, 0.5f, 15);
    y->qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
  }
}

void quantize_block(const float* x, BlockQ5_0* y) {
  const float d = signed_abs_max(x, kQK5_0) / -16;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  y->d = f32_to_fp16(d);
  uint32_t qh = 0;
  for (int j = 0; j < kQK5_0 / 2; ++j) {
    const uint8_t q0 = offset_level(x[j] * id, 16.5f, 31);
    const uint8_t q1 = offset_level(x[j + kQK5_0 / 2] * id, 16.5f, 31);
    y->qs[j] = static_cast<uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
    qh |= static_cast<uint32_t>(q0 >> 4) << j;
    qh |= static_cast<uint32_t>(q1 >> 4) << (j + kQK5_0 / 2);
  }
  store_q5_high_bits(qh, y->qh);
}

void quantize_block(const float* x, BlockQ5_1* y) {
  float min, max;
  min_max(x, kQK5_1, &min, &max);
  const float d = (max - min) / 31;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  y->d = f32_to_fp16(d);
  y->m = f32_to_fp16(min);
  uint32_t qh = 0;
  for (int j = 0; j < kQK5_1 / 2; ++j) {
    const uint8_t q0 = offset_level((x[j] - min) * id, 0.5f, 31);
    const uint8_t q1 = offset_level((x[j + kQK5_1 / 2] - min) * id, 0.5f, 31);
    y->qs[j] = static_cast<uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
    qh |= static_cast<uint32_t>(q0 >> 4) << j;
    qh |= static_cast<uint32_t>(q1 >> 4) << (j + kQK5_1 / 2);
  }
  store_q5_high_bits(qh, y->qh);
}

void quantize_block(const float* x, BlockQ8_0* y) {
  float amax = 0;
  for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  y->d = f32_to_fp16(d);
  for (int j = 0; j < kQK8_0; ++j) y->qs[j] = static_cast<int8_t>(std::round(x[j] * id));  // ties away from zero
}

void quantize_block(const float* x, BlockQ8_1* y) {
  float amax = 0;
  for (int j = 0; j < kQK8_1; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  y->d = f32_to_fp16(d);
  int sum = 0;
  for (int j = 0; j < kQK8_1; ++j) {
    y->qs[j] = static_cast<int8_t>(std::round(x[j] * id));
    sum += y->qs[j];
  }
  y->s = f32_to_fp16(static_cast<float>(sum) * d);  // with the f32 d, as ggml
}

}  // namespace strata
