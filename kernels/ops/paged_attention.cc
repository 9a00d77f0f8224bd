// Causal grouped-query attention over the paged f16 KV cache, one pass with online softmax.
//
// A task is one KV head of a block of queries: a decode token alone, or up to kQueryBlock consecutive tokens of a
// prompt. Each K/V row is read once for all the query heads of its group, so GQA models read the cache once per
// group rather than once per query head, and a prompt's block reads each chunk of rows once for all its tokens.
// Positions are scored in chunks: the softmax running maximum and the accumulator are rescaled once per chunk
// instead of once per position, and the dot products / accumulations run on the widest vectors of active_isa()
// (chosen once, at first use). With AVX-512 (AVX2) a chunk's scores, exponentials and weighted sum are vectorized
// across positions and the accumulator stays in registers (attend_chunk_avx512, attend_chunk_avx2); other head dims
// take the per-row ops.
// A token's result depends only on its own query, position and cache contents, never on the rest of the batch.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/quant/fp16.h"
#include "kernels/ops/cpu_ops.h"
#include "kernels/ops/exp_avx2.h"
#include "kernels/ops/exp_avx512.h"

namespace strata::cpu {
namespace {

constexpr int64_t kChunk = 32;  // positions scored together: 32 x head_dim floats of K stay in L1
// Prompt tokens that attend together (see paged_attention): a chunk's K/V rows (8 KiB at head_dim 64) serve all of
// them from L1, instead of being fetched again from L2 or beyond for each query.
constexpr int64_t kQueryBlock = 8;

// The chunk loops over rows, one call per chunk (and query head): per-row calls through these pointers cost more
// than the rows' arithmetic at head_dim 64 (~4 % of a decode step).
struct VectorOps {
  // dst[j, :] = f32(rows[j][0, d)) for j < n
  void (*convert_rows)(const uint16_t* const* rows, int64_t n, int64_t d, float* dst);
  // s[j] = dot(q, k[j, :]) * scale for j < n — k: [n, d]
  void (*dot_rows)(const float* q, const float* k, int64_t n, int64_t d, float scale, float* s);
  // acc += s[j] * v[j, :] for j = 0, 1, ... n - 1 in order — v: [n, d]
  void (*axpy_rows)(const float* s, const float* v, int64_t n, int64_t d, float* acc);
  void (*scale)(float a, float* y, int64_t n);  // y *= a
};

// The online-softmax state of the `group` query heads that share one KV head.
struct SoftmaxState {
  float* acc;      // [group, head_dim_v]: sum of exp(score - run_max) * v so far
  float* run_max;  // [group]
  float* run_sum;  // [group]: sum of exp(score - run_max) so far
};

// One chunk of n <= kChunk positions for all heads of a group: scores against K, softmax update, weighted sum of V.
struct ChunkArgs {
  const float* q;                 // [group, head_dim_k]
  const uint16_t* const* k_rows;  // [n] -> [head_dim_k] f16 in the cache
  const uint16_t* const* v_rows;  // [n] -> [head_dim_v] f16
  const float* k;                 // [n, head_dim_k]: the K rows in f32 (attend_chunk_rows only)
  const float* v;                 // [n, head_dim_v]
  int64_t n, group, head_dim_k, head_dim_v;
  float scale;
  float* scores;  // scratch: [group, kChunk] scores, then [group] more floats
};

void convert_scalar(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(src[i]);
}
float dot_scalar(const float* a, const float* b, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}
void axpy_scalar(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}
void scale_scalar(float a, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] *= a;
}

__attribute__((target("avx2,fma,f16c"))) void convert_avx2(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  for (; i < n; ++i) dst[i] = fp16_to_f32(src[i]);
}
__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  const __m256 acc = _mm256_add_ps(acc0, acc1);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  float sum = _mm_cvtss_f32(s);
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}
__attribute__((target("avx2,fma"))) void axpy_avx2(float a, const float* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}
__attribute__((target("avx2"))) void scale_avx2(float a, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(va, _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] *= a;
}

