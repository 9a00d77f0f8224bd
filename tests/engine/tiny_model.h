// A small synthesized model, written to a temporary GGUF file and loaded on a backend, for the engine tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/gguf/gguf_file.h"
#include "core/model/model_config.h"
#include "core/model/model_synth.h"
#include "kernels/backend.h"
#include "worker/shard/model_weights.h"

namespace strata {

// The shape the engine tests share (n_embd 64, 4 heads over 2 KV heads, n_ff 96, 300 tokens); each test sets the
// architecture, layers, type and seed it needs.
inline SynthOptions tiny_model_options() {
  SynthOptions o;
  o.n_embd = 64;
  o.n_head = 4;
  o.n_head_kv = 2;
  o.n_ff = 96;
  o.n_vocab = 300;
  return o;
}

struct TinyModel {
  std::string path;
  std::unique_ptr<GgufFile> file;
  ModelConfig config;
  std::optional<ModelWeights> weights;  // every layer, on the backend given to load_tiny_model

  ~TinyModel() {
    file.reset();
    if (!path.empty()) std::filesystem::remove(path);
  }
};

// Synthesizes `o` as <temp dir>/strata_<name>.gguf and loads it into `m`; a failure fails the calling test (call it
// inside ASSERT_NO_FATAL_FAILURE).
inline void load_tiny_model(const SynthOptions& o, const std::string& name, Backend& backend, TinyModel& m) {
  m.path = (std::filesystem::temp_directory_path() / ("strata_" + name + ".gguf")).string();
  ASSERT_TRUE(synthesize_model(o, m.path).ok());
  auto file = GgufFile::open(m.path);
  ASSERT_TRUE(file.ok()) << file.status();
  m.file = std::move(*file);
  auto config = load_model_config(*m.file);
  ASSERT_TRUE(config.ok()) << config.status();
  m.config = *config;
  auto weights = load_model_weights(*m.file, m.config, backend, 0, m.config.n_layer);
  ASSERT_TRUE(weights.ok()) << weights.status();
  m.weights = std::move(*weights);
}

}  // namespace strata
