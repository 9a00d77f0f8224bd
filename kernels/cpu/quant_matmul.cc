#include "kernels/cpu/quant_matmul.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "kernels/cpu/kernel_table.h"

namespace strata::cpu {
namespace {

// Weight rows a GEMM task multiplies with every activation row. The group's weights (64 rows: 72 KiB of Q4_0 at
// k = 2048, 200 KiB of Q6_K at k = 5632) stay in L2 while all activation tiles pass over them, so each weight byte
// comes from memory once per call; the quantized activations (m rows) stay in L2 across groups.
constexpr int64_t kGemmGroupRows = 64;

// GEMV work unit and software prefetch distance (see make_schedule and run_tiles). One core's demand misses plus the
// hardware prefetchers do not keep enough lines in flight to stream DRAM at the core's share of the bandwidth, so
// the kernels also prefetch into L2, a little per block. Measured on Sapphire Rapids (2 vCPUs, 23 GB/s streaming
// read), 2-thread Q4_0 GEMV: 13 GB/s without it, 16.4 GB/s prefetching the whole next row tile in one burst
// (which stalls the demand loads on the line-fill buffers), 19.5 GB/s spread over the blocks; distances from 512 B
// to 8 KiB beyond the row tile are all within noise.
constexpr int64_t kGemvChunkBytes = 64 * 1024;
constexpr double kGemvStaticShare = 0.9;
// The dynamic part's chunks: what is left over kGemvChunkShare x threads, at least kGemvChunkBytes; from
// kGemvLongChunkBytes on, read in as many streams as the static part. With fixed 64 KiB 2-stream chunks the
// dynamic tenth of the bytes took 13 % of the kernel's time in a Q8_0 decode profile (perf), 5 % with these;
// decode +0.8 % (Q8_0, 6 interleaved rounds, 4 won).
constexpr int64_t kGemvChunkShare = 2;
constexpr int64_t kGemvLongChunkBytes = 4 * kGemvChunkBytes;
constexpr int64_t kPrefetchBytes = 2048;
// Packed weights are one sequential stream per thread: the distance ahead of the current block. On the same VM with
// huge pages (read: 36 GB/s), 2-thread Q4_0 GEMV: 27 GB/s without software prefetch, 29.8 at 2 KiB, 31 at 3 KiB,
// 28.6 at 4 KiB; one prefetch per 128 bytes instead of per line loses ~10 %.
constexpr int64_t kPackedPrefetchBytes = 3072;
// And a second prefetch into L1, kPackedPrefetchL1Bytes (isa_kernels.h) ahead (DotTile::prefetch_l1): e2e decode
// +3-4 % (Q4_0, Q4_K_M); 384-1152 B measure the same.
//
// Packed GEMV reading several streams per thread (WeightKernel::gemv_streams), each prefetched into L2
// kPackedStreamsPrefetchBytes / streams ahead. One core streaming while it computes keeps fewer lines in flight
// than a plain read loop (its hardware prefetchers track each stream on its own); streams side by side recover part
// of it. Same VM, 2 threads, decode tok/s, each figure the mean of 3 rounds interleaved with the others of its
// series: Q4_0 72.4 (one stream), 76.4 at 3 KiB per stream, 74.1 at 4, 73.0 at 5 (another series: 73.4 at 2 KiB,
// 75.7 at 3); Q8_0 37.6 (one stream), 39.0 at 2 KiB, 39.3 at 3; Q4_K_M 61.8 (one stream), 63.4 at 2 KiB (another
// series: 65.6 at 2 KiB, 66.8 at 3). The 32-block formats read 4 streams at 1.5 KiB each on AVX-512, with the
// prefetch distances compiled in (prefetch_fixed): Q4_0 76.7 vs 73.0 tok/s with 2 (4 rounds, every round faster;
// another series +2.3 %), Q8_0 39.0 vs 38.5. With the distances read from DotTile per block, 4 streams had measured
// +2.6 % once and nothing the next time; a stand-alone loop shaped like the Q4_0 kernel read 37.4 GB/s with 4
// streams against 35.0 with 2, which pointed at the kernel's own overhead per block. Their streams also share one
// activation block's loads and scalars (LaneLegacy::block reads them from the call's tile, not each stream's copy):
// Q4_0 +6.1 and +4.3 % in two series (75.3-76.4 tok/s), Q8_0 +0.6 %. The k-quant kernels must interleave the streams
// finely (by half quarters of a super-block in LaneQ45K, by quarters in LaneQ6K): whole 2.3-3.4 KiB super-blocks
// side by side gained nothing, and 4 streams that way lost 11 %; 4 quarter-interleaved streams lose 3 % (Q4_K_M
// 63.1 vs 64.9).
//
// The packed GEMV writes its outputs with non-temporal stores (DotTile::stream_y). A normal store of a tile's 16
// outputs misses (the weights streamed since the last layer evicted y from L2) and its read-for-ownership costs
// the core's weight stream ~7 % (1-thread Q4_0 loop with the kernel's structure: 17.3 GB/s storing y, 18.3 with
// non-temporal stores or none). Decode tok/s, 2 threads, 3 rounds interleaved: AVX-512 Q4_0 68.7 -> 70.7, Q8_0
// 36.5 -> 37.8, Q4_K_M 63.4 -> 66.1; AVX2 Q4_0 66.9 -> 71.3, Q4_K_M 58.1 -> 59.4. The op that reads y next
// then misses in cache, but y is a few KiB against megabytes of weights.

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

// The activations of one partner format, quantized once per call, and their per-block sums (ActSums).
struct Activations {
  const uint8_t* rows = nullptr;  // [m, a_row_bytes], or x for float weights
  const float* d = nullptr;       // [m, activation_sums_per_row] when the kernel takes act_sums
  const int32_t* sum = nullptr;
  const float* s = nullptr;
};

// Per-thread buffers of one partner format: reused across calls, so steady-state calls do not allocate.
struct ActivationBuffers {
  std::vector<uint8_t> rows;
  std::vector<float> d, s;
  std::vector<int32_t> sum;
};

// Activation rows in the partner format: [m, a_row_bytes], or x itself for float weights, plus the per-block sums
// where the kernel takes them. Each row is quantized by the same function whatever m is, so a row's bytes never
// depend on the batch.
Activations quantize_activations(const Problem& p, bool sums, ThreadPool& pool, ActivationBuffers& buf) {
  Activations out;
  if (p.wk.quantize == nullptr) {
    out.rows = reinterpret_cast<const uint8_t*>(p.x);
    return out;
  }
  uint8_t* a = scratch(buf.rows, p.m * p.a_row_bytes);
  const int64_t nb = activation_sums_per_row(p.wk.partner, p.k);
  if (sums) {
    buf.d.resize(p.m * nb);
    buf.sum.resize(p.m * nb);
    buf.s.resize(p.m * nb);
  }
  auto row = [&](int64_t i) {
    uint8_t* ai = a + i * p.a_row_bytes;
    p.wk.quantize(p.x + i * p.k, ai, p.k);
    if (!sums) return;
    activation_sums(p.wk.partner, ai, p.k, &buf.d[i * nb], &buf.sum[i * nb], &buf.s[i * nb]);
  };
  if (p.m <= kGemvMaxRows) {
    // A few microseconds of work: not worth waking the pool.
    for (int64_t i = 0; i < p.m; ++i) row(i);
  } else {
    pool.parallel_for(p.m, [&](int64_t i, int) { row(i); });
  }
  out.rows = a;
  if (sums) {
    out.d = buf.d.data();
    out.sum = buf.sum.data();
    out.s = buf.s.data();
  }
  return out;
}

// Outputs [j0, j1) x [0, m) in register tiles, activation tiles outermost. With `prefetch` (GEMV: each weight row
// is read once), the kernels request the weights ahead of the current row tile into L2 as they go.
void run_tiles(const Problem& p, const Activations& a, int64_t j0, int64_t j1, bool prefetch) {
  const int tile_rows = p.wk.tile_rows, tile_cols = p.wk.tile_cols;
  DotTile t;
  t.n = p.k;
  t.w_stride = p.w_row_bytes;
  t.a_stride = p.a_row_bytes;
  t.ldy = p.n;
  t.a_sums_stride = p.wk.act_sums ? activation_sums_per_row(p.wk.partner, p.k) : 0;
  if (prefetch) {
    t.prefetch = p.packed ? kPackedPrefetchBytes : tile_rows * p.w_row_bytes + kPrefetchBytes;
    t.prefetch_l1 = p.packed ? kPackedPrefetchL1Bytes : 0;
    t.stream_y = p.packed;
  }
  for (int64_t c0 = 0; c0 < p.m; c0 += tile_cols) {
    const int cols = static_cast<int>(std::min<int64_t>(tile_cols, p.m - c0));
    t.a = a.rows + c0 * p.a_row_bytes;
    if (a.d != nullptr) {
      t.a_d = a.d + c0 * t.a_sums_stride;
      t.a_sum = a.sum + c0 * t.a_sums_stride;
      t.a_s = a.s + c0 * t.a_sums_stride;
    }
    int64_t j = j0;
    // Streams side by side (DotTile::streams): the range's full groups in `streams` contiguous parts, block i of
    // each part in turn; what does not divide evenly goes the same way in half as many streams, and the rest (and a
    // last partial group) as one.
    for (int streams = p.wk.gemv_streams; prefetch && p.packed && streams > 1 && cols <= kGemvMaxRows; streams /= 2) {
      const int64_t per = (j1 - j) / tile_rows / streams;
      if (per == 0) continue;
      DotTile ts = t;
      ts.streams = streams;
      ts.stream_w_stride = per * tile_rows * p.w_row_bytes;
      ts.stream_y_stride = per * tile_rows;
      ts.prefetch = kPackedStreamsPrefetchBytes / streams;
      const int64_t end = j + per * streams * tile_rows;
      for (int64_t k = 0; k < per; ++k, j += tile_rows) {
        ts.w = p.w + j * p.w_row_bytes;
        ts.y = p.y + c0 * p.n + j;
        p.wk.dot(ts, tile_rows, cols);
      }
      j = end;
    }
    for (; j < j1; j += tile_rows) {
      const int rows = static_cast<int>(std::min<int64_t>(tile_rows, j1 - j));
      t.w = p.w + j * p.w_row_bytes;
      t.y = p.y + c0 * p.n + j;
      p.wk.dot(t, rows, cols);
    }
  }
}

// The output rows of all products of a call, product after product, in units of 16 rows (the last unit of a product
// may be shorter): a task is a range of units, possibly spanning products. 16-row units keep threads from writing
// into one cache line of y and never split a packed group.
constexpr int64_t kUnitRows = 16;

// Small per-call arrays live inline: a decode step makes ~4 matmul calls per layer, and their heap allocations were
// a measurable part of a small GEMV's fixed cost.
template <typename T>
using CallVector = absl::InlinedVector<T, 8>;

struct Schedule {
  CallVector<int64_t> first_unit;               // per problem, and the total at the end
  absl::InlinedVector<int64_t, 64> task_start;  // task t is units [task_start[t], task_start[t + 1])
};

int64_t units_of(const Problem& p) { return (p.n + kUnitRows - 1) / kUnitRows; }

// GEMV: each thread first takes one long contiguous range (together kGemvStaticShare of the weight bytes), so it
// streams as long as possible without restarting the prefetchers; the rest goes out in chunks of about
// kGemvChunkBytes to whichever thread is free, so the threads finish together and a thread the OS preempts (a busy
// server) delays the op by a chunk, not by half the weights. GEMM: groups of kGemmGroupRows rows of one product.
Schedule make_schedule(std::span<const Problem> problems, bool gemv, int n_threads) {
  Schedule s;
  int64_t units = 0, total_bytes = 0;
  for (const Problem& p : problems) {
    s.first_unit.push_back(units);
    units += units_of(p);
    total_bytes += p.n * p.w_row_bytes;
  }
  s.first_unit.push_back(units);
  s.task_start.push_back(0);
  if (!gemv) {
    for (size_t i = 0; i < problems.size(); ++i) {
      for (int64_t u = s.first_unit[i]; u < s.first_unit[i + 1];) {
        u = std::min(s.first_unit[i + 1], u + kGemmGroupRows / kUnitRows);
        s.task_start.push_back(u);
      }
    }
    return s;
  }
  const int64_t static_bytes = n_threads > 1 ? static_cast<int64_t>(total_bytes * kGemvStaticShare) : total_bytes;
  const int64_t big = static_bytes / n_threads;
  int64_t task_bytes = 0, task_units = 0, left_bytes = total_bytes;
  int n_big = 0;
  for (size_t i = 0; i < problems.size(); ++i) {
    const int64_t unit_bytes = kUnitRows * problems[i].w_row_bytes;
    const int streams = problems[i].wk.gemv_streams;
    for (int64_t u = s.first_unit[i]; u < s.first_unit[i + 1]; ++u) {
      task_bytes += unit_bytes;
      ++task_units;
      const bool is_big = n_big < n_threads;
      // Chunks shrink with what is left (guided scheduling): the first ones after the static part are long
      // enough to stream like it, the last ones small enough that the threads finish together.
      const int64_t target = is_big ? big : std::max(kGemvChunkBytes, left_bytes / (kGemvChunkShare * n_threads));
      // A task ends on a whole number of groups per stream, so the packed GEMV reads all of it side by side: a
      // chunk of one Q8_0 / Q6_K group at k = 5632 (96 / 74 KiB) ran as one stream, 39 % slower per byte. Small
      // chunks take 2 streams even where the kernel reads 4 (run_tiles reads them as 2): 4 Q8_0 groups at
      // k = 5632 are 383 KiB, a coarse unit for balancing the threads' finish (Q8_0 decode +0.9 %, Q4_0 +1.1 %
      // with 2-stream chunks, 4 interleaved rounds each: small, but every round but one gained).
      const int task_streams = is_big || task_bytes >= kGemvLongChunkBytes ? streams : std::min(streams, 2);
      if (task_bytes >= target && task_units % task_streams == 0) {
        s.task_start.push_back(u + 1);
        left_bytes -= task_bytes;
        task_bytes = task_units = 0;
        ++n_big;
      }
    }
  }
  if (s.task_start.back() != units) s.task_start.push_back(units);
  return s;
}

// Runs units [u0, u1) of the schedule.
void run_units(std::span<const Problem> problems, std::span<const Activations> acts, const Schedule& s, int64_t u0,
               int64_t u1, bool gemv) {
  for (size_t i = 0; i < problems.size(); ++i) {
    const int64_t b = std::max(u0, s.first_unit[i]), e = std::min(u1, s.first_unit[i + 1]);
    if (b >= e) continue;
    const Problem& p = problems[i];
    run_tiles(p, acts[i], (b - s.first_unit[i]) * kUnitRows, std::min(p.n, (e - s.first_unit[i]) * kUnitRows),
              /*prefetch=*/gemv);
  }
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
  return {static_cast<int>(kUnitRows), info->block_size, static_cast<int64_t>(info->type_size)};
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

namespace {

// Checks one product and fills its Problem (all but the activations' bytes).
absl::Status make_problem(const MatmulProduct& product, int64_t k, const float* x, int64_t m,
                          const MatmulOptions& options, Problem& p) {
  const GgmlType type = product.type;
  const int64_t n = product.n;
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
  if (m > 0 && n > 0 && (product.y == nullptr || (k > 0 && (product.w == nullptr || x == nullptr)))) {
    return absl::InvalidArgumentError("matmul: null weight, activation or output pointer");
  }
  p.wk = isa_kernels(options.isa).weight_kernel(type);
  p.packed = product.layout == WeightLayout::kCpuRowLanes16;
  if (p.packed) {
    if (p.wk.dot_packed == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("matmul: packed ", std::string(info->name),
                                                        " weights need the kernels they were packed for, not ",
                                                        std::string(isa_name(options.isa))));
    }
    p.wk.dot = p.wk.dot_packed;
    p.wk.tile_rows = static_cast<int>(kUnitRows);  // one packed group per tile, whatever the ISA's own tiles
    p.wk.tile_cols = p.wk.packed_tile_cols;
  }
  p.w = static_cast<const uint8_t*>(product.w);
  p.n = n, p.k = k, p.m = m, p.x = x, p.y = product.y;
  p.w_row_bytes = k / info->block_size * info->type_size;
  if (p.wk.quantize != nullptr) {
    const GgmlTypeInfo* partner = ggml_type_info(p.wk.partner);
    p.a_row_bytes = k / partner->block_size * partner->type_size;
  } else {
    p.a_row_bytes = k * static_cast<int64_t>(sizeof(float));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status matmul_group(std::span<const MatmulProduct> products, int64_t k, const float* x, int64_t m,
                          ThreadPool& pool, const MatmulOptions& options) {
  if (!isa_supported(options.isa)) {
    return absl::FailedPreconditionError(
        absl::StrCat("matmul: this CPU does not support the ", std::string(isa_name(options.isa)), " kernels"));
  }
  CallVector<Problem> problems(products.size());
  for (size_t i = 0; i < products.size(); ++i) {
    if (absl::Status s = make_problem(products[i], k, x, m, options, problems[i]); !s.ok()) return s;
  }
  if (m == 0) return absl::OkStatus();
  if (k == 0) {
    for (const Problem& p : problems) std::fill(p.y, p.y + m * p.n, 0.0f);
    return absl::OkStatus();
  }

  // Activations quantized once per partner format (Q/K/V of a Q4_K_M layer: Q4_K and Q6_K both take Q8_K).
  thread_local ActivationBuffers act_bufs[3];
  GgmlType quantized_as[3];
  Activations quantized[3];
  int n_quantized = 0;
  CallVector<Activations> acts(problems.size());
  for (size_t i = 0; i < problems.size(); ++i) {
    const Problem& p = problems[i];
    if (p.wk.quantize == nullptr) {  // float weights read x itself
      acts[i].rows = reinterpret_cast<const uint8_t*>(x);
      continue;
    }
    int slot = 0;
    while (slot < n_quantized && quantized_as[slot] != p.wk.partner) ++slot;
    if (slot == n_quantized) {
      if (n_quantized == 3) return absl::InternalError("matmul: more than 3 activation formats in one group");
      quantized_as[slot] = p.wk.partner;
      // The block sums when any product of this partner format reads them: a group may mix types with and without
      // row-lane kernels (AVX2: Q3_K's tiles and Q4_K's row lanes both take Q8_K).
      bool sums = false;
      for (const Problem& q : problems) sums = sums || (q.wk.partner == p.wk.partner && q.wk.act_sums);
      quantized[slot] = quantize_activations(p, sums, pool, act_bufs[slot]);
      ++n_quantized;
    }
    acts[i] = quantized[slot];
  }

  // One pool hand-off for every output row of every product.
  const bool gemv = options.path == MatmulPath::kGemv || (options.path == MatmulPath::kAuto && m <= kGemvMaxRows);
  const Schedule schedule = make_schedule(problems, gemv, pool.num_threads());
  pool.parallel_for(static_cast<int64_t>(schedule.task_start.size()) - 1, [&](int64_t t, int) {
    run_units(problems, acts, schedule, schedule.task_start[t], schedule.task_start[t + 1], gemv);
#if defined(__x86_64__)
    // The packed GEMV writes y with non-temporal stores (DotTile::stream_y), which are weakly ordered: fence them
    // before this task counts as done and another thread reads y.
    if (gemv) _mm_sfence();
#endif
  });
  return absl::OkStatus();
}

absl::Status matmul(GgmlType type, const void* w, int64_t n, int64_t k, const float* x, int64_t m, float* y,
                    ThreadPool& pool, const MatmulOptions& options) {
  const MatmulProduct product{type, w, n, options.layout, y};
  return matmul_group(std::span<const MatmulProduct>(&product, 1), k, x, m, pool, options);
}

}  // namespace strata::cpu