__attribute__((target("avx512f"))) void convert_avx512(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
  }
  for (; i < n; ++i) dst[i] = fp16_to_f32(src[i]);
}
__attribute__((target("avx512f"))) float dot_avx512(const float* a, const float* b, int64_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i + 16 <= n; i += 16) acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}
__attribute__((target("avx512f"))) void axpy_avx512(float a, const float* x, float* y, int64_t n) {
  const __m512 va = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * x[i];
}
__attribute__((target("avx512f"))) void scale_avx512(float a, float* y, int64_t n) {
  const __m512 va = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_mul_ps(va, _mm512_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] *= a;
}

// The row loops of each ISA, on top of its per-row functions (inlined: same target).
#define STRATA_ATTENTION_ROW_OPS(isa, target)                                                               \
  target void convert_rows_##isa(const uint16_t* const* rows, int64_t n, int64_t d, float* dst) {           \
    for (int64_t j = 0; j < n; ++j) convert_##isa(rows[j], dst + j * d, d);                                 \
  }                                                                                                         \
  target void dot_rows_##isa(const float* q, const float* k, int64_t n, int64_t d, float scale, float* s) { \
    for (int64_t j = 0; j < n; ++j) s[j] = dot_##isa(q, k + j * d, d) * scale;                              \
  }                                                                                                         \
  target void axpy_rows_##isa(const float* s, const float* v, int64_t n, int64_t d, float* acc) {           \
    for (int64_t j = 0; j < n; ++j) axpy_##isa(s[j], v + j * d, acc, d);                                    \
  }
STRATA_ATTENTION_ROW_OPS(scalar, )
STRATA_ATTENTION_ROW_OPS(avx2, __attribute__((target("avx2,fma,f16c"))))
STRATA_ATTENTION_ROW_OPS(avx512, __attribute__((target("avx512f"))))
#undef STRATA_ATTENTION_ROW_OPS

// The portable chunk: per head, one dot / axpy call per chunk over the per-row vector ops.
void attend_chunk_rows(const VectorOps& ops, const ChunkArgs& c, SoftmaxState& st) {
  for (int64_t g = 0; g < c.group; ++g) {
    float* s = c.scores + g * kChunk;
    float* acc = st.acc + g * c.head_dim_v;
    ops.dot_rows(c.q + g * c.head_dim_k, c.k, c.n, c.head_dim_k, c.scale, s);
    const float chunk_max = *std::max_element(s, s + c.n);
    if (chunk_max > st.run_max[g]) {
      // Rescale what was accumulated under the old maximum (exp(-inf) = 0 on the first chunk).
      const float correction = std::exp(st.run_max[g] - chunk_max);
      st.run_sum[g] *= correction;
      ops.scale(correction, acc, c.head_dim_v);
      st.run_max[g] = chunk_max;
    }
    for (int64_t j = 0; j < c.n; ++j) {
      s[j] = std::exp(s[j] - st.run_max[g]);
      st.run_sum[g] += s[j];
    }
    ops.axpy_rows(s, c.v, c.n, c.head_dim_v, acc);
  }
}

// Lane r of the result is the sum of the 16 lanes of v[r'], where slot r' = kHsumSlot[r] (the shuffle tree below
// leaves its sums in that order; the map is its own inverse, so the caller puts row r's vector in slot
// kHsumSlot[r] and gets the sums in row order).
constexpr int kHsumSlot[16] = {0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15};

// 16 horizontal sums at once: 15 adds and 30 shuffles instead of 16 separate reductions of ~8 uops each.
__attribute__((target("avx512f"))) inline __m512 hsum16_avx512(const __m512 v[16]) {
  __m512 u[8], w[4], x[2];
  for (int i = 0; i < 8; ++i) {  // 256-bit halves: lanes 0-1 hold v[i]'s partial sums, lanes 2-3 v[i + 8]'s
    u[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[i], v[i + 8], 0x44), _mm512_shuffle_f32x4(v[i], v[i + 8], 0xEE));
  }
  for (int i = 0; i < 4; ++i) {  // 128-bit lanes: v[i], v[i + 8], v[i + 4], v[i + 12]
    w[i] = _mm512_add_ps(_mm512_shuffle_f32x4(u[i], u[i + 4], 0x88), _mm512_shuffle_f32x4(u[i], u[i + 4], 0xDD));
  }
  for (int i = 0; i < 2; ++i) {  // pairs within each lane
    x[i] = _mm512_add_ps(_mm512_shuffle_ps(w[i], w[i + 2], 0x44), _mm512_shuffle_ps(w[i], w[i + 2], 0xEE));
  }
  return _mm512_add_ps(_mm512_shuffle_ps(x[0], x[1], 0x88), _mm512_shuffle_ps(x[0], x[1], 0xDD));
}

