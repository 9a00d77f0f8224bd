// Gemma 3: GeGLU, RMSNorm on each Q/K head, norms after attention and FFN, embeddings scaled by sqrt(n_embd),
// and interleaved attention: five sliding-window layers (RoPE base 10 000) for every full layer (base from metadata).
// GGUF conversion already folds Gemma's "1 + weight" into the stored norm weights.
#include <cmath>

#include "core/model/model_arch.h"
#include "core/util/status_macros.h"

namespace strata {
namespace {

absl::Status read_gemma3(const GgufFile& file, ModelConfig& c) {
  c.rope_layout = RopeLayout::kNeox;
  c.ffn_activation = FfnActivation::kGeluTanh;
  c.qk_norm = true;
  c.post_norms = true;
  c.embedding_scale = std::sqrt(static_cast<float>(c.n_embd));
  c.rope_freq_base_swa = 10000.0f;  // fixed by the architecture, not stored in GGUF
  STRATA_ASSIGN_OR_RETURN(uint64_t window, file.get_uint_or("gemma3.attention.sliding_window", 0));
  c.sliding_window = static_cast<int64_t>(window);
  c.swa_period = window > 0 ? 6 : 0;
  // Gemma 3 scales queries by 1/sqrt(head_dim) (query_pre_attn_scalar = head_dim for the released sizes but 27B,
  // whose GGUF files carry no separate key for it; 27B would need n_embd / n_head).
  c.attn_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim_k));
  return absl::OkStatus();
}

void gemma3_layer_tensors(const ModelConfig& c, std::vector<ExpectedTensor>& out) {
  append_attention_tensors(c, out);
  append_gated_ffn_tensors(c, out);
}

}  // namespace

const ModelArch kGemma3Arch = {"gemma3", read_gemma3, gemma3_layer_tensors};

}  // namespace strata
