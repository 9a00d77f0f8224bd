#include "worker/shard/model_weights.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/quant/dequantize.h"
#include "core/util/status_macros.h"

namespace strata {
namespace {

class WeightLoader {
 public:
  WeightLoader(const GgufFile& file, Backend& backend, ModelWeights& weights)
      : file_(file), backend_(backend), weights_(weights) {}

  // The matrix `name` as mapped onto the backend.
  absl::StatusOr<WeightTensor> matrix(const std::string& name) {
    STRATA_ASSIGN_OR_RETURN(WeightTensor w, describe(name));
    const GgufTensorInfo* t = file_.find_tensor(name);
    STRATA_ASSIGN_OR_RETURN(w.data, backend_.map_weights(t->data, t->n_bytes));
    return w;
  }

  // The matrix `name`'s type and shape (data left null: nothing is mapped or uploaded), or why it cannot be used.
  absl::StatusOr<WeightTensor> describe(const std::string& name) const {
    const GgufTensorInfo* t = file_.find_tensor(name);
    if (t == nullptr) return absl::NotFoundError(absl::StrCat("weights: tensor '", name, "' is missing"));
    if (t->shape.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat("weights: tensor '", name, "' is not 2-D"));
    }
    if (!can_dequantize(t->type)) {
      return absl::UnimplementedError(absl::StrCat("weights: tensor '", name, "' has type ",
                                                   std::string(ggml_type_info(t->type)->name),
                                                   ", which the engine does not support"));
    }
    WeightTensor w;
    w.type = t->type;
    w.n_rows = static_cast<int64_t>(t->shape[1]);
    w.row_len = static_cast<int64_t>(t->shape[0]);
    w.row_bytes = t->n_bytes / t->shape[1];
    return w;
  }

  // A matrix that only matmul reads: in the backend's packed layout where it has one.
  // Once packed, its bytes in the file mapping are not read again: they leave the resident set.
  absl::StatusOr<WeightTensor> matmul_weight(const std::string& name) {
    STRATA_ASSIGN_OR_RETURN(WeightTensor mapped, matrix(name));
    STRATA_ASSIGN_OR_RETURN(WeightTensor w, packed(mapped));
    if (w.data != mapped.data) file_.release_pages(*file_.find_tensor(name));
    return w;
  }

  absl::StatusOr<WeightTensor> packed(const WeightTensor& w) {
    const size_t bytes = backend_.packed_weight_bytes(w);
    if (bytes == 0) return w;
    void* dst = nullptr;
    if (arena_used_ + bytes <= arena_bytes_) {
      dst = static_cast<char*>(arena_) + arena_used_;
      arena_used_ += round_up(bytes);
    } else {
      STRATA_ASSIGN_OR_RETURN(dst, own(bytes));
    }
    weights_.backend_bytes += bytes;
    return backend_.pack_weight(w, dst);
  }

  // Reserves one region for the packed copies of `names` (matmul weights), to be filled in the order they are
  // packed. Decode streams every matrix once per token: in one region they all sit in huge pages (a matrix
  // allocated alone under 2 MiB would not, and its 4 KiB pages stop the hardware prefetchers at every page), and
  // packed in the order the forward pass reads them, a layer's Q, K and V (or gate and up), which one matmul call
  // reads together, form one contiguous stream.
  absl::Status reserve_arena(const std::vector<std::string>& names) {
    size_t total = 0;
    for (const std::string& name : names) {
      STRATA_ASSIGN_OR_RETURN(WeightTensor shape, describe(name));
      total += round_up(backend_.packed_weight_bytes(shape));
    }
    if (total == 0) return absl::OkStatus();
    STRATA_ASSIGN_OR_RETURN(arena_, own(total));
    arena_bytes_ = total;
    return absl::OkStatus();
  }

  // A 1-D tensor converted to f32 in backend memory; nullptr (and OK) when optional and absent.
  absl::StatusOr<const float*> vector(const std::string& name, bool required = true) {
    const GgufTensorInfo* t = file_.find_tensor(name);
    if (t == nullptr) {
      if (!required) return nullptr;
      return absl::NotFoundError(absl::StrCat("weights: tensor '", name, "' is missing"));
    }
    std::vector<float> host(t->n_elements);
    STRATA_RETURN_IF_ERROR(dequantize_row(t->type, t->data, host.data(), static_cast<int64_t>(t->n_elements)));
    const size_t bytes = host.size() * sizeof(float);
    STRATA_ASSIGN_OR_RETURN(void* device, own(bytes));
    weights_.backend_bytes += bytes;
    STRATA_RETURN_IF_ERROR(backend_.copy_to_backend(device, host.data(), bytes));
    return static_cast<const float*>(device);
  }

 private:
  // Each packed matrix starts on a cache line.
  static size_t round_up(size_t bytes) { return (bytes + 63) / 64 * 64; }

