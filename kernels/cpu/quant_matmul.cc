#include "kernels/cpu/quant_matmul.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/gemm_panels.h"
#include "kernels/cpu/kernel_table.h"

namespace strata::cpu {
namespace {

// Weight rows decoded together in the GEMM path. The decoded group (16 rows x ~2.25 bytes per element, 46 KiB at
// k = 1280, 200 KiB at k = 5632) stays in L2 while every activation tile passes over it, and it is large enough that
// the activation panel, streamed once per group, costs little L3 bandwidth per multiply.
constexpr int kGemmGroupRows = 16;

// GEMV work unit and software prefetch distance (see run_gemv). Measured on Sapphire Rapids (2 vCPUs): prefetching
// into L2 (prefetcht1) 1-4 KiB ahead lifts single-thread Q4_0 GEMV from 3.6 to ~7.5 GB/s; prefetchnta (L1 only,
// evicted before use at this distance) gains far less, and distances of 8 KiB and more lose again.
constexpr int64_t kGemvChunkBytes = 128 * 1024;
constexpr int64_t kPrefetchBytes = 2048;

// Reusable per-thread buffer: grows to the largest call and then stays, so steady-state calls do not allocate.
uint8_t* scratch(std::vector<uint8_t>& buf, size_t bytes) {
  if (buf.size() < bytes + 64) buf.resize(bytes + 64);
  auto addr = reinterpret_cast<uintptr_t>(buf.data());
  return buf.data() + ((64 - (addr & 63)) & 63);  // 64-byte aligned: whole cache lines per row
}

struct Problem {
  GgmlType type;
  const uint8_t* w;
  int64_t n, k, m;
  const float* x;
  float* y;
  int64_t w_row_bytes;  // bytes of one weight row
  int64_t a_row_bytes;  // bytes of one quantized activation row (0 for float types)
  const IsaKernels* kernels;
  WeightKernel wk;
};

// Activation rows in the partner format: [m, a_row_bytes], or x itself for float weights.
const uint8_t* quantize_activations(const Problem& p, ThreadPool& pool, std::vector<uint8_t>& buf) {
  if (p.wk.quantize == nullptr) return reinterpret_cast<const uint8_t*>(p.x);
  uint8_t* a = scratch(buf, p.m * p.a_row_bytes);
  if (p.m <= kGemvMaxRows) {
    // A few microseconds of work: not worth waking the pool.
    for (int64_t i = 0; i < p.m; ++i) p.wk.quantize(p.x + i * p.k, a + i * p.a_row_bytes, p.k);
  } else {
    pool.parallel_for(p.m, [&](int64_t i, int) { p.wk.quantize(p.x + i * p.k, a + i * p.a_row_bytes, p.k); });
  }
  return a;
}

void run_gemv(const Problem& p, const uint8_t* a, ThreadPool& pool) {
  const int64_t a_stride = p.wk.quantize ? p.a_row_bytes : p.k * static_cast<int64_t>(sizeof(float));
  // Rows are handed out in contiguous chunks of about kGemvChunkBytes of weights: long enough for the prefetchers
  // to ramp up on each, small enough that a thread the OS preempts (a busy server) delays the op by one chunk, not
  // by half the matrix. Chunks are a multiple of 16 rows so no two threads write into one cache line of y.
  const int n_threads = pool.num_threads();
  int64_t chunk = std::max<int64_t>(16, kGemvChunkBytes / p.w_row_bytes) / 16 * 16;
  chunk = std::min(chunk, std::max<int64_t>(16, (p.n + n_threads - 1) / n_threads + 15) / 16 * 16);
  const int64_t n_tasks = (p.n + chunk - 1) / chunk;
  // Software prefetch a fixed distance ahead of the row being read. A single core's demand misses plus the
  // hardware prefetchers do not keep enough lines in flight to saturate DRAM (per-core bandwidth is bounded by
  // outstanding misses / latency), so the row kPrefetchBytes ahead is requested explicitly into L2.
  const int64_t prefetch_rows = std::max<int64_t>(1, kPrefetchBytes / p.w_row_bytes);
  pool.parallel_for(n_tasks, [&](int64_t task, int) {
    const int64_t j0 = task * chunk, j1 = std::min(p.n, j0 + chunk);
    const VecDotFn dot = p.wk.vec_dot;
    for (int64_t j = j0; j < j1; ++j) {
      const uint8_t* wrow = p.w + j * p.w_row_bytes;
      if (j + prefetch_rows < j1) {
        const uint8_t* ahead = wrow + prefetch_rows * p.w_row_bytes;
        for (int64_t off = 0; off < p.w_row_bytes; off += 64) __builtin_prefetch(ahead + off, 0, 2);
      }
      for (int64_t i = 0; i < p.m; ++i) p.y[i * p.n + j] = dot(p.k, wrow, a + i * a_stride);
    }
  });
}

void run_gemm_quantized(const Problem& p, const uint8_t* a, ThreadPool& pool, std::vector<uint8_t>& buf) {
  const IsaKernels& kt = *p.kernels;
  // Activation panel of all m rows, filled in parallel by row ranges.
  const ActPanel act = act_panel_view(scratch(buf, p.m * act_panel_row_bytes(p.k)), p.m, p.k);
  constexpr int64_t kRowsPerTask = 16;
  pool.parallel_for((p.m + kRowsPerTask - 1) / kRowsPerTask, [&](int64_t t, int) {
    const int64_t c0 = t * kRowsPerTask, cols = std::min(kRowsPerTask, p.m - c0);
    fill_act_panel(p.wk.partner, a + c0 * p.a_row_bytes, p.a_row_bytes, c0, cols, act);
  });

  const int64_t n_groups = (p.n + kGemmGroupRows - 1) / kGemmGroupRows;
  pool.parallel_for(n_groups, [&](int64_t g, int) {
    thread_local std::vector<uint8_t> wbuf;
    const int64_t j0 = g * kGemmGroupRows;
    const int group_rows = static_cast<int>(std::min<int64_t>(kGemmGroupRows, p.n - j0));
    const WeightPanel wp = decode_weight_panel(p.type, p.w + j0 * p.w_row_bytes, p.w_row_bytes, group_rows, p.k,
                                               kt.weight_bias, scratch(wbuf, group_rows * weight_panel_row_bytes(p.k)));
    for (int64_t c0 = 0; c0 < p.m; c0 += kt.tile_cols) {
      const int cols = static_cast<int>(std::min<int64_t>(kt.tile_cols, p.m - c0));
      const ActPanel at{p.k, act.q + c0 * p.k, act.d + c0 * (p.k / 32), act.dsum + c0 * (p.k / 16)};
      for (int r0 = 0; r0 < group_rows; r0 += kt.tile_rows) {
        const int rows = std::min(kt.tile_rows, group_rows - r0);
        const WeightPanel wt{p.k, wp.q + r0 * p.k, wp.lane_scale + r0 * (p.k / 4), wp.lane_corr + r0 * (p.k / 4),
                             wp.group_offset + r0 * (p.k / 16)};
        kt.gemm_i8_tile(wt, rows, at, cols, p.y + c0 * p.n + j0 + r0, p.n);
      }
    }
  });
}

void run_gemm_float(const Problem& p, ThreadPool& pool) {
  const IsaKernels& kt = *p.kernels;
  const int64_t n_groups = (p.n + kGemmGroupRows - 1) / kGemmGroupRows;
  pool.parallel_for(n_groups, [&](int64_t g, int) {
    thread_local std::vector<uint8_t> wbuf;
    const int64_t j0 = g * kGemmGroupRows;
    const int group_rows = static_cast<int>(std::min<int64_t>(kGemmGroupRows, p.n - j0));
    const float* wf;
    if (p.type == GgmlType::kF32) {
      wf = reinterpret_cast<const float*>(p.w) + j0 * p.k;
    } else {
      auto* conv = reinterpret_cast<float*>(scratch(wbuf, group_rows * p.k * sizeof(float)));
      const auto* src = reinterpret_cast<const uint16_t*>(p.w) + j0 * p.k;
      p.wk.to_f32(src, conv, group_rows * p.k);
      wf = conv;
    }
    for (int64_t c0 = 0; c0 < p.m; c0 += kt.tile_cols) {
      const int cols = static_cast<int>(std::min<int64_t>(kt.tile_cols, p.m - c0));
      for (int r0 = 0; r0 < group_rows; r0 += kt.tile_rows) {
        const int rows = std::min(kt.tile_rows, group_rows - r0);
        kt.gemm_f32_tile(wf + r0 * p.k, rows, p.x + c0 * p.k, cols, p.k, p.y + c0 * p.n + j0 + r0, p.n);
      }
    }
  });
}

}  // namespace

bool matmul_supports(GgmlType type) {
  if (isa_kernels(Isa::kScalar).weight_kernel(type).vec_dot == nullptr) return false;
  const bool is_float = type == GgmlType::kF32 || type == GgmlType::kF16 || type == GgmlType::kBF16;
  return is_float || has_weight_decoder(type);
}

absl::Status matmul(GgmlType type, const void* w, int64_t n, int64_t k, const float* x, int64_t m, float* y,
                    ThreadPool& pool, const MatmulOptions& options) {
  const GgmlTypeInfo* info = ggml_type_info(type);
  if (info == nullptr || !matmul_supports(type)) {
    return absl::UnimplementedError(
        absl::StrCat("matmul: no CPU kernel for weight type ",
                     info ? std::string(info->name) : std::to_string(static_cast<uint32_t>(type))));
  }
  if (n < 0 || k < 0 || m < 0) {
    return absl::InvalidArgumentError(absl::StrCat("matmul: negative size (n=", n, ", k=", k, ", m=", m, ")"));
  }
  if (k % info->block_size != 0) {
    return absl::InvalidArgumentError(absl::StrCat("matmul: k=", k, " is not a multiple of the ",
                                                   std::string(info->name), " block size ", info->block_size));
  }
  if (!isa_supported(options.isa)) {
    return absl::FailedPreconditionError(
        absl::StrCat("matmul: this CPU does not support the ", std::string(isa_name(options.isa)), " kernels"));
  }
  if (m == 0 || n == 0) return absl::OkStatus();
  if (y == nullptr || (k > 0 && (w == nullptr || x == nullptr))) {
    return absl::InvalidArgumentError("matmul: null weight, activation or output pointer");
  }
  if (k == 0) {
    std::fill(y, y + m * n, 0.0f);
    return absl::OkStatus();
  }

  Problem p;
  p.type = type;
  p.w = static_cast<const uint8_t*>(w);
  p.n = n, p.k = k, p.m = m, p.x = x, p.y = y;
  p.w_row_bytes = k / info->block_size * info->type_size;
  p.kernels = &isa_kernels(options.isa);
  p.wk = p.kernels->weight_kernel(type);
  if (p.wk.quantize != nullptr) {
    const GgmlTypeInfo* partner = ggml_type_info(p.wk.partner);
    p.a_row_bytes = k / partner->block_size * partner->type_size;
  } else {
    p.a_row_bytes = 0;
  }

  const bool gemv = options.path == MatmulPath::kGemv || (options.path == MatmulPath::kAuto && m <= kGemvMaxRows);
  thread_local std::vector<uint8_t> act_buf, panel_buf;
  const uint8_t* a = quantize_activations(p, pool, act_buf);
  if (gemv) {
    run_gemv(p, a, pool);
  } else if (p.wk.quantize == nullptr) {
    run_gemm_float(p, pool);
  } else {
    run_gemm_quantized(p, a, pool, panel_buf);
  }
  return absl::OkStatus();
}

}  // namespace strata::cpu