__attribute__((target("avx512f"))) inline __m512 half16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// AVX-512, head dims multiples of 16, straight from the f16 cache rows (no f32 copy of the chunk). Scores: 4 heads
// x 4 positions per hsum16, so each K block is converted once for 4 heads; one vector exp per 16 scores; the
// weighted sum of V with 4 heads x 4 vectors of accumulators in registers, each V block converted once for 4 heads.
// Against the per-row path (one decode token, 32 heads / 8 KV heads, head_dim 64, 1 thread, cache in L2): 15.3 ->
// 4.9 us at 32 positions, 120 -> 66 us at 512. There the accumulator's load-add-store for every position, the
// horizontal sum of every dot and a scalar exp per score dominated.
__attribute__((target("avx512f,avx512vl"))) void attend_chunk_avx512(const ChunkArgs& c, SoftmaxState& st) {
  const int64_t nk = c.head_dim_k / 16, nv = c.head_dim_v / 16;
  float* correction = c.scores + c.group * kChunk;  // [group]: exp(old max - new max), 1 if the max stayed
  for (int64_t g0 = 0; g0 < c.group; g0 += 4) {
    const int gh = static_cast<int>(std::min<int64_t>(4, c.group - g0));
    for (int64_t j0 = 0; j0 < c.n; j0 += 4) {
      const int rows = static_cast<int>(std::min<int64_t>(4, c.n - j0));
      __m512 part[16];  // slot kHsumSlot[4 h + r]: head g0 + h, position j0 + r
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) part[i] = _mm512_setzero_ps();
      for (int64_t b = 0; b < nk; ++b) {
        __m512 kr[4], qh[4];
#pragma GCC unroll 4
        for (int r = 0; r < 4; ++r) kr[r] = r < rows ? half16(c.k_rows[j0 + r] + 16 * b) : _mm512_setzero_ps();
#pragma GCC unroll 4
        for (int h = 0; h < 4; ++h) qh[h] = h < gh ? _mm512_loadu_ps(c.q + (g0 + h) * c.head_dim_k + 16 * b) : kr[0];
#pragma GCC unroll 4
        for (int h = 0; h < 4; ++h) {
#pragma GCC unroll 4
          for (int r = 0; r < 4; ++r)
            part[kHsumSlot[4 * h + r]] = _mm512_fmadd_ps(qh[h], kr[r], part[kHsumSlot[4 * h + r]]);
        }
      }
      const __m512 sc = _mm512_mul_ps(hsum16_avx512(part), _mm512_set1_ps(c.scale));  // lane 4 h + r
      const __mmask16 live = static_cast<__mmask16>((1u << rows) - 1);
#pragma GCC unroll 4
      for (int h = 0; h < 4; ++h) {
        if (h < gh) _mm_mask_storeu_ps(c.scores + (g0 + h) * kChunk + j0, live, _mm512_extractf32x4_ps(sc, h));
      }
    }
  }
  for (int64_t g = 0; g < c.group; ++g) {
    float* s = c.scores + g * kChunk;
    __m512 vmax = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    for (int64_t j0 = 0; j0 < c.n; j0 += 16) {
      const __mmask16 live = static_cast<__mmask16>((1u << std::min<int64_t>(16, c.n - j0)) - 1);
      vmax = _mm512_mask_max_ps(vmax, live, vmax, _mm512_maskz_loadu_ps(live, s + j0));
    }
    const float chunk_max = _mm512_reduce_max_ps(vmax);
    correction[g] = 1.0f;
    if (chunk_max > st.run_max[g]) {
      correction[g] = std::exp(st.run_max[g] - chunk_max);  // 0 on the first chunk (exp(-inf))
      st.run_max[g] = chunk_max;
    }
    const __m512 m = _mm512_set1_ps(st.run_max[g]);
    __m512 vsum = _mm512_setzero_ps();
    for (int64_t j0 = 0; j0 < c.n; j0 += 16) {
      const __mmask16 live = static_cast<__mmask16>((1u << std::min<int64_t>(16, c.n - j0)) - 1);
      const __m512 p = exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, s + j0), m));
      _mm512_mask_storeu_ps(s + j0, live, p);
      vsum = _mm512_mask_add_ps(vsum, live, vsum, p);
    }
    st.run_sum[g] = st.run_sum[g] * correction[g] + _mm512_reduce_add_ps(vsum);
  }
  // acc = acc * correction + sum_j p[j] v[j]: 4 heads x 4 vectors of head_dim_v at a time, 16 independent
  // accumulators in registers, each V row loaded once for the 4 heads.
  for (int64_t g0 = 0; g0 < c.group; g0 += 4) {
    const int gh = static_cast<int>(std::min<int64_t>(4, c.group - g0));
    for (int64_t b0 = 0; b0 < nv; b0 += 4) {
      const int nb = static_cast<int>(std::min<int64_t>(4, nv - b0));
      __m512 acc[4][4];
#pragma GCC unroll 4
      for (int h = 0; h < 4; ++h) {
        const __m512 corr = _mm512_set1_ps(h < gh ? correction[g0 + h] : 0.0f);
#pragma GCC unroll 4
        for (int b = 0; b < 4; ++b) {
          if (h < gh && b < nb) {
            acc[h][b] = _mm512_mul_ps(_mm512_loadu_ps(st.acc + (g0 + h) * c.head_dim_v + 16 * (b0 + b)), corr);
          }
        }
      }
      for (int64_t j = 0; j < c.n; ++j) {
        const uint16_t* vj = c.v_rows[j] + 16 * b0;
        __m512 vr[4];
#pragma GCC unroll 4
        for (int b = 0; b < 4; ++b) {
          if (b < nb) vr[b] = half16(vj + 16 * b);
        }
#pragma GCC unroll 4
        for (int h = 0; h < 4; ++h) {
          if (h >= gh) continue;
          const __m512 pj = _mm512_set1_ps(c.scores[(g0 + h) * kChunk + j]);
#pragma GCC unroll 4
          for (int b = 0; b < 4; ++b) {
            if (b < nb) acc[h][b] = _mm512_fmadd_ps(pj, vr[b], acc[h][b]);
          }
        }
      }
#pragma GCC unroll 4
      for (int h = 0; h < 4; ++h) {
#pragma GCC unroll 4
        for (int b = 0; b < 4; ++b) {
          if (h < gh && b < nb) _mm512_storeu_ps(st.acc + (g0 + h) * c.head_dim_v + 16 * (b0 + b), acc[h][b]);
        }
      }
    }
  }
}