  // Backend memory the weights own and release.
  absl::StatusOr<void*> own(size_t bytes) {
    STRATA_ASSIGN_OR_RETURN(void* device, backend_.allocate(bytes));
    Backend* backend = &backend_;
    weights_.owned.emplace_back(device, [backend](void* p) { backend->release(p); });
    return device;
  }

  const GgufFile& file_;
  Backend& backend_;
  ModelWeights& weights_;
  void* arena_ = nullptr;
  size_t arena_bytes_ = 0, arena_used_ = 0;
};

// Names of the matrices matmul reads, in the order one forward pass reads them.
std::vector<std::string> matmul_weights_in_read_order(const ModelConfig& c, int64_t layer_begin, int64_t layer_end) {
  std::vector<std::string> names;
  for (int64_t il = layer_begin; il < layer_end; ++il) {
    for (const char* t : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}) {
      names.push_back(absl::StrCat("blk.", il, ".", t, ".weight"));
    }
  }
  names.push_back(c.tied_embeddings ? "token_embd.weight" : "output.weight");
  return names;
}

}  // namespace

absl::StatusOr<ModelWeights> load_model_weights(const GgufFile& file, const ModelConfig& c, Backend& backend,
                                                int64_t layer_begin, int64_t layer_end) {
  if (c.fused_qkv || c.fused_gate_up) {
    return absl::UnimplementedError(
        absl::StrCat("weights: the ", c.arch, " forward pass (fused QKV / gate-up tensors) is not supported yet"));
  }
  if (layer_begin < 0 || layer_end > c.n_layer || layer_begin >= layer_end) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights: layer range [", layer_begin, ", ", layer_end, ") is not inside [0, ", c.n_layer, ")"));
  }
  ModelWeights w;
  WeightLoader load(file, backend, w);
  w.layer_begin = layer_begin;
  STRATA_RETURN_IF_ERROR(load.reserve_arena(matmul_weights_in_read_order(c, layer_begin, layer_end)));
  STRATA_ASSIGN_OR_RETURN(w.token_embd, load.matrix("token_embd.weight"));
  STRATA_ASSIGN_OR_RETURN(w.output_norm, load.vector("output_norm.weight"));
  for (int64_t il = layer_begin; il < layer_end; ++il) {
    const std::string p = absl::StrCat("blk.", il, ".");
    LayerWeights l;
    STRATA_ASSIGN_OR_RETURN(l.attn_norm, load.vector(p + "attn_norm.weight"));
    STRATA_ASSIGN_OR_RETURN(l.wq, load.matmul_weight(p + "attn_q.weight"));
    STRATA_ASSIGN_OR_RETURN(l.wk, load.matmul_weight(p + "attn_k.weight"));
    STRATA_ASSIGN_OR_RETURN(l.wv, load.matmul_weight(p + "attn_v.weight"));
    STRATA_ASSIGN_OR_RETURN(l.wo, load.matmul_weight(p + "attn_output.weight"));
    if (c.qkv_bias) {
      STRATA_ASSIGN_OR_RETURN(l.q_bias, load.vector(p + "attn_q.bias"));
      STRATA_ASSIGN_OR_RETURN(l.k_bias, load.vector(p + "attn_k.bias"));
      STRATA_ASSIGN_OR_RETURN(l.v_bias, load.vector(p + "attn_v.bias"));
    }
    if (c.qk_norm) {
      STRATA_ASSIGN_OR_RETURN(l.q_norm, load.vector(p + "attn_q_norm.weight"));
      STRATA_ASSIGN_OR_RETURN(l.k_norm, load.vector(p + "attn_k_norm.weight"));
    }
    if (c.post_norms) {
      STRATA_ASSIGN_OR_RETURN(l.post_attn_norm, load.vector(p + "post_attention_norm.weight"));
      STRATA_ASSIGN_OR_RETURN(l.post_ffn_norm, load.vector(p + "post_ffw_norm.weight"));
    }
    STRATA_ASSIGN_OR_RETURN(l.ffn_norm, load.vector(p + "ffn_norm.weight"));
    STRATA_ASSIGN_OR_RETURN(l.w_gate, load.matmul_weight(p + "ffn_gate.weight"));
    STRATA_ASSIGN_OR_RETURN(l.w_up, load.matmul_weight(p + "ffn_up.weight"));
    STRATA_ASSIGN_OR_RETURN(l.w_down, load.matmul_weight(p + "ffn_down.weight"));
    w.layers.push_back(l);
  }
  // Tied: embed reads the mapped table, the logits matmul its packed copy.
  if (c.tied_embeddings) {
    STRATA_ASSIGN_OR_RETURN(w.output, load.packed(w.token_embd));
  } else {
    STRATA_ASSIGN_OR_RETURN(w.output, load.matmul_weight("output.weight"));
  }
  return w;
}

}  // namespace strata
