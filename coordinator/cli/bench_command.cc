// `strata bench -m FILE`: prompt-processing and decode speed (mean ± sd over repetitions, as llama-bench reports
// them) and decode bandwidth — weight bytes read per token ÷ time per token — beside the machine's measured read
// bandwidth, the ceiling memory-bound decode can reach.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "coordinator/cli/commands.h"
#include "coordinator/kv/block_allocator.h"
#include "core/sampling/sampler.h"
#include "kernels/cpu/memory_bandwidth.h"
#include "worker/local_model.h"

namespace strata::cli {
namespace {

struct BenchOptions {
  std::string model_path;
  int64_t n_prompt = 128;
  int64_t n_gen = 64;
  int threads = 2;
  int repetitions = 3;
  bool skip_bandwidth = false;
  bool profile = false;
};

using Clock = std::chrono::steady_clock;

int fail(const absl::Status& status) {
  std::fprintf(stderr, "strata bench: %s\n", std::string(status.message()).c_str());
  return 1;
}

struct MeanSd {
  double mean = 0, sd = 0;
};

MeanSd mean_sd(const std::vector<double>& xs) {
  MeanSd r;
  for (double x : xs) r.mean += x;
  r.mean /= xs.size();
  for (double x : xs) r.sd += (x - r.mean) * (x - r.mean);
  r.sd = xs.size() > 1 ? std::sqrt(r.sd / (xs.size() - 1)) : 0;
  return r;
}

// Bytes of weights one decode step streams: every matrix once (the embedding table contributes one row).
uint64_t decode_weight_bytes(const ModelWeights& w) {
  auto bytes = [](const WeightTensor& t) { return static_cast<uint64_t>(t.n_rows) * t.row_bytes; };
  uint64_t total = bytes(w.output) + w.token_embd.row_bytes;
  for (const LayerWeights& l : w.layers) {
    total += bytes(l.wq) + bytes(l.wk) + bytes(l.wv) + bytes(l.wo) + bytes(l.w_gate) + bytes(l.w_up) + bytes(l.w_down);
  }
  return total;
}

int run_bench(const BenchOptions& o) {
  LocalModelOptions lo;
  lo.threads = o.threads;
  lo.kv_tokens = std::max(o.n_prompt, o.n_gen) + 16;
  lo.profile = o.profile;
  auto loaded = LocalModel::load(o.model_path, lo);
  if (!loaded.ok()) return fail(loaded.status());
  LocalModel& model = **loaded;
  const uint64_t weight_bytes = decode_weight_bytes(model.weights);
  std::printf("model: %s (%s), %.1f MiB of weights per decode token, backend %s\n", model.config.name.c_str(),
              model.config.arch.c_str(), weight_bytes / 1048576.0, model.backend->name().c_str());

  // A shared machine's bandwidth drifts (another tenant's load, this VM's host): the read bandwidth is measured
  // before and after the runs and the higher figure is the reference, so a slow moment cannot flatter the ratio.
  // One meter for both, freed after the second: freeing its buffer before the runs slowed some of them.
  std::optional<cpu::ReadBandwidthMeter> meter;
  if (!o.skip_bandwidth && o.n_gen > 0) meter.emplace();
  const double bandwidth_before = meter ? meter->measure(model.backend->pool()) : 0.0;

  KvBlockAllocator allocator(static_cast<int32_t>(model.cache->n_blocks()));
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(model.config.n_vocab - 1));
  std::vector<float> logits;
  std::vector<double> pp_tps, tg_tps;
  // One unmeasured warm-up pass pages the weights in and grows the scratch buffers.
  for (int rep = -1; rep < o.repetitions; ++rep) {
    if (o.n_prompt > 0) {
      SequenceBlocks blocks(allocator, static_cast<int32_t>(model.block_size));
      if (absl::Status s = blocks.reserve(o.n_prompt); !s.ok()) return fail(s);
      ForwardBatch batch;
      std::vector<int32_t> prompt(o.n_prompt);
      for (int32_t& t : prompt) t = token(rng);
      batch.seqs.push_back({prompt, 0, blocks.table(), false});
      const auto start = Clock::now();
      if (absl::Status s = model.transformer->forward(batch, logits); !s.ok()) return fail(s);
      const double sec = std::chrono::duration<double>(Clock::now() - start).count();
      if (rep >= 0) pp_tps.push_back(o.n_prompt / sec);
    }
    if (o.n_gen > 0) {
      if (model.profiler) model.profiler->set_enabled(rep >= 0);
      SequenceBlocks blocks(allocator, static_cast<int32_t>(model.block_size));
      if (absl::Status s = blocks.reserve(o.n_gen); !s.ok()) return fail(s);
      int32_t next = token(rng);
      const auto start = Clock::now();
      for (int64_t i = 0; i < o.n_gen; ++i) {
        ForwardBatch batch;
        batch.seqs.push_back({{next}, static_cast<int32_t>(i), blocks.table(), false});
        if (absl::Status s = model.transformer->forward(batch, logits); !s.ok()) return fail(s);
        next = argmax(logits);
      }
      const double sec = std::chrono::duration<double>(Clock::now() - start).count();
      if (rep >= 0) tg_tps.push_back(o.n_gen / sec);
      if (model.profiler) model.profiler->set_enabled(false);
    }
  }
  if (!pp_tps.empty()) {
    const MeanSd pp = mean_sd(pp_tps);
    std::printf("pp%lld: %.2f ± %.2f tok/s\n", static_cast<long long>(o.n_prompt), pp.mean, pp.sd);
  }
  if (!tg_tps.empty()) {
    const MeanSd tg = mean_sd(tg_tps);
    const double gbs = weight_bytes * tg.mean / 1e9;
    std::printf("tg%lld: %.2f ± %.2f tok/s, %.2f GB/s of weights", static_cast<long long>(o.n_gen), tg.mean, tg.sd,
                gbs);
    if (meter) {
      const double after = meter->measure(model.backend->pool());
      meter.reset();
      const double peak = std::max(bandwidth_before, after);
      std::printf(
          ", machine read bandwidth %.2f GB/s (%d threads; best of %.2f before and %.2f after the runs): %.1f %%", peak,
          model.backend->num_threads(), bandwidth_before, after, 100.0 * gbs / peak);
    }
    std::printf("\n");
    // Each run on its own: a slow run among fast ones points at the machine (another process, a freed buffer's
    // aftermath), not at the engine.
    if (tg_tps.size() > 1) {
      std::printf("tg%lld runs:", static_cast<long long>(o.n_gen));
      for (double v : tg_tps) std::printf(" %.2f", v);
      std::printf(" tok/s\n");
    }
    // Weights that fit in the last-level cache may partly be read from it (a shared cache: how much depends on the
    // neighbours), so decode can exceed the DRAM figure.
    if (const size_t llc = cpu::last_level_cache_bytes(); !o.skip_bandwidth && llc > 0 && weight_bytes <= llc) {
      std::printf(
          "note: the weights (%.0f MiB) fit in the last-level cache (%.0f MiB): decode may read part of them from "
          "it, faster than the machine's memory read bandwidth\n",
          weight_bytes / 1048576.0, llc / 1048576.0);
    }
    if (model.profiler) {
      const int64_t tokens = o.n_gen * o.repetitions;
      std::printf("\ndecode profile, per token (%lld tokens; every op synchronized, so slower than unprofiled):\n%s",
                  static_cast<long long>(tokens), model.profiler->report(tokens).c_str());
      std::printf("%-52s %8s %10s %10.3f\n", "forward (ops + host work between them)", "", "", 1e3 / tg.mean);
    }
  }
  return 0;
}

}  // namespace

void register_bench_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prompt and decode speed and decode memory bandwidth");
  cmd->add_option("-m,--model", o->model_path, "GGUF model file")->required();
  cmd->add_option("-p,--n-prompt", o->n_prompt, "Prompt tokens per prefill (0: skip)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{16384}));
  cmd->add_option("-n,--n-gen", o->n_gen, "Tokens to decode (0: skip)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{16384}));
  cmd->add_option("-t,--threads", o->threads, "CPU threads")->capture_default_str();
  cmd->add_option("-r,--repetitions", o->repetitions, "Measured repetitions")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_flag("--no-bandwidth", o->skip_bandwidth, "Skip measuring the machine's read bandwidth");
  cmd->add_flag("--profile", o->profile, "Time every op of the decode runs and print where a token's time goes");
  cmd->callback([o, &exit_code] { exit_code = run_bench(*o); });
}

}  // namespace strata::cli
