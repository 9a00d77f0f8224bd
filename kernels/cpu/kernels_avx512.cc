// AVX-512 (F/BW/VL/DQ) + VNNI kernels (compiled with those flags only; see kernels/CMakeLists.txt). The 256-bit
// quantized tiles of kernels_x86_dot.h pick up VNNI here; the 32-block formats, Q4_K and the float tiles are
// 512-bit.
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/quant/block_formats.h"
#include "kernels/cpu/dot_tile_dispatch.h"
#include "kernels/cpu/isa_kernels.h"

namespace strata::cpu::avx512 {

// Per-ISA copies of the shared helpers and 256-bit kernels (see x86_simd.h for why they are not shared).
#include "kernels/cpu/x86_simd.h"
// The kernels use the helpers above: keep this order.
#define STRATA_X86_HAVE_WIDE_LEGACY 1
#define STRATA_X86_HAVE_WIDE_Q4_K 1
#include "kernels/cpu/kernels_x86_dot.h"

namespace {

using namespace detail;

inline __mmask16 tail_mask16(int64_t left) { return static_cast<__mmask16>((1u << left) - 1u); }

// The fp16 field at byte kOffset of 8 consecutive blocks kStride bytes apart (the first at p), as 8 floats. Word
// permutes over 64-byte loads instead of 8 scalar conversions: converting scales one at a time cost Q4_0 about 40 %
// of its time. Loads past the 8 blocks are masked off, so nothing beyond them is touched (the last blocks of a
// mapped tensor may end a page).
template <int kStride, int kOffset>
inline __m256 fp16_fields_8(const uint8_t* p) {
  static_assert(kStride % 2 == 0 && kOffset % 2 == 0 && (7 * kStride + kOffset) / 2 < 128);
  constexpr int kWords = (8 * kStride - kOffset) / 2;  // readable words from p + kOffset
  static_assert(kWords >= 64);
  constexpr auto word = [](int j) { return j * kStride / 2; };  // block j's field, in words from p + kOffset
  alignas(64) static constexpr int16_t kLo[32] = {word(0),      word(1),      word(2),      word(3),
                                                  word(4) & 63, word(5) & 63, word(6) & 63, word(7) & 63};
  const uint8_t* base = p + kOffset;
  __m512i h =
      _mm512_permutex2var_epi16(_mm512_loadu_si512(base), _mm512_load_si512(kLo), _mm512_loadu_si512(base + 64));
  if constexpr (word(7) >= 64) {
    // Words 64..127 for the blocks whose field lies beyond the first 128 bytes, blended into their positions.
    alignas(64) static constexpr int16_t kHi[32] = {0, 0, 0, 0, word(4) & 63, word(5) & 63, word(6) & 63, word(7) & 63};
    constexpr auto mask_words = [](int first) {
      const int n = kWords - first < 0 ? 0 : (kWords - first > 32 ? 32 : kWords - first);
      return static_cast<__mmask32>(n == 32 ? 0xFFFFFFFFu : (1u << n) - 1u);
    };
    const __m512i hi =
        _mm512_permutex2var_epi16(_mm512_maskz_loadu_epi16(mask_words(64), base + 128), _mm512_load_si512(kHi),
                                  _mm512_maskz_loadu_epi16(mask_words(96), base + 192));
    __mmask32 from_hi = 0;
    for (int j = 0; j < 8; ++j) from_hi |= word(j) >= 64 ? (1u << j) : 0u;
    h = _mm512_mask_blend_epi16(from_hi, h, hi);
  }
  return _mm256_cvtph_ps(_mm512_castsi512_si128(h));
}

// Lanes 0-7 of a 64-element step belong to block 2s of a group of 8, lanes 8-15 to block 2s + 1.
inline __m512 step_scale(__m256 v8, int s) {
  const __m512i idx =
      _mm512_add_epi32(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0), _mm512_set1_epi32(2 * s));
  return _mm512_permutexvar_ps(idx, _mm512_castps256_ps512(v8));
}

inline __m512 pair_scale(float a, float b) { return _mm512_insertf32x8(_mm512_set1_ps(a), _mm256_set1_ps(b), 1); }

// The 32-block formats against Q8_0 / Q8_1, two blocks per 512-bit step:
//   acc[step % 2] += p * (dx * dy)   (p: VNNI lane sums of 4 products; lanes 0-7 first block, 8-15 second)
//   mins[block % 8] += m * s          (Q4_1 / Q5_1: s is the partner's fp16 d * sum(q), as ggml)
// The scale products are formed from the same two floats on every path (groups of 8 blocks, pairs, a single last
// block), so they are the same bits; a single last block runs with its upper lanes zero in both operands, and the
// last partial group's missing mins lanes are zero too.
//
// Weights enter the u8 x s8 dot unsigned: Q4 nibbles q, Q5 q | h << 4, Q8_0 as w + 128 (xor 0x80); the zero point
// (8, 16, 128; none for the _1 formats) times sum(y) is then taken off per lane.
enum class Legacy { kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ8_0 };

template <Legacy kFormat>
struct WideLegacy {
  static constexpr bool kQ8 = kFormat == Legacy::kQ8_0;
  static constexpr bool kFive = kFormat == Legacy::kQ5_0 || kFormat == Legacy::kQ5_1;
  static constexpr bool kHasMin = kFormat == Legacy::kQ4_1 || kFormat == Legacy::kQ5_1;
  static constexpr int kZero = kQ8 ? 128 : (kFormat == Legacy::kQ4_0 ? 8 : (kFormat == Legacy::kQ5_0 ? 16 : 0));
  using Block = std::conditional_t<
      kFormat == Legacy::kQ4_0, BlockQ4_0,
      std::conditional_t<kFormat == Legacy::kQ4_1, BlockQ4_1,
                         std::conditional_t<kFormat == Legacy::kQ5_0, BlockQ5_0,
                                            std::conditional_t<kFormat == Legacy::kQ5_1, BlockQ5_1, BlockQ8_0>>>>;
  using Partner = std::conditional_t<kHasMin, BlockQ8_1, BlockQ8_0>;
  static constexpr int kMinOffset = 2;  // byte offset of m in Q4_1 / Q5_1 and of s in Q8_1

