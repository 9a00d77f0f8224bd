// Phi-3: fused QKV and fused gate/up projections, NeoX RoPE, optional sliding window on every layer.
#include "core/model/model_arch.h"
#include "core/util/status_macros.h"

namespace strata {
namespace {

absl::Status read_phi3(const GgufFile& file, ModelConfig& c) {
  c.rope_layout = RopeLayout::kNeox;
  c.ffn_activation = FfnActivation::kSilu;
  c.fused_gate_up = true;
  // Phi-3 GGUF files store one attn_qkv tensor; some conversions split it, so follow what the file holds.
  c.fused_qkv = file.find_tensor("blk.0.attn_qkv.weight") != nullptr || file.tensors().empty();
  STRATA_ASSIGN_OR_RETURN(uint64_t window, file.get_uint_or("phi3.attention.sliding_window", 0));
  c.sliding_window = static_cast<int64_t>(window);
  c.swa_period = window > 0 ? 1 : 0;
  return absl::OkStatus();
}

void phi3_layer_tensors(const ModelConfig& c, std::vector<ExpectedTensor>& out) {
  append_attention_tensors(c, out);
  append_gated_ffn_tensors(c, out);
}

}  // namespace

const ModelArch kPhi3Arch = {"phi3", read_phi3, phi3_layer_tensors};

}  // namespace strata
