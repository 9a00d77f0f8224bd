// AVX2 + FMA + F16C kernels (compiled with those flags only; see kernels/CMakeLists.txt). Haswell-era baseline: no
// VNNI, so u8 x s8 dots go through maddubs + madd and signed weights use the sign trick.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/quant/block_formats.h"
#include "kernels/cpu/dot_tile_dispatch.h"
#include "kernels/cpu/isa_kernels.h"
#include "kernels/cpu/legacy_format.h"

namespace strata::cpu::avx2 {

// Per-ISA copies of the shared helpers and 256-bit kernels (see x86_simd.h for why they are not shared).
#include "kernels/cpu/x86_simd.h"
// The kernels use the helpers above: keep this order.
#include "kernels/cpu/kernels_x86_dot.h"

namespace {

struct LoadF32 {
  static __m256 vec(const uint8_t* row, int64_t e) { return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + e); }
  static float one(const uint8_t* row, int64_t e) { return reinterpret_cast<const float*>(row)[e]; }
};
struct LoadF16 {
  static __m256 vec(const uint8_t* row, int64_t e) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * e)));
  }
  static float one(const uint8_t* row, int64_t e) { return x86::fp16(reinterpret_cast<const uint16_t*>(row)[e]); }
};
struct LoadBF16 {
  static __m256 vec(const uint8_t* row, int64_t e) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * e)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float one(const uint8_t* row, int64_t e) { return x86::bf16(reinterpret_cast<const uint16_t*>(row)[e]); }
};

// Float weights against f32 activations: two accumulators per output (16 elements per step), then 8-wide steps
// into the first, then a scalar tail after the horizontal sum.
template <class Load>
struct DotFloat {
  template <int R, int C>
  static void run(const DotTile& t) {
    __m256 acc[R][C][2];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) acc[r][c][0] = acc[r][c][1] = _mm256_setzero_ps();
    auto step = [&](int64_t e, int slot) {
      __m256 wv[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) wv[r] = Load::vec(t.w + r * t.w_stride, e);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m256 xv = _mm256_loadu_ps(reinterpret_cast<const float*>(t.a + c * t.a_stride) + e);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r][c][slot] = _mm256_fmadd_ps(wv[r], xv, acc[r][c][slot]);
      }
    };
    int64_t e = 0;
    for (; e + 16 <= t.n; e += 16) {
      step(e, 0);
      step(e + 8, 1);
    }
    for (; e + 8 <= t.n; e += 8) step(e, 0);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const auto* x = reinterpret_cast<const float*>(t.a + c * t.a_stride);
        float sum = x86::hsum(_mm256_add_ps(acc[r][c][0], acc[r][c][1]));
        for (int64_t j = e; j < t.n; ++j) sum += Load::one(t.w + r * t.w_stride, j) * x[j];
        t.y[c * t.ldy + r] = sum;
      }
    }
  }
};

// The accumulators of a 16-row group held as two halves of 8 rows, zeroed.
template <int C>
void zero_halves(__m256 acc[2][C]) {
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h)
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) acc[h][c] = _mm256_setzero_ps();
}

