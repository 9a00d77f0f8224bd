#include "kernels/cpu/quant_matmul.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/kernel_table.h"

namespace strata::cpu {
namespace {

// Weight rows a GEMM task multiplies with every activation row. The group's weights (64 rows: 72 KiB of Q4_0 at
// k = 2048, 200 KiB of Q6_K at k = 5632) stay in L2 while all activation tiles pass over them, so each weight byte
// comes from memory once per call; the quantized activations (m rows) stay in L2 across groups.
constexpr int64_t kGemmGroupRows = 64;

// GEMV work unit and software prefetch distance (see run_gemv and run_tiles). One core's demand misses plus the
// hardware prefetchers do not keep enough lines in flight to stream DRAM at the core's share of the bandwidth, so
// the kernels also prefetch into L2, a little per block. Measured on Sapphire Rapids (2 vCPUs, 23 GB/s streaming
// read), 2-thread Q4_0 GEMV: 13 GB/s without it, 16.4 GB/s prefetching the whole next row tile in one burst
// (which stalls the demand loads on the line-fill buffers), 19.5 GB/s spread over the blocks; distances from 512 B
// to 8 KiB beyond the row tile are all within noise.
constexpr int64_t kGemvChunkBytes = 128 * 1024;
constexpr int64_t kPrefetchBytes = 2048;
// Packed weights are one sequential stream per thread: the distance ahead of the current block.
constexpr int64_t kPackedPrefetchBytes = 4096;

// Reusable per-thread buffer: grows to the largest call and then stays, so steady-state calls do not allocate.
uint8_t* scratch(std::vector<uint8_t>& buf, size_t bytes) {
  if (buf.size() < bytes + 64) buf.resize(bytes + 64);
  auto addr = reinterpret_cast<uintptr_t>(buf.data());
  return buf.data() + ((64 - (addr & 63)) & 63);  // 64-byte aligned: whole cache lines per row
}

struct Problem {
  const uint8_t* w;  // [n, w_row_bytes]
  int64_t n, k, m;
  const float* x;       // [m, k]
  float* y;             // [m, n]
  int64_t w_row_bytes;  // bytes of one weight row
  int64_t a_row_bytes;  // bytes of one activation row in the partner format (k floats for float weights)
  WeightKernel wk;      // wk.dot reads w in its layout
  bool packed;
};

// Activation rows in the partner format: [m, a_row_bytes], or x itself for float weights. Each row is quantized by
// the same function whatever m is, so a row's bytes never depend on the batch.
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

// Outputs [j0, j1) x [0, m) in register tiles, activation tiles outermost. With `prefetch` (GEMV: each weight row
// is read once), the kernels request the weights kPrefetchBytes beyond the current row tile into L2 as they go.
void run_tiles(const Problem& p, const uint8_t* a, int64_t j0, int64_t j1, bool prefetch) {
  const int tile_rows = p.wk.tile_rows, tile_cols = p.wk.tile_cols;
  DotTile t;
  t.n = p.k;
  t.w_stride = p.w_row_bytes;
  t.a_stride = p.a_row_bytes;
  t.ldy = p.n;
  if (prefetch) t.prefetch = p.packed ? kPackedPrefetchBytes : tile_rows * p.w_row_bytes + kPrefetchBytes;
  for (int64_t c0 = 0; c0 < p.m; c0 += tile_cols) {
    const int cols = static_cast<int>(std::min<int64_t>(tile_cols, p.m - c0));
    t.a = a + c0 * p.a_row_bytes;
    for (int64_t j = j0; j < j1; j += tile_rows) {
      const int rows = static_cast<int>(std::min<int64_t>(tile_rows, j1 - j));
      t.w = p.w + j * p.w_row_bytes;
      t.y = p.y + c0 * p.n + j;
      p.wk.dot(t, rows, cols);
    }
  }
}

void run_gemv(const Problem& p, const uint8_t* a, ThreadPool& pool) {
  // Rows are handed out in contiguous chunks of about kGemvChunkBytes of weights: long enough for the prefetchers
  // to ramp up on each, small enough that a thread the OS preempts (a busy server) delays the op by one chunk, not
  // by half the matrix. Chunks are a multiple of 16 rows so no two threads write into one cache line of y.
  const int n_threads = pool.num_threads();
  int64_t chunk = std::max<int64_t>(16, kGemvChunkBytes / p.w_row_bytes) / 16 * 16;
  chunk = std::min(chunk, std::max<int64_t>(16, (p.n + n_threads - 1) / n_threads + 15) / 16 * 16);
  const int64_t n_tasks = (p.n + chunk - 1) / chunk;
  pool.parallel_for(n_tasks, [&](int64_t task, int) {
    const int64_t j0 = task * chunk;
    run_tiles(p, a, j0, std::min(p.n, j0 + chunk), /*prefetch=*/true);
  });
}

void run_gemm(const Problem& p, const uint8_t* a, ThreadPool& pool) {
  const int64_t n_groups = (p.n + kGemmGroupRows - 1) / kGemmGroupRows;
  pool.parallel_for(n_groups, [&](int64_t g, int) {
    const int64_t j0 = g * kGemmGroupRows;
    run_tiles(p, a, j0, std::min(p.n, j0 + kGemmGroupRows), /*prefetch=*/false);
  });
}

}  // namespace

bool matmul_supports(GgmlType type) { return isa_kernels(Isa::kScalar).weight_kernel(type).dot != nullptr; }

namespace {

// Rows of one packed group, and the block size of `type` (0 when there is no packed layout on `isa`).
struct PackedShape {
  int group_rows = 0;
  int64_t block_size = 0, type_size = 0;
};

PackedShape packed_shape(GgmlType type, Isa isa) {
  const GgmlTypeInfo* info = ggml_type_info(type);
  if (info == nullptr || !isa_supported(isa)) return {};
  const WeightKernel wk = isa_kernels(isa).weight_kernel(type);
  if (wk.pack == nullptr) return {};
  return {wk.tile_rows, info->block_size, static_cast<int64_t>(info->type_size)};
}

}  // namespace

size_t packed_weight_bytes(GgmlType type, int64_t n, int64_t k, Isa isa) {
  const PackedShape s = packed_shape(type, isa);
  if (s.group_rows == 0 || n <= 0 || k <= 0 || k % s.block_size != 0) return 0;
  const int64_t groups = (n + s.group_rows - 1) / s.group_rows;
  return static_cast<size_t>(groups * s.group_rows * (k / s.block_size) * s.type_size);
}

absl::Status pack_weights(GgmlType type, const void* w, int64_t n, int64_t k, void* dst, ThreadPool& pool, Isa isa) {
  if (packed_weight_bytes(type, n, k, isa) == 0) {
    const GgmlTypeInfo* info = ggml_type_info(type);
    return absl::InvalidArgumentError(absl::StrCat("pack_weights: no packed layout for ",
                                                   info ? std::string(info->name) : std::string("this type"), " (n=", n,
                                                   ", k=", k, ") on ", std::string(isa_name(isa))));
  }
  const PackedShape s = packed_shape(type, isa);
  const WeightKernel wk = isa_kernels(isa).weight_kernel(type);
  const int64_t n_blocks = k / s.block_size;
  const int64_t row_bytes = n_blocks * s.type_size;
  const int64_t groups = (n + s.group_rows - 1) / s.group_rows;
  const auto* src = static_cast<const uint8_t*>(w);
  auto* out = static_cast<uint8_t*>(dst);
  pool.parallel_for(groups, [&](int64_t g, int) {
    const int64_t r0 = g * s.group_rows;
    const int rows = static_cast<int>(std::min<int64_t>(s.group_rows, n - r0));
    wk.pack(src + r0 * row_bytes, row_bytes, rows, n_blocks, out + r0 * row_bytes);
  });
  return absl::OkStatus();
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
  p.wk = isa_kernels(options.isa).weight_kernel(type);
  p.packed = options.layout == WeightLayout::kCpuRowLanes16;
  if (p.packed) {
    if (p.wk.dot_packed == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("matmul: packed ", std::string(info->name),
                                                        " weights need the kernels they were packed for, not ",
                                                        std::string(isa_name(options.isa))));
    }
    p.wk.dot = p.wk.dot_packed;
  }
  p.w = static_cast<const uint8_t*>(w);
  p.n = n, p.k = k, p.m = m, p.x = x, p.y = y;
  p.w_row_bytes = k / info->block_size * info->type_size;
  if (p.wk.quantize != nullptr) {
    const GgmlTypeInfo* partner = ggml_type_info(p.wk.partner);
    p.a_row_bytes = k / partner->block_size * partner->type_size;
  } else {
    p.a_row_bytes = k * static_cast<int64_t>(sizeof(float));
  }

  const bool gemv = options.path == MatmulPath::kGemv || (options.path == MatmulPath::kAuto && m <= kGemvMaxRows);
  thread_local std::vector<uint8_t> act_buf;
  const uint8_t* a = quantize_activations(p, pool, act_buf);
  if (gemv) {
    run_gemv(p, a, pool);
  } else {
    run_gemm(p, a, pool);
  }
  return absl::OkStatus();
}

}  // namespace strata::cpu
