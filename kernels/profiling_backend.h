// A Backend that forwards every call to another one and times each op: where a forward pass spends its time, op by
// op (`strata bench --profile`). Matmuls are grouped by weight shape and type, and report the weight bytes they read
// per second. Each op is followed by the inner backend's synchronize, so an asynchronous backend's time lands on the
// op that spent it (and loses its overlap: profile numbers add up, they are not the unprofiled speed).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "kernels/backend.h"

namespace strata {

class ProfilingBackend final : public Backend {
 public:
  explicit ProfilingBackend(Backend& inner) : inner_(inner) {}

  // One row of the profile: every call of one op (one weight shape and type for matmuls).
  struct OpStats {
    std::string label;
    int64_t calls = 0;
    double seconds = 0;
    uint64_t weight_bytes = 0;  // matmuls: weight bytes read over all calls
  };
  // Rows by time spent, largest first.
  std::vector<OpStats> stats() const;
  // Forgets what was recorded (after a warm-up, between phases).
  void reset();
  // While off (the default is on), calls pass through untimed.
  void set_enabled(bool on) { enabled_ = on; }
  // The profile as a table: per op, calls, total and per-`steps` milliseconds, share of the time, GB/s of weights.
  std::string report(int64_t steps) const;

  std::string name() const override { return inner_.name(); }
  absl::StatusOr<void*> allocate(size_t bytes) override { return inner_.allocate(bytes); }
  void release(void* ptr) override { inner_.release(ptr); }
  absl::Status copy_to_backend(void* dst, const void* host_src, size_t bytes) override {
    return inner_.copy_to_backend(dst, host_src, bytes);
  }
  absl::Status copy_to_host(void* host_dst, const void* src, size_t bytes) override;
  absl::StatusOr<const void*> map_weights(const void* host, size_t bytes) override {
    return inner_.map_weights(host, bytes);
  }
  size_t packed_weight_bytes(const WeightTensor& w) const override { return inner_.packed_weight_bytes(w); }
  absl::StatusOr<WeightTensor> pack_weight(const WeightTensor& w, void* dst) override {
    return inner_.pack_weight(w, dst);
  }
  absl::Status synchronize() override { return inner_.synchronize(); }

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
  using Clock = std::chrono::steady_clock;
  // The row of (op, key): found by the pair (key: the first weight's data for matmuls, else null), so a call costs
  // a hash lookup. Only on a first call is the label built: the op, then for matmuls the shapes and types of
  // `weights` (rows of equal label, the same shapes under other weights, share one row).
  OpStats& row(const char* op, const void* key, std::span<const MatmulOutput> weights = {});
  void record(OpStats& row, Clock::time_point start, uint64_t weight_bytes);

  Backend& inner_;
  bool enabled_ = true;
  std::vector<OpStats> rows_;
  absl::flat_hash_map<std::pair<const char*, const void*>, size_t> row_index_;
};

}  // namespace strata
