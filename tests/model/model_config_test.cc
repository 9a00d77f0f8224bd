// Model configuration: the true hyper-parameters of both real models, and clear errors on inconsistent files.
#include "core/model/model_config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "core/gguf/gguf_file.h"
#include "core/gguf/gguf_writer.h"
#include "core/model/model_memory.h"

namespace strata {
namespace {

std::unique_ptr<GgufFile> open_model(const char* name) {
  auto file = GgufFile::open(std::string(STRATA_SOURCE_DIR) + "/models/" + name);
  EXPECT_TRUE(file.ok()) << file.status() << " (run deploy/fetch-models.sh)";
  return file.ok() ? std::move(*file) : nullptr;
}

TEST(ModelConfig, SmolLM2) {
  auto file = open_model("SmolLM2-135M-Instruct.Q4_1.gguf");
  ASSERT_NE(file, nullptr);
  auto c = load_model_config(*file);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->arch, "llama");
  EXPECT_EQ(c->n_vocab, 49152);
  EXPECT_EQ(c->n_ctx_train, 8192);
  EXPECT_EQ(c->n_embd, 576);
  EXPECT_EQ(c->n_layer, 30);
  EXPECT_EQ(c->n_head, 9);
  EXPECT_EQ(c->n_head_kv, 3);
  EXPECT_EQ(c->head_dim_k, 64);
  EXPECT_EQ(c->n_ff, 1536);
  EXPECT_EQ(c->rope_dim, 64);
  EXPECT_EQ(c->rope_layout, RopeLayout::kNormal);
  EXPECT_FLOAT_EQ(c->rope_freq_base, 100000.0f);
  EXPECT_NEAR(c->rms_eps, 1e-5f, 1e-9f);
  EXPECT_TRUE(c->tied_embeddings);  // 272 tensors: no output.weight
  EXPECT_FALSE(c->qk_norm);
  EXPECT_EQ(c->sliding_window, 0);
  EXPECT_FALSE(c->is_sliding_layer(0));
  EXPECT_NEAR(c->attn_scale, 0.125f, 1e-7f);
}

TEST(ModelConfig, Gemma3) {
  auto file = open_model("gemma-3-270m-q4_k_m.gguf");
  ASSERT_NE(file, nullptr);
  auto c = load_model_config(*file);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->arch, "gemma3");
  EXPECT_EQ(c->n_vocab, 262144);
  EXPECT_EQ(c->n_ctx_train, 32768);
  EXPECT_EQ(c->n_embd, 640);
  EXPECT_EQ(c->n_layer, 18);
  EXPECT_EQ(c->n_head, 4);
  EXPECT_EQ(c->n_head_kv, 1);
  EXPECT_EQ(c->head_dim_k, 256);
  EXPECT_EQ(c->head_dim_v, 256);
  EXPECT_EQ(c->n_ff, 2048);
  EXPECT_EQ(c->rope_layout, RopeLayout::kNeox);
  EXPECT_FLOAT_EQ(c->rope_freq_base, 1e6f);
  EXPECT_FLOAT_EQ(c->rope_freq_base_swa, 1e4f);
  EXPECT_EQ(c->ffn_activation, FfnActivation::kGeluTanh);
  EXPECT_TRUE(c->qk_norm);
  EXPECT_TRUE(c->post_norms);
  EXPECT_TRUE(c->tied_embeddings);
  EXPECT_NEAR(c->embedding_scale, std::sqrt(640.0f), 1e-4f);
  EXPECT_EQ(c->sliding_window, 512);
  // Five sliding layers, then one full-attention layer.
  for (int il = 0; il < 18; ++il) EXPECT_EQ(c->is_sliding_layer(il), (il + 1) % 6 != 0) << "layer " << il;
  // KV estimate: at 4096 tokens, 15 sliding layers hold 512 tokens and 3 full layers 4096.
  const KvCacheEstimate kv = estimate_kv_cache(*c, 4096);
  EXPECT_EQ(kv.bytes, uint64_t(2 * 256 * 2) * (15 * 512 + 3 * 4096));
}

