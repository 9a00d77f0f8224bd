// Causal grouped-query attention over the paged f16 KV cache, one pass with online softmax.
//
// A task is one (token, KV head) pair: each K/V row is converted from f16 once and used by all the query heads of
// its group, so GQA models read the cache once per group rather than once per query head. Positions are scored in
// chunks: the softmax running maximum and the accumulator are rescaled once per chunk instead of once per position,
// and the dot products / accumulations run on the widest vectors the CPU has (chosen once, at first use).
// A token's result depends only on its own query, position and cache contents, never on the rest of the batch.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/quant/fp16.h"
#include "kernels/ops/cpu_ops.h"

namespace strata::cpu {
namespace {

constexpr int64_t kChunk = 32;  // positions scored together: 32 x head_dim floats of K stay in L1

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

VectorOps pick_vector_ops() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    return {convert_rows_avx512, dot_rows_avx512, axpy_rows_avx512, scale_avx512};
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
    return {convert_rows_avx2, dot_rows_avx2, axpy_rows_avx2, scale_avx2};
  }
  return {convert_rows_scalar, dot_rows_scalar, axpy_rows_scalar, scale_scalar};
}

}  // namespace

void paged_attention(const PagedAttentionArgs& a, ThreadPool& pool) {
  static const VectorOps ops = pick_vector_ops();
  const int64_t group = a.n_head / a.n_head_kv;
  const int64_t kv_stride_k = a.n_head_kv * a.head_dim_k;  // elements per cache slot
  const int64_t kv_stride_v = a.n_head_kv * a.head_dim_v;

  pool.parallel_for(a.n_tokens * a.n_head_kv, [&](int64_t task, int) {
    const int64_t t = task / a.n_head_kv;
    const int64_t kvh = task % a.n_head_kv;
    const int32_t* table = a.block_tables + static_cast<int64_t>(a.token_seq[t]) * a.max_blocks_per_seq;
    const int64_t pos = a.token_pos[t];
    const int64_t first = a.window > 0 ? std::max<int64_t>(0, pos - a.window + 1) : 0;

    thread_local std::vector<float> scratch;
    scratch.resize(kChunk * (a.head_dim_k + a.head_dim_v) + group * (kChunk + a.head_dim_v + 2));
    float* k = scratch.data();                    // [kChunk, head_dim_k]
    float* v = k + kChunk * a.head_dim_k;         // [kChunk, head_dim_v]
    float* scores = v + kChunk * a.head_dim_v;    // [group, kChunk]
    float* acc = scores + group * kChunk;         // [group, head_dim_v]
    float* run_max = acc + group * a.head_dim_v;  // [group]
    float* run_sum = run_max + group;             // [group]
    std::fill(acc, acc + group * a.head_dim_v, 0.0f);
    std::fill(run_max, run_max + group, -std::numeric_limits<float>::infinity());
    std::fill(run_sum, run_sum + group, 0.0f);
    const uint16_t* k_rows[kChunk];
    const uint16_t* v_rows[kChunk];

    const float* q0 = a.q + (t * a.n_head + kvh * group) * a.head_dim_k;  // [group, head_dim_k]
    for (int64_t p0 = first; p0 <= pos; p0 += kChunk) {
      const int64_t n = std::min(kChunk, pos - p0 + 1);
      for (int64_t j = 0; j < n; ++j) {
        const int64_t p = p0 + j;
        const int64_t slot = static_cast<int64_t>(table[p / a.block_size]) * a.block_size + p % a.block_size;
        k_rows[j] = a.k_cache + slot * kv_stride_k + kvh * a.head_dim_k;
        v_rows[j] = a.v_cache + slot * kv_stride_v + kvh * a.head_dim_v;
      }
      ops.convert_rows(k_rows, n, a.head_dim_k, k);
      ops.convert_rows(v_rows, n, a.head_dim_v, v);
      for (int64_t g = 0; g < group; ++g) {
        float* s = scores + g * kChunk;
        ops.dot_rows(q0 + g * a.head_dim_k, k, n, a.head_dim_k, a.scale, s);
        const float chunk_max = *std::max_element(s, s + n);
        if (chunk_max > run_max[g]) {
          // Rescale what was accumulated under the old maximum (exp(-inf) = 0 on the first chunk).
          const float correction = std::exp(run_max[g] - chunk_max);
          run_sum[g] *= correction;
          ops.scale(correction, acc + g * a.head_dim_v, a.head_dim_v);
          run_max[g] = chunk_max;
        }
        for (int64_t j = 0; j < n; ++j) {
          s[j] = std::exp(s[j] - run_max[g]);
          run_sum[g] += s[j];
        }
        ops.axpy_rows(s, v, n, a.head_dim_v, acc + g * a.head_dim_v);
      }
    }
    for (int64_t g = 0; g < group; ++g) {
      float* out = a.out + (t * a.n_head + kvh * group + g) * a.head_dim_v;
      const float inv = run_sum[g] > 0 ? 1.0f / run_sum[g] : 0.0f;
      for (int64_t j = 0; j < a.head_dim_v; ++j) out[j] = acc[g * a.head_dim_v + j] * inv;
    }
  });
}

}  // namespace strata::cpu
