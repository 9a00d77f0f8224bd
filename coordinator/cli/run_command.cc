// `strata run -m FILE -p PROMPT`: generate from one prompt on this machine, streaming text as it comes.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "coordinator/cli/commands.h"
#include "coordinator/kv/block_allocator.h"
#include "core/chat/chat_prompt.h"
#include "core/sampling/sampler.h"
#include "core/tokenizer/incremental_decoder.h"
#include "worker/local_model.h"

namespace strata::cli {
namespace {

struct RunOptions {
  std::string model_path;
  std::string prompt;
  std::string system;
  int n_predict = 128;
  float temperature = 0.8f;
  int top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  uint64_t seed = 0;
  int threads = 0;
  int64_t ctx_size = 0;
  int64_t batch_size = 512;
  bool chat = false;
  bool ignore_eos = false;
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

int fail(const absl::Status& status) {
  std::fprintf(stderr, "strata run: %s\n", std::string(status.message()).c_str());
  return 1;
}

int run_generate(const RunOptions& o) {
  LocalModelOptions lo;
  lo.threads = o.threads;
  lo.kv_tokens = o.ctx_size;
  const auto load_start = Clock::now();
  auto loaded = LocalModel::load(o.model_path, lo);
  if (!loaded.ok()) return fail(loaded.status());
  LocalModel& model = **loaded;
  const Tokenizer& tok = *model.tokenizer;
  const int64_t ctx = model.cache->n_blocks() * model.block_size;

  std::vector<int32_t> prompt;
  if (o.chat) {
    // The model's own chat template (tokenizer.chat_template), as `strata serve` renders it.
    auto chat = ChatPrompt::create(*model.file, tok);
    if (!chat.ok()) return fail(chat.status());
    nlohmann::json messages = nlohmann::json::array();
    if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
    messages.push_back({{"role", "user"}, {"content", o.prompt}});
    auto tokens = (*chat)->build(messages);
    if (!tokens.ok()) return fail(tokens.status());
    prompt = std::move(*tokens);
  } else {
    prompt = tok.encode(o.prompt, /*add_special=*/true, /*parse_special=*/false);
  }
  if (prompt.empty()) return fail(absl::InvalidArgumentError("the prompt is empty"));
  const int64_t n_predict = o.n_predict < 0 ? ctx - static_cast<int64_t>(prompt.size()) : o.n_predict;
  if (static_cast<int64_t>(prompt.size()) + n_predict > ctx) {
    return fail(absl::InvalidArgumentError("prompt (" + std::to_string(prompt.size()) + " tokens) + -n " +
                                           std::to_string(n_predict) + " exceeds the context of " +
                                           std::to_string(ctx) + " tokens (raise --ctx-size)"));
  }
  std::fprintf(stderr,
               "strata run: %s, %s, loaded in %.2f s (%.1f MiB of weights in backend memory), prompt %zu tokens\n",
               model.config.name.c_str(), model.backend->name().c_str(), seconds_since(load_start),
               model.weights.backend_bytes / 1048576.0, prompt.size());

  SamplingParams sp;
  sp.temperature = o.temperature;
  sp.top_k = o.top_k;
  sp.top_p = o.top_p;
  sp.min_p = o.min_p;
  sp.repetition_penalty = o.repeat_penalty;
  sp.seed = o.seed;
  if (absl::Status s = sp.validate(); !s.ok()) return fail(s);
  Sampler sampler(sp);

  KvBlockAllocator allocator(static_cast<int32_t>(model.cache->n_blocks()));
  SequenceBlocks blocks(allocator, static_cast<int32_t>(model.block_size));
  if (absl::Status s = blocks.reserve(static_cast<int64_t>(prompt.size()) + n_predict); !s.ok()) return fail(s);

  // Prefill in chunks of --batch-size tokens; the last chunk's logits start generation.
  std::vector<float> logits;
  const auto prefill_start = Clock::now();
  for (size_t begin = 0; begin < prompt.size(); begin += o.batch_size) {
    const size_t end = std::min(prompt.size(), begin + static_cast<size_t>(o.batch_size));
    ForwardBatch batch;
    batch.seqs.push_back({std::vector<int32_t>(prompt.begin() + begin, prompt.begin() + end),
                          static_cast<int32_t>(begin), blocks.table(), false});
    if (absl::Status s = model.transformer->forward(batch, logits); !s.ok()) return fail(s);
  }
  const double prefill_s = seconds_since(prefill_start);

  IncrementalDecoder decoder(tok);
  std::vector<int32_t> generated;
  const auto decode_start = Clock::now();
  int32_t pos = static_cast<int32_t>(prompt.size());
  for (int64_t i = 0; i < n_predict; ++i) {
    const SampleResult r = sampler.sample(logits, prompt, generated);
    if (!o.ignore_eos && tok.is_eog(r.token)) break;
    generated.push_back(r.token);
    const std::string piece = decoder.push(r.token);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    if (i + 1 == n_predict) break;
    ForwardBatch batch;
    batch.seqs.push_back({{r.token}, pos++, blocks.table(), false});
    if (absl::Status s = model.transformer->forward(batch, logits); !s.ok()) return fail(s);
  }
  const std::string rest = decoder.flush();
  std::fwrite(rest.data(), 1, rest.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);  // the text ends before the stats line, also when both streams go to one pipe
  const double decode_s = seconds_since(decode_start);
  std::fprintf(stderr,
               "strata run: prompt %zu tokens in %.3f s (%.1f tok/s), generated %zu tokens in %.3f s (%.1f tok/s)\n",
               prompt.size(), prefill_s, prompt.size() / prefill_s, generated.size(), decode_s,
               generated.empty() ? 0.0 : generated.size() / decode_s);
  return 0;
}

}  // namespace

void register_run_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text from one prompt on this machine, streaming it to stdout");
  cmd->add_option("-m,--model", o->model_path, "GGUF model file")->required();
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text")->required();
  cmd->add_option("-n,--n-predict", o->n_predict, "Tokens to generate (-1: until the context is full)")
      ->capture_default_str();
  cmd->add_option("--temp", o->temperature, "Sampling temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-k", o->top_k, "Top-k (0: off)")->capture_default_str();
  cmd->add_option("--top-p", o->top_p, "Top-p (1: off)")->capture_default_str();
  cmd->add_option("--min-p", o->min_p, "Min-p (0: off)")->capture_default_str();
  cmd->add_option("--repeat-penalty", o->repeat_penalty, "Repetition penalty (1: off)")->capture_default_str();
  cmd->add_option("-s,--seed", o->seed, "RNG seed: the same seed gives the same tokens")->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "CPU threads (0: all cores available)")->capture_default_str();
  cmd->add_option("-c,--ctx-size", o->ctx_size, "Context size in tokens (0: the model's, at most 4096)")
      ->capture_default_str();
  cmd->add_option("-b,--batch-size", o->batch_size, "Prompt tokens per forward step")
      ->capture_default_str()
      ->check(CLI::Range(1, 8192));
  cmd->add_option("--system", o->system, "System prompt (with --chat)");
  cmd->add_flag("--chat", o->chat, "Render the prompt with the model's chat template (tokenizer.chat_template)");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "Keep generating past end-of-generation tokens");
  cmd->callback([o, &exit_code] { exit_code = run_generate(*o); });
}

}  // namespace strata::cli
