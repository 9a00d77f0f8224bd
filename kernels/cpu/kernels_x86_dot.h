// 256-bit dot tiles and activation quantization, compiled twice: into strata::cpu::avx2 (AVX2 + FMA + F16C) by
// kernels_avx2.cc and into strata::cpu::avx512 by kernels_avx512.cc, where the u8 x s8 dots become VNNI
// instructions (x86_simd.h) and the 512-bit tiles of that file replace the hottest ones (the STRATA_X86_HAVE_WIDE_*
// guards; the 256-bit versions of those then only serve AVX2).
//
// Include only from those two files, inside their namespace, after x86_simd.h (same reason as there). Each tile
// computes exactly the integer sums of kernels_scalar.cc; only float summation order differs from it. Within a tile,
// the float steps of one output never depend on R, C or the other outputs (see isa_kernels.h).
//
// Why 256-bit here: GEMV is bound by memory bandwidth, not by vector width; every block format's natural unit is
// 32 elements (one ymm of bytes), so these need no cross-block shuffles.

namespace detail {

using namespace x86;

// Symmetric 8-bit quantization of 32 floats, matching scalar::quantize_i8: d = amax / 127, q = nearest-even(x / d).
// Returns d; writes q. 32 ^ 0 is fine: the max-abs folds the 4 vectors first.
inline float quantize_32(const float* x, int8_t* q, float* amax_out = nullptr) {
  __m256 v[4];
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  __m256 amax = _mm256_setzero_ps();
#pragma GCC unroll 8
  for (int j = 0; j < 4; ++j) {
    v[j] = _mm256_loadu_ps(x + 8 * j);
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_bit, v[j]));
  }
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  const float max_abs = _mm_cvtss_f32(m);
  if (amax_out) *amax_out = max_abs;
  const float d = max_abs / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const __m256 mul = _mm256_set1_ps(id);
  __m256i i32[4];
#pragma GCC unroll 8
  for (int j = 0; j < 4; ++j) i32[j] = _mm256_cvtps_epi32(_mm256_mul_ps(v[j], mul));  // nearest-even (MXCSR)
  // Pack 32-bit -> 8-bit; the packs work per 128-bit lane, so fix the order with one permute.
  const __m256i i16a = _mm256_packs_epi32(i32[0], i32[1]);
  const __m256i i16b = _mm256_packs_epi32(i32[2], i32[3]);
  const __m256i i8 = _mm256_packs_epi16(i16a, i16b);
  const __m256i ordered = _mm256_permutevar8x32_epi32(i8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), ordered);
  return d;
}

// Quantizes 32 floats with a given inverse scale (Q8_K: one scale for 256 elements).
inline __m256i quantize_32_with(const float* x, __m256 mul) {
  __m256i i32[4];
#pragma GCC unroll 8
  for (int j = 0; j < 4; ++j) i32[j] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * j), mul));
  const __m256i i8 = _mm256_packs_epi16(_mm256_packs_epi32(i32[0], i32[1]), _mm256_packs_epi32(i32[2], i32[3]));
  return _mm256_permutevar8x32_epi32(i8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

inline int sum_i8_32(__m256i q) {
  const __m256i s16 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
  const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(s16), _mm256_extracti128_si256(s16, 1));
  const __m128i s2 = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  return _mm_cvtsi128_si32(_mm_add_epi32(s2, _mm_shuffle_epi32(s2, 1)));
}

// Q3_K scale j (see core/quant/k_scales.h), kept local to this unit for the reason in x86_simd.h.
inline int q3_k_scale(int j, const uint8_t* q) {
  const int low = j < 8 ? (q[j] & 0xF) : (q[j - 8] >> 4);
  const int high = (q[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | (high << 4)) - 32;
}

// Q4_K / Q5_K packed 6-bit scales and mins -> bytes: [0..7] scales, [8..15] mins.
inline void unpack_k4_scales(const uint8_t* packed, uint32_t out[4]) {
  constexpr uint32_t kMask1 = 0x3f3f3f3f, kMask2 = 0x0f0f0f0f, kMask3 = 0x03030303;
  std::memcpy(out, packed, 12);
  out[3] = ((out[2] >> 4) & kMask2) | (((out[1] >> 6) & kMask3) << 4);
  const uint32_t mins_lo = out[1] & kMask1;
  out[1] = (out[2] & kMask2) | (((out[0] >> 6) & kMask3) << 4);
  out[2] = mins_lo;
  out[0] &= kMask1;
}

}  // namespace detail

