// 256-bit dot products and activation quantization, compiled twice: into strata::cpu::avx2 (AVX2 + FMA + F16C) by
// kernels_avx2.cc and into strata::cpu::avx512 by kernels_avx512.cc, where the u8 x s8 dots become VNNI
// instructions (x86_simd.h) and the 512-bit kernels of that file replace the hottest ones.
//
// Include only from those two files, inside their namespace, after x86_simd.h (same reason as there). Each function
// computes exactly the integer sums of kernels_scalar.cc; only float summation order differs.
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

#if !defined(STRATA_X86_HAVE_WIDE_Q4_0)
float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const int64_t nb = n / kQK4_0;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  const __m256i eight = _mm256_set1_epi8(8);
  auto block = [&](int64_t i) {
    const __m256i qx = detail::unpack_nibbles_32(x[i].qs);
    const __m256i qy = detail::load256(y[i].qs);
    __m256i p;
    if constexpr (detail::kHasVnni) {
      // (q - 8) . y = q . y - 8 * sum(y): two VNNI dots beat the three-op sign trick.
      p = _mm256_sub_epi32(detail::dot_u8s8(_mm256_setzero_si256(), qx, qy),
                           detail::dot_u8s8(_mm256_setzero_si256(), eight, qy));
    } else {
      p = detail::dot_s8s8(_mm256_setzero_si256(), _mm256_sub_epi8(qx, eight), qy);
    }
    return _mm256_mul_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(detail::fp16(x[i].d) * detail::fp16(y[i].d)));
  };
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    acc0 = _mm256_add_ps(acc0, block(i));
    acc1 = _mm256_add_ps(acc1, block(i + 1));
  }
  if (i < nb) acc0 = _mm256_add_ps(acc0, block(i));
  return detail::hsum(_mm256_add_ps(acc0, acc1));
}
#endif

float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0.0f;
  for (int64_t i = 0; i < n / kQK4_1; ++i) {
    const __m256i p =
        detail::dot_u8s8(_mm256_setzero_si256(), detail::unpack_nibbles_32(x[i].qs), detail::load256(y[i].qs));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(detail::fp16(x[i].d) * detail::fp16(y[i].d)), acc);
    mins += detail::fp16(x[i].m) * detail::fp16(y[i].s);
  }
  return detail::hsum(acc) + mins;
}

float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK5_0; ++i) {
    const __m256i lo = detail::unpack_nibbles_32(x[i].qs);
    const __m256i bits = detail::expand_bits_32(x[i].qh);
    // q - 16 as a signed byte: the nibble with 0xF0 or'ed in where the fifth bit is clear.
    const __m256i qx = _mm256_or_si256(lo, _mm256_andnot_si256(bits, _mm256_set1_epi8(static_cast<char>(0xF0))));
    const __m256i p = detail::dot_s8s8(_mm256_setzero_si256(), qx, detail::load256(y[i].qs));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(detail::fp16(x[i].d) * detail::fp16(y[i].d)), acc);
  }
  return detail::hsum(acc);
}

float vec_dot_q5_1_q8_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0.0f;
  for (int64_t i = 0; i < n / kQK5_1; ++i) {
    const __m256i lo = detail::unpack_nibbles_32(x[i].qs);
    const __m256i bits = detail::expand_bits_32(x[i].qh);
    const __m256i qx = _mm256_or_si256(lo, _mm256_and_si256(bits, _mm256_set1_epi8(0x10)));
    const __m256i p = detail::dot_u8s8(_mm256_setzero_si256(), qx, detail::load256(y[i].qs));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(detail::fp16(x[i].d) * detail::fp16(y[i].d)), acc);
    mins += detail::fp16(x[i].m) * detail::fp16(y[i].s);
  }
  return detail::hsum(acc) + mins;
}

#if !defined(STRATA_X86_HAVE_WIDE_Q8_0)
float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const int64_t nb = n / kQK8_0;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  auto block = [&](int64_t i) {
    const __m256i p = detail::dot_s8s8(_mm256_setzero_si256(), detail::load256(x[i].qs), detail::load256(y[i].qs));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(detail::fp16(x[i].d) * detail::fp16(y[i].d)));
  };
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    acc0 = _mm256_add_ps(acc0, block(i));
    acc1 = _mm256_add_ps(acc1, block(i + 1));
  }
  if (i < nb) acc0 = _mm256_add_ps(acc0, block(i));
  return detail::hsum(_mm256_add_ps(acc0, acc1));
}
#endif

