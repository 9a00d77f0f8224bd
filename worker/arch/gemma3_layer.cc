// Gemma 3: like Llama, but the attention and FFN outputs are normalized again before joining the residual stream
// (Q/K head norms, sliding windows and GeGLU are configuration the shared blocks already apply).
#include "worker/arch/layer_forwards.h"

namespace strata {

absl::Status gemma3_layer_forward(LayerOps& ops) {
  StepBuffers& s = ops.buffers();
  const LayerWeights& w = ops.weights();
  ops.norm(s.x, w.attn_norm, s.h);
  absl::Status status = ops.attention(s.h, s.o);
  if (!status.ok()) return status;
  ops.norm(s.o, w.post_attn_norm, s.o);
  ops.add(s.o, s.x);
  ops.norm(s.x, w.ffn_norm, s.h);
  status = ops.ffn(s.h, s.o);
  if (!status.ok()) return status;
  ops.norm(s.o, w.post_ffn_norm, s.o);
  ops.add(s.o, s.x);
  return absl::OkStatus();
}

}  // namespace strata
