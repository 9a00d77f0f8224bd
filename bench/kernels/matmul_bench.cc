// CPU matmul throughput against this machine's measured memory bandwidth.
//
// GEMV (m = 1, decode) is bound by reading the weights, so it is reported in GB/s of weight bytes and as a share of
// the best streaming-read bandwidth measured here first. The weights are an 850M-parameter-like model
// (n_embd 2048, n_ff 5632: per layer q/k/v/o 2048x2048, gate/up 5632x2048, down 2048x5632), with enough distinct
// layers that their total is 4 x the last-level cache (memory_bandwidth_buffer_bytes), so every pass streams from DRAM.
// GEMV from L2 (one 2048 x 2048 slice of 512 rows, about 0.3-0.9 MB, read again and again by one thread) shows the
// kernel's own speed: it must stay well above each thread's share of DRAM bandwidth, or decode is compute-bound.
// GEMM (m = 16: batched decode of 16 streams; m = 128: prefill) is compute-bound and reported in G int8 ops/s (2 ops
// per multiply-add).
//
// Weights are in the layout the engine uses: packed for the ISA's kernels where it has a packed layout for the type
// (WeightLayout::kCpuRowLanes16), else GGUF; a third argument `gguf` measures the GGUF layout instead.
//
// Usage: matmul_bench [isa [type [gguf]]]   (isa: scalar | avx2 | avx512, default the active one; type: e.g. Q4_K,
// default all of Q4_0 Q8_0 Q4_K Q6_K Q4_1 Q5_0 Q5_1 Q5_K Q3_K Q2_K F16 BF16)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/gguf/ggml_type.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/host_memory.h"
#include "kernels/cpu/memory_bandwidth.h"
#include "kernels/cpu/quant_matmul.h"
#include "kernels/cpu/thread_pool.h"

