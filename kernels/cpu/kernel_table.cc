#include "kernels/cpu/kernel_table.h"

#include <algorithm>
#include <cstring>

#if defined(STRATA_CPU_X86)
#include <immintrin.h>
#endif

#include "core/quant/block_formats.h"
#include "core/quant/fp16.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/isa_kernels.h"
#include "kernels/cpu/row_lane_pack.h"

namespace strata::cpu {
namespace {

#define STRATA_CPU_TABLE(ns, kIsa)                                 \
  [] {                                                             \
    IsaKernels t;                                                  \
    t.isa = kIsa;                                                  \
    t.tile_rows = ns::kTileRows;                                   \
    t.tile_rows_k = ns::kTileRowsK;                                \
    t.tile_cols = ns::kTileCols;                                   \
    t.packed_tile_cols = ns::kTileCols;                            \
    t.quantize_q8_0 = ns::quantize_row_q8_0;                       \
    t.quantize_q8_1 = ns::quantize_row_q8_1;                       \
    t.quantize_q8_k = ns::quantize_row_q8_k;                       \
    t.dots[static_cast<int>(GgmlType::kF32)] = ns::dot_f32_f32;    \
    t.dots[static_cast<int>(GgmlType::kF16)] = ns::dot_f16_f32;    \
    t.dots[static_cast<int>(GgmlType::kQ4_0)] = ns::dot_q4_0_q8_0; \
    t.dots[static_cast<int>(GgmlType::kQ4_1)] = ns::dot_q4_1_q8_1; \
    t.dots[static_cast<int>(GgmlType::kQ5_0)] = ns::dot_q5_0_q8_0; \
    t.dots[static_cast<int>(GgmlType::kQ5_1)] = ns::dot_q5_1_q8_1; \
    t.dots[static_cast<int>(GgmlType::kQ8_0)] = ns::dot_q8_0_q8_0; \
    t.dots[static_cast<int>(GgmlType::kQ2_K)] = ns::dot_q2_k_q8_k; \
    t.dots[static_cast<int>(GgmlType::kQ3_K)] = ns::dot_q3_k_q8_k; \
    t.dots[static_cast<int>(GgmlType::kQ4_K)] = ns::dot_q4_k_q8_k; \
    t.dots[static_cast<int>(GgmlType::kQ5_K)] = ns::dot_q5_k_q8_k; \
    t.dots[static_cast<int>(GgmlType::kQ6_K)] = ns::dot_q6_k_q8_k; \
    t.dot_bf16 = ns::dot_bf16_f32;                                 \
    return t;                                                      \
  }()

const IsaKernels kScalar = STRATA_CPU_TABLE(scalar, Isa::kScalar);
#if defined(STRATA_CPU_X86)
// How many groups each packed kernel reads side by side in the GEMV (DotTile::streams; unset: 1). Two are faster
// than one on both ISAs for the 32-block formats and for the k-quants that interleave them finely (Q4_K, Q5_K,
// Q6_K); four faster still for the 32-block formats on AVX-512, where the k-quants lose with them (see
// quant_matmul.cc). Q2_K and Q3_K read their 2 streams whole super-block by whole super-block (1.3 / 1.7 KiB of 16
// rows) on AVX-512: decode +10.3 % and +10.7 % over one stream on their synthetic 850M models (3 interleaved rounds
// each).
void set_gemv_streams(IsaKernels& t, int legacy_streams, int q23_streams) {
  for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0}) {
    t.gemv_streams[static_cast<int>(type)] = legacy_streams;
  }
  for (GgmlType type : {GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K}) t.gemv_streams[static_cast<int>(type)] = 2;
  for (GgmlType type : {GgmlType::kQ2_K, GgmlType::kQ3_K}) t.gemv_streams[static_cast<int>(type)] = q23_streams;
}