// The outputs of a 16-row group held as two halves of 8 rows, rows [0, rows) of it.
template <int C>
void store_halves(const DotTile& t, int rows, const __m256 acc[2][C]) {
  __m256i mask[2];
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    const int live = std::min(8, std::max(0, rows - 8 * h));
    mask[h] = _mm256_cmpgt_epi32(_mm256_set1_epi32(live), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
#pragma GCC unroll 4
  for (int c = 0; c < C; ++c) {
    float* y = t.y + c * t.ldy;
    if (t.stream_y && rows == 16 && (reinterpret_cast<uintptr_t>(y) & 63) == 0) {
      // A whole 64-byte line, non-temporal (DotTile::stream_y): the two halves fill one write-combining buffer.
      _mm256_stream_ps(y, acc[0][c]);
      _mm256_stream_ps(y + 8, acc[1][c]);
    } else {
      _mm256_maskstore_ps(y, mask[0], acc[0][c]);
      _mm256_maskstore_ps(y + 8, mask[1], acc[1][c]);
    }
  }
}

// Without VNNI a u8 x s8 dot of one register is three instructions: vpmaddubsw (int16 sums of byte pairs),
// vpmaddwd against ones (int32 sums of those) and an add. Registers whose int16 pair sums cannot overflow together
// are added in int16 instead, and one vpmaddwd widens their sum, applying a per-lane factor on the way (ones, or a
// k-quant sub-block scale). Activations are in [-127, 127], so a pair sum is at most 2 * 127 * kMaxU (kMaxU: the
// largest unsigned weight byte) and kI16Terms<kMaxU> of them fit in int16: 8 for 4-bit quants, 4 for 5-bit, 2 for
// 6-bit; only 1 for the sign trick's |q8| (Q8_0 keeps dot_s8s8). The integers are those of dot_u8s8 register by
// register, so the outputs keep their bits.
template <int kMaxU>
inline constexpr int kI16Terms = 32767 / (2 * 127 * kMaxU);

// sum_k factor * (u[k] . y[4k..4k + 3]) over k < N as int32 lanes; factor: int16 pairs, each lane (f, f) with
// |f| <= 128 (pair16), so a widened int16 sum times f stays far inside int32.
template <int N, int kMaxU>
[[gnu::always_inline]] inline __m256i dot_groups(const __m256i* u, const int8_t* y, __m256i factor) {
  constexpr int kTerms = std::min(N, kI16Terms<kMaxU>);
  static_assert(kTerms >= 1 && N % kTerms == 0);
  __m256i total = _mm256_setzero_si256();
#pragma GCC unroll 8
  for (int k0 = 0; k0 < N; k0 += kTerms) {
    __m256i sum16 = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int k = k0; k < k0 + kTerms; ++k) {
      int32_t g;
      std::memcpy(&g, y + 4 * k, 4);
      const __m256i pairs = _mm256_maddubs_epi16(u[k], _mm256_set1_epi32(g));
      sum16 = k == k0 ? pairs : _mm256_add_epi16(sum16, pairs);
    }
    const __m256i widened = _mm256_madd_epi16(sum16, factor);
    total = k0 == 0 ? widened : _mm256_add_epi32(total, widened);
  }
  return total;
}

// An int32 lane value in int16 range as the pair (v, v) that dot_groups' vpmaddwd takes.
inline __m256i pair16(__m256i v) {
  return _mm256_shuffle_epi8(v, _mm256_setr_epi8(0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13, 0, 1, 0, 1, 4, 5,
                                                 4, 5, 8, 9, 8, 9, 12, 13, 12, 13));
}

// The 32-block formats on the packed row-lane layout (row_lane_pack.h), 8 rows per register: each 64-byte register of
// the layout is read as two halves, rows 0-7 and 8-15, so one stream of ready-to-use registers replaces the per-row
// block loads and nibble shuffles of DotLegacy. Per block and output lane, exactly in int32:
//   Q4_0 / Q5_0: s = q . y - zero * sum(y)   (q unsigned: the nibble, plus 16 for Q5_0's fifth bit; zero 8 / 16)
//   Q4_1 / Q5_1: s = q . y, and the block's min enters as acc += m * s_y (the partner Q8_1's d * sum(y))
//   Q8_0:        s = q . y                   (the sign trick; activations are in [-127, 127])
// then acc = fma(float(s), d * dy, acc). Every column goes through the same operations, so a row's outputs have the
// same bits in GEMV and GEMM tiles.
template <Legacy kFormat>
struct LanePacked8 {
  static constexpr bool kQ8 = LegacyFormat<kFormat>::kQ8;
  static constexpr bool kFive = LegacyFormat<kFormat>::kFive;
  static constexpr bool kHasMin = LegacyFormat<kFormat>::kHasMin;
  static constexpr int kZero = kFormat == Legacy::kQ4_0 ? 8 : (kFormat == Legacy::kQ5_0 ? 16 : 0);
  static constexpr int kMaxQuant = kFive ? 31 : 15;  // of the unsigned Q4 / Q5 weights (dot_groups)
  using Block = typename LegacyFormat<kFormat>::Block;
  using Partner = typename LegacyFormat<kFormat>::Partner;
  static constexpr int64_t kBlockBytes = sizeof(Block);
  static constexpr int64_t kQhOffset = kHasMin ? 64 : 32;  // after d (and m)
  static constexpr int64_t kQsOffset = kQhOffset + (kFive ? 64 : 0);

  static constexpr int64_t kBlockElements = 32;

