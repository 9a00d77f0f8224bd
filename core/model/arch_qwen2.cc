// Qwen2 / Qwen2.5: the Llama block with biases on Q, K and V, and NeoX-style RoPE.
#include "core/model/model_arch.h"

namespace strata {
namespace {

absl::Status read_qwen2(const GgufFile&, ModelConfig& c) {
  c.rope_layout = RopeLayout::kNeox;
  c.ffn_activation = FfnActivation::kSilu;
  c.qkv_bias = true;
  return absl::OkStatus();
}

void qwen2_layer_tensors(const ModelConfig& c, std::vector<ExpectedTensor>& out) {
  append_attention_tensors(c, out);
  append_gated_ffn_tensors(c, out);
}

}  // namespace

const ModelArch kQwen2Arch = {"qwen2", read_qwen2, qwen2_layer_tensors};

}  // namespace strata