const IsaKernels kAvx2 = [] {
  IsaKernels t = STRATA_CPU_TABLE(avx2, Isa::kAvx2);
  // The AVX-512 packed layout, written without AVX-512 (row_lane_pack.h) and read 8 rows per register half.
#define STRATA_CPU_PACKED_AVX2(type, pack, dot)                      \
  t.packs[static_cast<int>(GgmlType::type)] = pack_row_lanes_##pack; \
  t.dots_packed[static_cast<int>(GgmlType::type)] = avx2::dot_##dot##_packed;
  STRATA_CPU_PACKED_AVX2(kQ4_0, q4_0, q4_0_q8_0)
  STRATA_CPU_PACKED_AVX2(kQ4_1, q4_1, q4_1_q8_1)
  STRATA_CPU_PACKED_AVX2(kQ5_0, q5_0, q5_0_q8_0)
  STRATA_CPU_PACKED_AVX2(kQ5_1, q5_1, q5_1_q8_1)
  STRATA_CPU_PACKED_AVX2(kQ8_0, q8_0, q8_0_q8_0)
  STRATA_CPU_PACKED_AVX2(kQ2_K, q2_k, q2_k_q8_k)
  STRATA_CPU_PACKED_AVX2(kQ3_K, q3_k, q3_k_q8_k)
  STRATA_CPU_PACKED_AVX2(kQ4_K, q4_k, q4_k_q8_k)
  STRATA_CPU_PACKED_AVX2(kQ5_K, q5_k, q5_k_q8_k)
  STRATA_CPU_PACKED_AVX2(kQ6_K, q6_k, q6_k_q8_k)
#undef STRATA_CPU_PACKED_AVX2
  t.packed_tile_cols = avx2::kPackedTileCols;
  set_gemv_streams(t, /*legacy_streams=*/2, /*q23_streams=*/1);
  return t;
}();
const IsaKernels kAvx512 = [] {
  IsaKernels t = STRATA_CPU_TABLE(avx512, Isa::kAvx512);
#define STRATA_CPU_PACKED(type, name)                              \
  t.packs[static_cast<int>(GgmlType::type)] = avx512::pack_##name; \
  t.dots_packed[static_cast<int>(GgmlType::type)] = avx512::dot_##name##_packed;
  STRATA_CPU_PACKED(kQ4_0, q4_0_q8_0)
  STRATA_CPU_PACKED(kQ4_1, q4_1_q8_1)
  STRATA_CPU_PACKED(kQ5_0, q5_0_q8_0)
  STRATA_CPU_PACKED(kQ5_1, q5_1_q8_1)
  STRATA_CPU_PACKED(kQ8_0, q8_0_q8_0)
  STRATA_CPU_PACKED(kQ2_K, q2_k_q8_k)
  STRATA_CPU_PACKED(kQ3_K, q3_k_q8_k)
  STRATA_CPU_PACKED(kQ4_K, q4_k_q8_k)
  STRATA_CPU_PACKED(kQ5_K, q5_k_q8_k)
  STRATA_CPU_PACKED(kQ6_K, q6_k_q8_k)
#undef STRATA_CPU_PACKED
  set_gemv_streams(t, /*legacy_streams=*/4, /*q23_streams=*/2);
  return t;
}();
#else
// Other architectures build only the scalar kernels; detection never selects these.
const IsaKernels& kAvx2 = kScalar;
const IsaKernels& kAvx512 = kScalar;
#endif

#undef STRATA_CPU_TABLE

}  // namespace

WeightKernel IsaKernels::weight_kernel(GgmlType type) const {
  WeightKernel wk;
  wk.tile_rows = tile_rows;
  wk.tile_cols = tile_cols;
  switch (type) {
    case GgmlType::kBF16:
      wk.dot = dot_bf16;
      return wk;
    case GgmlType::kF16:
    case GgmlType::kF32:
      break;
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
    case GgmlType::kQ8_0:
      wk.partner = GgmlType::kQ8_0;
      wk.quantize = quantize_q8_0;
      break;
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_1:
      wk.partner = GgmlType::kQ8_1;
      wk.quantize = quantize_q8_1;
      break;
    case GgmlType::kQ2_K:
    case GgmlType::kQ3_K:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
      wk.partner = GgmlType::kQ8_K;
      wk.quantize = quantize_q8_k;
      wk.tile_rows = tile_rows_k;
      break;
    default:
      return wk;
  }
  wk.dot = dots[static_cast<int>(type)];
  wk.pack = packs[static_cast<int>(type)];
  wk.dot_packed = dots_packed[static_cast<int>(type)];
  wk.packed_tile_cols = packed_tile_cols;
  // The kernels with a packed layout are the row-lane kernels, and those read the activation sums.
  wk.act_sums = wk.pack != nullptr;
  wk.gemv_streams = std::max(1, gemv_streams[static_cast<int>(type)]);
  return wk;
}