// 8 horizontal sums at once, lane r = the sum of v[r]'s 8 lanes; every sum adds its lanes in the same tree
// ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)), whichever slot it is in.
__attribute__((target("avx2"))) inline __m256 hsum8_avx2(const __m256 v[8]) {
  const __m256 t0 = _mm256_hadd_ps(v[0], v[1]), t1 = _mm256_hadd_ps(v[2], v[3]);
  const __m256 t2 = _mm256_hadd_ps(v[4], v[5]), t3 = _mm256_hadd_ps(v[6], v[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);  // per 128-bit half: v[0..3] / v[4..7]
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

__attribute__((target("avx2,f16c"))) inline __m256 half8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// attend_chunk_avx512's scheme on 8-float vectors and 16 registers, head dims multiples of 8: scores for 2 heads x
// 4 positions per hsum8 (each K block converted once for both heads), one vector exp per 8 scores, and the weighted
// sum of V with 2 heads x 4 vectors of accumulators in registers, each V block converted once for both heads.
// Against the per-row path (STRATA_CPU_ISA=avx2 on a Sapphire Rapids VM, 850M synthetic Q4_0, 2 threads): a
// 1024-token prompt's attention 2046 -> 998 ms, its prefill 118 -> 132-140 tok/s.
__attribute__((target("avx2,fma,f16c"))) void attend_chunk_avx2(const ChunkArgs& c, SoftmaxState& st) {
  const int64_t nk = c.head_dim_k / 8, nv = c.head_dim_v / 8;
  float* correction = c.scores + c.group * kChunk;  // [group]: exp(old max - new max), 1 if the max stayed
  for (int64_t g0 = 0; g0 < c.group; g0 += 2) {
    const int gh = static_cast<int>(std::min<int64_t>(2, c.group - g0));
    for (int64_t j0 = 0; j0 < c.n; j0 += 4) {
      const int rows = static_cast<int>(std::min<int64_t>(4, c.n - j0));
      __m256 part[8];  // slot 4 h + r: head g0 + h, position j0 + r
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) part[i] = _mm256_setzero_ps();
      for (int64_t b = 0; b < nk; ++b) {
        __m256 kr[4], qh[2];
#pragma GCC unroll 4
        for (int r = 0; r < 4; ++r) kr[r] = r < rows ? half8(c.k_rows[j0 + r] + 8 * b) : _mm256_setzero_ps();
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) qh[h] = h < gh ? _mm256_loadu_ps(c.q + (g0 + h) * c.head_dim_k + 8 * b) : kr[0];
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
          for (int r = 0; r < 4; ++r) part[4 * h + r] = _mm256_fmadd_ps(qh[h], kr[r], part[4 * h + r]);
        }
      }
      alignas(32) float sc[8];
      _mm256_store_ps(sc, _mm256_mul_ps(hsum8_avx2(part), _mm256_set1_ps(c.scale)));
      for (int h = 0; h < gh; ++h) {
        for (int r = 0; r < rows; ++r) c.scores[(g0 + h) * kChunk + j0 + r] = sc[4 * h + r];
      }
    }
  }
  for (int64_t g = 0; g < c.group; ++g) {
    float* s = c.scores + g * kChunk;
    float chunk_max = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < c.n; ++j) chunk_max = std::max(chunk_max, s[j]);
    correction[g] = 1.0f;
    if (chunk_max > st.run_max[g]) {
      correction[g] = std::exp(st.run_max[g] - chunk_max);  // 0 on the first chunk (exp(-inf))
      st.run_max[g] = chunk_max;
    }
    const __m256 m = _mm256_set1_ps(st.run_max[g]);
    __m256 vsum = _mm256_setzero_ps();
    int64_t j0 = 0;
    for (; j0 + 8 <= c.n; j0 += 8) {
      const __m256 p = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(s + j0), m));
      _mm256_storeu_ps(s + j0, p);
      vsum = _mm256_add_ps(vsum, p);
    }
    if (j0 < c.n) {  // the last positions of a partial chunk: through a zero-padded copy
      alignas(32) float tail[8] = {};
      std::copy(s + j0, s + c.n, tail);
      const __m256 live = _mm256_castsi256_ps(
          _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(c.n - j0)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
      const __m256 p = _mm256_and_ps(live, exp_avx2(_mm256_sub_ps(_mm256_load_ps(tail), m)));
      _mm256_store_ps(tail, p);
      std::copy(tail, tail + (c.n - j0), s + j0);
      vsum = _mm256_add_ps(vsum, p);
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, vsum);
    float sum = 0.0f;
    for (float l : lanes) sum += l;
    st.run_sum[g] = st.run_sum[g] * correction[g] + sum;
  }
  // acc = acc * correction + sum_j p[j] v[j]: 2 heads x 4 vectors of head_dim_v at a time, 8 independent
  // accumulators in registers, each V row loaded once for both heads.
  for (int64_t g0 = 0; g0 < c.group; g0 += 2) {
    const int gh = static_cast<int>(std::min<int64_t>(2, c.group - g0));
    for (int64_t b0 = 0; b0 < nv; b0 += 4) {
      const int nb = static_cast<int>(std::min<int64_t>(4, nv - b0));
      __m256 acc[2][4];
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        const __m256 corr = _mm256_set1_ps(h < gh ? correction[g0 + h] : 0.0f);
#pragma GCC unroll 4
        for (int b = 0; b < 4; ++b) {
          if (h < gh && b < nb) {
            acc[h][b] = _mm256_mul_ps(_mm256_loadu_ps(st.acc + (g0 + h) * c.head_dim_v + 8 * (b0 + b)), corr);
          }
        }
      }
      for (int64_t j = 0; j < c.n; ++j) {
        const uint16_t* vj = c.v_rows[j] + 8 * b0;
        __m256 vr[4];
#pragma GCC unroll 4
        for (int b = 0; b < 4; ++b) {
          if (b < nb) vr[b] = half8(vj + 8 * b);
        }
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          if (h >= gh) continue;
          const __m256 pj = _mm256_set1_ps(c.scores[(g0 + h) * kChunk + j]);
#pragma GCC unroll 4
          for (int b = 0; b < 4; ++b) {
            if (b < nb) acc[h][b] = _mm256_fmadd_ps(pj, vr[b], acc[h][b]);
          }
        }
      }
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
        for (int b = 0; b < 4; ++b) {
          if (h < gh && b < nb) _mm256_storeu_ps(st.acc + (g0 + h) * c.head_dim_v + 8 * (b0 + b), acc[h][b]);
        }
      }
    }
  }
}

}  // namespace