  static uint32_t high_bits(const Block& b) {
    uint32_t qh = 0;
    if constexpr (kFive) std::memcpy(&qh, b.qh, 4);
    return qh;
  }

  template <int R, int C>
  static void run(const DotTile& t) {
    const int64_t nb = t.n / 32;
    __m512 acc[2][R][C];
    __m256 mins[R][C];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        acc[0][r][c] = acc[1][r][c] = _mm512_setzero_ps();
        mins[r][c] = _mm256_setzero_ps();
      }
    }
    const __m512i zero_point = _mm512_set1_epi8(static_cast<char>(kZero));
    const __m512i nibble_shift = _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0);
    // scale[r][c]: the step's dx * dy per lane.
    auto step = [&](int64_t i, bool pair, int slot, const __m512(&scale)[R][C]) {
      __m512i wq[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const Block* b = &weight_block<Block>(t, r, i);
        if constexpr (kQ8) {
          const __m512i lo = _mm512_zextsi256_si512(load256(b[0].qs));
          wq[r] = _mm512_xor_si512(pair ? _mm512_inserti64x4(lo, load256(b[1].qs), 1) : lo, zero_point);
        } else {
          // [qs0, qs0, qs1, qs1] by 128-bit lanes, then low nibbles in lanes 0 and 2, high in 1 and 3: the element
          // order of two blocks.
          const __m512i b0 = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b[0].qs)));
          const __m512i both =
              pair ? _mm512_mask_blend_epi64(
                         0xF0, b0, _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b[1].qs))))
                   : _mm512_maskz_mov_epi64(0x0F, b0);
          wq[r] = _mm512_and_si512(_mm512_srlv_epi64(both, nibble_shift), _mm512_set1_epi8(0x0F));
          if constexpr (kFive) {
            // Element e of the pair takes bit e of the two blocks' qh words as its fifth bit.
            const uint64_t bits = high_bits(b[0]) | (pair ? uint64_t{high_bits(b[1])} << 32 : 0);
            wq[r] = _mm512_mask_add_epi8(wq[r], _cvtu64_mask64(bits), wq[r], _mm512_set1_epi8(16));
          }
        }
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const Partner* y = &act_block<Partner>(t, c, i);
        const __m512i lo = _mm512_zextsi256_si512(load256(y[0].qs));
        const __m512i yq = pair ? _mm512_inserti64x4(lo, load256(y[1].qs), 1) : lo;
        // Each row's dot starts from -zero * sum(y): one subtraction per activation block, not per output.
        __m512i start = _mm512_setzero_si512();
        if constexpr (kZero != 0) {
          start = _mm512_sub_epi32(start, _mm512_dpbusd_epi32(_mm512_setzero_si512(), zero_point, yq));
        }
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m512i p = _mm512_dpbusd_epi32(start, wq[r], yq);
          acc[slot][r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), scale[r][c], acc[slot][r][c]);
        }
      }
    };
    int64_t i = 0;
    for (; i + 8 <= nb; i += 8) {
      __m256 d8[R][C], dx8[R], dy8[C], mx8[R], sy8[C];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const auto* b = reinterpret_cast<const uint8_t*>(&weight_block<Block>(t, r, i));
        prefetch_ahead(t, b, 8 * sizeof(Block));
        dx8[r] = fp16_fields_8<sizeof(Block), 0>(b);
        if constexpr (kHasMin) mx8[r] = fp16_fields_8<sizeof(Block), kMinOffset>(b);
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const auto* y = reinterpret_cast<const uint8_t*>(&act_block<Partner>(t, c, i));
        dy8[c] = fp16_fields_8<sizeof(Partner), 0>(y);
        if constexpr (kHasMin) sy8[c] = fp16_fields_8<sizeof(Partner), kMinOffset>(y);
      }
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
          d8[r][c] = _mm256_mul_ps(dx8[r], dy8[c]);
          if constexpr (kHasMin) mins[r][c] = _mm256_add_ps(mins[r][c], _mm256_mul_ps(mx8[r], sy8[c]));
        }
      }