  // Adds block i of the packed group at w (t.w, or one stream's) to acc (see run_packed8); the activations are t's,
  // shared by the streams.
  template <int C>
  [[gnu::always_inline]] static void block(const DotTile& t, const uint8_t* w, int64_t i, __m256 acc[2][C]) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), flip = _mm256_set1_epi8(static_cast<char>(0x80));
    const __m256i ones16 = _mm256_set1_epi16(1);
    const uint8_t* p = w + i * 16 * kBlockBytes;
    detail::prefetch_ahead(t, p, 16 * kBlockBytes);
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * h)));
      __m256 mx = dx;
      if constexpr (kHasMin) mx = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 32 + 16 * h)));
      __m256i w[8];  // w[k]: elements 4k..4k + 3 of each of the 8 rows
      if constexpr (kQ8) {
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) w[k] = _mm256_xor_si256(x86::load256(p + kQsOffset + 64 * k + 32 * h), flip);
      } else {
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
          const __m256i q = x86::load256(p + kQsOffset + 64 * k + 32 * h);
          w[k] = _mm256_and_si256(q, low4);
          w[k + 4] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
        }
      }
      if constexpr (kFive) {
        // Element e's fifth bit is bit e of the row's qh word: byte e / 8 of the word, copied to the lane's 4
        // bytes, and byte b of register 2 (e / 8) + (e / 4) % 2 tests its own bit.
        const __m256i qh = x86::load256(p + kQhOffset + 32 * h);
#pragma GCC unroll 4
        for (int byte = 0; byte < 4; ++byte) {
          const __m256i spread = _mm256_shuffle_epi8(
              qh, _mm256_setr_epi32(byte * 0x01010101, (4 + byte) * 0x01010101, (8 + byte) * 0x01010101,
                                    (12 + byte) * 0x01010101, byte * 0x01010101, (4 + byte) * 0x01010101,
                                    (8 + byte) * 0x01010101, (12 + byte) * 0x01010101));
#pragma GCC unroll 2
          for (int nib = 0; nib < 2; ++nib) {
            const __m256i bit = _mm256_set1_epi32(0x08040201 << (4 * nib));
            const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
            w[2 * byte + nib] = _mm256_or_si256(w[2 * byte + nib], _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
          }
        }
      }
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        const uint8_t* yq = t.a + c * t.a_stride + i * static_cast<int64_t>(sizeof(Partner)) + offsetof(Partner, qs);
        __m256i s = _mm256_set1_epi32(kZero == 0 ? 0 : -kZero * t.a_sum[c * t.a_sums_stride + i]);
        if constexpr (kQ8) {
#pragma GCC unroll 8
          for (int k = 0; k < 8; ++k) {
            int32_t g;
            std::memcpy(&g, yq + 4 * k, 4);
            s = x86::dot_s8s8(s, w[k], _mm256_set1_epi32(g));
          }
        } else {
          s = _mm256_add_epi32(s, dot_groups<8, kMaxQuant>(w, reinterpret_cast<const int8_t*>(yq), ones16));
        }
        const __m256 dy = _mm256_set1_ps(t.a_d[c * t.a_sums_stride + i]);
        acc[h][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dx, dy), acc[h][c]);
        if constexpr (kHasMin) {
          acc[h][c] = _mm256_fmadd_ps(mx, _mm256_set1_ps(t.a_s[c * t.a_sums_stride + i]), acc[h][c]);
        }
      }
    }
  }
};

// A packed row-lane tile of kernel K (one with per-block bodies): its blocks in order for one group of 16 rows;
// S = 2 (DotTile::streams): two full groups, block i of each in turn, each output's arithmetic unchanged.
template <class K, int C, int S>
void run_packed8(const DotTile& t, int rows) {
  DotTile ts[S];
  __m256 acc[S][2][C];
#pragma GCC unroll 2
  for (int s = 0; s < S; ++s) {
    ts[s] = t;
    ts[s].w = t.w + s * t.stream_w_stride;
    ts[s].y = t.y + s * t.stream_y_stride;
    zero_halves<C>(acc[s]);
  }
  const int64_t nb = t.n / K::kBlockElements;
  for (int64_t i = 0; i < nb; ++i) {
    if constexpr (requires { K::kInterleavesStreams; }) {
      K::template block_streams<C, S>(ts, i, acc);
    } else {
#pragma GCC unroll 2
      for (int s = 0; s < S; ++s) K::template block<C>(t, ts[s].w, i, acc[s]);
    }
  }
#pragma GCC unroll 2
  for (int s = 0; s < S; ++s) store_halves<C>(ts[s], rows, acc[s]);
}