void paged_attention(const PagedAttentionArgs& a, ThreadPool& pool) {
  static const VectorOps ops = by_isa(VectorOps{convert_rows_avx512, dot_rows_avx512, axpy_rows_avx512, scale_avx512},
                                      VectorOps{convert_rows_avx2, dot_rows_avx2, axpy_rows_avx2, scale_avx2},
                                      VectorOps{convert_rows_scalar, dot_rows_scalar, axpy_rows_scalar, scale_scalar});
  // The register-blocked chunk kernels where the head dims fill their vectors, else the per-row ops.
  const bool avx512_chunks = active_isa() == Isa::kAvx512 && a.head_dim_k % 16 == 0 && a.head_dim_v % 16 == 0;
  const bool avx2_chunks = !avx512_chunks && (active_isa() == Isa::kAvx512 || active_isa() == Isa::kAvx2) &&
                           a.head_dim_k % 8 == 0 && a.head_dim_v % 8 == 0;
  const int64_t group = a.n_head / a.n_head_kv;
  const int64_t kv_stride_k = a.n_head_kv * a.head_dim_k;  // elements per cache slot
  const int64_t kv_stride_v = a.n_head_kv * a.head_dim_v;

  // Query blocks: a prompt's consecutive tokens (one sequence, consecutive positions, the same first position) that
  // attend together, each K/V chunk read once for all of them while it is in L1; a decode token is a block of its
  // own. Each query still runs the chunks of a single token's pass, with the same row counts, so its result has the
  // same bits whatever block it is in.
  auto first_of = [&](int64_t t) {
    return a.window > 0 ? std::max<int64_t>(0, static_cast<int64_t>(a.token_pos[t]) - a.window + 1) : 0;
  };
  // Block b is tokens [starts[b], starts[b + 1]). The caller's buffer, reused across calls; the pool's threads
  // read it through this reference (a thread_local named inside the tasks would be each thread's own).
  thread_local std::vector<int64_t> caller_starts;
  std::vector<int64_t>& starts = caller_starts;
  starts.clear();
  for (int64_t t = 0; t < a.n_tokens; ++t) {
    const bool joins = t > 0 && t - starts.back() < kQueryBlock && a.token_seq[t] == a.token_seq[t - 1] &&
                       a.token_pos[t] == a.token_pos[t - 1] + 1 && first_of(t) == first_of(t - 1);
    if (!joins) starts.push_back(t);
  }
  starts.push_back(a.n_tokens);
  const int64_t n_blocks = static_cast<int64_t>(starts.size()) - 1;

  pool.parallel_for(n_blocks * a.n_head_kv, [&](int64_t task, int) {
    const int64_t t0 = starts[task / a.n_head_kv], nq = starts[task / a.n_head_kv + 1] - t0;
    const int64_t kvh = task % a.n_head_kv;
    const int32_t* table = a.block_tables + static_cast<int64_t>(a.token_seq[t0]) * a.max_blocks_per_seq;
    const int64_t first = first_of(t0);
    const int64_t last = a.token_pos[t0 + nq - 1];

    thread_local std::vector<float> scratch;
    scratch.resize(kChunk * (a.head_dim_k + a.head_dim_v) + group * (kChunk + 1) + nq * group * (a.head_dim_v + 2));
    float* k = scratch.data();                         // [kChunk, head_dim_k]
    float* v = k + kChunk * a.head_dim_k;              // [kChunk, head_dim_v]
    float* scores = v + kChunk * a.head_dim_v;         // [group, kChunk], then [group] (ChunkArgs::scores)
    float* acc = scores + group * (kChunk + 1);        // [nq, group, head_dim_v]
    float* run_max = acc + nq * group * a.head_dim_v;  // [nq, group]
    float* run_sum = run_max + nq * group;             // [nq, group]
    std::fill(acc, acc + nq * group * a.head_dim_v, 0.0f);
    std::fill(run_max, run_max + nq * group, -std::numeric_limits<float>::infinity());
    std::fill(run_sum, run_sum + nq * group, 0.0f);
    // Row pointers of a chunk's positions, a chunk ahead: the rows are prefetched while the previous chunk
    // computes. A layer's cache rows were last touched a whole decode step ago, so they come from DRAM, one short
    // row (head_dim f16) per position and KV head.
    const uint16_t* rows[2][2][kChunk];  // [chunk parity][K, V][position in chunk]
    auto fetch_rows = [&](int64_t p0, const uint16_t** k_rows, const uint16_t** v_rows) {
      const int64_t n = std::min(kChunk, last - p0 + 1);
      int64_t block = p0 / a.block_size, in_block = p0 % a.block_size;
      for (int64_t j = 0; j < n; ++j) {
        const int64_t slot = static_cast<int64_t>(table[block]) * a.block_size + in_block;
        k_rows[j] = a.k_cache + slot * kv_stride_k + kvh * a.head_dim_k;
        v_rows[j] = a.v_cache + slot * kv_stride_v + kvh * a.head_dim_v;
        for (int64_t off = 0; off < a.head_dim_k * 2; off += 64) {
          _mm_prefetch(reinterpret_cast<const char*>(k_rows[j]) + off, _MM_HINT_T0);
        }
        for (int64_t off = 0; off < a.head_dim_v * 2; off += 64) {
          _mm_prefetch(reinterpret_cast<const char*>(v_rows[j]) + off, _MM_HINT_T0);
        }
        if (++in_block == a.block_size) ++block, in_block = 0;
      }
    };

    fetch_rows(first, rows[0][0], rows[0][1]);
    for (int64_t p0 = first, parity = 0; p0 <= last; p0 += kChunk, parity ^= 1) {
      if (p0 + kChunk <= last) fetch_rows(p0 + kChunk, rows[parity ^ 1][0], rows[parity ^ 1][1]);
      const uint16_t* const* k_rows = rows[parity][0];
      const uint16_t* const* v_rows = rows[parity][1];
      for (int64_t i = 0; i < nq; ++i) {
        const int64_t pos = a.token_pos[t0 + i];
        if (pos < p0) continue;  // causal: this query's pass ended before the chunk
        const int64_t n = std::min(kChunk, pos - p0 + 1);
        SoftmaxState state{acc + i * group * a.head_dim_v, run_max + i * group, run_sum + i * group};
        const float* q0 = a.q + ((t0 + i) * a.n_head + kvh * group) * a.head_dim_k;  // [group, head_dim_k]
        const ChunkArgs chunk{q0, k_rows, v_rows, k, v, n, group, a.head_dim_k, a.head_dim_v, a.scale, scores};
        if (avx512_chunks) {
          attend_chunk_avx512(chunk, state);
        } else if (avx2_chunks) {
          attend_chunk_avx2(chunk, state);
        } else {
          ops.convert_rows(k_rows, n, a.head_dim_k, k);
          ops.convert_rows(v_rows, n, a.head_dim_v, v);
          attend_chunk_rows(ops, chunk, state);
        }
      }
    }
    for (int64_t i = 0; i < nq; ++i) {
      for (int64_t g = 0; g < group; ++g) {
        float* out = a.out + ((t0 + i) * a.n_head + kvh * group + g) * a.head_dim_v;
        const float* acc_g = acc + (i * group + g) * a.head_dim_v;
        const float inv = run_sum[i * group + g] > 0 ? 1.0f / run_sum[i * group + g] : 0.0f;
        for (int64_t j = 0; j < a.head_dim_v; ++j) out[j] = acc_g[j] * inv;
      }
    }
  });
}

}  // namespace strata::cpu