#pragma GCC unroll 4
      for (int s = 0; s < 4; ++s) {
        __m512 scale[R][C];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
          for (int c = 0; c < C; ++c) scale[r][c] = step_scale(d8[r][c], s);
        step(i + 2 * s, true, s & 1, scale);
      }
    }
    // Fewer than 8 blocks left: their mins in lanes 0..left-1, then up to three pair steps (slots 0, 1, 0 continue
    // the alternation) and a single block.
    const int left = static_cast<int>(nb - i);
    if constexpr (kHasMin) {
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        alignas(32) float mx[8] = {};
        for (int j = 0; j < left; ++j) mx[j] = fp16(weight_block<Block>(t, r, i + j).m);
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
          alignas(32) float sy[8] = {};
          for (int j = 0; j < left; ++j) sy[j] = fp16(act_block<Partner>(t, c, i + j).s);
          if (left > 0) mins[r][c] = _mm256_add_ps(mins[r][c], _mm256_mul_ps(_mm256_load_ps(mx), _mm256_load_ps(sy)));
        }
      }
    }
    auto rest = [&](int64_t j, bool pair, int slot) {
      __m512 scale[R][C];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const Block* b = &weight_block<Block>(t, r, j);
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
          const Partner* y = &act_block<Partner>(t, c, j);
          const float d0 = fp16(b[0].d) * fp16(y[0].d);
          scale[r][c] =
              pair ? pair_scale(d0, fp16(b[1].d) * fp16(y[1].d)) : _mm512_maskz_mov_ps(0x00FF, _mm512_set1_ps(d0));
        }
      }
      step(j, pair, slot, scale);
    };
    const int pairs = left / 2;
    if (pairs >= 1) rest(i, true, 0);
    if (pairs >= 2) rest(i + 2, true, 1);
    if (pairs >= 3) rest(i + 4, true, 0);
    if (left % 2 != 0) {
      if (pairs % 2 == 0) {
        rest(i + 2 * pairs, false, 0);
      } else {
        rest(i + 2 * pairs, false, 1);
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc[0][r][c], acc[1][r][c]));
        if constexpr (kHasMin) sum += hsum(mins[r][c]);
        t.y[c * t.ldy + r] = sum;
      }
    }
  }
};

