// Runtime -> compile-time dispatch of the CPU kernels, in one place: the function table of each ISA.
#pragma once

#include <cstdint>

#include "core/gguf/ggml_type.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/isa_kernels.h"

namespace strata::cpu {

using QuantizeRowFn = void (*)(const float* x, void* y, int64_t k);
// rows in [1, WeightKernel::tile_rows], cols in [1, WeightKernel::tile_cols]; see isa_kernels.h.
using DotTileFn = void (*)(const DotTile& t, int rows, int cols);
// Rows [0, rows) (rows <= tile_rows) of a GGUF tensor, w_stride bytes apart -> one packed group of tile_rows rows.
using PackRowsFn = void (*)(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst);

// How one weight type is multiplied on one ISA.
struct WeightKernel {
  DotTileFn dot = nullptr;  // null: type not supported
  int tile_rows = 1;        // largest tile `dot` takes
  int tile_cols = 1;
  GgmlType partner = GgmlType::kF32;  // activation format; kF32 means plain floats
  QuantizeRowFn quantize = nullptr;   // f32 -> partner; null for float types
  // The packed layout (WeightLayout::kCpuRowLanes16), where this ISA has one for the type: null otherwise.
  PackRowsFn pack = nullptr;
  DotTileFn dot_packed = nullptr;
  int packed_tile_cols = 1;  // largest column count dot_packed takes
  bool act_sums = false;     // dot and dot_packed read DotTile::a_d / a_sum / a_s (the row-lane kernels: pack is set)
  // Packed groups the GEMV (at most kGemvMaxRows columns) reads side by side through DotTile::streams: 1 or 2.
  int gemv_streams = 1;
};

struct IsaKernels {
  Isa isa = Isa::kScalar;
  int tile_rows = 1;    // largest tile of the 32-block and float dots
  int tile_rows_k = 1;  // of the k-quant dots
  int tile_cols = 1;
  int packed_tile_cols = 1;  // of the packed (row-lane) dots

  // The kernels for `type`; dot is null when the type has none.
  WeightKernel weight_kernel(GgmlType type) const;

  QuantizeRowFn quantize_q8_0 = nullptr;
  QuantizeRowFn quantize_q8_1 = nullptr;
  QuantizeRowFn quantize_q8_k = nullptr;
  DotTileFn dots[16] = {};  // indexed by GgmlType value, types 0..15
  DotTileFn dot_bf16 = nullptr;
  PackRowsFn packs[16] = {};  // indexed like dots; null where the ISA has no packed layout
  DotTileFn dots_packed[16] = {};
  int gemv_streams[16] = {};  // WeightKernel::gemv_streams, where above 1
};

// Values per activation row in each of DotTile::a_d / a_sum / a_s for `partner` (Q8_0, Q8_1 or Q8_K).
int64_t activation_sums_per_row(GgmlType partner, int64_t k);

// DotTile::a_d / a_sum / a_s of one activation row in the partner format, for kernels with act_sums. Q8_0 / Q8_1:
// per block d, the sum of the quants, s (0 for Q8_0). Q8_K (only `sum` is written): per super-block 12 values, each
// two int16 in one int32 — 4 for Q4_K, (b[0], b[2]), (b[1], b[3]), (b[4], b[6]), (b[5], b[7]) with b[j] the sum of
// the quants of 32-element sub-block j; then 8 for Q6_K, (s[g], s[g + 2]) for g = 0, 1, 4, 5, 8, 9, 12, 13 with s
// the 16-element bsums.
void activation_sums(GgmlType partner, const uint8_t* a_row, int64_t k, float* d, int32_t* sum, float* s);

// The table of `isa`. Only call its functions when isa_supported(isa).
const IsaKernels& isa_kernels(Isa isa);

}  // namespace strata::cpu
