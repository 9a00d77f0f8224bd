// The per-ISA kernel set behind quant_matmul: activation quantization, dot products, and the GEMM tiles.
//
// Each ISA has its own namespace (scalar, avx2, avx512) with the same functions, compiled in separate translation
// units with that ISA's flags. Only call the avx2 / avx512 ones when isa_supported() says so.
//
// Dot products take `n` elements (a multiple of the weight block size) of one weight row in its GGUF layout and one
// activation row in the partner format (ggml's vec_dot_type): Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for
// the k-quants, plain f32 for F32/F16/BF16.
#pragma once

#include <cstdint>

#include "kernels/cpu/gemm_panels.h"

#define STRATA_CPU_DECLARE_ISA_KERNELS()                                                                 \
  void quantize_row_q8_0(const float* x, void* y, int64_t k); /* x: [k] -> y: [k / 32] BlockQ8_0 */      \
  void quantize_row_q8_1(const float* x, void* y, int64_t k); /* x: [k] -> y: [k / 32] BlockQ8_1 */      \
  void quantize_row_q8_k(const float* x, void* y, int64_t k); /* x: [k] -> y: [k / 256] BlockQ8_K */     \
  float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* a);                                      \
  float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* a);                                      \
  float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* a);                                      \
  float vec_dot_q5_1_q8_1(int64_t n, const void* w, const void* a);                                      \
  float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* a);                                      \
  float vec_dot_q2_k_q8_k(int64_t n, const void* w, const void* a);                                      \
  float vec_dot_q3_k_q8_k(int64_t n, const void* w, const void* a);                                      \
  float vec_dot_q4_k_q8_k(int64_t n, const void* w, const void* a);                                      \
  float vec_dot_q5_k_q8_k(int64_t n, const void* w, const void* a);                                      \
  float vec_dot_q6_k_q8_k(int64_t n, const void* w, const void* a);                                      \
  float vec_dot_f16_f32(int64_t n, const void* w, const void* a);                                        \
  float vec_dot_bf16_f32(int64_t n, const void* w, const void* a);                                       \
  float vec_dot_f32_f32(int64_t n, const void* w, const void* a);                                        \
  void convert_f16_to_f32(const uint16_t* x, float* y, int64_t n);  /* x: [n] -> y: [n] */               \
  void convert_bf16_to_f32(const uint16_t* x, float* y, int64_t n); /* x: [n] -> y: [n] */               \
  /* GEMM tiles over decoded panels (gemm_panels.h): y[c * ldy + r] = row r of w . row c of a. */        \
  void gemm_i8_tile(const WeightPanel& w, int rows, const ActPanel& a, int cols, float* y, int64_t ldy); \
  void gemm_f32_tile(const float* w, int rows, const float* a, int cols, int64_t k, float* y, int64_t ldy);

namespace strata::cpu {
// kGemmTileRows x kGemmTileCols: the largest `rows` x `cols` the gemm tiles accept (their register tile).
namespace scalar {
inline constexpr int kGemmTileRows = 4;
inline constexpr int kGemmTileCols = 4;
STRATA_CPU_DECLARE_ISA_KERNELS()
}  // namespace scalar
namespace avx2 {
inline constexpr int kGemmTileRows = 4;
inline constexpr int kGemmTileCols = 2;
STRATA_CPU_DECLARE_ISA_KERNELS()
}  // namespace avx2
namespace avx512 {
inline constexpr int kGemmTileRows = 4;
inline constexpr int kGemmTileCols = 4;
STRATA_CPU_DECLARE_ISA_KERNELS()
}  // namespace avx512
}  // namespace strata::cpu