void quantize_row_q8_0(const float* x, void* y, int64_t k) {
  auto* b = static_cast<BlockQ8_0*>(y);
  for (int64_t i = 0; i < k / kQK8_0; ++i) b[i].d = x86::to_fp16(detail::quantize_32(x + 32 * i, b[i].qs));
}

void quantize_row_q8_1(const float* x, void* y, int64_t k) {
  auto* b = static_cast<BlockQ8_1*>(y);
  for (int64_t i = 0; i < k / kQK8_1; ++i) {
    const float d = detail::quantize_32(x + 32 * i, b[i].qs);
    b[i].d = x86::to_fp16(d);
    b[i].s = x86::to_fp16(d * detail::sum_i8_32(detail::load256(b[i].qs)));
  }
}

void quantize_row_q8_k(const float* x, void* y, int64_t k) {
  auto* b = static_cast<BlockQ8_K*>(y);
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    const float* xb = x + kQK_K * i;
    __m256 amax = _mm256_setzero_ps();
    for (int j = 0; j < kQK_K; j += 8) {
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_loadu_ps(xb + j)));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float d = _mm_cvtss_f32(m) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = d;
    for (int j = 0; j < kQK_K / 32; ++j) {
      const __m256i q = detail::quantize_32_with(xb + 32 * j, _mm256_set1_ps(id));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs + 32 * j), q);
      // Per-16 sums: widen to i16 pairs, then add pairs of pairs down to 8 per 128-bit lane.
      const __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);  // 16 sums of 2
      const __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));  // 8 sums of 4: lanes 0-3 group 2j
      const __m128i lo = _mm256_castsi256_si128(s32), hi = _mm256_extracti128_si256(s32, 1);
      const __m128i h = _mm_hadd_epi32(lo, hi);  // [lo0+lo1, lo2+lo3, hi0+hi1, hi2+hi3]
      const __m128i g = _mm_hadd_epi32(h, h);    // [group 2j, group 2j+1, ...]
      b[i].bsums[2 * j] = static_cast<int16_t>(_mm_cvtsi128_si32(g));
      b[i].bsums[2 * j + 1] = static_cast<int16_t>(_mm_extract_epi32(g, 1));
    }
  }
}

