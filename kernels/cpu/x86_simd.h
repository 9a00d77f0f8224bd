// Small x86 SIMD helpers shared by the AVX2 and AVX-512 kernel translation units. The VNNI forms are picked when
// the including unit is compiled with VNNI.
//
// Included *inside* each ISA's namespace (after <immintrin.h>, <cstdint>, <cstring> at global scope), so every ISA
// gets its own copies: an inline function compiled with AVX-512 flags and shared by name with the AVX2 unit could be
// the copy the linker keeps, and would then fault on an AVX2-only CPU.
#pragma once

namespace x86 {

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
inline constexpr bool kHasVnni = true;
#else
inline constexpr bool kHasVnni = false;
#endif

// acc + sum over each group of 4 bytes of u[i] * s[i] (u unsigned, s signed). Without VNNI the pairwise i16 step
// saturates above 32767, so callers keep u * s pairs within that: u <= 128 with |s| <= 127.
inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(acc, u, s);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

// Signed x signed through the unsigned x signed instruction: |x| * (y with x's sign), the standard sign trick.
inline __m256i dot_s8s8(__m256i acc, __m256i x, __m256i y) {
  return dot_u8s8(acc, _mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

inline float hsum(__m128 v) {
  v = _mm_add_ps(v, _mm_movehl_ps(v, v));
  v = _mm_add_ss(v, _mm_movehdup_ps(v));
  return _mm_cvtss_f32(v);
}

inline float hsum(__m256 v) { return hsum(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1))); }

inline float fp16(uint16_t h) { return _cvtsh_ss(h); }

// Round to nearest even, as core/quant/fp16.h's f32_to_fp16 (F16C; no shared inline code, see above).
inline uint16_t to_fp16(float f) { return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT)); }

inline float bf16(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// 16 bytes of packed nibbles -> 32 bytes: low nibbles in bytes 0..15, high nibbles in 16..31 (the element order of
// Q4_0 / Q4_1 / Q5_x blocks).
inline __m256i unpack_nibbles_32(const uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// 32 bits -> 32 bytes, 0xFF where the bit is set (bit j -> byte j).
inline __m256i expand_bits_32(const uint8_t* bits) {
  uint32_t x;
  std::memcpy(&x, bits, 4);
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(x)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000));
  const __m256i probe = _mm256_or_si256(spread, _mm256_set1_epi64x(0x7FBFDFEFF7FBFDFE));
  return _mm256_cmpeq_epi8(probe, _mm256_set1_epi64x(-1));
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Byte-shuffle mask that picks int16 word `lo` in the low 128-bit lane and word `hi` in the high one, repeated.
inline __m256i word_pick_mask(int lo, int hi) {
  const int lo_pair = (2 * lo) | ((2 * lo + 1) << 8);
  const int hi_pair = (2 * hi) | ((2 * hi + 1) << 8);
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(hi_pair)), _mm_set1_epi16(static_cast<int16_t>(lo_pair)));
}

}  // namespace x86