int64_t activation_sums_per_row(GgmlType partner, int64_t k) {
  return partner == GgmlType::kQ8_K ? k / kQK_K * 12 : k / 32;
}

namespace {

int32_t int16_pair(int32_t lo, int32_t hi) {
  return static_cast<int32_t>(static_cast<uint16_t>(lo) | (static_cast<uint32_t>(static_cast<uint16_t>(hi)) << 16));
}

}  // namespace

#if defined(STRATA_CPU_X86)
// The 32-block sums with AVX2: a matmul prepares them for every call, and the scalar loop took ~0.5 us per
// 2048-wide row, a third of a small GEMV's fixed cost.
template <int64_t kBlockBytes, bool kHasS>
__attribute__((target("avx2,f16c"))) void block_sums_avx2(const uint8_t* a_row, int64_t n_blocks, float* d,
                                                          int32_t* sum, float* s) {
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* blk = a_row + b * kBlockBytes;
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kBlockBytes - 32));
    const __m256i s32 = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q), ones16);  // 8 sums of 4
    __m128i r = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
    r = _mm_add_epi32(r, _mm_unpackhi_epi64(r, r));
    r = _mm_add_epi32(r, _mm_shuffle_epi32(r, 1));
    sum[b] = _mm_cvtsi128_si32(r);
    uint16_t h[2];
    std::memcpy(h, blk, sizeof(h));
    d[b] = _cvtsh_ss(h[0]);
    s[b] = kHasS ? _cvtsh_ss(h[1]) : 0.0f;
  }
}
#endif

void activation_sums(GgmlType partner, const uint8_t* a_row, int64_t k, float* d, int32_t* sum, float* s) {
  if (partner == GgmlType::kQ8_K) {
    const auto* blocks = reinterpret_cast<const BlockQ8_K*>(a_row);
    for (int64_t i = 0; i < k / kQK_K; ++i) {
      const int16_t* bs = blocks[i].bsums;
      int32_t b32[8];
      for (int j = 0; j < 8; ++j) b32[j] = bs[2 * j] + bs[2 * j + 1];
      int32_t* out = sum + 12 * i;
      out[0] = int16_pair(b32[0], b32[2]);
      out[1] = int16_pair(b32[1], b32[3]);
      out[2] = int16_pair(b32[4], b32[6]);
      out[3] = int16_pair(b32[5], b32[7]);
      for (int p = 0; p < 8; ++p) {
        const int g = 4 * (p / 2) + p % 2;
        out[4 + p] = int16_pair(bs[g], bs[g + 2]);
      }
    }
    return;
  }
  const bool has_s = partner == GgmlType::kQ8_1;
#if defined(STRATA_CPU_X86)
  if (isa_supported(Isa::kAvx2)) {  // AVX2, FMA, F16C (cpu_features.h)
    if (has_s) {
      block_sums_avx2<sizeof(BlockQ8_1), true>(a_row, k / 32, d, sum, s);
    } else {
      block_sums_avx2<sizeof(BlockQ8_0), false>(a_row, k / 32, d, sum, s);
    }
    return;
  }
#endif
  const int64_t block_bytes = has_s ? sizeof(BlockQ8_1) : sizeof(BlockQ8_0);
  for (int64_t b = 0; b < k / 32; ++b) {
    const uint8_t* blk = a_row + b * block_bytes;
    // Both formats start with fp16 d (Q8_1: then fp16 s) and end with the 32 quants.
    uint16_t h[2] = {0, 0};
    std::memcpy(h, blk, has_s ? 4 : 2);
    const auto* q = reinterpret_cast<const int8_t*>(blk + block_bytes - 32);
    int32_t total = 0;
    for (int e = 0; e < 32; ++e) total += q[e];
    d[b] = fp16_to_f32(h[0]);
    sum[b] = total;
    s[b] = has_s ? fp16_to_f32(h[1]) : 0.0f;
  }
}

const IsaKernels& isa_kernels(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return kAvx512;
    case Isa::kAvx2:
      return kAvx2;
    default:
      return kScalar;
  }
}

}  // namespace strata::cpu