namespace detail {

// Software prefetch of the weights t.prefetch bytes ahead of `bytes` bytes at p, into L2, spread over the kernel's
// blocks: one burst per row tile would fill the core's few line-fill buffers and stall the demand loads behind it.
// With t.prefetch_l1 also a second, short-range prefetch into L1: the demand loads then hit L1 instead of waiting on
// L2, which otherwise costs a compute-heavy kernel ~12 % of the streaming bandwidth (Q4_0-like loop on Sapphire
// Rapids, 2 threads: 29.7 GB/s with the L2 prefetch alone, 34.1 with both, 34 for plain loads without compute).
// One loop for both on purpose: GCC 12 drops every prefetch of this function when it has two consecutive loops.
inline void prefetch_ahead(const DotTile& t, const void* p, int bytes) {
  if (t.prefetch == 0) return;
  const char* ahead = static_cast<const char*>(p) + t.prefetch;
  const char* ahead_l1 = static_cast<const char*>(p) + t.prefetch_l1;
  const bool l1 = t.prefetch_l1 != 0;
  for (int off = 0; off < bytes; off += 64) {
    _mm_prefetch(ahead + off, _MM_HINT_T1);
    if (l1) _mm_prefetch(ahead_l1 + off, _MM_HINT_T0);
  }
}

// prefetch_ahead with the distances known at compile time: the packed GEMV of the 32-block formats, whose loop runs
// 4 streams side by side, then computes no prefetch address at run time and tests no distance per block.
template <int64_t kAhead, int64_t kAheadL1, int kBytes>
[[gnu::always_inline]] inline void prefetch_fixed(const void* p) {
  const char* c = static_cast<const char*>(p);
#pragma GCC unroll 16
  for (int off = 0; off < kBytes; off += 64) {
    _mm_prefetch(c + kAhead + off, _MM_HINT_T1);
    _mm_prefetch(c + kAheadL1 + off, _MM_HINT_T0);
  }
}

template <typename Block>
inline const Block& weight_block(const DotTile& t, int r, int64_t i) {
  return reinterpret_cast<const Block*>(t.w + r * t.w_stride)[i];
}

template <typename Block>
inline const Block& act_block(const DotTile& t, int c, int64_t i) {
  return reinterpret_cast<const Block*>(t.a + c * t.a_stride)[i];
}

// Q4_0 / Q8_0 against Q8_0: acc[i % 2] += p * (dx * dy), two accumulators for the add latency.
template <bool kQ8>
struct DotSym8 {
  using Block = std::conditional_t<kQ8, BlockQ8_0, BlockQ4_0>;
  template <int R, int C>
  static void run(const DotTile& t) {
    const int64_t nb = t.n / 32;
    __m256 acc[2][R][C];
#pragma GCC unroll 8
    for (int s = 0; s < 2; ++s)
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) acc[s][r][c] = _mm256_setzero_ps();
    const __m256i eight = _mm256_set1_epi8(8);
    auto block = [&](int64_t i, int slot) {
      __m256i qx[R];
      float dx[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const Block& b = weight_block<Block>(t, r, i);
        prefetch_ahead(t, &b, sizeof(Block));
        if constexpr (kQ8) {
          qx[r] = load256(b.qs);
        } else {
          qx[r] = unpack_nibbles_32(b.qs);
          // Without VNNI: q - 8 as signed bytes for the sign trick.
          if constexpr (!kHasVnni) qx[r] = _mm256_sub_epi8(qx[r], eight);
        }
        dx[r] = fp16(b.d);
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const BlockQ8_0& y = act_block<BlockQ8_0>(t, c, i);
        const __m256i qy = load256(y.qs);
        const float dy = fp16(y.d);
        // (q - 8) . y = q . y - 8 * sum(y) with VNNI: two dots beat the three-op sign trick.
        __m256i ysum8 = _mm256_setzero_si256();
        if constexpr (!kQ8 && kHasVnni) ysum8 = dot_u8s8(_mm256_setzero_si256(), eight, qy);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          __m256i p;
          if constexpr (!kQ8 && kHasVnni) {
            p = _mm256_sub_epi32(dot_u8s8(_mm256_setzero_si256(), qx[r], qy), ysum8);
          } else {
            p = dot_s8s8(_mm256_setzero_si256(), qx[r], qy);
          }
          acc[slot][r][c] =
              _mm256_add_ps(acc[slot][r][c], _mm256_mul_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dx[r] * dy)));
        }
      }
    };
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
      block(i, 0);
      block(i + 1, 1);
    }
    if (i < nb) block(i, 0);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) t.y[c * t.ldy + r] = hsum(_mm256_add_ps(acc[0][r][c], acc[1][r][c]));
  }
};

