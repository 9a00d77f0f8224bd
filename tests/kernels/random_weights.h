// Random GGUF weight rows and activations for the kernel tests, from fixed seeds.
//
// Quantized blocks are random bytes (every bit pattern of the integer fields is legal, including -128 in Q8_0, which
// exercises the sign trick's edge) with the half-precision scale fields overwritten by moderate values, so the
// dequantized weights are finite and of a realistic size.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/gguf/ggml_type.h"
#include "core/quant/fp16.h"

namespace strata::cpu::testing {

// Byte offsets of the fp16 scale fields inside one block of `type`.
inline std::vector<int> half_field_offsets(GgmlType type) {
  switch (type) {
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
    case GgmlType::kQ8_0:
      return {0};
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_1:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
      return {0, 2};
    case GgmlType::kQ2_K:
      return {80, 82};
    case GgmlType::kQ3_K:
      return {108};
    case GgmlType::kQ6_K:
      return {208};
    default:
      return {};
  }
}

// n rows of k elements of `type`, contiguous.
inline std::vector<uint8_t> random_weights(GgmlType type, int64_t n, int64_t k, uint32_t seed) {
  const GgmlTypeInfo* info = ggml_type_info(type);
  const int64_t blocks = n * (k / info->block_size);
  std::vector<uint8_t> w(blocks * info->type_size);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  if (type == GgmlType::kF32) {
    for (int64_t i = 0; i < n * k; ++i) {
      const float v = normal(rng);
      std::memcpy(&w[4 * i], &v, 4);
    }
    return w;
  }
  if (type == GgmlType::kF16 || type == GgmlType::kBF16) {
    for (int64_t i = 0; i < n * k; ++i) {
      const float v = normal(rng);
      const uint16_t h = type == GgmlType::kF16 ? f32_to_fp16(v) : f32_to_bf16(v);
      std::memcpy(&w[2 * i], &h, 2);
    }
    return w;
  }
  for (uint8_t& b : w) b = static_cast<uint8_t>(byte(rng));
  const std::vector<int> halves = half_field_offsets(type);
  for (int64_t b = 0; b < blocks; ++b) {
    for (int off : halves) {
      const uint16_t h = f32_to_fp16(scale(rng));
      std::memcpy(&w[b * info->type_size + off], &h, 2);
    }
  }
  return w;
}

// Normal(0, 1) activations (the tolerances of matmul_test.cc are derived for this distribution).
inline std::vector<float> random_activations(int64_t m, int64_t k, uint32_t seed) {
  std::vector<float> x(m * k);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : x) v = normal(rng);
  return x;
}

}  // namespace strata::cpu::testing
