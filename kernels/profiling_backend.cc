#include "kernels/profiling_backend.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace strata {
namespace {

uint64_t weight_bytes(const WeightTensor& w) { return static_cast<uint64_t>(w.n_rows) * w.row_bytes; }

std::string weight_label(const WeightTensor& w) {
  const GgmlTypeInfo* info = ggml_type_info(w.type);
  return absl::StrCat(w.n_rows, "x", w.row_len, " ", info != nullptr ? std::string(info->name) : std::string("?"));
}

}  // namespace

ProfilingBackend::OpStats& ProfilingBackend::row(const char* op, const void* key,
                                                 std::span<const MatmulOutput> weights) {
  const auto found = row_index_.find(std::make_pair(op, key));
  if (found != row_index_.end()) return rows_[found->second];
  // First call with this key: rows with the same label (the same shapes under another weight) share one row.
  std::string label = op;
  for (size_t i = 0; i < weights.size(); ++i)
    absl::StrAppend(&label, i == 0 ? " " : " + ", weight_label(*weights[i].w));
  size_t index = 0;
  while (index < rows_.size() && rows_[index].label != label) ++index;
  if (index == rows_.size()) rows_.push_back(OpStats{std::move(label)});
  row_index_.emplace(std::make_pair(op, key), index);
  return rows_[index];
}

void ProfilingBackend::record(OpStats& row, Clock::time_point start, uint64_t bytes) {
  (void)inner_.synchronize();
  if (!enabled_) return;
  row.calls += 1;
  row.seconds += std::chrono::duration<double>(Clock::now() - start).count();
  row.weight_bytes += bytes;
}

std::vector<ProfilingBackend::OpStats> ProfilingBackend::stats() const {
  std::vector<OpStats> sorted;
  for (const OpStats& s : rows_) {
    if (s.calls > 0) sorted.push_back(s);  // rows first met while disabled
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const OpStats& a, const OpStats& b) { return a.seconds > b.seconds; });
  return sorted;
}

void ProfilingBackend::reset() {
  rows_.clear();
  row_index_.clear();
}

std::string ProfilingBackend::report(int64_t steps) const {
  const std::vector<OpStats> sorted = stats();
  double total = 0;
  for (const OpStats& s : sorted) total += s.seconds;
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-52s %8s %10s %10s %6s %8s\n", "op", "calls", "total ms", "ms/step", "%", "GB/s");
  out += line;
  for (const OpStats& s : sorted) {
    const double gbs = s.weight_bytes > 0 && s.seconds > 0 ? s.weight_bytes / s.seconds / 1e9 : 0;
    std::snprintf(line, sizeof line, "%-52s %8lld %10.2f %10.3f %6.1f ", s.label.c_str(),
                  static_cast<long long>(s.calls), s.seconds * 1e3, s.seconds * 1e3 / std::max<int64_t>(steps, 1),
                  total > 0 ? 100 * s.seconds / total : 0.0);
    out += line;
    if (gbs > 0) {
      std::snprintf(line, sizeof line, "%8.2f", gbs);
      out += line;
    }
    out += "\n";
  }
  std::snprintf(line, sizeof line, "%-52s %8s %10.2f %10.3f\n", "all ops", "", total * 1e3,
                total * 1e3 / std::max<int64_t>(steps, 1));
  out += line;
  return out;
}

absl::Status ProfilingBackend::copy_to_host(void* host_dst, const void* src, size_t bytes) {
  const Clock::time_point start = Clock::now();
  absl::Status s = inner_.copy_to_host(host_dst, src, bytes);
  record(row("copy_to_host", nullptr), start, 0);
  return s;
}

absl::Status ProfilingBackend::matmul(const WeightTensor& w, const float* x, int64_t m, float* y) {
  const Clock::time_point start = Clock::now();
  absl::Status s = inner_.matmul(w, x, m, y);
  const MatmulOutput only{&w, y};
  record(row("matmul", w.data, {&only, 1}), start, weight_bytes(w));
  return s;
}

absl::Status ProfilingBackend::matmul_group(std::span<const MatmulOutput> outputs, const float* x, int64_t m) {
  const Clock::time_point start = Clock::now();
  absl::Status s = inner_.matmul_group(outputs, x, m);
  uint64_t bytes = 0;
  for (const MatmulOutput& o : outputs) bytes += weight_bytes(*o.w);
  record(row("matmul_group", outputs.empty() ? nullptr : outputs[0].w->data, outputs), start, bytes);
  return s;
}

absl::Status ProfilingBackend::embed(const WeightTensor& table, const int32_t* ids, int64_t m, float scale, float* y) {
  const Clock::time_point start = Clock::now();
  absl::Status s = inner_.embed(table, ids, m, scale, y);
  record(row("embed", nullptr), start, 0);
  return s;
}

void ProfilingBackend::rms_norm(const float* x, const float* w, int64_t m, int64_t n, float eps, float* y) {
  const Clock::time_point start = Clock::now();
  inner_.rms_norm(x, w, m, n, eps, y);
  record(row("rms_norm", nullptr), start, 0);
}

void ProfilingBackend::rope(float* x, const int32_t* pos, int64_t m, int64_t n_heads, int64_t head_dim,
                            const RopeParams& params) {
  const Clock::time_point start = Clock::now();
  inner_.rope(x, pos, m, n_heads, head_dim, params);
  record(row("rope", nullptr), start, 0);
}

void ProfilingBackend::gated_activation(const float* gate, const float* up, int64_t m, int64_t n, FfnActivation act,
                                        float* y) {
  const Clock::time_point start = Clock::now();
  inner_.gated_activation(gate, up, m, n, act, y);
  record(row("gated_activation", nullptr), start, 0);
}

void ProfilingBackend::add(const float* x, int64_t m, int64_t n, float* y) {
  const Clock::time_point start = Clock::now();
  inner_.add(x, m, n, y);
  record(row("add", nullptr), start, 0);
}

void ProfilingBackend::add_bias(const float* bias, int64_t m, int64_t n, float* y) {
  const Clock::time_point start = Clock::now();
  inner_.add_bias(bias, m, n, y);
  record(row("add_bias", nullptr), start, 0);
}

void ProfilingBackend::gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t n, float* y) {
  const Clock::time_point start = Clock::now();
  inner_.gather_rows(x, rows, m, n, y);
  record(row("gather_rows", nullptr), start, 0);
}

void ProfilingBackend::kv_store(const float* k, const float* v, const int32_t* slots, int64_t n_tokens,
                                int64_t kv_dim_k, int64_t kv_dim_v, uint16_t* k_cache, uint16_t* v_cache) {
  const Clock::time_point start = Clock::now();
  inner_.kv_store(k, v, slots, n_tokens, kv_dim_k, kv_dim_v, k_cache, v_cache);
  record(row("kv_store", nullptr), start, 0);
}

void ProfilingBackend::paged_attention(const PagedAttentionArgs& args) {
  const Clock::time_point start = Clock::now();
  inner_.paged_attention(args);
  record(row("paged_attention", nullptr), start, 0);
}

}  // namespace strata