// Q4_1 / Q5_1 against Q8_1: acc += p * (dx * dy), mins += m * s (the partner's fp16 d * sum(q), as ggml).
// Q5_0 against Q8_0: acc += p * (dx * dy).
template <typename Block, bool kFive, bool kHasMin>
struct DotLegacy {
  using Partner = std::conditional_t<kHasMin, BlockQ8_1, BlockQ8_0>;
  template <int R, int C>
  static void run(const DotTile& t) {
    __m256 acc[R][C];
    float mins[R][C];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps(), mins[r][c] = 0.0f;
    for (int64_t i = 0; i < t.n / 32; ++i) {
      __m256i qx[R];
      float dx[R], mx[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const Block& b = weight_block<Block>(t, r, i);
        prefetch_ahead(t, &b, sizeof(Block));
        qx[r] = unpack_nibbles_32(b.qs);
        if constexpr (kFive) {
          const __m256i bits = expand_bits_32(b.qh);
          if constexpr (kHasMin) {
            qx[r] = _mm256_or_si256(qx[r], _mm256_and_si256(bits, _mm256_set1_epi8(0x10)));
          } else {
            // q - 16 as a signed byte: the nibble with 0xF0 or'ed in where the fifth bit is clear.
            qx[r] = _mm256_or_si256(qx[r], _mm256_andnot_si256(bits, _mm256_set1_epi8(static_cast<char>(0xF0))));
          }
        }
        dx[r] = fp16(b.d);
        if constexpr (kHasMin) mx[r] = fp16(b.m);
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const Partner& y = act_block<Partner>(t, c, i);
        const __m256i qy = load256(y.qs);
        const float dy = fp16(y.d);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          __m256i p;
          if constexpr (kHasMin) {
            p = dot_u8s8(_mm256_setzero_si256(), qx[r], qy);
          } else {
            p = dot_s8s8(_mm256_setzero_si256(), qx[r], qy);
          }
          acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dx[r] * dy), acc[r][c]);
          if constexpr (kHasMin) mins[r][c] += mx[r] * fp16(y.s);
        }
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) t.y[c * t.ldy + r] = hsum(acc[r][c]) + mins[r][c];
  }
};

// Q2_K: acc += (yd * d) * sumi + (-yd * dmin) * sum(min * bsum).
struct DotQ2K {
  template <int R, int C>
  static void run(const DotTile& t) {
    __m256 acc[R][C];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    for (int64_t i = 0; i < t.n / kQK_K; ++i) {
      __m256i mins16[R], sc[R][2];
      float d[R], dmin[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const BlockQ2_K& x = weight_block<BlockQ2_K>(t, r, i);
        prefetch_ahead(t, &x, sizeof(BlockQ2_K));
        const __m128i sc_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales));
        mins16[r] = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc_bytes, 4), _mm_set1_epi8(0x0F)));
        const __m256i scales16 = _mm256_cvtepu8_epi16(_mm_and_si128(sc_bytes, _mm_set1_epi8(0x0F)));
        sc[r][0] = _mm256_permute2x128_si256(scales16, scales16, 0x00);  // groups 0..7 in both lanes
        sc[r][1] = _mm256_permute2x128_si256(scales16, scales16, 0x11);  // groups 8..15
        d[r] = fp16(x.d);
        dmin[r] = fp16(x.dmin);
      }
      __m256i sumi[R][C];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) sumi[r][c] = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
        for (int s = 0; s < 4; ++s) {
          __m256i q2[R], scp[R];
#pragma GCC unroll 8
          for (int r = 0; r < R; ++r) {
            const __m256i q2bits = load256(weight_block<BlockQ2_K>(t, r, i).qs + 32 * h);
            q2[r] = _mm256_and_si256(_mm256_srli_epi16(q2bits, 2 * s), _mm256_set1_epi8(3));
            scp[r] = _mm256_shuffle_epi8(sc[r][h], word_pick_mask(2 * s, 2 * s + 1));
          }
#pragma GCC unroll 8
          for (int c = 0; c < C; ++c) {
            const __m256i y8 = load256(act_block<BlockQ8_K>(t, c, i).qs + 128 * h + 32 * s);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
              sumi[r][c] = _mm256_add_epi32(sumi[r][c], _mm256_madd_epi16(scp[r], _mm256_maddubs_epi16(q2[r], y8)));
            }
          }
        }
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const BlockQ8_K& y = act_block<BlockQ8_K>(t, c, i);
        const __m256i bsums = load256(y.bsums);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m256i mins_prod = _mm256_madd_epi16(mins16[r], bsums);
          acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(y.d * d[r]), _mm256_cvtepi32_ps(sumi[r][c]), acc[r][c]);
          acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(-y.d * dmin[r]), _mm256_cvtepi32_ps(mins_prod), acc[r][c]);
        }
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) t.y[c * t.ldy + r] = hsum(acc[r][c]);
  }
};

