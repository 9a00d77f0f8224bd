// Correctness does not depend on batch composition: on the real SmolLM2 model, eight prompts decoded greedily one at
// a time (GEMV path, batch of one) give exactly the tokens they give decoded together (GEMM path, batch of eight),
// and a prompt prefilled in small chunks gives what one whole prefill gives.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/kv/block_allocator.h"
#include "worker/local_model.h"

namespace strata {
namespace {

constexpr int kNewTokens = 24;

const char* kPrompts[] = {
    "The capital of France is",
    "Water boils at a temperature of",
    "def fibonacci(n):",
    "Once upon a time, in a small village,",
    "The three primary colors are",
    "Photosynthesis is the process by which",
    "1, 2, 3, 4, 5,",
    "The quick brown fox",
};

class BatchInvariance : public ::testing::Test {
 protected:
  void SetUp() override {
    LocalModelOptions o;
    o.threads = 2;
    o.kv_tokens = 1024;
    auto m = LocalModel::load(std::string(STRATA_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf", o);
    ASSERT_TRUE(m.ok()) << m.status() << " (run deploy/fetch-models.sh)";
    model_ = std::move(*m);
    allocator_ = std::make_unique<KvBlockAllocator>(static_cast<int32_t>(model_->cache->n_blocks()));
  }

  int32_t argmax(const float* row) const {
    return static_cast<int32_t>(std::max_element(row, row + model_->config.n_vocab) - row);
  }

  // Greedy continuation of each prompt; all prompts advance together in one batch per step.
  std::vector<std::vector<int32_t>> generate(const std::vector<std::vector<int32_t>>& prompts, int prefill_chunk) {
    std::vector<SequenceBlocks> blocks;
    for (const auto& p : prompts) {
      blocks.emplace_back(*allocator_, static_cast<int32_t>(model_->block_size));
      EXPECT_TRUE(blocks.back().reserve(static_cast<int64_t>(p.size()) + kNewTokens).ok());
    }
    std::vector<std::vector<int32_t>> out(prompts.size());
    std::vector<float> logits;
    // Prefill every prompt (in chunks), taking the first token from each prompt's last chunk.
    for (size_t i = 0; i < prompts.size(); ++i) {
      for (size_t begin = 0; begin < prompts[i].size(); begin += prefill_chunk) {
        const size_t end = std::min(prompts[i].size(), begin + prefill_chunk);
        ForwardBatch batch;
        batch.seqs.push_back({std::vector<int32_t>(prompts[i].begin() + begin, prompts[i].begin() + end),
                              static_cast<int32_t>(begin), blocks[i].table(), false});
        EXPECT_TRUE(model_->transformer->forward(batch, logits).ok());
      }
      out[i].push_back(argmax(logits.data()));
    }
    for (int step = 1; step < kNewTokens; ++step) {
      ForwardBatch batch;
      for (size_t i = 0; i < prompts.size(); ++i) {
        batch.seqs.push_back(
            {{out[i].back()}, static_cast<int32_t>(prompts[i].size() + step - 1), blocks[i].table(), false});
      }
      EXPECT_TRUE(model_->transformer->forward(batch, logits).ok());
      for (size_t i = 0; i < prompts.size(); ++i) out[i].push_back(argmax(logits.data() + i * model_->config.n_vocab));
    }
    return out;
  }

  std::unique_ptr<LocalModel> model_;
  std::unique_ptr<KvBlockAllocator> allocator_;
};

TEST_F(BatchInvariance, AloneEqualsBatchOfEight) {
  std::vector<std::vector<int32_t>> prompts;
  for (const char* p : kPrompts) prompts.push_back(model_->tokenizer->encode(p, true, false));
  const auto together = generate(prompts, 512);
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto alone = generate({prompts[i]}, 512);
    EXPECT_EQ(alone[0], together[i]) << "prompt '" << kPrompts[i] << "': alone '" << model_->tokenizer->decode(alone[0])
                                     << "' vs batched '" << model_->tokenizer->decode(together[i]) << "'";
  }
}

TEST_F(BatchInvariance, ChunkedPrefillEqualsWholePrefill) {
  const std::vector<int32_t> prompt = model_->tokenizer->encode(
      "Strata serves large language models by pooling the graphics cards people actually have, across machines "
      "rented on the internet or sitting in one box, and it plans where every layer goes.",
      true, false);
  ASSERT_GT(prompt.size(), 20u);
  const auto whole = generate({prompt}, 512);
  for (int chunk : {1, 5, 16}) {
    EXPECT_EQ(generate({prompt}, chunk)[0], whole[0]) << "prefill chunk " << chunk;
  }
}

TEST_F(BatchInvariance, AnswersInEnglish) {
  const auto out = generate({model_->tokenizer->encode("The capital of France is", true, false)}, 512);
  EXPECT_NE(model_->tokenizer->decode(out[0]).find("Paris"), std::string::npos) << model_->tokenizer->decode(out[0]);
}

}  // namespace
}  // namespace strata
