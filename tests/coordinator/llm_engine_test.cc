// The engine end to end on the real SmolLM2 model through the embedded executor: continuous batching with chunked
// prefill, preemption when the KV cache runs out, prefix caching, cancellation and admission errors.
#include "coordinator/engine/llm_engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "coordinator/cluster/embedded_executor.h"
#include "coordinator/metrics/server_metrics.h"
#include "worker/local_model.h"

namespace strata {
namespace {

// Collects one request's events; wait() blocks until its final event.
struct Collector {
  std::mutex mutex;
  std::condition_variable done_cv;
  std::vector<int32_t> tokens;
  FinishReason finish = FinishReason::kNone;
  int64_t cached_prompt_tokens = 0;
  int stop_after = -1;  // return false after this many tokens (a client that goes away)

  GenerationCallback callback() {
    return [this](const GenerationEvent& e) {
      std::lock_guard<std::mutex> lock(mutex);
      if (e.token >= 0) tokens.push_back(e.token);
      cached_prompt_tokens = e.cached_prompt_tokens;
      const bool keep = stop_after < 0 || static_cast<int>(tokens.size()) < stop_after;
      if (e.finish != FinishReason::kNone || !keep) {
        finish = e.finish != FinishReason::kNone ? e.finish : FinishReason::kCancelled;
        done_cv.notify_all();
      }
      return keep;
    };
  }
  bool wait() {
    std::unique_lock<std::mutex> lock(mutex);
    return done_cv.wait_for(lock, std::chrono::seconds(120), [&] { return finish != FinishReason::kNone; });
  }
};

class LlmEngineTest : public ::testing::Test {
 protected:
  void load(int64_t kv_tokens) {
    LocalModelOptions o;
    o.threads = 2;
    o.kv_tokens = kv_tokens;
    auto m = LocalModel::load(std::string(STRATA_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf", o);
    ASSERT_TRUE(m.ok()) << m.status() << " (run deploy/fetch-models.sh)";
    model_ = std::move(*m);
    executor_ = std::make_unique<EmbeddedExecutor>(*model_);
    metrics_ = std::make_unique<ServerMetrics>("smollm2");
  }
  std::unique_ptr<LlmEngine> start(int64_t max_batched_tokens, int64_t max_waiting = 64) {
    EngineOptions o;
    o.scheduler.max_num_batched_tokens = max_batched_tokens;
    o.scheduler.max_num_seqs = 16;
    o.scheduler.max_model_len = 1024;
    o.max_waiting = max_waiting;
    return std::make_unique<LlmEngine>(*executor_, o, metrics_.get());
  }
  GenerationRequest request(const std::string& text, int64_t max_tokens) {
    GenerationRequest r;
    r.prompt = model_->tokenizer->encode(text, true, false);
    r.max_tokens = max_tokens;
    r.ignore_eos = true;  // fixed lengths make the comparisons exact
    return r;
  }
  std::vector<int32_t> run_alone(LlmEngine& engine, const std::string& text, int64_t max_tokens) {
    Collector c;
    EXPECT_TRUE(engine.submit(request(text, max_tokens), c.callback()).ok());
    EXPECT_TRUE(c.wait());
    return c.tokens;
  }

  std::unique_ptr<LocalModel> model_;
  std::unique_ptr<EmbeddedExecutor> executor_;
  std::unique_ptr<ServerMetrics> metrics_;
};

const std::vector<std::string> kPrompts = {
    "The capital of France is",     "Water boils at",        "def add(a, b):",      "Once upon a time,",
    "The three primary colors are", "My favourite fruit is", "In 1969, astronauts", "The quick brown fox",
};

TEST_F(LlmEngineTest, ConcurrentRequestsMatchTheirSoloRuns) {
  load(2048);
  // A budget of 8 tokens per step forces chunked prefill beside running decodes.
  auto engine = start(/*max_batched_tokens=*/8);
  std::vector<std::unique_ptr<Collector>> collectors;
  for (const std::string& p : kPrompts) {
    collectors.push_back(std::make_unique<Collector>());
    ASSERT_TRUE(engine->submit(request(p, 12), collectors.back()->callback()).ok());
  }
  for (auto& c : collectors) ASSERT_TRUE(c->wait());
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    EXPECT_EQ(collectors[i]->finish, FinishReason::kLength);
    EXPECT_EQ(collectors[i]->tokens, run_alone(*engine, kPrompts[i], 12)) << kPrompts[i];
  }
}

TEST_F(LlmEngineTest, PreemptionWhenTheCacheRunsOut) {
  load(/*kv_tokens=*/96);  // 6 blocks of 16: four requests of ~40 tokens cannot all stay resident
  auto engine = start(64);
  std::vector<std::unique_ptr<Collector>> collectors;
  for (int i = 0; i < 4; ++i) {
    collectors.push_back(std::make_unique<Collector>());
    ASSERT_TRUE(engine->submit(request(kPrompts[i], 34), collectors.back()->callback()).ok());
  }
  for (auto& c : collectors) ASSERT_TRUE(c->wait());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(collectors[i]->tokens.size(), 34u);
    EXPECT_EQ(collectors[i]->tokens, run_alone(*engine, kPrompts[i], 34)) << kPrompts[i];
  }
  EXPECT_GT(metrics_->num_preemptions_total->Value(), 0);
}

TEST_F(LlmEngineTest, PrefixCacheReusesASharedPrompt) {
  load(2048);
  auto engine = start(512);
  std::string system = "You are a helpful assistant who answers questions about geography, history and science. ";
  system += system;  // long enough for several full blocks
  const std::string prompt = system + "Question: what is the capital of Italy? Answer:";
  Collector first, second;
  ASSERT_TRUE(engine->submit(request(prompt, 8), first.callback()).ok());
  ASSERT_TRUE(first.wait());
  ASSERT_TRUE(engine->submit(request(prompt, 8), second.callback()).ok());
  ASSERT_TRUE(second.wait());
  EXPECT_EQ(first.cached_prompt_tokens, 0);
  EXPECT_GE(second.cached_prompt_tokens, 32);
  EXPECT_EQ(first.tokens, second.tokens);
  EXPECT_GE(metrics_->prefix_cache_hits_total->Value(), second.cached_prompt_tokens);
}

TEST_F(LlmEngineTest, CancelFreesTheRequest) {
  load(2048);
  auto engine = start(512);
  Collector c;
  c.stop_after = 3;
  ASSERT_TRUE(engine->submit(request("Count to one hundred:", 200), c.callback()).ok());
  ASSERT_TRUE(c.wait());
  EXPECT_EQ(c.tokens.size(), 3u);
  // The engine keeps serving afterwards.
  EXPECT_EQ(run_alone(*engine, "Hello", 4).size(), 4u);
}

TEST_F(LlmEngineTest, AdmissionErrors) {
  load(2048);
  auto engine = start(512, /*max_waiting=*/64);
  GenerationRequest empty;
  EXPECT_EQ(engine->submit(empty, [](const GenerationEvent&) { return true; }).status().code(),
            absl::StatusCode::kInvalidArgument);
  GenerationRequest too_long = request("Hello", 5000);
  auto status = engine->submit(too_long, [](const GenerationEvent&) { return true; }).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("maximum context length"), std::string::npos);
  GenerationRequest bad_sampling = request("Hello", 4);
  bad_sampling.sampling.top_p = 0;
  EXPECT_EQ(engine->submit(bad_sampling, [](const GenerationEvent&) { return true; }).status().code(),
            absl::StatusCode::kInvalidArgument);
  GenerationRequest bad_token = request("Hello", 4);
  bad_token.prompt.push_back(1 << 30);
  EXPECT_EQ(engine->submit(bad_token, [](const GenerationEvent&) { return true; }).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(LlmEngineTest, FullQueueIsRejected) {
  load(2048);
  auto engine = start(512, /*max_waiting=*/2);
  std::vector<std::unique_ptr<Collector>> collectors;
  int rejected = 0;
  for (int i = 0; i < 12; ++i) {
    collectors.push_back(std::make_unique<Collector>());
    auto id = engine->submit(request("Tell me a long story.", 64), collectors.back()->callback());
    if (!id.ok()) {
      EXPECT_EQ(id.status().code(), absl::StatusCode::kResourceExhausted);
      ++rejected;
      collectors.pop_back();
    }
  }
  EXPECT_GT(rejected, 0);
  for (auto& c : collectors) ASSERT_TRUE(c->wait());
}

}  // namespace
}  // namespace strata