// Q3_K: acc += (yd * d) * sumi.
struct DotQ3K {
  template <int R, int C>
  static void run(const DotTile& t) {
    __m256 acc[R][C];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    for (int64_t i = 0; i < t.n / kQK_K; ++i) {
      __m256i sc[R][2], hbits[R];
      float d[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const BlockQ3_K& x = weight_block<BlockQ3_K>(t, r, i);
        prefetch_ahead(t, &x, sizeof(BlockQ3_K));
        alignas(16) int8_t sc8[16];
        for (int g = 0; g < 16; ++g) sc8[g] = static_cast<int8_t>(q3_k_scale(g, x.scales));
        const __m256i scales16 = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(sc8)));
        sc[r][0] = _mm256_permute2x128_si256(scales16, scales16, 0x00);
        sc[r][1] = _mm256_permute2x128_si256(scales16, scales16, 0x11);
        hbits[r] = load256(x.hmask);
        d[r] = fp16(x.d);
      }
      __m256i sumi[R][C];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) sumi[r][c] = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
        for (int s = 0; s < 4; ++s) {
          __m256i q2[R], neg4[R], scp[R];
#pragma GCC unroll 8
          for (int r = 0; r < R; ++r) {
            const __m256i q3bits = load256(weight_block<BlockQ3_K>(t, r, i).qs + 32 * h);
            q2[r] = _mm256_and_si256(_mm256_srli_epi16(q3bits, 2 * s), _mm256_set1_epi8(3));
            // 4 where the high bit is clear: (q2 - 4 * !h) . y = q2 . y - (4 * !h) . y
            const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hbits[r], 4 * h + s), _mm256_set1_epi8(1));
            neg4[r] = _mm256_slli_epi16(_mm256_xor_si256(hb, _mm256_set1_epi8(1)), 2);
            scp[r] = _mm256_shuffle_epi8(sc[r][h], word_pick_mask(2 * s, 2 * s + 1));
          }
#pragma GCC unroll 8
          for (int c = 0; c < C; ++c) {
            const __m256i y8 = load256(act_block<BlockQ8_K>(t, c, i).qs + 128 * h + 32 * s);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
              const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(q2[r], y8), _mm256_maddubs_epi16(neg4[r], y8));
              sumi[r][c] = _mm256_add_epi32(sumi[r][c], _mm256_madd_epi16(scp[r], p16));
            }
          }
        }
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const float yd = act_block<BlockQ8_K>(t, c, i).d;
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(yd * d[r]), _mm256_cvtepi32_ps(sumi[r][c]), acc[r][c]);
        }
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) t.y[c * t.ldy + r] = hsum(acc[r][c]);
  }
};