// Q4_K against Q8_K, 512-bit with VNNI: per super-block and output, acc += (yd * d) * sumi over 16 lanes and
// acc_m += (-yd * dmin) * (min . bsum pairs) over 4. For j = 0..3 one zmm holds sub-blocks 2j (low nibbles of the
// j-th 32 bytes) and 2j + 1 (high nibbles), the element order of the j-th 64 activation bytes, so a single dpbusd
// gives 4-product lane sums (|sum| <= 4 * 15 * 127, an int16). Two such results are packed to int16 and multiplied
// by their sub-block scales with one vpmaddwd, so the scales cost one multiply per 128 elements.
struct WideQ4K {
  template <int R, int C>
  static void run(const DotTile& t) {
    __m512 acc[R][C];
    __m128 acc_m[R][C];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps(), acc_m[r][c] = _mm_setzero_ps();
    // After packs_epi32(dp[2p], dp[2p + 1]), 128-bit lane L holds 4 words of sub-block 4p + (L >= 2) and then 4 of
    // sub-block 4p + 2 + (L >= 2); these indices pick those sub-blocks' scales (words 0..7 of the unpacked scales).
    const __m512i scale_idx[2] = {_mm512_set_epi16(3, 3, 3, 3, 1, 1, 1, 1, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0,
                                                   0, 2, 2, 2, 2, 0, 0, 0, 0),
                                  _mm512_set_epi16(7, 7, 7, 7, 5, 5, 5, 5, 7, 7, 7, 7, 5, 5, 5, 5, 6, 6, 6, 6, 4, 4, 4,
                                                   4, 6, 6, 6, 6, 4, 4, 4, 4)};
    const __m512i nibble_shift = _mm512_set_epi64(4, 4, 4, 4, 0, 0, 0, 0);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    for (int64_t i = 0; i < t.n / kQK_K; ++i) {
      __m512i wq[R][4], sc[R][2];
      __m128i mins[R];
      float d[R], dmin[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const BlockQ4_K& x = weight_block<BlockQ4_K>(t, r, i);
        prefetch_ahead(t, &x, sizeof(BlockQ4_K));
        uint32_t utmp[4];
        unpack_k4_scales(x.scales, utmp);
        const __m256i mins_scales = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(utmp)));
        mins[r] = _mm256_extracti128_si256(mins_scales, 1);
        const __m512i scales16 = _mm512_castsi256_si512(mins_scales);
        sc[r][0] = _mm512_permutexvar_epi16(scale_idx[0], scales16);
        sc[r][1] = _mm512_permutexvar_epi16(scale_idx[1], scales16);
#pragma GCC unroll 8
        for (int j = 0; j < 4; ++j) {
          const __m512i bits = _mm512_broadcast_i64x4(load256(x.qs + 32 * j));
          wq[r][j] = _mm512_and_si512(_mm512_srlv_epi64(bits, nibble_shift), low4);
        }
        d[r] = fp16(x.d);
        dmin[r] = fp16(x.dmin);
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const BlockQ8_K& y = act_block<BlockQ8_K>(t, c, i);
        __m512i yq[4];
#pragma GCC unroll 8
        for (int j = 0; j < 4; ++j) yq[j] = _mm512_loadu_si512(y.qs + 64 * j);
        const __m256i bsums = load256(y.bsums);
        const __m128i q8s = _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          __m512i dp[4];
#pragma GCC unroll 8
          for (int j = 0; j < 4; ++j) dp[j] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wq[r][j], yq[j]);
          const __m512i sumi = _mm512_add_epi32(_mm512_madd_epi16(_mm512_packs_epi32(dp[0], dp[1]), sc[r][0]),
                                                _mm512_madd_epi16(_mm512_packs_epi32(dp[2], dp[3]), sc[r][1]));
          const __m128i prod = _mm_madd_epi16(mins[r], q8s);
          acc_m[r][c] = _mm_fmadd_ps(_mm_set1_ps(-y.d * dmin[r]), _mm_cvtepi32_ps(prod), acc_m[r][c]);
          acc[r][c] = _mm512_fmadd_ps(_mm512_set1_ps(y.d * d[r]), _mm512_cvtepi32_ps(sumi), acc[r][c]);
        }
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) t.y[c * t.ldy + r] = _mm512_reduce_add_ps(acc[r][c]) + hsum(acc_m[r][c]);
  }
};

