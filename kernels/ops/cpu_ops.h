// CPU implementations of the non-matmul ops of Backend (kernels/backend.h), one file each.
// They double as the reference other backends are checked against; the thread pool splits the heavy ones.
// Each picks its vector code by active_isa() (the widest the CPU has, or the one STRATA_CPU_ISA forces, as the
// matmul kernels do), so every path can be tested on one machine.
#pragma once

#include <algorithm>
#include <cstdint>

#include "absl/status/status.h"
#include "kernels/backend.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/thread_pool.h"

namespace strata::cpu {

// The variant of an op's inner loop for active_isa(): the widest the CPU has, or the one STRATA_CPU_ISA forces.
// Callers keep the result in a function-local static, so the choice is made once.
template <typename Fn>
Fn by_isa(Fn avx512, Fn avx2, Fn portable) {
  switch (active_isa()) {
    case Isa::kAvx512:
      return avx512;
    case Isa::kAvx2:
      return avx2;
    default:
      return portable;
  }
}

// Rows per pool task of the row-wise ops (RMSNorm, gated activation, add): a prompt's rows are split over the
// threads, a decode step's single row is not (a hand-off costs about as much as a few thousand values).
inline constexpr int64_t kOpRowsPerTask = 8;

// fn(r0, r1) for blocks of kOpRowsPerTask rows [r0, r1) of m, spread over the pool.
template <typename Fn>
void parallel_rows(ThreadPool& pool, int64_t m, Fn&& fn) {
  pool.parallel_for((m + kOpRowsPerTask - 1) / kOpRowsPerTask, [&](int64_t task, int) {
    const int64_t r0 = task * kOpRowsPerTask;
    fn(r0, std::min(m, r0 + kOpRowsPerTask));
  });
}

absl::Status embed(const WeightTensor& table, const int32_t* ids, int64_t m, float scale, float* y);
void rms_norm(const float* x, const float* w, int64_t m, int64_t n, float eps, float* y, ThreadPool& pool);
void rope(float* x, const int32_t* pos, int64_t m, int64_t n_heads, int64_t head_dim, const RopeParams& params,
          ThreadPool& pool);
void gated_activation(const float* gate, const float* up, int64_t m, int64_t n, FfnActivation act, float* y,
                      ThreadPool& pool);
void add(const float* x, int64_t m, int64_t n, float* y, ThreadPool& pool);
void gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t n, float* y);
void add_bias(const float* bias, int64_t m, int64_t n, float* y);
void kv_store(const float* k, const float* v, const int32_t* slots, int64_t n_tokens, int64_t kv_dim_k,
              int64_t kv_dim_v, uint16_t* k_cache, uint16_t* v_cache);
void paged_attention(const PagedAttentionArgs& args, ThreadPool& pool);

}  // namespace strata::cpu
