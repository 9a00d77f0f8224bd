// The per-ISA kernel set behind quant_matmul: activation quantization and dot-product tiles.
//
// Each ISA has its own namespace (scalar, avx2, avx512) with the same functions, compiled in separate translation
// units with that ISA's flags. Only call the avx2 / avx512 ones when isa_supported() says so.
//
// A dot tile computes rows x cols dot products at once: `rows` weight rows in their GGUF layout (or, for the
// *_packed AVX-512 dots, one packed group of 16 rows) against `cols` activation rows in the partner format (ggml's
// vec_dot_type): Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for the k-quants, plain f32 for F32/F16/BF16. A
// weight block is decoded once per tile and used for every activation row; an activation block is loaded once and
// used for every weight row.
//
// Batch invariance: every output of a tile goes through exactly the same floating-point operations, in the same
// order and lane layout, whatever the tile's shape (only integer work, which is exact, and the conversion of fp16
// scales, which is exact, are shared). So y[c][r] is bit-identical whether it is computed alone (GEMV, m = 1) or
// in a 4 x 4 tile of a prefill GEMM, on any number of threads. The kernel files are built with -ffp-contract=off
// so the compiler cannot fuse a multiply and an add in one instantiation but not in another.
#pragma once

#include <cstdint>

namespace strata::cpu {

// Software prefetch distances of the packed GEMV (see quant_matmul.cc for the measurements). Into L2: this many bytes
// ahead summed over a thread's streams (DotTile::streams), so 3 KiB per stream with two, 1.5 KiB with four. Into L1:
// kPackedPrefetchL1Bytes ahead of each stream.
inline constexpr int64_t kPackedStreamsPrefetchBytes = 6144;
inline constexpr int64_t kPackedPrefetchL1Bytes = 640;

struct DotTile {
  int64_t n = 0;     // elements per row, a multiple of the weight block size
  const uint8_t* w;  // [rows] weight rows, w_stride bytes apart
  int64_t w_stride = 0;
  const uint8_t* a;  // [cols] activation rows in the partner format, a_stride bytes apart
  int64_t a_stride = 0;
  float* y;  // y[c * ldy + r] = dot(weight row r, activation row c)
  int64_t ldy = 0;
  int64_t prefetch = 0;     // > 0: the SIMD kernels prefetch the weights this many bytes ahead into L2 (GEMV)
  int64_t prefetch_l1 = 0;  // > 0: and this many bytes ahead into L1 (packed weights, read in address order)
  // Per activation row, prepared once per call for kernels that ask for them (WeightKernel::act_sums), a_sums_stride
  // values per row in each array (activation_sums_per_row). Q8_0 / Q8_1 partners, per 32-block: the block's d as a
  // float, the sum of its quants, and (Q8_1) its s as a float. Q8_K partners, per super-block, in a_sum only: the
  // bsums as the int16 pairs the k-quant row-lane kernels' vpmaddwd take (see activation_sums).
  const float* a_d = nullptr;      // [cols, a_sums_stride]
  const int32_t* a_sum = nullptr;  // [cols, a_sums_stride]
  const float* a_s = nullptr;      // [cols, a_sums_stride]; Q8_1 partners only
  int64_t a_sums_stride = 0;
  // Packed GEMV (row-lane kernels, at most kGemvMaxRows columns): `streams` (1, 2 or 4) full groups of 16 rows read
  // side by side, block by block, group s at w + s * stream_w_stride bytes writing y + s * stream_y_stride. Each
  // output's arithmetic is unchanged (same bits); one core keeps more lines in flight (see quant_matmul.cc).
  int streams = 1;
  int64_t stream_w_stride = 0;
  int64_t stream_y_stride = 0;
  // Packed GEMV: a tile's outputs that fill one aligned 64-byte line of y (16 rows) are written with non-temporal
  // stores; the caller fences them before another thread reads y (see quant_matmul.cc for why).
  bool stream_y = false;
};

}  // namespace strata::cpu

// `rows` must be in [1, kTileRows] (kTileRowsK for the k-quants) and `cols` in [1, kTileCols].
#define STRATA_CPU_DECLARE_ISA_KERNELS()                                                             \
  void quantize_row_q8_0(const float* x, void* y, int64_t k); /* x: [k] -> y: [k / 32] BlockQ8_0 */  \
  void quantize_row_q8_1(const float* x, void* y, int64_t k); /* x: [k] -> y: [k / 32] BlockQ8_1 */  \
  void quantize_row_q8_k(const float* x, void* y, int64_t k); /* x: [k] -> y: [k / 256] BlockQ8_K */ \
  void dot_q4_0_q8_0(const DotTile& t, int rows, int cols);                                          \
  void dot_q4_1_q8_1(const DotTile& t, int rows, int cols);                                          \
  void dot_q5_0_q8_0(const DotTile& t, int rows, int cols);                                          \
  void dot_q5_1_q8_1(const DotTile& t, int rows, int cols);                                          \
  void dot_q8_0_q8_0(const DotTile& t, int rows, int cols);                                          \
  void dot_q2_k_q8_k(const DotTile& t, int rows, int cols);                                          \
  void dot_q3_k_q8_k(const DotTile& t, int rows, int cols);                                          \
  void dot_q4_k_q8_k(const DotTile& t, int rows, int cols);                                          \
  void dot_q5_k_q8_k(const DotTile& t, int rows, int cols);                                          \
  void dot_q6_k_q8_k(const DotTile& t, int rows, int cols);                                          \
  void dot_f16_f32(const DotTile& t, int rows, int cols);                                            \
  void dot_bf16_f32(const DotTile& t, int rows, int cols);                                           \
  void dot_f32_f32(const DotTile& t, int rows, int cols);

