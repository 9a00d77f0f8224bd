// Where load_model_weights puts the matrices: one region, in the order the forward pass reads them.
#include "worker/shard/model_weights.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/model/model_synth.h"
#include "kernels/cpu/cpu_backend.h"
#include "tests/engine/tiny_model.h"

namespace strata {
namespace {

TEST(ModelWeights, PackedMatricesAreOneStreamInReadOrder) {
  SynthOptions o = tiny_model_options();
  o.n_layer = 3;
  o.type = "Q4_0";
  o.seed = 11;
  cpu::CpuBackend backend(2);
  TinyModel m;
  ASSERT_NO_FATAL_FAILURE(load_tiny_model(o, "weights_order", backend, m));
  const ModelWeights& weights = *m.weights;

  std::vector<const WeightTensor*> order;
  for (const LayerWeights& l : weights.layers) {
    for (const WeightTensor* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) order.push_back(w);
  }
  order.push_back(&weights.output);
  for (size_t i = 1; i < order.size(); ++i) {
    WeightTensor as_mapped = *order[i - 1];
    as_mapped.layout = WeightLayout::kGguf;
    const size_t bytes = (backend.packed_weight_bytes(as_mapped) + 63) / 64 * 64;
    ASSERT_GT(bytes, 0u);
    EXPECT_EQ(static_cast<const char*>(order[i]->data), static_cast<const char*>(order[i - 1]->data) + bytes)
        << "matrix " << i << " does not follow matrix " << i - 1;
  }
  // The embedding table stays in the file mapping, read in place.
  EXPECT_EQ(weights.token_embd.layout, WeightLayout::kGguf);
}

}  // namespace
}  // namespace strata
