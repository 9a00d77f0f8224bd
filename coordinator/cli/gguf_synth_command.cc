// `strata gguf synth`: write a random-weight model of any shape and quant type (benchmarks beyond the real models).
#include <chrono>
#include <cstdio>

#include "coordinator/cli/commands.h"
#include "core/model/model_synth.h"

namespace strata::cli {

void register_gguf_command(CLI::App& app, int& exit_code) {
  CLI::App* gguf = app.add_subcommand("gguf", "GGUF file tools");
  gguf->require_subcommand(1);
  auto o = std::make_shared<SynthOptions>();
  auto out = std::make_shared<std::string>();
  CLI::App* synth = gguf->add_subcommand("synth", "Write a random-weight model of the given shape and quant type");
  synth->add_option("--arch", o->arch, "Architecture: llama, qwen2 or gemma3")->capture_default_str();
  synth->add_option("--n-embd", o->n_embd, "Embedding width")->capture_default_str();
  synth->add_option("--n-layer", o->n_layer, "Layers")->capture_default_str();
  synth->add_option("--n-head", o->n_head, "Attention heads")->capture_default_str();
  synth->add_option("--n-head-kv", o->n_head_kv, "KV heads")->capture_default_str();
  synth->add_option("--n-ff", o->n_ff, "FFN width")->capture_default_str();
  synth->add_option("--n-vocab", o->n_vocab, "Vocabulary size (without --vocab-from)")->capture_default_str();
  synth->add_option("--n-ctx", o->n_ctx, "Trained context length to record")->capture_default_str();
  synth->add_option("--type", o->type, "Weight type: F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K..Q6_K Q4_K_M")
      ->capture_default_str();
  synth->add_option("--vocab-from", o->vocab_from, "Copy the tokenizer of this GGUF file");
  synth->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  synth->add_option("-o,--output", *out, "Output GGUF file")->required();
  synth->callback([o, out, &exit_code] {
    const auto start = std::chrono::steady_clock::now();
    absl::Status status = synthesize_model(*o, *out);
    if (!status.ok()) {
      std::fprintf(stderr, "strata gguf synth: %s\n", std::string(status.message()).c_str());
      exit_code = 1;
      return;
    }
    std::fprintf(stderr, "strata gguf synth: wrote %s in %.1f s\n", out->c_str(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

}  // namespace strata::cli
