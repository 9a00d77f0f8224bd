#include "core/model/model_config.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/model/model_arch.h"
#include "core/util/status_macros.h"

namespace strata {
namespace {

std::string shape_string(const std::vector<uint64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// Reads `<arch>.<suffix>` as a positive integer.
absl::StatusOr<int64_t> read_positive(const GgufFile& file, const std::string& arch, std::string_view suffix) {
  const std::string key = absl::StrCat(arch, ".", std::string(suffix));
  auto value = file.get_uint(key);
  if (!value.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("model config: ", key, ": ", value.status().message()));
  }
  // 2^31 bounds every dimension a real model has and keeps products of two dimensions inside int64.
  if (*value == 0 || *value > (uint64_t{1} << 31)) {
    return absl::InvalidArgumentError(absl::StrCat("model config: ", key, " = ", *value, " is out of range"));
  }
  return static_cast<int64_t>(*value);
}

absl::StatusOr<int64_t> read_positive_or(const GgufFile& file, const std::string& arch, std::string_view suffix,
                                         int64_t fallback) {
  if (file.find(absl::StrCat(arch, ".", std::string(suffix))) == nullptr) return fallback;
  return read_positive(file, arch, suffix);
}

// n_vocab from the tokenizer when present, else from the embedding table.
int64_t vocab_size(const GgufFile& file) {
  if (auto tokens = file.get_array("tokenizer.ggml.tokens"); tokens.ok()) return static_cast<int64_t>((*tokens)->count);
  if (const GgufTensorInfo* embd = file.find_tensor("token_embd.weight"); embd && embd->shape.size() == 2) {
    return static_cast<int64_t>(embd->shape[1]);
  }
  return 0;
}

absl::Status validate(const ModelConfig& c) {
  if (c.n_head % c.n_head_kv != 0) {
    return absl::InvalidArgumentError(absl::StrCat("model config: head_count ", c.n_head,
                                                   " is not a multiple of head_count_kv ", c.n_head_kv,
                                                   " (grouped-query attention needs whole groups)"));
  }
  if (c.rope_dim > c.head_dim_k || c.rope_dim % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("model config: rope.dimension_count ", c.rope_dim,
                                                   " must be even and at most the head size ", c.head_dim_k));
  }
  if (!(c.rms_eps > 0) || !std::isfinite(c.rope_freq_base) || c.rope_freq_base <= 0) {
    return absl::InvalidArgumentError("model config: layer_norm_rms_epsilon and rope.freq_base must be positive");
  }
  if (c.n_vocab <= 0) return absl::InvalidArgumentError("model config: no vocabulary (tokenizer.ggml.tokens)");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ModelConfig> read_model_config(const GgufFile& file) {
  ModelConfig c;
  STRATA_ASSIGN_OR_RETURN(std::string_view arch_name, file.get_string("general.architecture"));
  c.arch = std::string(arch_name);
  const ModelArch* arch = find_model_arch(c.arch);
  if (arch == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("model config: architecture '", c.arch, "' is not supported (supported: ",
                     absl::StrJoin(supported_model_archs(), ", ",
                                   [](std::string* out, std::string_view name) { out->append(name); }),
                     ")"));
  }
  if (auto name = file.get_string("general.name"); name.ok()) c.name = std::string(*name);

