#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/ops/cpu_ops.h"

namespace strata::cpu {

namespace {

// cos / sin of every position of a step: the same positions and parameters come for Q and K of every layer, so
// they are computed once per step (in double: positions up to 10^6 times frequencies near 1).
struct RopeTable {
  std::vector<int32_t> pos;
  RopeParams params;
  std::vector<float> cos_t, sin_t;  // [m, rope_dim / 2]
  // The normal layout's pairs are adjacent, so its vector loops take each value twice: [m, rope_dim], cos_pairs
  // (c_i, c_i) and sin_pairs (-s_i, s_i) for pair i.
  std::vector<float> cos_pairs, sin_pairs;

  bool matches(const int32_t* p, int64_t m, const RopeParams& q) const {
    return static_cast<int64_t>(pos.size()) == m && params.rope_dim == q.rope_dim && params.freq_base == q.freq_base &&
           params.freq_scale == q.freq_scale && std::equal(pos.begin(), pos.end(), p);
  }

  void build(const int32_t* p, int64_t m, const RopeParams& q) {
    const int64_t half = q.rope_dim / 2;
    pos.assign(p, p + m);
    params = q;
    cos_t.resize(m * half);
    sin_t.resize(m * half);
    cos_pairs.resize(m * 2 * half);
    sin_pairs.resize(m * 2 * half);
    // Per-pair inverse frequencies base^(-2i/d).
    std::vector<double> inv_freq(half);
    for (int64_t i = 0; i < half; ++i) inv_freq[i] = std::pow(static_cast<double>(q.freq_base), -2.0 * i / q.rope_dim);
    for (int64_t t = 0; t < m; ++t) {
      const double position = static_cast<double>(p[t]) * q.freq_scale;
      for (int64_t i = 0; i < half; ++i) {
        const double theta = position * inv_freq[i];
        const float c = static_cast<float>(std::cos(theta)), s = static_cast<float>(std::sin(theta));
        cos_t[t * half + i] = c;
        sin_t[t * half + i] = s;
        cos_pairs[t * 2 * half + 2 * i] = cos_pairs[t * 2 * half + 2 * i + 1] = c;
        sin_pairs[t * 2 * half + 2 * i] = -s;
        sin_pairs[t * 2 * half + 2 * i + 1] = s;
      }
    }
  }
};

// One head of one token, pairs [i0, half): x0 * c - x1 * s and x0 * s + x1 * c, each product rounded, then the sum:
// the vector loops below do exactly these operations (no fused multiply-add), so every path gives the same bits.
void rotate_scalar(float* v, const float* cos_t, const float* sin_t, int64_t i0, int64_t half, RopeLayout layout) {
  for (int64_t i = i0; i < half; ++i) {
    // kNormal rotates adjacent pairs; kNeox rotates element i with element i + rope_dim/2.
    const int64_t a = layout == RopeLayout::kNormal ? 2 * i : i;
    const int64_t b = layout == RopeLayout::kNormal ? 2 * i + 1 : i + half;
    const float x0 = v[a], x1 = v[b];
    v[a] = x0 * cos_t[i] - x1 * sin_t[i];
    v[b] = x0 * sin_t[i] + x1 * cos_t[i];
  }
}

// cp, sp: the token's cos_pairs / sin_pairs. Normal layout: 8 pairs per vector, y = x * (c, c) + swap(x) * (-s, s).
__attribute__((target("avx512f"))) void rotate_avx512(float* v, const float* cos_t, const float* sin_t, const float* cp,
                                                      const float* sp, int64_t half, RopeLayout layout) {
  int64_t i = 0;
  if (layout == RopeLayout::kNeox) {
    for (; i + 16 <= half; i += 16) {
      const __m512 x0 = _mm512_loadu_ps(v + i), x1 = _mm512_loadu_ps(v + i + half);
      const __m512 c = _mm512_loadu_ps(cos_t + i), s = _mm512_loadu_ps(sin_t + i);
      _mm512_storeu_ps(v + i, _mm512_sub_ps(_mm512_mul_ps(x0, c), _mm512_mul_ps(x1, s)));
      _mm512_storeu_ps(v + i + half, _mm512_add_ps(_mm512_mul_ps(x0, s), _mm512_mul_ps(x1, c)));
    }
  } else {
    for (; i + 8 <= half; i += 8) {
      const __m512 x = _mm512_loadu_ps(v + 2 * i);
      const __m512 swapped = _mm512_permute_ps(x, 0xB1);  // (x1, x0) per pair
      _mm512_storeu_ps(v + 2 * i, _mm512_add_ps(_mm512_mul_ps(x, _mm512_loadu_ps(cp + 2 * i)),
                                                _mm512_mul_ps(swapped, _mm512_loadu_ps(sp + 2 * i))));
    }
  }
  rotate_scalar(v, cos_t, sin_t, i, half, layout);
}

__attribute__((target("avx2"))) void rotate_avx2(float* v, const float* cos_t, const float* sin_t, const float* cp,
                                                 const float* sp, int64_t half, RopeLayout layout) {
  int64_t i = 0;
  if (layout == RopeLayout::kNeox) {
    for (; i + 8 <= half; i += 8) {
      const __m256 x0 = _mm256_loadu_ps(v + i), x1 = _mm256_loadu_ps(v + i + half);
      const __m256 c = _mm256_loadu_ps(cos_t + i), s = _mm256_loadu_ps(sin_t + i);
      _mm256_storeu_ps(v + i, _mm256_sub_ps(_mm256_mul_ps(x0, c), _mm256_mul_ps(x1, s)));
      _mm256_storeu_ps(v + i + half, _mm256_add_ps(_mm256_mul_ps(x0, s), _mm256_mul_ps(x1, c)));
    }
  } else {
    for (; i + 4 <= half; i += 4) {
      const __m256 x = _mm256_loadu_ps(v + 2 * i);
      const __m256 swapped = _mm256_permute_ps(x, 0xB1);
      _mm256_storeu_ps(v + 2 * i, _mm256_add_ps(_mm256_mul_ps(x, _mm256_loadu_ps(cp + 2 * i)),
                                                _mm256_mul_ps(swapped, _mm256_loadu_ps(sp + 2 * i))));
    }
  }
  rotate_scalar(v, cos_t, sin_t, i, half, layout);
}

void rotate_portable(float* v, const float* cos_t, const float* sin_t, const float*, const float*, int64_t half,
                     RopeLayout layout) {
  rotate_scalar(v, cos_t, sin_t, 0, half, layout);
}

using RotateFn = void (*)(float*, const float*, const float*, const float*, const float*, int64_t, RopeLayout);

}  // namespace

void rope(float* x, const int32_t* pos, int64_t m, int64_t n_heads, int64_t head_dim, const RopeParams& p,
          ThreadPool& pool) {
  static const RotateFn rotate = by_isa<RotateFn>(rotate_avx512, rotate_avx2, rotate_portable);
  const int64_t half = p.rope_dim / 2;
  // The caller's table; the pool's threads only read it.
  thread_local RopeTable table;
  if (!table.matches(pos, m, p)) table.build(pos, m, p);
  const RopeTable& tab = table;
  parallel_rows(pool, m, [&](int64_t r0, int64_t r1) {
    for (int64_t t = r0; t < r1; ++t) {
      for (int64_t h = 0; h < n_heads; ++h) {
        rotate(x + (t * n_heads + h) * head_dim, tab.cos_t.data() + t * half, tab.sin_t.data() + t * half,
               tab.cos_pairs.data() + t * 2 * half, tab.sin_pairs.data() + t * 2 * half, half, p.layout);
      }
    }
  });
}

}  // namespace strata::cpu
