// `strata perplexity -m FILE -f TEXT`: perplexity over non-overlapping windows, computed the way llama.cpp's
// perplexity tool does (BOS at the start of each window, only the second half of each window scored) so the
// numbers compare directly.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "coordinator/cli/commands.h"
#include "coordinator/kv/block_allocator.h"
#include "worker/local_model.h"

namespace strata::cli {
namespace {

struct PerplexityOptions {
  std::string model_path;
  std::string text_path;
  int64_t ctx_size = 512;
  int64_t batch_size = 512;
  int threads = 0;
  int64_t max_chunks = 0;
};

int fail(const absl::Status& status) {
  std::fprintf(stderr, "strata perplexity: %s\n", std::string(status.message()).c_str());
  return 1;
}

// log p(target) under `logits`, computed in double.
double log_prob(const float* logits, int64_t n_vocab, int32_t target) {
  float max_logit = logits[0];
  for (int64_t i = 1; i < n_vocab; ++i) max_logit = std::max(max_logit, logits[i]);
  double sum = 0;
  for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i] - max_logit));
  return static_cast<double>(logits[target] - max_logit) - std::log(sum);
}

int run_perplexity(const PerplexityOptions& o) {
  std::ifstream in(o.text_path, std::ios::binary);
  if (!in) return fail(absl::NotFoundError("cannot read " + o.text_path));
  std::stringstream text;
  text << in.rdbuf();

  LocalModelOptions lo;
  lo.threads = o.threads;
  lo.kv_tokens = o.ctx_size;
  auto loaded = LocalModel::load(o.model_path, lo);
  if (!loaded.ok()) return fail(loaded.status());
  LocalModel& model = **loaded;
  const int64_t n_vocab = model.config.n_vocab;
  const bool add_bos = model.tokenizer->add_bos();

  const std::vector<int32_t> tokens = model.tokenizer->encode(text.str(), /*add_special=*/true, false);
  const int64_t n_ctx = o.ctx_size;
  int64_t n_chunks = static_cast<int64_t>(tokens.size()) / n_ctx;
  if (o.max_chunks > 0) n_chunks = std::min(n_chunks, o.max_chunks);
  if (n_chunks == 0) {
    return fail(absl::InvalidArgumentError("the text has " + std::to_string(tokens.size()) +
                                           " tokens, fewer than one window of --ctx-size " + std::to_string(n_ctx)));
  }
  std::fprintf(stderr, "strata perplexity: %zu tokens, %lld windows of %lld, %s\n", tokens.size(),
               static_cast<long long>(n_chunks), static_cast<long long>(n_ctx), model.backend->name().c_str());

  KvBlockAllocator allocator(static_cast<int32_t>(model.cache->n_blocks()));
  const int64_t first = n_ctx / 2;  // tokens before this only give context
  double nll = 0, nll2 = 0;
  int64_t count = 0;
  std::vector<float> logits;
  for (int64_t chunk = 0; chunk < n_chunks; ++chunk) {
    std::vector<int32_t> window(tokens.begin() + chunk * n_ctx, tokens.begin() + (chunk + 1) * n_ctx);
    if (add_bos) window[0] = model.tokenizer->bos_id();
    SequenceBlocks blocks(allocator, static_cast<int32_t>(model.block_size));
    if (absl::Status s = blocks.reserve(n_ctx); !s.ok()) return fail(s);
    for (int64_t begin = 0; begin < n_ctx; begin += o.batch_size) {
      const int64_t end = std::min(n_ctx, begin + o.batch_size);
      ForwardBatch batch;
      batch.seqs.push_back({std::vector<int32_t>(window.begin() + begin, window.begin() + end),
                            static_cast<int32_t>(begin), blocks.table(), /*all_logits=*/true});
      if (absl::Status s = model.transformer->forward(batch, logits); !s.ok()) return fail(s);
      // Row r predicts token begin + r + 1; score predictions of tokens first+1 .. n_ctx-1.
      for (int64_t r = 0; r < end - begin; ++r) {
        const int64_t i = begin + r;
        if (i < first || i + 1 >= n_ctx) continue;
        const double lp = log_prob(logits.data() + r * n_vocab, n_vocab, window[i + 1]);
        nll -= lp;
        nll2 += lp * lp;
        ++count;
      }
    }
    std::printf("[%lld]%.4f,", static_cast<long long>(chunk + 1), std::exp(nll / count));
    std::fflush(stdout);
  }
  const double mean = nll / count;
  const double ppl = std::exp(mean);
  const double var = nll2 / count - mean * mean;
  const double err = var > 0 && count > 1 ? ppl * std::sqrt(var / (count - 1)) : 0;
  std::printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", ppl, err);
  return 0;
}

}  // namespace

void register_perplexity_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<PerplexityOptions>();
  CLI::App* cmd = app.add_subcommand("perplexity", "Perplexity of a model on a text file (llama.cpp-compatible)");
  cmd->add_option("-m,--model", o->model_path, "GGUF model file")->required();
  cmd->add_option("-f,--file", o->text_path, "Text file")->required();
  cmd->add_option("-c,--ctx-size", o->ctx_size, "Window size in tokens")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{8}, int64_t{1} << 20));
  cmd->add_option("-b,--batch-size", o->batch_size, "Tokens per forward step")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{8192}));
  cmd->add_option("-t,--threads", o->threads, "CPU threads (0: all cores available)")->capture_default_str();
  cmd->add_option("--chunks", o->max_chunks, "Score at most this many windows (0: all)")->capture_default_str();
  cmd->callback([o, &exit_code] { exit_code = run_perplexity(*o); });
}

}  // namespace strata::cli
