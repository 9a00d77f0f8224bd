// The CPU implementation of Backend: host memory, weights read in place from the GGUF mapping (or packed into the
// row-lane kernels' layout, see pack_weight), ops run on a persistent thread pool before each call returns.
#pragma once

#include <memory>

#include "kernels/backend.h"
#include "kernels/cpu/thread_pool.h"

namespace strata::cpu {

class CpuBackend final : public Backend {
 public:
  // `n_threads` <= 0 picks the number of physical cores the process may use.
  explicit CpuBackend(int n_threads);
  ~CpuBackend() override;

  std::string name() const override;
  int num_threads() const { return pool_->num_threads(); }
  ThreadPool& pool() { return *pool_; }

  absl::StatusOr<void*> allocate(size_t bytes) override;
  void release(void* ptr) override;
  absl::Status copy_to_backend(void* dst, const void* host_src, size_t bytes) override;
  absl::Status copy_to_host(void* host_dst, const void* src, size_t bytes) override;
  absl::StatusOr<const void*> map_weights(const void* host, size_t bytes) override;
  // The row-lane kernels' packed layout for the types that have one on this ISA (quant_matmul.h); elsewhere a copy in
  // the GGUF layout, into huge pages.
  size_t packed_weight_bytes(const WeightTensor& w) const override;
  absl::StatusOr<WeightTensor> pack_weight(const WeightTensor& w, void* dst) override;
  absl::Status synchronize() override { return absl::OkStatus(); }

  absl::Status matmul(const WeightTensor& w, const float* x, int64_t m, float* y) override;
  absl::Status matmul_group(std::span<const MatmulOutput> outputs, const float* x, int64_t m) override;
  absl::Status embed(const WeightTensor& table, const int32_t* ids, int64_t m, float scale, float* y) override;
  void rms_norm(const float* x, const float* w, int64_t m, int64_t n, float eps, float* y) override;
  void rope(float* x, const int32_t* pos, int64_t m, int64_t n_heads, int64_t head_dim,
            const RopeParams& params) override;
  void gated_activation(const float* gate, const float* up, int64_t m, int64_t n, FfnActivation act, float* y) override;
  void add(const float* x, int64_t m, int64_t n, float* y) override;
  void add_bias(const float* bias, int64_t m, int64_t n, float* y) override;
  void gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t n, float* y) override;
  void kv_store(const float* k, const float* v, const int32_t* slots, int64_t n_tokens, int64_t kv_dim_k,
                int64_t kv_dim_v, uint16_t* k_cache, uint16_t* v_cache) override;
  void paged_attention(const PagedAttentionArgs& args) override;

 private:
  std::unique_ptr<ThreadPool> pool_;
};

// Threads worth using for memory-bound decode: the cores this process may run on.
int default_thread_count();

}  // namespace strata::cpu
