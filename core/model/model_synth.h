// Random-weight models of any shape and quant type, written as real GGUF files: benchmarks and tests need models
// larger than the two real ones, and a file built from the same tensor list the loader validates is a true input.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace strata {

struct SynthOptions {
  std::string arch = "llama";  // llama, qwen2 or gemma3
  int64_t n_embd = 2048;
  int64_t n_layer = 16;
  int64_t n_head = 32;
  int64_t n_head_kv = 8;
  int64_t n_ff = 5632;
  int64_t n_vocab = 32000;  // ignored with vocab_from: the vocabulary's size wins
  int64_t n_ctx = 4096;
  std::string type = "Q4_0";     // a GGML type name, or Q4_K_M (Q4_K with Q6_K where llama.cpp's Q4_K_M puts it)
  std::string vocab_from;        // GGUF whose tokenizer.* metadata is copied
  int64_t sliding_window = 512;  // gemma3 only
  uint64_t seed = 1;
  std::string name = "strata synthetic";
};

// Writes the model to `path`. InvalidArgument names the option that is out of range.
absl::Status synthesize_model(const SynthOptions& options, const std::string& path);

}  // namespace strata