// For every column c of a k-quant row-lane tile: sumi[c] += sc_a * (a . y) + sc_b * (b . y'), where a and b are N
// registers of 4 quants per lane (each at most kMaxU), y the activations of super-block i from `element` on and y'
// those from element + gap; sc_a and sc_b int32 lanes in [-128, 128].
template <int C, int N, int kMaxU>
inline void accumulate_scaled(const DotTile& t, int64_t i, int element, int gap, const __m256i* a, const __m256i* b,
                              __m256i sc_a, __m256i sc_b, __m256i sumi[C]) {
  const __m256i fa = pair16(sc_a), fb = pair16(sc_b);
#pragma GCC unroll 4
  for (int c = 0; c < C; ++c) {
    const int8_t* yq = detail::act_block<BlockQ8_K>(t, c, i).qs + element;
    const __m256i sa = dot_groups<N, kMaxU>(a, yq, fa), sb = dot_groups<N, kMaxU>(b, yq + gap, fb);
    sumi[c] = _mm256_add_epi32(sumi[c], _mm256_add_epi32(sa, sb));
  }
}

// sum_g x[g] * bsum[g] over the 16 groups of 16 of one activation super-block, x as int16 pairs: x_pairs[p] holds
// groups 4 (p / 2) + p % 2 and that + 2, the order of activation_sums' bsum pairs (`pairs`, 8 of them).
inline __m256i dot_bsums16(const __m256i x_pairs[8], const int32_t* pairs) {
  __m256i sum = _mm256_setzero_si256();
#pragma GCC unroll 8
  for (int p = 0; p < 8; ++p) sum = _mm256_add_epi32(sum, _mm256_madd_epi16(x_pairs[p], _mm256_set1_epi32(pairs[p])));
  return sum;
}

// Q4_K and Q5_K (kFive) on the packed row-lane layout (row_lane_pack.h), 8 rows per register half, as the AVX-512
// LaneQ45K does for 16 (Q5_K: each quant's fifth bit from the transposed qh, bits 2j and 2j + 1 for quarter j): per
// super-block and output lane, exactly in int32,
//   sumi = sum_j sc[j] * (q . y over sub-block j),  summ = sum_j m[j] * (sum of y over sub-block j)
// then acc = fma(float(sumi), d * yd, acc) and acc = fnmadd(float(summ), dmin * yd, acc). The scales and mins of 8
// rows are unpacked from the transposed packed words lane by lane; the mins dot takes int16 pairs in one vpmaddwd.
// The high nibbles are shifted down (in place they would overflow vpmaddubsw's int16 pairs).
template <bool kFive>
struct LanePackedQ45K8 {
  static constexpr int64_t kBlockBytes = kFive ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  static constexpr int64_t kQsOffset = kFive ? 768 : 256;  // after the header (and Q5_K's 8 qh registers)

  static constexpr int64_t kBlockElements = kQK_K;
  static constexpr bool kInterleavesStreams = true;

  // Adds super-block i of each stream's packed group to its acc (see run_packed8). With two streams they take turns
  // quarter by quarter (512 bytes each), as on AVX-512.
  template <int C, int S>
  [[gnu::always_inline]] static void block_streams(const DotTile* ts, int64_t i, __m256 (*acc)[2][C]) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), byte_pairs = _mm256_set1_epi32(0x00FF00FF);
    const __m256i mask1 = _mm256_set1_epi32(0x3f3f3f3f), mask2 = _mm256_set1_epi32(0x0f0f0f0f),
                  mask3 = _mm256_set1_epi32(0x03030303), low8 = _mm256_set1_epi32(0xFF);
#pragma GCC unroll 1
    for (int h = 0; h < 2; ++h) {
      // Scales 0..3 and 4..7 as bytes of 32-bit lanes (unpack_k4_scales lane by lane); the mins come at the end.
      __m256i sc[S][2], sumi[S][C];
#pragma GCC unroll 2
      for (int s = 0; s < S; ++s) {
        const uint8_t* p = ts[s].w + i * 16 * kBlockBytes;
        if (h == 0) detail::prefetch_ahead(ts[s], p, kQsOffset);
        const __m256i pw0 = x86::load256(p + 64 + 32 * h), pw2 = x86::load256(p + 192 + 32 * h);
        sc[s][0] = _mm256_and_si256(pw0, mask1);
        sc[s][1] = _mm256_or_si256(_mm256_and_si256(pw2, mask2),
                                   _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(pw0, 6), mask3), 4));
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) sumi[s][c] = _mm256_setzero_si256();
      }
