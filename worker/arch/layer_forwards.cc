#include "worker/arch/layer_forwards.h"

namespace strata {

LayerForwardFn find_layer_forward(const std::string& arch) {
  if (arch == "llama" || arch == "qwen2") return llama_layer_forward;
  if (arch == "gemma3") return gemma3_layer_forward;
  return nullptr;
}

}  // namespace strata