  const std::string& a = c.arch;
  STRATA_ASSIGN_OR_RETURN(c.n_embd, read_positive(file, a, "embedding_length"));
  STRATA_ASSIGN_OR_RETURN(c.n_layer, read_positive(file, a, "block_count"));
  STRATA_ASSIGN_OR_RETURN(c.n_ff, read_positive(file, a, "feed_forward_length"));
  STRATA_ASSIGN_OR_RETURN(c.n_head, read_positive(file, a, "attention.head_count"));
  STRATA_ASSIGN_OR_RETURN(c.n_head_kv, read_positive_or(file, a, "attention.head_count_kv", c.n_head));
  STRATA_ASSIGN_OR_RETURN(c.n_ctx_train, read_positive_or(file, a, "context_length", 2048));
  if (c.n_embd % c.n_head != 0 && file.find(absl::StrCat(a, ".attention.key_length")) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("model config: embedding_length ", c.n_embd,
                                                   " is not a multiple of head_count ", c.n_head,
                                                   " and no attention.key_length is given"));
  }
  STRATA_ASSIGN_OR_RETURN(c.head_dim_k, read_positive_or(file, a, "attention.key_length", c.n_embd / c.n_head));
  STRATA_ASSIGN_OR_RETURN(c.head_dim_v, read_positive_or(file, a, "attention.value_length", c.head_dim_k));
  STRATA_ASSIGN_OR_RETURN(c.rope_dim, read_positive_or(file, a, "rope.dimension_count", c.head_dim_k));
  STRATA_ASSIGN_OR_RETURN(double eps, file.get_float_or(absl::StrCat(a, ".attention.layer_norm_rms_epsilon"), 1e-5));
  c.rms_eps = static_cast<float>(eps);
  STRATA_ASSIGN_OR_RETURN(double base, file.get_float_or(absl::StrCat(a, ".rope.freq_base"), 10000.0));
  c.rope_freq_base = static_cast<float>(base);
  c.rope_freq_base_swa = c.rope_freq_base;
  // Linear RoPE scaling stores the factor; positions are multiplied by its inverse.
  if (auto type = file.get_string(absl::StrCat(a, ".rope.scaling.type")); type.ok() && *type == "linear") {
    STRATA_ASSIGN_OR_RETURN(double factor, file.get_float_or(absl::StrCat(a, ".rope.scaling.factor"), 1.0));
    if (factor > 0) c.rope_freq_scale = static_cast<float>(1.0 / factor);
  }
  c.n_vocab = vocab_size(file);
  c.tied_embeddings = !file.tensors().empty() && file.find_tensor("output.weight") == nullptr;

  STRATA_RETURN_IF_ERROR(arch->read(file, c));
  if (c.attn_scale == 0) c.attn_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim_k));
  STRATA_RETURN_IF_ERROR(validate(c));
  return c;
}

std::vector<ExpectedTensor> expected_tensors(const ModelConfig& c) {
  const uint64_t embd = c.n_embd, vocab = c.n_vocab;
  std::vector<ExpectedTensor> out = {{"token_embd.weight", {embd, vocab}},
                                     {"output_norm.weight", {embd}},
                                     {"output.weight", {embd, vocab}, /*required=*/false}};
  const ModelArch* arch = find_model_arch(c.arch);
  std::vector<ExpectedTensor> layer;
  arch->layer_tensors(c, layer);
  for (int64_t il = 0; il < c.n_layer; ++il) {
    for (const ExpectedTensor& t : layer) out.push_back({absl::StrCat("blk.", il, ".", t.name), t.shape, t.required});
  }
  return out;
}

absl::StatusOr<ModelConfig> load_model_config(const GgufFile& file) {
  STRATA_ASSIGN_OR_RETURN(ModelConfig c, read_model_config(file));
  for (const ExpectedTensor& want : expected_tensors(c)) {
    const GgufTensorInfo* have = file.find_tensor(want.name);
    if (have == nullptr) {
      if (!want.required) continue;
      return absl::InvalidArgumentError(absl::StrCat("model config: tensor '", want.name, "' is missing (", c.arch,
                                                     " with ", c.n_layer, " layers expects it)"));
    }
    if (have->shape != want.shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model config: tensor '", want.name, "' has shape ", shape_string(have->shape), " but the metadata implies ",
          shape_string(want.shape), " (n_embd=", c.n_embd, ", n_head=", c.n_head, ", n_head_kv=", c.n_head_kv,
          ", head_dim=", c.head_dim_k, ", n_ff=", c.n_ff, ", n_vocab=", c.n_vocab, ")"));
    }
  }
  return c;
}

}  // namespace strata
