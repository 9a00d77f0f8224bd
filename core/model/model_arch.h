// The per-architecture part of a ModelConfig: one ModelArch per supported `general.architecture`, each defined in
// its own arch_<name>.cc. Generic keys (`<arch>.embedding_length`, ...) are read before `read` runs.
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/gguf/gguf_file.h"
#include "core/model/model_config.h"

namespace strata {

struct ModelArch {
  std::string_view name;
  // Fills in what this architecture does differently; `config` already holds the generic keys.
  absl::Status (*read)(const GgufFile& file, ModelConfig& config);
  // Appends every tensor of one layer, names without the "blk.N." prefix.
  void (*layer_tensors)(const ModelConfig& config, std::vector<ExpectedTensor>& out);
};

const ModelArch* find_model_arch(std::string_view name);
std::vector<std::string_view> supported_model_archs();

// Tensor lists shared by the Llama-like architectures.
void append_attention_tensors(const ModelConfig& config, std::vector<ExpectedTensor>& out);
void append_gated_ffn_tensors(const ModelConfig& config, std::vector<ExpectedTensor>& out);

extern const ModelArch kLlamaArch;
extern const ModelArch kQwen2Arch;
extern const ModelArch kGemma3Arch;
extern const ModelArch kPhi3Arch;

}  // namespace strata
