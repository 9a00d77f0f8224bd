// The matrix multiply of the CPU forward pass: f32 activations times a weight tensor of GGUF blocks, in the file's
// layout or packed for the AVX-512 kernels (pack_weights below).
//
// Both strategies run the same dot tiles (isa_kernels.h), so every output is bit-identical whichever runs it, for
// any m, thread count or batch composition (a sequence's greedy decode must not depend on what it is batched with):
//  - GEMV (m <= 4, decode): bound by memory bandwidth. Each weight row is read once and dotted with all m activation
//    rows (quantized to the type's partner format) while it is in L1; each thread streams one long contiguous range
//    of the weights (packed weights: as two halves read side by side, which keeps more of one core's misses in
//    flight), and the last tenth is shared out in small chunks so the threads finish together.
//  - GEMM (m > 4, prefill): bound by compute. Groups of weight rows stay in L2 while every tile of activation rows
//    passes over them, so a weight byte is fetched from memory once per call and decoded once per tile.
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "core/gguf/ggml_type.h"
#include "kernels/backend.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/thread_pool.h"

namespace strata::cpu {

enum class MatmulPath {
  kAuto,  // GEMV for m <= kGemvMaxRows, GEMM above
  kGemv,
  kGemm,
};

inline constexpr int64_t kGemvMaxRows = 4;

struct MatmulOptions {
  Isa isa = active_isa();  // must be supported by this CPU (isa_supported), else FailedPrecondition
  MatmulPath path = MatmulPath::kAuto;
  // matmul's weight: kCpuRowLanes16 when it was written by pack_weights for this isa.
  WeightLayout layout = WeightLayout::kGguf;
};

// One weight of a matmul_group and its output.
struct MatmulProduct {
  GgmlType type = GgmlType::kF32;
  const void* w = nullptr;  // [n, k] in `type`'s blocks, in `layout`
  int64_t n = 0;
  WeightLayout layout = WeightLayout::kGguf;
  float* y = nullptr;  // [m, n]
};

// True for the types matmul accepts: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
bool matmul_supports(GgmlType type);

// Packed weights: the same blocks rearranged (Q6_K re-encoded) so the row-lane kernels read each group of 16 rows as
// one sequential stream of ready-to-use registers, with no per-block gathers or transposes (kCpuRowLanes16). GEMV
// streams at memory bandwidth with far fewer instructions per byte, and GEMM decodes a block faster. AVX-512 has it
// for every quantized type, with results bit-identical to the GGUF layout's; AVX2 reads the same layout for every
// quantized type too (row_lane_pack.h writes it without AVX-512), within float summation order of its GGUF kernels.
//
// Bytes pack_weights writes for an n x k `type` tensor on `isa`: 0 when that ISA has no packed layout for it.
size_t packed_weight_bytes(GgmlType type, int64_t n, int64_t k, Isa isa = active_isa());

// W (n rows of k, GGUF layout) -> dst (packed_weight_bytes(type, n, k, isa) bytes), split across the pool.
absl::Status pack_weights(GgmlType type, const void* w, int64_t n, int64_t k, void* dst, ThreadPool& pool,
                          Isa isa = active_isa());

// y[i, j] = sum_k x[i, k] * W[j, k]; W is a GGUF tensor of `type` with n rows of length k (ggml shape [k, n]).
// InvalidArgument for negative sizes, null pointers or k not a multiple of the type's block size; Unimplemented for
// a type matmul_supports() rejects. Activation scratch is a per-thread buffer reused across calls.
absl::Status matmul(GgmlType type, const void* w,  // [n, k] in `type`'s layout
                    int64_t n, int64_t k,
                    const float* x,  // [m, k]
                    int64_t m,
                    float* y,  // [m, n]
                    ThreadPool& pool, const MatmulOptions& options = {});

// Several weights with the same row length times the same activations (a layer's Q, K and V; gate and up): the
// activations are quantized once per partner format and all output rows go to the pool in one hand-off, so the
// threads stay busy across the products and a decode step pays one wake-up instead of three. Each output is the
// same bits matmul gives for that weight alone. Errors as matmul's, for the first product that has one.
absl::Status matmul_group(std::span<const MatmulProduct> products, int64_t k,
                          const float* x,  // [m, k]
                          int64_t m, ThreadPool& pool, const MatmulOptions& options = {});

}  // namespace strata::cpu
