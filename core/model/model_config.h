// Architecture hyper-parameters read from GGUF metadata and validated against the tensor table.
//
// One ModelConfig describes every supported architecture: what differs between them is data (flags, RoPE layout,
// activation) filled in by one small file per architecture (arch_*.cc), never a switch spread over the engine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/gguf/gguf_file.h"

namespace strata {

// How RoPE pairs dimensions: kNormal rotates (2i, 2i+1) (Llama), kNeox rotates (i, i + rope_dim/2) (Qwen2, Gemma).
enum class RopeLayout { kNormal, kNeox };

enum class FfnActivation { kSilu, kGeluTanh };  // gate activation of the gated FFN (SwiGLU / GeGLU)

struct ModelConfig {
  std::string arch;  // general.architecture
  std::string name;  // general.name, may be empty

  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim_k = 0;  // per-head size of Q and K
  int64_t head_dim_v = 0;  // per-head size of V
  int64_t n_ff = 0;
  float rms_eps = 1e-5f;

  RopeLayout rope_layout = RopeLayout::kNormal;
  int64_t rope_dim = 0;                 // leading dimensions of each head that are rotated
  float rope_freq_base = 10000.0f;      // for full-attention layers
  float rope_freq_base_swa = 10000.0f;  // for sliding-window layers (Gemma 3 uses a different base)
  float rope_freq_scale = 1.0f;         // linear scaling: position * scale

  float attn_scale = 0;        // multiplies Q·K; 1/sqrt(head_dim_k) unless the architecture says otherwise
  int64_t sliding_window = 0;  // tokens a sliding layer attends to (0: none)
  int swa_period = 0;          // with a window: layer il slides unless (il + 1) % swa_period == 0; 1 = all slide

  FfnActivation ffn_activation = FfnActivation::kSilu;
  bool qkv_bias = false;         // Q/K/V projections carry biases (Qwen2)
  bool qk_norm = false;          // RMSNorm on each head of Q and K (Gemma 3)
  bool post_norms = false;       // extra RMSNorm after attention and after the FFN (Gemma 2/3)
  bool fused_qkv = false;        // one attn_qkv tensor instead of Q, K, V (Phi-3)
  bool fused_gate_up = false;    // ffn_up holds [gate; up] stacked (Phi-3)
  bool tied_embeddings = false;  // no output.weight: logits use token_embd
  float embedding_scale = 1.0f;  // token embeddings are multiplied by this (Gemma: sqrt(n_embd))

  bool is_sliding_layer(int64_t il) const {
    return sliding_window > 0 && swa_period > 0 && (swa_period == 1 || (il + 1) % swa_period != 0);
  }
  int64_t q_dim() const { return n_head * head_dim_k; }
  int64_t kv_dim_k() const { return n_head_kv * head_dim_k; }
  int64_t kv_dim_v() const { return n_head_kv * head_dim_v; }
};

// A tensor the configuration expects, in ggml order (shape[0] is the row length).
struct ExpectedTensor {
  std::string name;
  std::vector<uint64_t> shape;
  bool required = true;
};

// Reads the configuration of `file`'s architecture and validates it (head counts, GQA grouping, RoPE size) and the
// tensor table (every expected tensor present with the expected shape). Errors name the key or tensor and the
// mismatch; an unsupported architecture is InvalidArgument listing the supported ones.
absl::StatusOr<ModelConfig> load_model_config(const GgufFile& file);

// Reads the configuration without checking tensors (vocab-only files, planners that look at metadata alone).
absl::StatusOr<ModelConfig> read_model_config(const GgufFile& file);

// The tensors `config` expects, globals first then layer by layer.
std::vector<ExpectedTensor> expected_tensors(const ModelConfig& config);

}  // namespace strata
