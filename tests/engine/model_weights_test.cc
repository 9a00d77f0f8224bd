// Where load_model_weights puts the matrices: one region, in the order the forward pass reads them.
#include "worker/shard/model_weights.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "core/model/model_synth.h"
#include "kernels/cpu/cpu_backend.h"

namespace strata {
namespace {

TEST(ModelWeights, PackedMatricesAreOneStreamInReadOrder) {
  const std::string path = (std::filesystem::temp_directory_path() / "strata_weights_order.gguf").string();
  SynthOptions o;
  o.arch = "llama";
  o.n_embd = 64;
  o.n_layer = 3;
  o.n_head = 4;
  o.n_head_kv = 2;
  o.n_ff = 96;
  o.n_vocab = 300;
  o.type = "Q4_0";
  o.seed = 11;
  ASSERT_TRUE(synthesize_model(o, path).ok());
  auto file = GgufFile::open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  auto config = load_model_config(**file);
  ASSERT_TRUE(config.ok()) << config.status();
  cpu::CpuBackend backend(2);
  auto weights = load_model_weights(**file, *config, backend, 0, config->n_layer);
  ASSERT_TRUE(weights.ok()) << weights.status();

  std::vector<const WeightTensor*> order;
  for (const LayerWeights& l : weights->layers) {
    for (const WeightTensor* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) order.push_back(w);
  }
  order.push_back(&weights->output);
  for (size_t i = 1; i < order.size(); ++i) {
    WeightTensor as_mapped = *order[i - 1];
    as_mapped.layout = WeightLayout::kGguf;
    const size_t bytes = (backend.packed_weight_bytes(as_mapped) + 63) / 64 * 64;
    ASSERT_GT(bytes, 0u);
    EXPECT_EQ(static_cast<const char*>(order[i]->data), static_cast<const char*>(order[i - 1]->data) + bytes)
        << "matrix " << i << " does not follow matrix " << i - 1;
  }
  // The embedding table stays in the file mapping, read in place.
  EXPECT_EQ(weights->token_embd.layout, WeightLayout::kGguf);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace strata
