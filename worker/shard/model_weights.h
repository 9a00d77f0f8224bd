// The weights of one shard — layers [layer_begin, layer_end) plus embeddings / head where the shard holds them —
// as backend-readable tensors. Matrices stay in their GGUF block format; 1-D vectors (norms, biases) become f32.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/gguf/gguf_file.h"
#include "core/model/model_config.h"
#include "kernels/backend.h"

namespace strata {

struct LayerWeights {
  const float* attn_norm = nullptr;       // [n_embd]
  WeightTensor wq, wk, wv;                // [q_dim | kv_dim, n_embd]
  const float* q_bias = nullptr;          // [q_dim] (Qwen2)
  const float* k_bias = nullptr;          // [kv_dim_k]
  const float* v_bias = nullptr;          // [kv_dim_v]
  const float* q_norm = nullptr;          // [head_dim_k] (Gemma 3)
  const float* k_norm = nullptr;          // [head_dim_k]
  WeightTensor wo;                        // [n_embd, n_head * head_dim_v]
  const float* post_attn_norm = nullptr;  // [n_embd] (Gemma 2/3)
  const float* ffn_norm = nullptr;        // [n_embd]
  WeightTensor w_gate, w_up;              // [n_ff, n_embd]
  WeightTensor w_down;                    // [n_embd, n_ff]
  const float* post_ffn_norm = nullptr;   // [n_embd]
};

struct ModelWeights {
  WeightTensor token_embd;             // [n_vocab, n_embd]
  const float* output_norm = nullptr;  // [n_embd]
  WeightTensor output;                 // [n_vocab, n_embd]; token_embd (maybe packed) when tied
  int64_t layer_begin = 0;
  std::vector<LayerWeights> layers;  // layers [layer_begin, layer_begin + layers.size())

  // Owns the f32 copies of 1-D tensors and the packed matrices in backend memory.
  std::vector<std::shared_ptr<void>> owned;
  // Bytes of backend memory the weights hold: packed or copied matrices and f32 vectors. Matrices read in place from
  // the file mapping (the embedding table; everything on a backend that does not pack) are not counted.
  uint64_t backend_bytes = 0;
};

// Maps the tensors of layers [layer_begin, layer_end) of `file` onto `backend`: matrices only matmul reads in the
// backend's packed layout where it has one (Backend::pack_weight), the embedding table as mapped. Errors name the
// missing or unsupported tensor. `file` must outlive the weights (the embedding table is read in place).
absl::StatusOr<ModelWeights> load_model_weights(const GgufFile& file, const ModelConfig& config, Backend& backend,
                                                int64_t layer_begin, int64_t layer_end);

}  // namespace strata
