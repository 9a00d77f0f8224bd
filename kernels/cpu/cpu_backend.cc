#include "kernels/cpu/cpu_backend.h"

#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/host_memory.h"
#include "kernels/cpu/quant_matmul.h"
#include "kernels/ops/cpu_ops.h"

namespace strata::cpu {
namespace {

// MADV_POPULATE_READ (Linux 5.14), spelled out where the C library's headers predate it.
#ifdef MADV_POPULATE_READ
constexpr int kMadvisePopulateRead = MADV_POPULATE_READ;
#else
constexpr int kMadvisePopulateRead = 22;
#endif

}  // namespace

int default_thread_count() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

CpuBackend::CpuBackend(int n_threads)
    : pool_(std::make_unique<ThreadPool>(n_threads > 0 ? n_threads : default_thread_count())) {}

CpuBackend::~CpuBackend() = default;

std::string CpuBackend::name() const {
  return absl::StrCat("cpu (", std::string(isa_name(active_isa())), ", ", pool_->num_threads(), " threads)");
}

absl::StatusOr<void*> CpuBackend::allocate(size_t bytes) {
  void* p = allocate_host_memory(bytes);
  if (p == nullptr) return absl::ResourceExhaustedError(absl::StrCat("cpu backend: cannot allocate ", bytes, " bytes"));
  return p;
}

void CpuBackend::release(void* ptr) { release_host_memory(ptr); }

absl::Status CpuBackend::copy_to_backend(void* dst, const void* host_src, size_t bytes) {
  std::memcpy(dst, host_src, bytes);
  return absl::OkStatus();
}

absl::Status CpuBackend::copy_to_host(void* host_dst, const void* src, size_t bytes) {
  std::memcpy(host_dst, src, bytes);
  return absl::OkStatus();
}

absl::StatusOr<const void*> CpuBackend::map_weights(const void* host, size_t bytes) {
  // Read in place from the file mapping, whose page tables are filled now rather than by the first read of each
  // page: the embedding table stays mapped (embed reads it there), and a decode step that looks up a row for the
  // first time would otherwise stop on a page fault (850M Q4_0: embed 17 us per token against 3 us). The matrices
  // that are packed are read once at load, which maps their pages anyway. Advice only: kernels before 5.14 reject
  // MADV_POPULATE_READ, and the pages then map on first use.
  const long page = sysconf(_SC_PAGESIZE);
  if (page > 0 && bytes > 0) {
    const uintptr_t begin = reinterpret_cast<uintptr_t>(host) / page * page;
    const uintptr_t end = (reinterpret_cast<uintptr_t>(host) + bytes + page - 1) / page * page;
    (void)madvise(reinterpret_cast<void*>(begin), end - begin, kMadvisePopulateRead);
  }
  return host;
}

size_t CpuBackend::packed_weight_bytes(const WeightTensor& w) const {
  if (w.layout != WeightLayout::kGguf || !matmul_supports(w.type)) return 0;
  if (const size_t packed = cpu::packed_weight_bytes(w.type, w.n_rows, w.row_len); packed > 0) return packed;
  // No packed layout on this ISA: a plain copy, which still moves the weights from the file mapping's 4 KiB pages
  // to huge pages (allocate_host_memory).
  return static_cast<size_t>(w.n_rows) * w.row_bytes;
}

absl::StatusOr<WeightTensor> CpuBackend::pack_weight(const WeightTensor& w, void* dst) {
  if (packed_weight_bytes(w) == 0) {
    return absl::InvalidArgumentError("cpu backend: matmul cannot read this weight, so it is not packed");
  }
  WeightTensor packed = w;
  packed.data = dst;
  if (cpu::packed_weight_bytes(w.type, w.n_rows, w.row_len) == 0) {
    std::memcpy(dst, w.data, static_cast<size_t>(w.n_rows) * w.row_bytes);
    return packed;
  }
  if (absl::Status s = cpu::pack_weights(w.type, w.data, w.n_rows, w.row_len, dst, *pool_); !s.ok()) return s;
  packed.layout = WeightLayout::kCpuRowLanes16;
  return packed;
}

absl::Status CpuBackend::matmul(const WeightTensor& w, const float* x, int64_t m, float* y) {
  MatmulOptions options;
  options.layout = w.layout;
  return cpu::matmul(w.type, w.data, w.n_rows, w.row_len, x, m, y, *pool_, options);
}

absl::Status CpuBackend::matmul_group(std::span<const MatmulOutput> outputs, const float* x, int64_t m) {
  if (outputs.empty()) return absl::OkStatus();
  const int64_t k = outputs[0].w->row_len;
  std::vector<MatmulProduct> products;
  products.reserve(outputs.size());
  for (const MatmulOutput& o : outputs) {
    if (o.w->row_len != k) {
      return absl::InvalidArgumentError(
          absl::StrCat("matmul_group: weights of different row lengths (", k, " and ", o.w->row_len, ")"));
    }
    products.push_back({o.w->type, o.w->data, o.w->n_rows, o.w->layout, o.y});
  }
  return cpu::matmul_group(products, k, x, m, *pool_);
}

absl::Status CpuBackend::embed(const WeightTensor& table, const int32_t* ids, int64_t m, float scale, float* y) {
  return cpu::embed(table, ids, m, scale, y);
}

void CpuBackend::rms_norm(const float* x, const float* w, int64_t m, int64_t n, float eps, float* y) {
  cpu::rms_norm(x, w, m, n, eps, y, *pool_);
}

void CpuBackend::rope(float* x, const int32_t* pos, int64_t m, int64_t n_heads, int64_t head_dim,
                      const RopeParams& params) {
  cpu::rope(x, pos, m, n_heads, head_dim, params, *pool_);
}

void CpuBackend::gated_activation(const float* gate, const float* up, int64_t m, int64_t n, FfnActivation act,
                                  float* y) {
  cpu::gated_activation(gate, up, m, n, act, y, *pool_);
}

void CpuBackend::add(const float* x, int64_t m, int64_t n, float* y) { cpu::add(x, m, n, y, *pool_); }

void CpuBackend::add_bias(const float* bias, int64_t m, int64_t n, float* y) { cpu::add_bias(bias, m, n, y); }

void CpuBackend::gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t n, float* y) {
  cpu::gather_rows(x, rows, m, n, y);
}

void CpuBackend::kv_store(const float* k, const float* v, const int32_t* slots, int64_t n_tokens, int64_t kv_dim_k,
                          int64_t kv_dim_v, uint16_t* k_cache, uint16_t* v_cache) {
  cpu::kv_store(k, v, slots, n_tokens, kv_dim_k, kv_dim_v, k_cache, v_cache);
}

void CpuBackend::paged_attention(const PagedAttentionArgs& args) { cpu::paged_attention(args, *pool_); }

}  // namespace strata::cpu
