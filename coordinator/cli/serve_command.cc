// `strata serve -m FILE`: the OpenAI-compatible HTTP server on this machine's embedded worker.
//
// Start-up: read the model's configuration, size the KV cache from --kv-cache-memory, load the model (with a progress
// line on a terminal), build EmbeddedExecutor -> ServerMetrics -> LlmEngine, then serve until SIGINT / SIGTERM.
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "coordinator/api/api_server.h"
#include "coordinator/cli/commands.h"
#include "coordinator/cluster/embedded_executor.h"
#include "coordinator/engine/llm_engine.h"
#include "coordinator/metrics/server_metrics.h"
#include "core/chat/chat_prompt.h"
#include "worker/local_model.h"
#include "worker/shard/kv_cache.h"

namespace strata::cli {
namespace {

constexpr int64_t kDefaultKvCacheBytes = int64_t{512} << 20;

struct ServeOptions {
  std::string model_path;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  std::string api_key_file;
  int64_t ctx_size = 0;
  int64_t max_num_seqs = 64;
  int64_t max_num_batched_tokens = 512;
  std::string kv_cache_memory;  // bytes, with an optional K/M/G(iB) suffix; empty: automatic
  int threads = 0;
  std::string served_model_name;
  int64_t max_queue = 256;
  int64_t max_body_bytes = 8 << 20;
  std::string log_level = "info";
};

int fail(const absl::Status& status) {
  spdlog::error("strata serve: {}", std::string(status.message()));
  return 1;
}

// "536870912", "512MiB", "512M", "2GiB", "1.5G": binary multiples, as memory is sized.
absl::StatusOr<int64_t> parse_bytes(const std::string& text) {
  size_t end = 0;
  double value = 0;
  try {
    value = std::stod(text, &end);
  } catch (const std::exception&) {
    return absl::InvalidArgumentError(absl::StrCat("--kv-cache-memory: '", text, "' is not a size"));
  }
  std::string unit = text.substr(end);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double scale = 1;
  if (unit.empty() || unit == "B") {
  } else if (unit == "K" || unit == "KB" || unit == "KIB") {
    scale = 1024.0;
  } else if (unit == "M" || unit == "MB" || unit == "MIB") {
    scale = 1024.0 * 1024;
  } else if (unit == "G" || unit == "GB" || unit == "GIB") {
    scale = 1024.0 * 1024 * 1024;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--kv-cache-memory: unknown unit '", text.substr(end), "'"));
  }
  if (!(value > 0)) return absl::InvalidArgumentError("--kv-cache-memory must be positive");
  return static_cast<int64_t>(value * scale);
}

absl::StatusOr<std::string> read_api_key(const ServeOptions& o) {
  if (!o.api_key.empty() && !o.api_key_file.empty()) {
    return absl::InvalidArgumentError("give --api-key or --api-key-file, not both");
  }
  if (o.api_key_file.empty()) return o.api_key;
  std::ifstream in(o.api_key_file);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read --api-key-file ", o.api_key_file));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();  // trailing newline
  if (key.empty()) return absl::InvalidArgumentError(absl::StrCat("--api-key-file ", o.api_key_file, " is empty"));
  return key;
}

// Loads the model; on a terminal, a line that ticks every 100 ms shows it is still going.
absl::StatusOr<std::unique_ptr<LocalModel>> load_with_progress(const std::string& path,
                                                               const LocalModelOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  std::atomic<bool> loading{true};
  std::thread ticker;
  if (isatty(STDERR_FILENO)) {
    ticker = std::thread([&] {
      static constexpr char kSpin[] = "|/-\\";
      for (int i = 0; loading.load(); ++i) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "\r%c loading %s ... %.1f s", kSpin[i % 4], path.c_str(), s);
        std::fflush(stderr);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      std::fprintf(stderr, "\r\033[K");
      std::fflush(stderr);
    });
  }
  auto model = LocalModel::load(path, options);
  loading = false;
  if (ticker.joinable()) ticker.join();
  return model;
}

// Takes SIGINT / SIGTERM on a thread of its own (a signal handler may not stop an HTTP server). Before the server
// exists there is nothing to shut down gracefully, so a signal during start-up (a long model load) ends the process.
class SignalWaiter {
 public:
  SignalWaiter() {
    thread_ = std::thread([this] {
      sigset_t set = signal_set();
      int sig = 0;
      sigwait(&set, &sig);
      if (done_.load()) return;
      ApiServer* server = server_.load();
      if (server == nullptr) {
        std::fprintf(stderr, "\nstrata serve: signal %d during start-up\n", sig);
        std::_Exit(128 + sig);
      }
      spdlog::info("signal {}: shutting down", sig);
      server->stop();
    });
  }
  ~SignalWaiter() {
    done_ = true;
    pthread_kill(thread_.native_handle(), SIGTERM);  // wakes the waiter when no signal came
    thread_.join();
  }
  void attach(ApiServer* server) { server_ = server; }

