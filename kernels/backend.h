// The compute interface every worker drives: memory, weights and the ops of a transformer step.
//
// Pointers passed to ops are backend memory (host memory for the CPU backend, device memory for CUDA). Ops are
// issued in order on the backend's stream and may run asynchronously; `synchronize` waits for them. The CPU backend
// runs each op before returning, and is the reference every other backend is checked against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/gguf/ggml_type.h"
#include "core/model/model_config.h"

namespace strata {

// How a weight's blocks are laid out in backend memory.
enum class WeightLayout : uint8_t {
  kGguf,  // as in the file: row after row of GGUF blocks
  // The CPU row-lane kernels' layout (Backend::pack_weight; AVX-512 and AVX2 for every quantized type, AVX2 reading
  // each 64-byte register as two halves): groups of 16 rows, and within a group block after block, each block
  // holding the 16 rows' fields transposed so the kernels load them as they compute (one weight row per 32-bit lane).
  // As many bytes as kGguf (rows padded to a multiple of 16), the same values rearranged (Q6_K's 6-bit quants
  // re-encoded four to three bytes).
  kCpuRowLanes16,
};

// A 2-D weight of GGUF blocks: `n_rows` rows of `row_len` elements, each row `row_bytes` long (quantized blocks).
struct WeightTensor {
  GgmlType type = GgmlType::kF32;
  const void* data = nullptr;  // backend memory, [n_rows, row_bytes] in `layout`
  int64_t n_rows = 0;
  int64_t row_len = 0;
  size_t row_bytes = 0;
  WeightLayout layout = WeightLayout::kGguf;
};

// One weight of Backend::matmul_group and where its product goes: y = x w^T, [m, w->n_rows].
struct MatmulOutput {
  const WeightTensor* w = nullptr;
  float* y = nullptr;
};

struct RopeParams {
  RopeLayout layout = RopeLayout::kNormal;
  int64_t rope_dim = 0;  // leading dimensions of each head that rotate
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;
};

// One step's attention over the paged KV cache. Token t of sequence token_seq[t] at position token_pos[t] attends to
// the positions p of its sequence with max(0, pos - window + 1) <= p <= pos (window 0: no limit), reading position p
// from block block_tables[seq][p / block_size], slot p % block_size.
struct PagedAttentionArgs {
  const float* q = nullptr;               // [n_tokens, n_head, head_dim_k]
  float* out = nullptr;                   // [n_tokens, n_head, head_dim_v]
  const uint16_t* k_cache = nullptr;      // [n_blocks, block_size, n_head_kv, head_dim_k] f16
  const uint16_t* v_cache = nullptr;      // [n_blocks, block_size, n_head_kv, head_dim_v] f16
  const int32_t* block_tables = nullptr;  // [n_seqs, max_blocks_per_seq]
  const int32_t* token_seq = nullptr;     // [n_tokens]
  const int32_t* token_pos = nullptr;     // [n_tokens]
  int64_t n_tokens = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim_k = 0;
  int64_t head_dim_v = 0;
  int64_t block_size = 0;
  int64_t max_blocks_per_seq = 0;
  float scale = 1.0f;
  int64_t window = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // Memory. `allocate` returns zeroed backend memory.
  virtual absl::StatusOr<void*> allocate(size_t bytes) = 0;
  virtual void release(void* ptr) = 0;
  virtual absl::Status copy_to_backend(void* dst, const void* host_src, size_t bytes) = 0;
  virtual absl::Status copy_to_host(void* host_dst, const void* src, size_t bytes) = 0;
  // Makes `bytes` of host weight data (usually the GGUF mapping) readable by ops: the CPU backend uses the mapping
  // in place, a GPU backend uploads it.
  virtual absl::StatusOr<const void*> map_weights(const void* host, size_t bytes) = 0;
  // Bytes of backend memory `pack_weight` needs to lay `w` (mapped, kGguf) out the way this backend's matmul reads
  // fastest; 0 when matmul reads it as mapped (the default).
  virtual size_t packed_weight_bytes(const WeightTensor& /*w*/) const { return 0; }
  // Writes w into dst (backend memory, packed_weight_bytes(w) long) and returns the tensor reading it there. Only
  // matmul accepts a packed tensor: embed still takes the mapped one.
  virtual absl::StatusOr<WeightTensor> pack_weight(const WeightTensor& /*w*/, void* /*dst*/) {
    return absl::UnimplementedError("this backend does not pack weights");
  }
  virtual absl::Status synchronize() = 0;

  // y[i, r] = sum_j x[i, j] * w[r, j]  — x: [m, w.row_len], y: [m, w.n_rows]
  virtual absl::Status matmul(const WeightTensor& w, const float* x, int64_t m, float* y) = 0;
  // matmul for several weights of the same row length against the same x (a layer's Q, K, V; gate and up), each
  // output exactly what matmul gives: a backend may convert x once and run them as one launch. The default runs
  // matmul for each.
  virtual absl::Status matmul_group(std::span<const MatmulOutput> outputs, const float* x, int64_t m) {
    for (const MatmulOutput& o : outputs) {
      if (absl::Status s = matmul(*o.w, x, m, o.y); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  // y[i, :] = table[ids[i], :] * scale — y: [m, table.row_len]; ids outside the table are an error
  virtual absl::Status embed(const WeightTensor& table, const int32_t* ids, int64_t m, float scale, float* y) = 0;
  // y[i, :] = x[i, :] / rms(x[i, :]) * w  — x, y: [m, n] (y may alias x); w: [n]
  virtual void rms_norm(const float* x, const float* w, int64_t m, int64_t n, float eps, float* y) = 0;
  // Rotates each head in place: x: [m, n_heads, head_dim], pos: [m]
  virtual void rope(float* x, const int32_t* pos, int64_t m, int64_t n_heads, int64_t head_dim,
                    const RopeParams& params) = 0;
  // y = act(gate) * up — gate, up, y: [m, n]
  virtual void gated_activation(const float* gate, const float* up, int64_t m, int64_t n, FfnActivation act,
                                float* y) = 0;
  // y[i, :] += x[i, :] — [m, n]
  virtual void add(const float* x, int64_t m, int64_t n, float* y) = 0;
  // y[i, :] += bias — y: [m, n], bias: [n]
  virtual void add_bias(const float* bias, int64_t m, int64_t n, float* y) = 0;
  // y[i, :] = x[rows[i], :] — x: [*, n], rows: [m], y: [m, n]
  virtual void gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t n, float* y) = 0;
  // Writes k, v of each token into its cache slot (block * block_size + offset), converting to f16.
  virtual void kv_store(const float* k,        // [n_tokens, kv_dim_k]
                        const float* v,        // [n_tokens, kv_dim_v]
                        const int32_t* slots,  // [n_tokens]
                        int64_t n_tokens, int64_t kv_dim_k, int64_t kv_dim_v,
                        uint16_t* k_cache,       // [n_slots, kv_dim_k]
                        uint16_t* v_cache) = 0;  // [n_slots, kv_dim_v]
  virtual void paged_attention(const PagedAttentionArgs& args) = 0;
};

}  // namespace strata