// Q4_K / Q5_K: acc += (yd * d) * sumi; acc_m += (-yd * dmin) * sum_j min_j * (bsum[2j] + bsum[2j+1]).
template <typename Block, bool kHighBit>
struct DotQ45K {
  template <int R, int C>
  static void run(const DotTile& t) {
    __m256 acc[R][C];
    __m128 acc_m[R][C];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps(), acc_m[r][c] = _mm_setzero_ps();
    for (int64_t i = 0; i < t.n / kQK_K; ++i) {
      __m256i sc[R], hbits[R];
      __m128i mins[R];
      float d[R], dmin[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const Block& x = weight_block<Block>(t, r, i);
        prefetch_ahead(t, &x, sizeof(Block));
        uint32_t utmp[4];
        unpack_k4_scales(x.scales, utmp);
        const __m256i mins_scales = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(utmp)));
        mins[r] = _mm256_extracti128_si256(mins_scales, 1);
        sc[r] = _mm256_permute2x128_si256(mins_scales, mins_scales, 0x00);  // scales 0..7 in both lanes
        if constexpr (kHighBit) hbits[r] = load256(x.qh);
        d[r] = fp16(x.d);
        dmin[r] = fp16(x.dmin);
      }
      __m256i sumi[R][C];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) sumi[r][c] = _mm256_setzero_si256();
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        __m256i lo[R], hi[R], sc_lo[R], sc_hi[R];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m256i bits = load256(weight_block<Block>(t, r, i).qs + 32 * j);
          lo[r] = _mm256_and_si256(bits, _mm256_set1_epi8(0x0F));
          hi[r] = _mm256_and_si256(_mm256_srli_epi16(bits, 4), _mm256_set1_epi8(0x0F));
          if constexpr (kHighBit) {
            const __m256i one = _mm256_set1_epi8(1);
            lo[r] =
                _mm256_or_si256(lo[r], _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits[r], 2 * j), one), 4));
            hi[r] = _mm256_or_si256(
                hi[r], _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits[r], 2 * j + 1), one), 4));
          }
          sc_lo[r] = _mm256_shuffle_epi8(sc[r], word_pick_mask(2 * j, 2 * j));
          sc_hi[r] = _mm256_shuffle_epi8(sc[r], word_pick_mask(2 * j + 1, 2 * j + 1));
        }
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
          const int8_t* q8 = act_block<BlockQ8_K>(t, c, i).qs + 64 * j;
          const __m256i y_lo = load256(q8), y_hi = load256(q8 + 32);
#pragma GCC unroll 8
          for (int r = 0; r < R; ++r) {
            sumi[r][c] = _mm256_add_epi32(sumi[r][c], _mm256_madd_epi16(sc_lo[r], _mm256_maddubs_epi16(lo[r], y_lo)));
            sumi[r][c] = _mm256_add_epi32(sumi[r][c], _mm256_madd_epi16(sc_hi[r], _mm256_maddubs_epi16(hi[r], y_hi)));
          }
        }
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const BlockQ8_K& y = act_block<BlockQ8_K>(t, c, i);
        const __m256i bsums = load256(y.bsums);
        const __m128i q8s = _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m128i prod = _mm_madd_epi16(mins[r], q8s);
          acc_m[r][c] = _mm_fmadd_ps(_mm_set1_ps(-y.d * dmin[r]), _mm_cvtepi32_ps(prod), acc_m[r][c]);
          acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(y.d * d[r]), _mm256_cvtepi32_ps(sumi[r][c]), acc[r][c]);
        }
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) t.y[c * t.ldy + r] = hsum(acc[r][c]) + hsum(acc_m[r][c]);
  }
};

// Q6_K: acc += (yd * d) * (sumi - 32 * sum(sc * bsum)).
struct DotQ6K {
  template <int R, int C>
  static void run(const DotTile& t) {
    __m256 acc[R][C];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i m2 = _mm256_set1_epi8(0x03);
    for (int64_t i = 0; i < t.n / kQK_K; ++i) {
      __m256i scales16[R], sc[R][2];
      float d[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const BlockQ6_K& x = weight_block<BlockQ6_K>(t, r, i);
        prefetch_ahead(t, &x, sizeof(BlockQ6_K));
        scales16[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales)));
        sc[r][0] = _mm256_permute2x128_si256(scales16[r], scales16[r], 0x00);
        sc[r][1] = _mm256_permute2x128_si256(scales16[r], scales16[r], 0x11);
        d[r] = fp16(x.d);
      }
      __m256i sumi[R][C];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) sumi[r][c] = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        __m256i q[R][4];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const BlockQ6_K& x = weight_block<BlockQ6_K>(t, r, i);
          const __m256i l1 = load256(x.ql + 64 * h), l2 = load256(x.ql + 64 * h + 32), hb = load256(x.qh + 32 * h);
          q[r][0] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4));
          q[r][1] = _mm256_or_si256(_mm256_and_si256(l2, m4),
                                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4));
          q[r][2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4));
          q[r][3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l2, 4), m4),
                                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4));
        }