  // Blocked before any thread starts, so every thread inherits the mask and only the waiter takes these signals.
  static sigset_t signal_set() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
  }

 private:
  std::atomic<ApiServer*> server_{nullptr};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

int serve(const ServeOptions& o) {
  spdlog::set_level(spdlog::level::from_str(o.log_level));
  SignalWaiter signals;
  absl::StatusOr<std::string> api_key = read_api_key(o);
  if (!api_key.ok()) return fail(api_key.status());

  // The configuration alone sizes the KV cache before any weight is touched.
  ModelConfig config;
  {
    auto probe = GgufFile::open(o.model_path);
    if (!probe.ok()) return fail(probe.status());
    auto probe_config = read_model_config(**probe);
    if (!probe_config.ok()) return fail(probe_config.status());
    config = *probe_config;
  }
  const int64_t ctx = o.ctx_size > 0 ? o.ctx_size : std::min<int64_t>(config.n_ctx_train, 4096);
  LocalModelOptions lo;
  lo.threads = o.threads;
  const int64_t block_bytes = static_cast<int64_t>(KvCache::block_bytes(config, config.n_layer, lo.block_size));
  int64_t kv_bytes = 0;
  if (o.kv_cache_memory.empty()) {
    // Enough for every sequence at full context, but no more than the default budget (and at least one context).
    const int64_t blocks_per_seq = (ctx + lo.block_size - 1) / lo.block_size;
    kv_bytes = std::min(kDefaultKvCacheBytes, o.max_num_seqs * blocks_per_seq * block_bytes);
    kv_bytes = std::max(kv_bytes, blocks_per_seq * block_bytes);
  } else {
    absl::StatusOr<int64_t> parsed = parse_bytes(o.kv_cache_memory);
    if (!parsed.ok()) return fail(parsed.status());
    kv_bytes = *parsed;
  }
  const int64_t n_blocks = kv_bytes / block_bytes;
  if (n_blocks < 1) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat("--kv-cache-memory ", kv_bytes, " bytes is less than one KV block (", block_bytes, " bytes)")));
  }
  lo.kv_tokens = n_blocks * lo.block_size;
  if (lo.kv_tokens < ctx) {
    spdlog::warn("the KV cache holds {} tokens, less than --ctx-size {}: requests are limited to {} tokens",
                 lo.kv_tokens, ctx, lo.kv_tokens);
  }

  const auto load_start = std::chrono::steady_clock::now();
  auto loaded = load_with_progress(o.model_path, lo);
  if (!loaded.ok()) return fail(loaded.status());
  LocalModel& model = **loaded;
  spdlog::info(
      "loaded {} ({}, {} layers, n_embd {}, vocab {}) on {} in {:.2f} s, {:.1f} MiB of weights in backend memory",
      o.model_path, model.config.arch, model.config.n_layer, model.config.n_embd, model.config.n_vocab,
      model.backend->name(), std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count(),
      model.weights.backend_bytes / 1048576.0);
  spdlog::info("KV cache: {} blocks x {} tokens = {} tokens, {:.1f} MiB ({:.1f} KiB per token); {} full contexts of {}",
               model.cache->n_blocks(), lo.block_size, model.cache->n_blocks() * lo.block_size,
               static_cast<double>(model.cache->n_blocks() * block_bytes) / (1 << 20),
               static_cast<double>(block_bytes) / lo.block_size / 1024, model.cache->n_blocks() * lo.block_size / ctx,
               ctx);

  auto chat = ChatPrompt::create(*model.file, *model.tokenizer);
  if (!chat.ok()) return fail(chat.status());
  spdlog::info("chat template: {}", (*chat)->origin());

  const std::string served =
      o.served_model_name.empty() ? std::filesystem::path(o.model_path).stem().string() : o.served_model_name;
  EmbeddedExecutor executor(model);
  ServerMetrics metrics(served);
  EngineOptions eo;
  eo.scheduler.max_num_seqs = o.max_num_seqs;
  eo.scheduler.max_num_batched_tokens = o.max_num_batched_tokens;
  eo.scheduler.max_model_len = ctx;
  eo.max_waiting = o.max_queue;
  LlmEngine engine(executor, eo, &metrics);

  ApiServerOptions so;
  so.host = o.host;
  so.port = o.port;
  so.api_key = *api_key;
  so.served_model_name = served;
  so.max_body_bytes = static_cast<size_t>(o.max_body_bytes);
  // A streaming response holds an HTTP thread for its life: room for every running and queued request, plus a few
  // for /health and /metrics.
  so.http_threads = static_cast<int>(std::min<int64_t>(o.max_num_seqs + o.max_queue + 8, 1024));
  ApiServer server(so, engine, *model.tokenizer, **chat, &metrics);
  if (absl::Status s = server.bind(); !s.ok()) return fail(s);

  signals.attach(&server);
  spdlog::info("serving `{}` on http://{}:{} (max_model_len {}, max_num_seqs {}, auth {})", served, o.host,
               server.port(), engine.max_model_len(), o.max_num_seqs, so.api_key.empty() ? "off" : "on");
  server.run();
  signals.attach(nullptr);  // a signal from here on ends the process: the server is going away
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void register_serve_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve a model over an OpenAI-compatible HTTP API");
  cmd->add_option("-m,--model", o->model_path, "GGUF model file")->required();
  cmd->add_option("--host", o->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->port, "Port to listen on (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--api-key", o->api_key, "Require 'Authorization: Bearer KEY' on /v1/*");
  cmd->add_option("--api-key-file", o->api_key_file, "Read the API key from this file");
  cmd->add_option("-c,--ctx-size", o->ctx_size, "Context length per request (0: the model's, at most 4096)")
      ->capture_default_str();
  cmd->add_option("--max-num-seqs", o->max_num_seqs, "Requests in the running batch at most")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd->add_option("--max-num-batched-tokens", o->max_num_batched_tokens, "Tokens computed per step at most")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--kv-cache-memory", o->kv_cache_memory,
                  "KV cache size in bytes, e.g. 512MiB (default: max-num-seqs full contexts, at most 512 MiB)");
  cmd->add_option("-t,--threads", o->threads, "CPU threads (0: all cores available)")->capture_default_str();
  cmd->add_option("--served-model-name", o->served_model_name, "Model name clients use (default: the file name)");
  cmd->add_option("--max-queue", o->max_queue, "Waiting requests at most; beyond it requests get HTTP 429")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--max-body-bytes", o->max_body_bytes, "Largest request body accepted; larger ones get HTTP 413")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 30));
  cmd->add_option("--log-level", o->log_level, "trace, debug, info, warn, error")->capture_default_str();
  cmd->callback([o, &exit_code] {
    const sigset_t set = SignalWaiter::signal_set();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);  // a client that vanished must fail a write, not kill the server
    exit_code = serve(*o);
  });
}

}  // namespace strata::cli