#pragma GCC unroll 1
      for (int j = 0; j < 4; ++j) {
#pragma GCC unroll 2
        for (int s = 0; s < S; ++s) {
          const uint8_t* p = ts[s].w + i * 16 * kBlockBytes;
          const uint8_t* quarter = p + kQsOffset + 512 * j;
          if (h == 0) detail::prefetch_ahead(ts[s], quarter, 512);
          __m256i lo[8], hi[8];
#pragma GCC unroll 8
          for (int k = 0; k < 8; ++k) {
            const __m256i q = x86::load256(quarter + 64 * k + 32 * h);
            lo[k] = _mm256_and_si256(q, low4);
            hi[k] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            if constexpr (kFive) {
              // Bits 2j and 2j + 1 of each qh byte to bit 4: the fifth bit of the low and the high nibble.
              const __m256i bits = _mm256_srl_epi16(x86::load256(p + 256 + 64 * k + 32 * h), _mm_cvtsi32_si128(2 * j));
              const __m256i bit4 = _mm256_set1_epi8(0x10);
              lo[k] = _mm256_or_si256(lo[k], _mm256_and_si256(_mm256_slli_epi16(bits, 4), bit4));
              hi[k] = _mm256_or_si256(hi[k], _mm256_and_si256(_mm256_slli_epi16(bits, 3), bit4));
            }
          }
          const __m256i sc_a = _mm256_and_si256(_mm256_srli_epi32(sc[s][j / 2], 16 * (j % 2)), low8);
          const __m256i sc_b = _mm256_and_si256(_mm256_srli_epi32(sc[s][j / 2], 16 * (j % 2) + 8), low8);
          accumulate_scaled<C, 8, kFive ? 31 : 15>(ts[s], i, 64 * j, 32, lo, hi, sc_a, sc_b, sumi[s]);
        }
      }
#pragma GCC unroll 2
      for (int s = 0; s < S; ++s) {
        const DotTile& t = ts[s];
        const uint8_t* p = t.w + i * 16 * kBlockBytes;
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * h)));
        const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 32 + 16 * h)));
        const __m256i pw1 = x86::load256(p + 128 + 32 * h), pw2 = x86::load256(p + 192 + 32 * h);
        const __m256i mn_lo = _mm256_and_si256(pw1, mask1);
        const __m256i mn_hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(pw2, 4), mask2),
                                              _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(pw1, 6), mask3), 4));
        // Mins as int16 pairs: (m0, m2), (m1, m3), (m4, m6), (m5, m7), as activation_sums pairs the sub-block sums.
        const __m256i mins[4] = {
            _mm256_and_si256(mn_lo, byte_pairs), _mm256_and_si256(_mm256_srli_epi32(mn_lo, 8), byte_pairs),
            _mm256_and_si256(mn_hi, byte_pairs), _mm256_and_si256(_mm256_srli_epi32(mn_hi, 8), byte_pairs)};
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
          const int32_t* pairs = t.a_sum + c * t.a_sums_stride + 12 * i;
          __m256i summ = _mm256_setzero_si256();
#pragma GCC unroll 4
          for (int q = 0; q < 4; ++q)
            summ = _mm256_add_epi32(summ, _mm256_madd_epi16(mins[q], _mm256_set1_epi32(pairs[q])));
          const __m256 yd = _mm256_set1_ps(detail::act_block<BlockQ8_K>(t, c, i).d);
          acc[s][h][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[s][c]), _mm256_mul_ps(d, yd), acc[s][h][c]);
          acc[s][h][c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(summ), _mm256_mul_ps(dmin, yd), acc[s][h][c]);
        }
      }
    }
  }
};

// Q6_K on the packed row-lane layout (row_lane_pack.h), 8 rows per register half, as the AVX-512 LaneQ6K does for
// 16: per super-block and output lane, exactly in int32,
//   sumi = sum_g sc[g] * (q . y over group g) - 32 * sum_g sc[g] * bsum[g]   (g: the 16 groups of 16, q in 0..63)
// then acc = fma(float(sumi), d * yd, acc). Each quarter's 8 registers of 6-bit quants are decoded from the 6 stored.
struct LanePackedQ6K8 {
  static constexpr int64_t kBlockBytes = sizeof(BlockQ6_K);