namespace strata::cpu {
// kTileRows x kTileCols: the largest tile of the 32-block and float formats; the k-quants keep more per weight row
// (a super-block's decoded scales and bits), so their tiles are kTileRowsK x kTileCols. Each is sized to the ISA's
// register file: accumulators of every output, plus one block of each weight row and each activation row, stay in
// registers. On x86 a kernel may hold a smaller register tile, kRegTileRows (kRegTileRowsK) x kRegTileCols
// (kRegTileColsK), and run larger tiles as several of those. AVX-512's 32-block and k-quant kernels put one
// weight row in each 32-bit lane: 16 rows fill a zmm, and 8 activation rows reuse each transposed weight block 8 times.
namespace scalar {
inline constexpr int kTileRows = 2;
inline constexpr int kTileRowsK = 2;
inline constexpr int kTileCols = 2;
STRATA_CPU_DECLARE_ISA_KERNELS()
}  // namespace scalar
namespace avx2 {
inline constexpr int kTileRows = 2;
inline constexpr int kTileRowsK = 2;
inline constexpr int kTileCols = 2;
inline constexpr int kRegTileRows = 2;
inline constexpr int kRegTileCols = 2;
inline constexpr int kRegTileRowsK = 2;
inline constexpr int kRegTileColsK = 2;
STRATA_CPU_DECLARE_ISA_KERNELS()
// Row-lane tiles on the packed layout of row_lane_pack.h (16 rows, read 8 per register half); cols <=
// kPackedTileCols. Four columns, not kTileCols' two: each decoded weight block serves twice the activation rows (a
// 128-token prefill decodes every block 32 times instead of 64), and a batched decode step of 3-4 sequences streams
// the weights once instead of twice.
inline constexpr int kPackedTileCols = 4;
void dot_q4_0_q8_0_packed(const DotTile& t, int rows, int cols);
void dot_q4_1_q8_1_packed(const DotTile& t, int rows, int cols);
void dot_q5_0_q8_0_packed(const DotTile& t, int rows, int cols);
void dot_q5_1_q8_1_packed(const DotTile& t, int rows, int cols);
void dot_q8_0_q8_0_packed(const DotTile& t, int rows, int cols);
void dot_q2_k_q8_k_packed(const DotTile& t, int rows, int cols);
void dot_q3_k_q8_k_packed(const DotTile& t, int rows, int cols);
void dot_q4_k_q8_k_packed(const DotTile& t, int rows, int cols);
void dot_q5_k_q8_k_packed(const DotTile& t, int rows, int cols);
void dot_q6_k_q8_k_packed(const DotTile& t, int rows, int cols);
}  // namespace avx2
namespace avx512 {
inline constexpr int kTileRows = 16;
inline constexpr int kTileRowsK = 16;
inline constexpr int kTileCols = 8;
inline constexpr int kRegTileRows = 4;
inline constexpr int kRegTileCols = 4;
inline constexpr int kRegTileRowsK = 2;
inline constexpr int kRegTileColsK = 4;
STRATA_CPU_DECLARE_ISA_KERNELS()
// Packed weights (quant_matmul.h, WeightLayout::kCpuRowLanes16): pack_X writes rows [0, rows) of a GGUF tensor as
// one group of 16 (absent rows repeat the last), n_blocks blocks of each, into 16 * n_blocks * sizeof(block) bytes;
// dot_X_packed is dot_X reading t.w as such a group, bit for bit the same results.
#define STRATA_CPU_DECLARE_PACKED(name)                           \
  void dot_##name##_packed(const DotTile& t, int rows, int cols); \
  void pack_##name(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst);
STRATA_CPU_DECLARE_PACKED(q4_0_q8_0)
STRATA_CPU_DECLARE_PACKED(q4_1_q8_1)
STRATA_CPU_DECLARE_PACKED(q5_0_q8_0)
STRATA_CPU_DECLARE_PACKED(q5_1_q8_1)
STRATA_CPU_DECLARE_PACKED(q8_0_q8_0)
STRATA_CPU_DECLARE_PACKED(q2_k_q8_k)
STRATA_CPU_DECLARE_PACKED(q3_k_q8_k)
STRATA_CPU_DECLARE_PACKED(q4_k_q8_k)
STRATA_CPU_DECLARE_PACKED(q5_k_q8_k)
STRATA_CPU_DECLARE_PACKED(q6_k_q8_k)
#undef STRATA_CPU_DECLARE_PACKED
}  // namespace avx512
}  // namespace strata::cpu
