// exp(x) for 8 floats at once on AVX2 + FMA: exp_avx512's reduction and polynomial, for the ops that apply it to
// whole rows (attention softmax) on CPUs without AVX-512.
#pragma once

#include <immintrin.h>

#include <cmath>

namespace strata::cpu {

// x = k ln2 + r with |r| <= ln2 / 2 (Cody-Waite split of ln2), e^r from its Taylor series to r^7, times 2^k built in
// the exponent bits. AVX2 has no vscalefps, so the ends are explicit: x is clamped to [ln(FLT_MIN), ln(FLT_MAX)]
// (the series is only accurate for the reduced r), e^x is 0 below that range (and for -inf) and inf above it, and
// k = 128 (x within ln 2 / 2 of the top) goes in as 2^127 * 2. Same accuracy as exp_avx512 for normal results
// (vector_exp_test); where e^x is not a normal float it gives 0 instead of a denormal.
__attribute__((target("avx2,fma"))) inline __m256 exp_avx2(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.33654f), hi = _mm256_set1_ps(88.72283f);
  const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ), overflow = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  // 2^k for k in [-126, 127]: the biased exponent k + 127 in bits 23-30; k = 128 as 2^127 times 2.
  const __m256i ki = _mm256_cvtps_epi32(k);
  const __m256i kk = _mm256_min_epi32(ki, _mm256_set1_epi32(127));
  const __m256 two_k = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(kk, _mm256_set1_epi32(127)), 23));
  const __m256 extra =
      _mm256_blendv_ps(_mm256_set1_ps(1.0f), _mm256_set1_ps(2.0f), _mm256_castsi256_ps(_mm256_cmpgt_epi32(ki, kk)));
  const __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, two_k), extra);
  return _mm256_blendv_ps(_mm256_andnot_ps(underflow, y), _mm256_set1_ps(INFINITY), overflow);
}

}  // namespace strata::cpu