#pragma GCC unroll 4
        for (int s = 0; s < 4; ++s) {
          __m256i scp[R];
#pragma GCC unroll 8
          for (int r = 0; r < R; ++r) scp[r] = _mm256_shuffle_epi8(sc[r][h], word_pick_mask(2 * s, 2 * s + 1));
#pragma GCC unroll 8
          for (int c = 0; c < C; ++c) {
            const __m256i y8 = load256(act_block<BlockQ8_K>(t, c, i).qs + 128 * h + 32 * s);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
              sumi[r][c] = _mm256_add_epi32(sumi[r][c], _mm256_madd_epi16(scp[r], _mm256_maddubs_epi16(q[r][s], y8)));
            }
          }
        }
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const BlockQ8_K& y = act_block<BlockQ8_K>(t, c, i);
        const __m256i bsums = load256(y.bsums);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          // The -32 offset: sum_g sc[g] * 32 * bsum[g], taken out once per super-block.
          const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(scales16[r], bsums), 5);
          const __m256i s = _mm256_sub_epi32(sumi[r][c], offset);
          acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(y.d * d[r]), _mm256_cvtepi32_ps(s), acc[r][c]);
        }
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) t.y[c * t.ldy + r] = hsum(acc[r][c]);
  }
};

template <class K>
void dispatch(const DotTile& t, int rows, int cols) {
  dispatch_dot_tile_split<kRegTileRows, kRegTileCols, K>(t, rows, cols);
}

template <class K>
void dispatch_k(const DotTile& t, int rows, int cols) {
  dispatch_dot_tile_split<kRegTileRowsK, kRegTileColsK, K>(t, rows, cols);
}

}  // namespace detail

#if !defined(STRATA_X86_HAVE_WIDE_LEGACY)
void dot_q4_0_q8_0(const DotTile& t, int rows, int cols) { detail::dispatch<detail::DotSym8<false>>(t, rows, cols); }
void dot_q8_0_q8_0(const DotTile& t, int rows, int cols) { detail::dispatch<detail::DotSym8<true>>(t, rows, cols); }
void dot_q4_1_q8_1(const DotTile& t, int rows, int cols) {
  detail::dispatch<detail::DotLegacy<BlockQ4_1, false, true>>(t, rows, cols);
}
void dot_q5_0_q8_0(const DotTile& t, int rows, int cols) {
  detail::dispatch<detail::DotLegacy<BlockQ5_0, true, false>>(t, rows, cols);
}
void dot_q5_1_q8_1(const DotTile& t, int rows, int cols) {
  detail::dispatch<detail::DotLegacy<BlockQ5_1, true, true>>(t, rows, cols);
}
#endif
#if !defined(STRATA_X86_HAVE_WIDE_Q2_K)
void dot_q2_k_q8_k(const DotTile& t, int rows, int cols) { detail::dispatch_k<detail::DotQ2K>(t, rows, cols); }
#endif
#if !defined(STRATA_X86_HAVE_WIDE_Q3_K)
void dot_q3_k_q8_k(const DotTile& t, int rows, int cols) { detail::dispatch_k<detail::DotQ3K>(t, rows, cols); }
#endif
#if !defined(STRATA_X86_HAVE_WIDE_Q4_K)
void dot_q4_k_q8_k(const DotTile& t, int rows, int cols) {
  detail::dispatch_k<detail::DotQ45K<BlockQ4_K, false>>(t, rows, cols);
}
#endif
#if !defined(STRATA_X86_HAVE_WIDE_Q5_K)
void dot_q5_k_q8_k(const DotTile& t, int rows, int cols) {
  detail::dispatch_k<detail::DotQ45K<BlockQ5_K, true>>(t, rows, cols);
}
#endif
#if !defined(STRATA_X86_HAVE_WIDE_Q6_K)
void dot_q6_k_q8_k(const DotTile& t, int rows, int cols) { detail::dispatch_k<detail::DotQ6K>(t, rows, cols); }
#endif