  // Bits (w3's 2i, 2i + 1 in the top of b_i) -> the 8 registers of 6-bit values (LaneQ6K::decode_quarter).
  static void decode_quarter(const uint8_t* quarter, int h, __m256i w[8]) {
    const __m256i six = _mm256_set1_epi8(0x3F), m03 = _mm256_set1_epi8(0x03), m30 = _mm256_set1_epi8(0x30);
#pragma GCC unroll 2
    for (int g = 0; g < 2; ++g) {
      __m256i b[3];
#pragma GCC unroll 3
      for (int i = 0; i < 3; ++i) {
        b[i] = x86::load256(quarter + 64 * (3 * g + i) + 32 * h);
        w[4 * g + i] = _mm256_and_si256(b[i], six);
      }
      const __m256i t0 = _mm256_srli_epi16(b[0], 6), t1 = _mm256_srli_epi16(b[1], 4), t2 = _mm256_srli_epi16(b[2], 2);
      const __m256i u = _mm256_or_si256(_mm256_and_si256(t0, m03), _mm256_andnot_si256(m03, t1));
      const __m256i v = _mm256_or_si256(_mm256_and_si256(t2, m30), _mm256_andnot_si256(m30, u));
      w[4 * g + 3] = _mm256_and_si256(v, six);
    }
  }
  // Group g's int8 scale in every lane, as int32, from the transposed scale register g / 4.
  static __m256i lane_scale(__m256i sc_reg, int g) {
    return _mm256_srai_epi32(_mm256_slli_epi32(sc_reg, 24 - 8 * (g % 4)), 24);
  }

  static constexpr int64_t kBlockElements = kQK_K;
  static constexpr bool kInterleavesStreams = true;

  // Adds super-block i of each stream's packed group to its acc (see run_packed8). With two streams they take turns
  // quarter by quarter (384 bytes each), as on AVX-512.
  template <int C, int S>
  [[gnu::always_inline]] static void block_streams(const DotTile* ts, int64_t i, __m256 (*acc)[2][C]) {
#pragma GCC unroll 1
    for (int hr = 0; hr < 2; ++hr) {  // rows 8 hr..8 hr + 7
      __m256i sumi[S][C];
#pragma GCC unroll 2
      for (int s = 0; s < S; ++s) {
        if (hr == 0) detail::prefetch_ahead(ts[s], ts[s].w + i * 16 * kBlockBytes, 288);
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) sumi[s][c] = _mm256_setzero_si256();
      }
#pragma GCC unroll 1
      for (int hs = 0; hs < 8; ++hs) {  // half hs / 4 of the super-block, quarter hs % 4
#pragma GCC unroll 2
        for (int s = 0; s < S; ++s) {
          const uint8_t* p = ts[s].w + i * 16 * kBlockBytes;
          const uint8_t* quarter = p + 288 + 384 * hs;
          if (hr == 0) detail::prefetch_ahead(ts[s], quarter, 384);
          __m256i w[8];
          decode_quarter(quarter, hr, w);
          // This quarter's two group scales, from the header's scale register hs / 2 (an L1 hit: 4 registers per
          // stream would not stay in the 16 ymm registers anyway).
          const __m256i sc = x86::load256(p + 32 + 64 * (hs / 2) + 32 * hr);
          const __m256i sc_a = lane_scale(sc, 2 * hs), sc_b = lane_scale(sc, 2 * hs + 1);
          accumulate_scaled<C, 4, 63>(ts[s], i, 32 * hs, 16, w, w + 4, sc_a, sc_b, sumi[s]);
        }
      }
#pragma GCC unroll 2
      for (int s = 0; s < S; ++s) {
        const DotTile& t = ts[s];
        const uint8_t* p = t.w + i * 16 * kBlockBytes;
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * hr)));
        __m256i sc_pairs[8];
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q) {
          const __m256i sc = x86::load256(p + 32 + 64 * q + 32 * hr);
          // Scales as int16 pairs (sc[4q], sc[4q + 2]) and (sc[4q + 1], sc[4q + 3]) for the offset's vpmaddwd.
          sc_pairs[2 * q] = _mm256_srai_epi16(_mm256_slli_epi16(sc, 8), 8);
          sc_pairs[2 * q + 1] = _mm256_srai_epi16(sc, 8);
        }
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
          const __m256i offset = dot_bsums16(sc_pairs, t.a_sum + c * t.a_sums_stride + 12 * i + 4);
          const __m256i sum = _mm256_sub_epi32(sumi[s][c], _mm256_slli_epi32(offset, 5));
          const __m256 yd = _mm256_set1_ps(detail::act_block<BlockQ8_K>(t, c, i).d);
          acc[s][hr][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_mul_ps(d, yd), acc[s][hr][c]);
        }
      }
    }
  }
};

