#include "worker/local_model.h"

#include <algorithm>

#include "core/util/status_macros.h"

namespace strata {

absl::StatusOr<std::unique_ptr<LocalModel>> LocalModel::load(const std::string& path,
                                                             const LocalModelOptions& options) {
  auto m = std::make_unique<LocalModel>();
  STRATA_ASSIGN_OR_RETURN(m->file, GgufFile::open(path));
  STRATA_ASSIGN_OR_RETURN(m->config, load_model_config(*m->file));
  STRATA_ASSIGN_OR_RETURN(m->tokenizer, Tokenizer::from_gguf(*m->file));
  m->backend = std::make_unique<cpu::CpuBackend>(options.threads);
  STRATA_ASSIGN_OR_RETURN(m->weights, load_model_weights(*m->file, m->config, *m->backend, 0, m->config.n_layer));
  m->block_size = options.block_size;
  const int64_t kv_tokens = options.kv_tokens > 0 ? options.kv_tokens : std::min<int64_t>(m->config.n_ctx_train, 4096);
  const int64_t n_blocks = (kv_tokens + options.block_size - 1) / options.block_size;
  STRATA_ASSIGN_OR_RETURN(m->cache,
                          KvCache::create(*m->backend, m->config, m->config.n_layer, n_blocks, options.block_size));
  Backend* forward_backend = m->backend.get();
  if (options.profile) {
    m->profiler = std::make_unique<ProfilingBackend>(*m->backend);
    forward_backend = m->profiler.get();
  }
  m->transformer = std::make_unique<Transformer>(m->config, m->weights, *m->cache, *forward_backend);
  return m;
}

}  // namespace strata
