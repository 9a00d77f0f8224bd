// One layer function per architecture family; find_layer_forward (layer_forwards.cc) maps names to them.
#pragma once

#include "worker/shard/transformer.h"

namespace strata {

absl::Status llama_layer_forward(LayerOps& ops);
absl::Status gemma3_layer_forward(LayerOps& ops);

}  // namespace strata
