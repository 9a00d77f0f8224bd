// The batched, paged forward pass of one shard: embeddings → layers → final norm → logits.
//
// All tokens of a step are flattened into one [n_tokens, n_embd] activation so each weight matrix is read once per
// step, whatever the batch composition; attention then goes back to per-sequence positions and block tables. What
// differs between architectures is a per-layer function (worker/arch/), chosen by ModelConfig::arch.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "core/model/model_config.h"
#include "kernels/backend.h"
#include "worker/shard/forward_batch.h"
#include "worker/shard/kv_cache.h"
#include "worker/shard/model_weights.h"

namespace strata {

class Transformer;

// Scratch of one step, in backend memory. Sizes follow the largest step seen so far.
struct StepBuffers {
  float* x = nullptr;           // [n_tokens, n_embd] residual stream
  float* h = nullptr;           // [n_tokens, n_embd] normalized input of a block
  float* q = nullptr;           // [n_tokens, n_head * head_dim_k]
  float* k = nullptr;           // [n_tokens, kv_dim_k]
  float* v = nullptr;           // [n_tokens, kv_dim_v]
  float* attn = nullptr;        // [n_tokens, n_head * head_dim_v]
  float* o = nullptr;           // [n_tokens, n_embd] output of a block
  float* gate = nullptr;        // [n_tokens, n_ff]
  float* up = nullptr;          // [n_tokens, n_ff]
  int32_t* ids = nullptr;       // [n_tokens]
  int32_t* pos = nullptr;       // [n_tokens]
  int32_t* seq = nullptr;       // [n_tokens] index of each token's sequence in the batch
  int32_t* slots = nullptr;     // [n_tokens] KV slot = block * block_size + offset
  int32_t* tables = nullptr;    // [n_seqs, max_blocks]
  int32_t* out_rows = nullptr;  // [n_out] tokens whose logits are wanted
  float* hidden_out = nullptr;  // [n_out, n_embd]
  float* logits = nullptr;      // [n_out, n_vocab]
  int64_t n_tokens = 0, n_seqs = 0, max_blocks = 0, n_out = 0;
};

// The context a layer function works in: the building blocks shared by every architecture.
class LayerOps {
 public:
  LayerOps(Transformer& t, int64_t layer, const LayerWeights& w) : t_(t), layer_(layer), w_(w) {}
  const ModelConfig& config() const;
  const LayerWeights& weights() const { return w_; }
  StepBuffers& buffers();
  Backend& backend();
  // out = attention(in) projected by wo — in: [n_tokens, n_embd], out: [n_tokens, n_embd]
  absl::Status attention(const float* in, float* out);
  // out = down(act(gate(in)) * up(in)) — in, out: [n_tokens, n_embd]
  absl::Status ffn(const float* in, float* out);
  void norm(const float* x, const float* w, float* y);  // [n_tokens, n_embd]
  void add(const float* x, float* y);                   // y += x, [n_tokens, n_embd]

 private:
  Transformer& t_;
  int64_t layer_;
  const LayerWeights& w_;
};

using LayerForwardFn = absl::Status (*)(LayerOps& ops);
// nullptr when the architecture has no forward pass.
LayerForwardFn find_layer_forward(const std::string& arch);

class Transformer {
 public:
  Transformer(const ModelConfig& config, const ModelWeights& weights, KvCache& cache, Backend& backend);
  ~Transformer();
  Transformer(const Transformer&) = delete;
  Transformer& operator=(const Transformer&) = delete;

  // Runs one step. On success `logits` holds [n_out, n_vocab] floats: for each sequence in order, one row per token
  // when all_logits, else one row for its last token. Positions, tokens and block tables are validated first.
  absl::Status forward(const ForwardBatch& batch, std::vector<float>& logits);

  const ModelConfig& config() const { return config_; }
  // How many times the step buffers were allocated: they grow to the largest step seen and then stay, however the
  // batch sizes of later steps vary.
  int64_t step_buffer_allocations() const { return step_buffer_allocations_; }

 private:
  friend class LayerOps;
  absl::Status validate(const ForwardBatch& batch) const;
  absl::Status reserve(int64_t n_tokens, int64_t n_seqs, int64_t max_blocks, int64_t n_out);
  void release_buffers();

  const ModelConfig& config_;
  const ModelWeights& weights_;
  KvCache& cache_;
  Backend& backend_;
  LayerForwardFn layer_forward_ = nullptr;
  StepBuffers buf_;  // sized for the current step
  // What buf_'s arrays were allocated for: tokens, sequences, block-table entries (sequences x blocks), output rows.
  struct Capacity {
    int64_t tokens = 0, seqs = 0, table_entries = 0, out = 0;
  } capacity_;
  int64_t step_buffer_allocations_ = 0;
  std::vector<void*> allocations_;
};

}  // namespace strata
