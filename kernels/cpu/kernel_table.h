// Runtime -> compile-time dispatch of the CPU kernels, in one place: the function table of each ISA.
#pragma once

#include <cstdint>

#include "core/gguf/ggml_type.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemm_panels.h"

namespace strata::cpu {

using QuantizeRowFn = void (*)(const float* x, void* y, int64_t k);
using VecDotFn = float (*)(int64_t n, const void* w, const void* a);
using ConvertRowFn = void (*)(const uint16_t* x, float* y, int64_t n);
using GemmI8TileFn = void (*)(const WeightPanel& w, int rows, const ActPanel& a, int cols, float* y, int64_t ldy);
using GemmF32TileFn = void (*)(const float* w, int rows, const float* a, int cols, int64_t k, float* y, int64_t ldy);

// How one weight type is multiplied on one ISA.
struct WeightKernel {
  VecDotFn vec_dot = nullptr;         // null: type not supported
  GgmlType partner = GgmlType::kF32;  // activation format; kF32 means plain floats
  QuantizeRowFn quantize = nullptr;   // f32 -> partner; null for float types
  ConvertRowFn to_f32 = nullptr;      // F16 / BF16 weights -> f32 for the GEMM path
};

struct IsaKernels {
  Isa isa = Isa::kScalar;
  int tile_rows = 1;  // largest register tile of the GEMM functions
  int tile_cols = 1;
  int weight_bias = 0;  // decode_weight_panel bias the i8 tile expects (128 with VNNI)
  GemmI8TileFn gemm_i8_tile = nullptr;
  GemmF32TileFn gemm_f32_tile = nullptr;

  // The kernels for `type`; vec_dot is null when the type has none.
  WeightKernel weight_kernel(GgmlType type) const;

  QuantizeRowFn quantize_q8_0 = nullptr;
  QuantizeRowFn quantize_q8_1 = nullptr;
  QuantizeRowFn quantize_q8_k = nullptr;
  VecDotFn dots[16] = {};  // indexed by GgmlType value, types 0..15
  VecDotFn dot_bf16 = nullptr;
  ConvertRowFn f16_to_f32 = nullptr;
  ConvertRowFn bf16_to_f32 = nullptr;
};

// The table of `isa`. Only call its functions when isa_supported(isa).
const IsaKernels& isa_kernels(Isa isa);

}  // namespace strata::cpu
