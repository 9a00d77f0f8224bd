// Everything one process needs to run a whole model on its own CPU: the mapped GGUF, configuration, tokenizer,
// backend, weights, KV pages and the forward pass. `strata run`, `perplexity` and `bench` use it; the embedded
// executor of `strata serve` is built from the same pieces.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/gguf/gguf_file.h"
#include "core/model/model_config.h"
#include "core/tokenizer/tokenizer.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/profiling_backend.h"
#include "worker/shard/kv_cache.h"
#include "worker/shard/model_weights.h"
#include "worker/shard/transformer.h"

namespace strata {

struct LocalModelOptions {
  int threads = 0;          // <= 0: all cores this process may use
  int64_t kv_tokens = 0;    // KV cache capacity in tokens, over all sequences (0: the model's context, <= 4096)
  int64_t block_size = 16;  // tokens per KV block
  bool profile = false;     // run the forward pass through a ProfilingBackend (`profiler`)
};

struct LocalModel {
  std::unique_ptr<GgufFile> file;
  ModelConfig config;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<cpu::CpuBackend> backend;
  std::unique_ptr<ProfilingBackend> profiler;  // with LocalModelOptions::profile: wraps `backend` for the forward
  ModelWeights weights;
  std::unique_ptr<KvCache> cache;
  std::unique_ptr<Transformer> transformer;
  int64_t block_size = 16;

  static absl::StatusOr<std::unique_ptr<LocalModel>> load(const std::string& path, const LocalModelOptions& options);
};

}  // namespace strata