// A minimal llama file whose metadata and tensors can be made to disagree.
std::vector<uint8_t> tiny_llama(uint64_t k_rows, uint32_t head_count_kv = 2) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.embedding_length", 64);
  w.set_u32("llama.block_count", 1);
  w.set_u32("llama.feed_forward_length", 128);
  w.set_u32("llama.attention.head_count", 4);
  w.set_u32("llama.attention.head_count_kv", head_count_kv);
  std::vector<std::string> tokens = {"a", "b", "c"};
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  auto add = [&](const char* name, std::vector<uint64_t> shape) {
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;
    std::vector<float> data(n, 0.5f);
    EXPECT_TRUE(w.add_tensor(name, GgmlType::kF32, shape, data.data(), n * sizeof(float)).ok());
  };
  add("token_embd.weight", {64, 3});
  add("output_norm.weight", {64});
  add("blk.0.attn_norm.weight", {64});
  add("blk.0.attn_q.weight", {64, 64});
  add("blk.0.attn_k.weight", {64, k_rows});
  add("blk.0.attn_v.weight", {64, 32});
  add("blk.0.attn_output.weight", {64, 64});
  add("blk.0.ffn_norm.weight", {64});
  add("blk.0.ffn_gate.weight", {64, 128});
  add("blk.0.ffn_up.weight", {64, 128});
  add("blk.0.ffn_down.weight", {128, 64});
  auto bytes = w.serialize();
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

TEST(ModelConfig, SynthesizedLlamaLoads) {
  const std::vector<uint8_t> bytes = tiny_llama(32);
  auto file = GgufFile::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(file.ok()) << file.status();
  auto c = load_model_config(**file);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->head_dim_k, 16);
  EXPECT_EQ(c->kv_dim_k(), 32);
}

TEST(ModelConfig, ShapeMismatchNamesTheTensor) {
  const std::vector<uint8_t> bytes = tiny_llama(48);
  auto file = GgufFile::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(file.ok()) << file.status();
  auto c = load_model_config(**file);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("blk.0.attn_k.weight"), std::string::npos) << c.status();
  EXPECT_NE(c.status().message().find("[64, 48]"), std::string::npos) << c.status();
  EXPECT_NE(c.status().message().find("[64, 32]"), std::string::npos) << c.status();
}

TEST(ModelConfig, BadGroupingIsRejected) {
  const std::vector<uint8_t> bytes = tiny_llama(48, /*head_count_kv=*/3);
  auto file = GgufFile::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(file.ok()) << file.status();
  auto c = load_model_config(**file);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("head_count_kv"), std::string::npos) << c.status();
}

TEST(ModelConfig, UnknownArchitectureListsSupported) {
  GgufWriter w;
  w.set_string("general.architecture", "mamba");
  auto bytes = w.serialize();
  ASSERT_TRUE(bytes.ok());
  auto file = GgufFile::parse(bytes->data(), bytes->size());
  ASSERT_TRUE(file.ok());
  auto c = read_model_config(**file);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("mamba"), std::string::npos);
  EXPECT_NE(c.status().message().find("gemma3"), std::string::npos);
}

TEST(ModelConfig, MissingTensorIsNamed) {
  GgufWriter w;
  w.set_string("general.architecture", "qwen2");
  w.set_u32("qwen2.embedding_length", 64);
  w.set_u32("qwen2.block_count", 1);
  w.set_u32("qwen2.feed_forward_length", 128);
  w.set_u32("qwen2.attention.head_count", 4);
  std::vector<std::string> tokens = {"a", "b"};
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  std::vector<float> embd(128, 0.25f);
  ASSERT_TRUE(w.add_tensor("token_embd.weight", GgmlType::kF32, std::vector<uint64_t>{64, 2}, embd.data(),
                           embd.size() * sizeof(float))
                  .ok());
  auto bytes = w.serialize();
  ASSERT_TRUE(bytes.ok());
  auto file = GgufFile::parse(bytes->data(), bytes->size());
  ASSERT_TRUE(file.ok());
  auto c = load_model_config(**file);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("output_norm.weight"), std::string::npos) << c.status();
}

}  // namespace
}  // namespace strata
