// Llama 2/3, Mistral, SmolLM2 and other models published as `llama`: RMSNorm, RoPE on adjacent pairs, SwiGLU.
#include "absl/strings/str_cat.h"
#include "core/model/model_arch.h"

namespace strata {
namespace {

absl::Status read_llama(const GgufFile& file, ModelConfig& c) {
  c.rope_layout = RopeLayout::kNormal;
  c.ffn_activation = FfnActivation::kSilu;
  // Mixture-of-experts Llama variants (Mixtral) store expert tensors; the dense engine cannot run them.
  if (auto experts = file.get_uint_or("llama.expert_count", 0); experts.ok() && *experts > 0) {
    return absl::UnimplementedError(
        absl::StrCat("llama.expert_count = ", *experts, ": mixture-of-experts models are not supported yet"));
  }
  return absl::OkStatus();
}

void llama_layer_tensors(const ModelConfig& c, std::vector<ExpectedTensor>& out) {
  append_attention_tensors(c, out);
  append_gated_ffn_tensors(c, out);
}

}  // namespace

const ModelArch kLlamaArch = {"llama", read_llama, llama_layer_tensors};

}  // namespace strata