struct LoadF32 {
  static __m512 vec(const uint8_t* row, int64_t e, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + e);
  }
};
struct LoadF16 {
  static __m512 vec(const uint8_t* row, int64_t e, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + e));
  }
};
struct LoadBF16 {
  static __m512 vec(const uint8_t* row, int64_t e, __mmask16 m) {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + e));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
};

// Float weights against f32 activations: two accumulators per output (32 elements per step), then masked 16-wide
// steps into the first.
template <class Load>
struct DotFloat {
  template <int R, int C>
  static void run(const DotTile& t) {
    __m512 acc[2][R][C];
#pragma GCC unroll 8
    for (int s = 0; s < 2; ++s)
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) acc[s][r][c] = _mm512_setzero_ps();
    auto step = [&](int64_t e, int slot, __mmask16 m) {
      __m512 wv[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) wv[r] = Load::vec(t.w + r * t.w_stride, e, m);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m512 xv = _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(t.a + c * t.a_stride) + e);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[slot][r][c] = _mm512_fmadd_ps(wv[r], xv, acc[slot][r][c]);
      }
    };
    int64_t e = 0;
    for (; e + 32 <= t.n; e += 32) {
      step(e, 0, 0xFFFF);
      step(e + 16, 1, 0xFFFF);
    }
    for (; e < t.n; e += 16) step(e, 0, t.n - e >= 16 ? __mmask16{0xFFFF} : tail_mask16(t.n - e));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) t.y[c * t.ldy + r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[0][r][c], acc[1][r][c]));
  }
};

}  // namespace

void dot_q4_0_q8_0(const DotTile& t, int rows, int cols) { detail::dispatch<WideLegacy<Legacy::kQ4_0>>(t, rows, cols); }
void dot_q4_1_q8_1(const DotTile& t, int rows, int cols) { detail::dispatch<WideLegacy<Legacy::kQ4_1>>(t, rows, cols); }
void dot_q5_0_q8_0(const DotTile& t, int rows, int cols) { detail::dispatch<WideLegacy<Legacy::kQ5_0>>(t, rows, cols); }
void dot_q5_1_q8_1(const DotTile& t, int rows, int cols) { detail::dispatch<WideLegacy<Legacy::kQ5_1>>(t, rows, cols); }
void dot_q8_0_q8_0(const DotTile& t, int rows, int cols) { detail::dispatch<WideLegacy<Legacy::kQ8_0>>(t, rows, cols); }
void dot_q4_k_q8_k(const DotTile& t, int rows, int cols) { detail::dispatch_k<WideQ4K>(t, rows, cols); }
void dot_f16_f32(const DotTile& t, int rows, int cols) { detail::dispatch<DotFloat<LoadF16>>(t, rows, cols); }
void dot_bf16_f32(const DotTile& t, int rows, int cols) { detail::dispatch<DotFloat<LoadBF16>>(t, rows, cols); }
void dot_f32_f32(const DotTile& t, int rows, int cols) { detail::dispatch<DotFloat<LoadF32>>(t, rows, cols); }

}  // namespace strata::cpu::avx512
