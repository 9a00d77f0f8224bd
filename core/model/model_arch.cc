#include "core/model/model_arch.h"

#include <array>

namespace strata {
namespace {

constexpr std::array<const ModelArch*, 4> kArchs = {&kLlamaArch, &kQwen2Arch, &kGemma3Arch, &kPhi3Arch};

}  // namespace

const ModelArch* find_model_arch(std::string_view name) {
  for (const ModelArch* arch : kArchs) {
    if (arch->name == name) return arch;
  }
  return nullptr;
}

std::vector<std::string_view> supported_model_archs() {
  std::vector<std::string_view> names;
  for (const ModelArch* arch : kArchs) names.push_back(arch->name);
  return names;
}

void append_attention_tensors(const ModelConfig& c, std::vector<ExpectedTensor>& out) {
  const uint64_t embd = c.n_embd;
  out.push_back({"attn_norm.weight", {embd}});
  if (c.fused_qkv) {
    out.push_back({"attn_qkv.weight", {embd, uint64_t(c.q_dim() + c.kv_dim_k() + c.kv_dim_v())}});
  } else {
    out.push_back({"attn_q.weight", {embd, uint64_t(c.q_dim())}});
    out.push_back({"attn_k.weight", {embd, uint64_t(c.kv_dim_k())}});
    out.push_back({"attn_v.weight", {embd, uint64_t(c.kv_dim_v())}});
  }
  if (c.qkv_bias) {
    out.push_back({"attn_q.bias", {uint64_t(c.q_dim())}});
    out.push_back({"attn_k.bias", {uint64_t(c.kv_dim_k())}});
    out.push_back({"attn_v.bias", {uint64_t(c.kv_dim_v())}});
  }
  if (c.qk_norm) {
    out.push_back({"attn_q_norm.weight", {uint64_t(c.head_dim_k)}});
    out.push_back({"attn_k_norm.weight", {uint64_t(c.head_dim_k)}});
  }
  out.push_back({"attn_output.weight", {uint64_t(c.n_head * c.head_dim_v), embd}});
  if (c.post_norms) out.push_back({"post_attention_norm.weight", {embd}});
}

void append_gated_ffn_tensors(const ModelConfig& c, std::vector<ExpectedTensor>& out) {
  const uint64_t embd = c.n_embd, ff = c.n_ff;
  out.push_back({"ffn_norm.weight", {embd}});
  if (c.fused_gate_up) {
    out.push_back({"ffn_up.weight", {embd, 2 * ff}});
  } else {
    out.push_back({"ffn_gate.weight", {embd, ff}});
    out.push_back({"ffn_up.weight", {embd, ff}});
  }
  out.push_back({"ffn_down.weight", {ff, embd}});
  if (c.post_norms) out.push_back({"post_ffw_norm.weight", {embd}});
}

}  // namespace strata