// Q2_K and Q3_K (kThree) on the packed row-lane layout (row_lane_pack.h), 8 rows per register half, as the AVX-512
// LaneQ23K does for 16 (see there for the integer formulas).
template <bool kThree>
struct LanePackedQ23K8 {
  static constexpr int64_t kBlockBytes = kThree ? sizeof(BlockQ3_K) : sizeof(BlockQ2_K);
  static constexpr int64_t kScaleOffset = kThree ? 32 : 64;
  static constexpr int64_t kQsOffset = kThree ? 736 : 320;

  template <int C>
  static void run(const DotTile& t, int rows) {
    const __m256i three = _mm256_set1_epi8(3), low4 = _mm256_set1_epi8(0x0F), bit2 = _mm256_set1_epi8(4);
    const __m256i byte_pairs = _mm256_set1_epi32(0x00FF00FF);
    __m256 acc[2][C];
    zero_halves<C>(acc);
    for (int64_t i = 0; i < t.n / kQK_K; ++i) {
      const uint8_t* p = t.w + i * 16 * kBlockBytes;
#pragma GCC unroll 1
      for (int hr = 0; hr < 2; ++hr) {  // rows 8 hr..8 hr + 7
        if (hr == 0) detail::prefetch_ahead(t, p, kQsOffset);
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * hr)));
        // Per group as bytes (register q: groups 4q..4q + 3): Q2_K scale | min << 4, Q3_K the 6-bit scale.
        __m256i sc[4], pairs[8];
        if constexpr (kThree) {
          __m256i pw[3];
#pragma GCC unroll 3
          for (int q = 0; q < 3; ++q) pw[q] = x86::load256(p + kScaleOffset + 64 * q + 32 * hr);
          const __m256i m1 = _mm256_set1_epi32(0x03030303), m2 = _mm256_set1_epi32(0x0f0f0f0f);
          const __m256i lo_nib[4] = {pw[0], pw[1], _mm256_srli_epi32(pw[0], 4), _mm256_srli_epi32(pw[1], 4)};
#pragma GCC unroll 4
          for (int q = 0; q < 4; ++q) {
            sc[q] = _mm256_or_si256(_mm256_and_si256(lo_nib[q], m2),
                                    _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(pw[2], 2 * q), m1), 4));
          }
        } else {
#pragma GCC unroll 4
          for (int q = 0; q < 4; ++q) sc[q] = x86::load256(p + kScaleOffset + 64 * q + 32 * hr);
        }
        // Int16 pairs (groups 4q, 4q + 2) and (4q + 1, 4q + 3), as activation_sums pairs the bsums: Q2_K the mins,
        // Q3_K the scales minus 32.
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q) {
          const __m256i x = kThree ? sc[q] : _mm256_and_si256(_mm256_srli_epi32(sc[q], 4), low4);
          pairs[2 * q] = _mm256_and_si256(x, byte_pairs);
          pairs[2 * q + 1] = _mm256_and_si256(_mm256_srli_epi32(x, 8), byte_pairs);
          if constexpr (kThree) {
            pairs[2 * q] = _mm256_sub_epi16(pairs[2 * q], _mm256_set1_epi16(32));
            pairs[2 * q + 1] = _mm256_sub_epi16(pairs[2 * q + 1], _mm256_set1_epi16(32));
          }
        }
        auto lane_scale = [&](int g) {
          const __m256i byte = _mm256_srli_epi32(sc[g / 4], 8 * (g % 4));
          return kThree ? _mm256_sub_epi32(_mm256_and_si256(byte, _mm256_set1_epi32(0xFF)), _mm256_set1_epi32(32))
                        : _mm256_and_si256(byte, _mm256_set1_epi32(0x0F));
        };
        __m256i sumi[C];
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) sumi[c] = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          if (hr == 0) detail::prefetch_ahead(t, p + kQsOffset + 512 * h, 512);
          __m256i q[8];
#pragma GCC unroll 8
          for (int k = 0; k < 8; ++k) q[k] = x86::load256(p + kQsOffset + 512 * h + 64 * k + 32 * hr);