namespace strata::cpu {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Matrix {
  int64_t n, k;
};

// GEMM batch sizes: 16 concurrent decode streams, and a prefill chunk.
constexpr int64_t kGemmRows[] = {16, 128};

constexpr Matrix kLayer[] = {{2048, 2048}, {2048, 2048}, {2048, 2048}, {2048, 2048},
                             {5632, 2048}, {5632, 2048}, {2048, 5632}};

// Byte offsets of the fp16 scale fields per block, set to a moderate value so no denormals or NaNs enter the
// timed arithmetic (they could take slow microcode paths and distort the numbers).
std::vector<int> half_fields(GgmlType type) {
  switch (type) {
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
    case GgmlType::kQ8_0:
      return {0};
    case GgmlType::kQ4_1:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
      return {0, 2};
    case GgmlType::kQ3_K:
      return {108};
    case GgmlType::kQ2_K:
      return {80, 82};
    case GgmlType::kQ6_K:
      return {208};
    default:
      return {};
  }
}

// Weight bytes in the memory the CPU backend gives weights (huge pages where granted), shared by the models below.
struct Buffer {
  std::shared_ptr<uint8_t> bytes;
  size_t size = 0;
  explicit Buffer(size_t n) : bytes(static_cast<uint8_t*>(allocate_host_memory(n)), release_host_memory), size(n) {}
  uint8_t* data() const { return bytes.get(); }
};

struct Model {
  std::vector<Buffer> weights;  // per matrix, all layers
  std::vector<Matrix> shapes;
  int64_t bytes = 0;  // GGUF bytes of all matrices (a packed matrix reads the same bytes)
  int layers = 0;
  WeightLayout layout = WeightLayout::kGguf;
};

// Rewrites every matrix in the packed layout of `isa`, where it has one for `type`.
void pack_model(GgmlType type, Model& model, ThreadPool& pool, Isa isa) {
  if (packed_weight_bytes(type, kLayer[0].n, kLayer[0].k, isa) == 0) return;
  for (size_t i = 0; i < model.weights.size(); ++i) {
    const Matrix& mat = model.shapes[i];
    Buffer packed(packed_weight_bytes(type, mat.n, mat.k, isa));
    const absl::Status s = pack_weights(type, model.weights[i].data(), mat.n, mat.k, packed.data(), pool, isa);
    if (!s.ok()) std::fprintf(stderr, "pack_weights failed: %s\n", s.ToString().c_str());
    model.weights[i] = std::move(packed);
  }
  model.layout = WeightLayout::kCpuRowLanes16;
}

// Float weights keep their random signs and mantissas but get a moderate exponent (|w| in [2^-8, 2^-7)): random
// bits would make 1 in 256 BF16 / F32 values a denormal, whose slow microcode paths would be timed instead of the
// kernel (BF16 GEMV read 13 GB/s from L2 that way).
void tame_floats(GgmlType type, Buffer& w) {
  if (type == GgmlType::kF16 || type == GgmlType::kBF16) {
    const uint16_t keep = type == GgmlType::kF16 ? 0x83FF : 0x807F, exponent = type == GgmlType::kF16 ? 0x1C00 : 0x3B80;
    for (size_t i = 0; i + 2 <= w.size; i += 2) {
      uint16_t v;
      std::memcpy(&v, w.data() + i, 2);
      v = static_cast<uint16_t>((v & keep) | exponent);
      std::memcpy(w.data() + i, &v, 2);
    }
  } else if (type == GgmlType::kF32) {
    for (size_t i = 0; i + 4 <= w.size; i += 4) {
      uint32_t v;
      std::memcpy(&v, w.data() + i, 4);
      v = (v & 0x807FFFFFu) | 0x3B800000u;
      std::memcpy(w.data() + i, &v, 4);
    }
  }
}

Model make_model(GgmlType type, int64_t min_bytes) {
  const GgmlTypeInfo* info = ggml_type_info(type);
  auto matrix_bytes = [&](const Matrix& mat) { return mat.n * (mat.k / info->block_size) * info->type_size; };
  int64_t layer_bytes = 0;
  for (const Matrix& mat : kLayer) layer_bytes += matrix_bytes(mat);
  Model model;
  model.layers = static_cast<int>(std::max<int64_t>(16, (min_bytes + layer_bytes - 1) / layer_bytes));
  std::mt19937_64 rng(1234);
  const uint16_t half_scale = 0x1C00;  // 2^-8
  for (int l = 0; l < model.layers; ++l) {
    for (const Matrix& mat : kLayer) {
      Buffer w(matrix_bytes(mat));
      for (size_t i = 0; i + 8 <= w.size; i += 8) {
        const uint64_t r = rng();
        std::memcpy(w.data() + i, &r, 8);
      }
      for (size_t b = 0; b < w.size / info->type_size; ++b) {
        for (int off : half_fields(type)) std::memcpy(w.data() + b * info->type_size + off, &half_scale, 2);
      }
      tame_floats(type, w);
      model.bytes += static_cast<int64_t>(w.size);
      model.weights.push_back(std::move(w));
      model.shapes.push_back(mat);
    }
  }
  return model;
}

// One pass over every matrix of every layer with m activation rows; returns seconds.
double run_pass(GgmlType type, const Model& model, int64_t m, const std::vector<float>& x, float* y, ThreadPool& pool,
                Isa isa) {
  MatmulOptions options;
  options.isa = isa;
  options.layout = model.layout;
  const auto t0 = Clock::now();
  for (size_t i = 0; i < model.weights.size(); ++i) {
    const Matrix& mat = model.shapes[i];
    const absl::Status s = matmul(type, model.weights[i].data(), mat.n, mat.k, x.data(), m, y, pool, options);
    if (!s.ok()) {
      std::fprintf(stderr, "matmul failed: %s\n", s.ToString().c_str());
      return 1e9;
    }
  }
  return seconds_since(t0);
}

int bench_main(int argc, char** argv) {
  Isa isa = active_isa();
  if (argc > 1) {
    absl::StatusOr<Isa> parsed = parse_isa(argv[1]);
    if (!parsed.ok() || !isa_supported(*parsed)) {
      std::fprintf(stderr, "unknown or unsupported ISA '%s'\n", argv[1]);
      return 2;
    }
    isa = *parsed;
  }
  std::vector<GgmlType> types = {GgmlType::kQ4_0, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ6_K,
                                 GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ5_K,
                                 GgmlType::kQ3_K, GgmlType::kQ2_K, GgmlType::kF16,  GgmlType::kBF16};
  if (argc > 2) {  // a single type by name, e.g. Q4_K
    const auto named =
        std::find_if(types.begin(), types.end(), [&](GgmlType t) { return ggml_type_info(t)->name == argv[2]; });
    if (named == types.end()) {
      std::string names;
      for (GgmlType t : types) names += " " + std::string(ggml_type_info(t)->name);
      std::fprintf(stderr, "unknown weight type '%s'; one of:%s\n", argv[2], names.c_str());
      return 2;
    }
    types = {*named};
  }
  ThreadPool pool1(1), pool2(2);
  // One buffer for both figures, held to the end: freeing gigabytes slows what runs in the next seconds
  // (ReadBandwidthMeter).
  ReadBandwidthMeter meter;
  const double bw1 = meter.measure(pool1), bw2 = meter.measure(pool2);
  // The models below are as large as the bandwidth buffer, so both read DRAM, not the last-level cache.
  const int64_t min_bytes = static_cast<int64_t>(meter.bytes());
  std::printf("ISA %s; streaming read of %.1f GiB: %.1f GB/s (1 thread), %.1f GB/s (2 threads)\n",
              std::string(isa_name(isa)).c_str(), min_bytes / 1073741824.0, bw1, bw2);
  std::printf("(* packed layout)\n%-6s %8s %6s | %-22s | %-22s | %-13s | %s\n", "type", "weights", "layers",
              "GEMV m=1, 1 thread", "GEMV m=1, 2 threads", "GEMV L2, 1 th", "GEMM m=16 | m=128, 2 threads");

  const std::vector<float> x = [] {
    std::vector<float> v(128 * 5632);
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& f : v) f = normal(rng);
    return v;
  }();
  // Outputs in the backend's memory (64-byte aligned), where the packed GEMV writes whole lines non-temporally.
  const Buffer y_buffer(128 * 5632 * sizeof(float));
  float* y = reinterpret_cast<float*>(y_buffer.data());
  const bool gguf_only = argc > 3 && std::strcmp(argv[3], "gguf") == 0;
  for (GgmlType type : types) {
    Model model = make_model(type, min_bytes);
    if (!gguf_only) pack_model(type, model, pool2, isa);
    double gbs[2];
    ThreadPool* pools[2] = {&pool1, &pool2};
    for (int t = 0; t < 2; ++t) {
      run_pass(type, model, 1, x, y, *pools[t], isa);  // warm-up: page faults, scratch growth
      double best = 1e9;
      for (int rep = 0; rep < 5; ++rep) best = std::min(best, run_pass(type, model, 1, x, y, *pools[t], isa));
      gbs[t] = model.bytes / best / 1e9;
    }
    // GEMV from L2: the first 512 rows of the first matrix, 1 thread.
    Model hot;
    hot.layout = model.layout;
    hot.weights.push_back(model.weights[0]);
    hot.shapes.push_back(Matrix{512, kLayer[0].k});
    const int64_t hot_bytes = static_cast<int64_t>(model.weights[0].size) * 512 / kLayer[0].n;
    double hot_best = 1e9;
    for (int rep = 0; rep < 200; ++rep) hot_best = std::min(hot_best, run_pass(type, hot, 1, x, y, pool1, isa));
    // GEMM: one layer's matrices (compute-bound; no need to stream the whole model).
    Model one_layer;
    one_layer.layout = model.layout;
    for (size_t i = 0; i < std::size(kLayer); ++i) {
      one_layer.weights.push_back(model.weights[i]);
      one_layer.shapes.push_back(model.shapes[i]);
    }
    double gops[2];
    for (int g = 0; g < 2; ++g) {
      const int64_t m = kGemmRows[g];
      double ops = 0.0;
      for (const Matrix& mat : kLayer) ops += 2.0 * m * mat.n * mat.k;
      run_pass(type, one_layer, m, x, y, pool2, isa);
      double best = 1e9;
      for (int rep = 0; rep < 5; ++rep) best = std::min(best, run_pass(type, one_layer, m, x, y, pool2, isa));
      gops[g] = ops / best / 1e9;
    }
    std::printf(
        "%-5s%c %6.0fMB %6d | %6.1f GB/s (%5.1f %%) | %6.1f GB/s (%5.1f %%) | %8.1f GB/s | %7.1f | %7.1f Gop/s\n",
        std::string(ggml_type_info(type)->name).c_str(), model.layout == WeightLayout::kCpuRowLanes16 ? '*' : ' ',
        model.bytes / 1e6, model.layers, gbs[0], 100.0 * gbs[0] / bw1, gbs[1], 100.0 * gbs[1] / bw2,
        hot_bytes / hot_best / 1e9, gops[0], gops[1]);
  }
  return 0;
}

}  // namespace
}  // namespace strata::cpu

int main(int argc, char** argv) { return strata::cpu::bench_main(argc, argv); }
