// Real files: the two test models, the vocab-only GGUFs and the committed fuzz seeds all open and validate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/gguf/gguf_file.h"

namespace strata {
namespace {

const std::string kModels = STRATA_SOURCE_DIR "/models/";
const std::string kVocabDir = STRATA_SOURCE_DIR "/../shared/testdata/tokenizer/";
const std::string kSeedDir = STRATA_SOURCE_DIR "/tests/fuzz/corpus/gguf/";

std::unique_ptr<GgufFile> open_ok(const std::string& path) {
  auto file = GgufFile::open(path);
  EXPECT_TRUE(file.ok()) << file.status();
  return file.ok() ? std::move(*file) : nullptr;
}

// Every tensor's payload lies inside the mapping, at data_offset + offset, and payloads do not overlap.
void expect_tensors_inside(const GgufFile& file) {
  uint64_t total = 0;
  for (const GgufTensorInfo& t : file.tensors()) {
    EXPECT_EQ(t.offset % file.alignment(), 0u) << t.name;
    EXPECT_EQ(t.data, file.bytes() + file.data_offset() + t.offset) << t.name;
    EXPECT_LE(file.data_offset() + t.offset + t.n_bytes, file.file_size()) << t.name;
    const GgmlTypeInfo* info = ggml_type_info(t.type);
    ASSERT_NE(info, nullptr) << t.name;
    EXPECT_EQ(t.n_bytes, t.n_elements / info->block_size * info->type_size) << t.name;
    total += t.n_bytes;
  }
  EXPECT_LE(file.data_offset() + total, file.file_size());
}

TEST(GgufModels, SmolLm2) {
  auto file = open_ok(kModels + "SmolLM2-135M-Instruct.Q4_1.gguf");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->version(), 3u);
  EXPECT_EQ(*file->get_string("general.architecture"), "llama");
  EXPECT_EQ(*file->get_uint("llama.block_count"), 30u);
  EXPECT_EQ(*file->get_uint("llama.embedding_length"), 576u);
  EXPECT_EQ(*file->get_uint("llama.attention.head_count"), 9u);
  EXPECT_EQ(*file->get_string("tokenizer.ggml.model"), "gpt2");
  auto tokens = file->get_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ((*tokens)->count, 49152u);
  EXPECT_EQ((*tokens)->strings.size(), 49152u);
  // 30 blocks x 9 tensors + token_embd + output_norm (the output projection is tied to the embedding).
  EXPECT_EQ(file->tensors().size(), 272u);
  const GgufTensorInfo* q = file->find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, GgmlType::kQ4_1);
  EXPECT_THAT(q->shape, ::testing::ElementsAre(576, 576));
  expect_tensors_inside(*file);
}

TEST(GgufModels, Gemma3) {
  auto file = open_ok(kModels + "gemma-3-270m-q4_k_m.gguf");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(*file->get_string("general.architecture"), "gemma3");
  EXPECT_EQ(*file->get_uint("gemma3.block_count"), 18u);
  EXPECT_EQ(*file->get_uint("gemma3.embedding_length"), 640u);
  EXPECT_EQ(*file->get_string("tokenizer.ggml.model"), "llama");
  auto scores = file->get_f32_array("tokenizer.ggml.scores");
  ASSERT_TRUE(scores.ok()) << scores.status();
  EXPECT_EQ(scores->size(), 262144u);
  // 18 blocks x 13 tensors (gemma3 adds q/k norms and post-attention/post-ffn norms) + token_embd + output_norm.
  EXPECT_EQ(file->tensors().size(), 236u);
  ASSERT_NE(file->find_tensor("token_embd.weight"), nullptr);
  ASSERT_NE(file->find_tensor("blk.17.post_ffw_norm.weight"), nullptr);
  expect_tensors_inside(*file);
}

// Releasing a tensor's pages (after a backend copied it) loses nothing: the bytes read back the same.
TEST(GgufModels, ReleasedPagesReadBackTheSame) {
  auto file = open_ok(kModels + "SmolLM2-135M-Instruct.Q4_1.gguf");
  const GgufTensorInfo* t = file->find_tensor("blk.0.ffn_down.weight");
  ASSERT_NE(t, nullptr);
  const auto* data = static_cast<const uint8_t*>(t->data);
  const std::vector<uint8_t> before(data, data + t->n_bytes);
  file->release_pages(*t);
  EXPECT_TRUE(std::equal(before.begin(), before.end(), data));
}

TEST(GgufModels, VocabFilesOpen) {
  const char* names[] = {"ggml-vocab-deepseek-llm.gguf", "ggml-vocab-falcon.gguf", "ggml-vocab-gpt-2.gguf",
                         "ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf"};
  for (const char* name : names) {
    SCOPED_TRACE(name);
    auto file = open_ok(kVocabDir + name);
    ASSERT_NE(file, nullptr);
    EXPECT_TRUE(file->get_string("general.architecture").ok());
    EXPECT_TRUE(file->get_string("tokenizer.ggml.model").ok());
    auto tokens = file->get_array("tokenizer.ggml.tokens");
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    EXPECT_EQ((*tokens)->element_type, GgufValueType::kString);
    EXPECT_GT((*tokens)->count, 30000u);
    EXPECT_TRUE(file->tensors().empty());
  }
}

TEST(GgufModels, CommittedFuzzSeedsParse) {
  int seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kSeedDir)) {
    SCOPED_TRACE(entry.path().string());
    auto file = open_ok(entry.path().string());
    ASSERT_NE(file, nullptr);
    EXPECT_FALSE(file->tensors().empty());
    expect_tensors_inside(*file);
    ++seeds;
  }
  EXPECT_GE(seeds, 3);
}

}  // namespace
}  // namespace strata