#pragma GCC unroll 4
          for (int s = 0; s < 4; ++s) {
            __m256i w[8];
#pragma GCC unroll 8
            for (int k = 0; k < 8; ++k) {
              w[k] = _mm256_and_si256(_mm256_srli_epi16(q[k], 2 * s), three);
              if constexpr (kThree) {
                // The high bit (bit 4h + s of each hmask byte) moved to bit 2, inside its byte.
                const __m256i hm = x86::load256(p + 224 + 64 * k + 32 * hr);
                const int up = 2 - (4 * h + s);
                const __m256i high = up >= 0 ? _mm256_slli_epi16(hm, up) : _mm256_srli_epi16(hm, -up);
                w[k] = _mm256_or_si256(w[k], _mm256_and_si256(high, bit2));
              }
            }
            accumulate_scaled<C, 4, kThree ? 7 : 3>(t, i, 128 * h + 32 * s, 16, w, w + 4, lane_scale(8 * h + 2 * s),
                                                    lane_scale(8 * h + 2 * s + 1), sumi);
          }
        }
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
          const __m256i bsum_dot = dot_bsums16(pairs, t.a_sum + c * t.a_sums_stride + 12 * i + 4);
          const __m256 yd = _mm256_set1_ps(detail::act_block<BlockQ8_K>(t, c, i).d);
          if constexpr (kThree) {
            const __m256i s = _mm256_sub_epi32(sumi[c], _mm256_slli_epi32(bsum_dot, 2));
            acc[hr][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(d, yd), acc[hr][c]);
          } else {
            const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 32 + 16 * hr)));
            acc[hr][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[c]), _mm256_mul_ps(d, yd), acc[hr][c]);
            acc[hr][c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(bsum_dot), _mm256_mul_ps(dmin, yd), acc[hr][c]);
          }
        }
      }
    }
    store_halves<C>(t, rows, acc);
  }
};

template <class K, int S>
void dispatch_packed8_cols(const DotTile& t, int rows, int cols) {
  static_assert(kPackedTileCols == 4);
  switch (cols) {
    case 1:
      return run_packed8<K, 1, S>(t, rows);
    case 2:
      return run_packed8<K, 2, S>(t, rows);
    case 3:
      return run_packed8<K, 3, S>(t, rows);
    default:
      return run_packed8<K, 4, S>(t, rows);
  }
}

template <class K>
void dispatch_packed8(const DotTile& t, int rows, int cols) {
  if constexpr (requires { K::kBlockElements; }) {
    t.streams == 2 ? dispatch_packed8_cols<K, 2>(t, rows, cols) : dispatch_packed8_cols<K, 1>(t, rows, cols);
  } else {
    static_assert(kPackedTileCols == 4);
    switch (cols) {
      case 1:
        return K::template run<1>(t, rows);
      case 2:
        return K::template run<2>(t, rows);
      case 3:
        return K::template run<3>(t, rows);
      default:
        return K::template run<4>(t, rows);
    }
  }
}
}  // namespace

void dot_f16_f32(const DotTile& t, int rows, int cols) { detail::dispatch<DotFloat<LoadF16>>(t, rows, cols); }
void dot_bf16_f32(const DotTile& t, int rows, int cols) { detail::dispatch<DotFloat<LoadBF16>>(t, rows, cols); }
void dot_f32_f32(const DotTile& t, int rows, int cols) { detail::dispatch<DotFloat<LoadF32>>(t, rows, cols); }

#define STRATA_AVX2_PACKED_LEGACY(name, format)                    \
  void dot_##name##_packed(const DotTile& t, int rows, int cols) { \
    dispatch_packed8<LanePacked8<Legacy::format>>(t, rows, cols);  \
  }
STRATA_AVX2_PACKED_LEGACY(q4_0_q8_0, kQ4_0)
STRATA_AVX2_PACKED_LEGACY(q4_1_q8_1, kQ4_1)
STRATA_AVX2_PACKED_LEGACY(q5_0_q8_0, kQ5_0)
STRATA_AVX2_PACKED_LEGACY(q5_1_q8_1, kQ5_1)
STRATA_AVX2_PACKED_LEGACY(q8_0_q8_0, kQ8_0)
#undef STRATA_AVX2_PACKED_LEGACY
void dot_q2_k_q8_k_packed(const DotTile& t, int rows, int cols) {
  dispatch_packed8<LanePackedQ23K8<false>>(t, rows, cols);
}
void dot_q3_k_q8_k_packed(const DotTile& t, int rows, int cols) {
  dispatch_packed8<LanePackedQ23K8<true>>(t, rows, cols);
}
void dot_q4_k_q8_k_packed(const DotTile& t, int rows, int cols) {
  dispatch_packed8<LanePackedQ45K8<false>>(t, rows, cols);
}
void dot_q5_k_q8_k_packed(const DotTile& t, int rows, int cols) {
  dispatch_packed8<LanePackedQ45K8<true>>(t, rows, cols);
}
void dot_q6_k_q8_k_packed(const DotTile& t, int rows, int cols) { dispatch_packed8<LanePackedQ6K8>(t, rows, cols); }

}  // namespace strata::cpu::avx2
