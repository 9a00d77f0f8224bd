// Llama (and Qwen2, whose Q/K/V biases the attention block applies): pre-norm attention and SwiGLU FFN,
// each added to the residual stream.
#include "worker/arch/layer_forwards.h"

namespace strata {

absl::Status llama_layer_forward(LayerOps& ops) {
  StepBuffers& s = ops.buffers();
  const LayerWeights& w = ops.weights();
  ops.norm(s.x, w.attn_norm, s.h);
  absl::Status status = ops.attention(s.h, s.o);
  if (!status.ok()) return status;
  ops.add(s.o, s.x);
  ops.norm(s.x, w.ffn_norm, s.h);
  status = ops.ffn(s.h, s.o);
  if (!status.ok()) return status;
  ops.add(s.o, s.x);
  return absl::OkStatus();
}

}  // namespace strata
