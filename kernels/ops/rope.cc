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
    // Per-pair inverse frequencies base^(-2i/d).
    std::vector<double> inv_freq(half);
    for (int64_t i = 0; i < half; ++i) inv_freq[i] = std::pow(static_cast<double>(q.freq_base), -2.0 * i / q.rope_dim);
    for (int64_t t = 0; t < m; ++t) {
      const double position = static_cast<double>(p[t]) * q.freq_scale;
      for (int64_t i = 0; i < half; ++i) {
        const double theta = position * inv_freq[i];
        cos_t[t * half + i] = static_cast<float>(std::cos(theta));
        sin_t[t * half + i] = static_cast<float>(std::sin(theta));
      }
    }
  }
};

}  // namespace

void rope(float* x, const int32_t* pos, int64_t m, int64_t n_heads, int64_t head_dim, const RopeParams& p) {
  const int64_t half = p.rope_dim / 2;
  thread_local RopeTable table;
  if (!table.matches(pos, m, p)) table.build(pos, m, p);
  for (int64_t t = 0; t < m; ++t) {
    const float* cos_t = table.cos_t.data() + t * half;
    const float* sin_t = table.sin_t.data() + t * half;
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        // kNormal rotates adjacent pairs; kNeox rotates element i with element i + rope_dim/2.
        const int64_t a = p.layout == RopeLayout::kNormal ? 2 * i : i;
        const int64_t b = p.layout == RopeLayout::kNormal ? 2 * i + 1 : i + half;
        const float x0 = v[a], x1 = v[b];
        v[a] = x0 * cos_t[i] - x1 * sin_t[i];
        v[b] = x0 * sin_t[i] + x1 * cos_t[i];
      }
    }
  }
}

}  // namespace strata::cpu