float vec_dot_q2_k_q8_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const __m128i sc_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const __m128i scales8 = _mm_and_si128(sc_bytes, _mm_set1_epi8(0x0F));
    const __m128i mins8 = _mm_and_si128(_mm_srli_epi16(sc_bytes, 4), _mm_set1_epi8(0x0F));
    // sum over groups of min * bsum, 16 groups.
    const __m256i mins_prod = _mm256_madd_epi16(_mm256_cvtepu8_epi16(mins8), detail::load256(y[i].bsums));
    const __m256i scales16 = _mm256_cvtepu8_epi16(scales8);
    const __m256i sc_lo = _mm256_permute2x128_si256(scales16, scales16, 0x00);  // groups 0..7 in both lanes
    const __m256i sc_hi = _mm256_permute2x128_si256(scales16, scales16, 0x11);  // groups 8..15
    __m256i sumi = _mm256_setzero_si256();
    const int8_t* q8 = y[i].qs;
#pragma GCC unroll 2
    for (int c = 0; c < 2; ++c) {
      const __m256i q2bits = detail::load256(x[i].qs + 32 * c);
      const __m256i sc = c == 0 ? sc_lo : sc_hi;
#pragma GCC unroll 4
      for (int s = 0; s < 4; ++s, q8 += 32) {
        const __m256i q2 = _mm256_and_si256(_mm256_srli_epi16(q2bits, 2 * s), _mm256_set1_epi8(3));
        const __m256i p16 = _mm256_maddubs_epi16(q2, detail::load256(q8));
        sumi = _mm256_add_epi32(
            sumi, _mm256_madd_epi16(_mm256_shuffle_epi8(sc, detail::word_pick_mask(2 * s, 2 * s + 1)), p16));
      }
    }
    const float d = y[i].d * detail::fp16(x[i].d);
    const float dmin = -y[i].d * detail::fp16(x[i].dmin);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(mins_prod), acc);
  }
  return detail::hsum(acc);
}

float vec_dot_q3_k_q8_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    alignas(16) int8_t sc8[16];
    for (int g = 0; g < 16; ++g) sc8[g] = static_cast<int8_t>(detail::q3_k_scale(g, x[i].scales));
    const __m256i scales16 = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(sc8)));
    const __m256i sc_lo = _mm256_permute2x128_si256(scales16, scales16, 0x00);
    const __m256i sc_hi = _mm256_permute2x128_si256(scales16, scales16, 0x11);
    const __m256i hbits = detail::load256(x[i].hmask);
    __m256i sumi = _mm256_setzero_si256();
    const int8_t* q8 = y[i].qs;
#pragma GCC unroll 2
    for (int c = 0; c < 2; ++c) {
      const __m256i q3bits = detail::load256(x[i].qs + 32 * c);
      const __m256i sc = c == 0 ? sc_lo : sc_hi;
#pragma GCC unroll 4
      for (int s = 0; s < 4; ++s, q8 += 32) {
        const __m256i q2 = _mm256_and_si256(_mm256_srli_epi16(q3bits, 2 * s), _mm256_set1_epi8(3));
        // 4 where the high bit is clear: (q2 - 4 * !h) . y = q2 . y - (4 * !h) . y
        const __m256i h = _mm256_and_si256(_mm256_srli_epi16(hbits, 4 * c + s), _mm256_set1_epi8(1));
        const __m256i neg4 = _mm256_slli_epi16(_mm256_xor_si256(h, _mm256_set1_epi8(1)), 2);
        const __m256i y8 = detail::load256(q8);
        const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(q2, y8), _mm256_maddubs_epi16(neg4, y8));
        sumi = _mm256_add_epi32(
            sumi, _mm256_madd_epi16(_mm256_shuffle_epi8(sc, detail::word_pick_mask(2 * s, 2 * s + 1)), p16));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * detail::fp16(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return detail::hsum(acc);
}

namespace detail {
template <bool kHighBit, typename Block>
float q45_k_dot(int64_t n, const Block* x, const BlockQ8_K* y) {
  __m256 acc = _mm256_setzero_ps();
  __m128 acc_m = _mm_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint32_t utmp[4];
    unpack_k4_scales(x[i].scales, utmp);
    const __m256i mins_scales = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(utmp)));
    // Mins: sum_j min_j * (bsum[2j] + bsum[2j+1]).
    const __m256i bsums = load256(y[i].bsums);
    const __m128i q8s = _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
    const __m128i prod = _mm_madd_epi16(_mm256_extracti128_si256(mins_scales, 1), q8s);
    acc_m = _mm_fmadd_ps(_mm_set1_ps(-y[i].d * fp16(x[i].dmin)), _mm_cvtepi32_ps(prod), acc_m);
    const __m256i sc = _mm256_permute2x128_si256(mins_scales, mins_scales, 0x00);  // scales 0..7 in both lanes
    __m256i hbits;
    if constexpr (kHighBit) hbits = load256(x[i].qh);
    __m256i sumi = _mm256_setzero_si256();
    const uint8_t* qs = x[i].qs;
    const int8_t* q8 = y[i].qs;
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j, qs += 32, q8 += 64) {
      const __m256i bits = load256(qs);
      __m256i lo = _mm256_and_si256(bits, _mm256_set1_epi8(0x0F));
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), _mm256_set1_epi8(0x0F));
      if constexpr (kHighBit) {
        const __m256i one = _mm256_set1_epi8(1);
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j), one), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j + 1), one), 4));
      }
      const __m256i p_lo = _mm256_maddubs_epi16(lo, load256(q8));
      const __m256i p_hi = _mm256_maddubs_epi16(hi, load256(q8 + 32));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_shuffle_epi8(sc, word_pick_mask(2 * j, 2 * j)), p_lo));
      sumi = _mm256_add_epi32(sumi,
                              _mm256_madd_epi16(_mm256_shuffle_epi8(sc, word_pick_mask(2 * j + 1, 2 * j + 1)), p_hi));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * fp16(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc) + hsum(acc_m);
}
}  // namespace detail

#if !defined(STRATA_X86_HAVE_WIDE_Q4_K)
float vec_dot_q4_k_q8_k(int64_t n, const void* w, const void* a) {
  return detail::q45_k_dot<false>(n, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(a));
}
#endif

float vec_dot_q5_k_q8_k(int64_t n, const void* w, const void* a) {
  return detail::q45_k_dot<true>(n, static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(a));
}

#if !defined(STRATA_X86_HAVE_WIDE_Q6_K)
float vec_dot_q6_k_q8_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const __m256i scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales)));
    // The -32 offset: sum_g sc[g] * 32 * bsum[g], taken out once per super-block.
    const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(scales16, detail::load256(y[i].bsums)), 5);
    const __m256i sc_lo = _mm256_permute2x128_si256(scales16, scales16, 0x00);
    const __m256i sc_hi = _mm256_permute2x128_si256(scales16, scales16, 0x11);
    __m256i sumi = _mm256_setzero_si256();
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* q8 = y[i].qs;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i m2 = _mm256_set1_epi8(0x03);
#pragma GCC unroll 2
    for (int c = 0; c < 2; ++c, ql += 64, qh += 32, q8 += 128) {
      const __m256i sc = c == 0 ? sc_lo : sc_hi;
      const __m256i l1 = detail::load256(ql), l2 = detail::load256(ql + 32), h = detail::load256(qh);
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(h, m2), 4)),
          _mm256_or_si256(_mm256_and_si256(l2, m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l2, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4)),
      };
#pragma GCC unroll 4
      for (int s = 0; s < 4; ++s) {
        const __m256i p16 = _mm256_maddubs_epi16(q[s], detail::load256(q8 + 32 * s));
        sumi = _mm256_add_epi32(
            sumi, _mm256_madd_epi16(_mm256_shuffle_epi8(sc, detail::word_pick_mask(2 * s, 2 * s + 1)), p16));
      }
    }
    sumi = _mm256_sub_epi32(sumi, offset);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * detail::fp16(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return detail::hsum(acc);
}
#endif

void convert_f16_to_f32(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  }
  for (; i < n; ++i) y[i] = detail::fp16(x[i]);
}

void convert_bf16_to_f32(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), _mm256_slli_epi32(wide, 16));
  }
  for (; i < n; ++i) y[i] = x86::bf16(x[i]);
}
