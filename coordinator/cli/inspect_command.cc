// `strata inspect FILE.gguf`: what a model is and what it needs — architecture, size, quant mix, tokenizer, memory.
#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "coordinator/cli/commands.h"
#include "core/gguf/gguf_file.h"
#include "core/model/model_config.h"
#include "core/model/model_memory.h"

namespace strata::cli {
namespace {

struct InspectOptions {
  std::string path;
  int64_t ctx_size = 4096;
  bool tensors = false;
  bool json = false;
};

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? absl::StrFormat("%d B", bytes) : absl::StrFormat("%.2f %s", value, units[unit]);
}

std::string human_count(uint64_t n) {
  if (n >= 1'000'000'000) return absl::StrFormat("%.2f B", n / 1e9);
  if (n >= 1'000'000) return absl::StrFormat("%.1f M", n / 1e6);
  return absl::StrFormat("%d", n);
}

std::string metadata_string(const GgufFile& file, std::string_view key) {
  auto value = file.get_string(key);
  return value.ok() ? std::string(*value) : std::string();
}

int64_t metadata_int(const GgufFile& file, std::string_view key, int64_t fallback) {
  auto value = file.get_int(key);
  return value.ok() ? *value : fallback;
}

int run_inspect(const InspectOptions& options) {
  auto opened = GgufFile::open(options.path);
  if (!opened.ok()) {
    std::fprintf(stderr, "strata inspect: %s\n", std::string(opened.status().message()).c_str());
    return 1;
  }
  const GgufFile& file = **opened;
  if (options.ctx_size <= 0) {
    std::fprintf(stderr, "strata inspect: --ctx-size must be positive\n");
    return 1;
  }

  // Tensor statistics do not need a supported architecture.
  uint64_t n_params = 0, weight_bytes = 0;
  struct TypeStats {
    uint64_t tensors = 0, bytes = 0, params = 0;
  };
  std::map<std::string, TypeStats> quant_mix;
  for (const GgufTensorInfo& t : file.tensors()) {
    n_params += t.n_elements;
    weight_bytes += t.n_bytes;
    TypeStats& s = quant_mix[std::string(ggml_type_info(t.type)->name)];
    ++s.tensors;
    s.bytes += t.n_bytes;
    s.params += t.n_elements;
  }
  const bool has_tensors = !file.tensors().empty();
  auto config = has_tensors ? load_model_config(file) : read_model_config(file);

  const std::string tok_model = metadata_string(file, "tokenizer.ggml.model");
  const std::string tok_pre = metadata_string(file, "tokenizer.ggml.pre");
  uint64_t n_tokens = 0;
  if (auto tokens = file.get_array("tokenizer.ggml.tokens"); tokens.ok()) n_tokens = (*tokens)->count;
  const int64_t bos = metadata_int(file, "tokenizer.ggml.bos_token_id", -1);
  const int64_t eos = metadata_int(file, "tokenizer.ggml.eos_token_id", -1);
  const bool has_template = file.find("tokenizer.chat_template") != nullptr;

  if (options.json) {
    nlohmann::json out;
    out["file"] = options.path;
    out["file_size"] = file.file_size();
    out["gguf_version"] = file.version();
    out["n_tensors"] = file.tensors().size();
    out["n_params"] = n_params;
    out["weight_bytes"] = weight_bytes;
    for (const auto& [type, s] : quant_mix) {
      out["quant_mix"][type] = {{"tensors", s.tensors}, {"bytes", s.bytes}, {"params", s.params}};
    }
    out["tokenizer"] = {{"model", tok_model}, {"pre", tok_pre}, {"n_tokens", n_tokens},
                        {"bos_id", bos},      {"eos_id", eos},  {"chat_template", has_template}};
    if (config.ok()) {
      const ModelConfig& c = *config;
      const KvCacheEstimate kv = estimate_kv_cache(c, options.ctx_size);
      out["model"] = {{"arch", c.arch},
                      {"name", c.name},
                      {"n_vocab", c.n_vocab},
                      {"n_ctx_train", c.n_ctx_train},
                      {"n_embd", c.n_embd},
                      {"n_layer", c.n_layer},
                      {"n_head", c.n_head},
                      {"n_head_kv", c.n_head_kv},
                      {"head_dim_k", c.head_dim_k},
                      {"head_dim_v", c.head_dim_v},
                      {"n_ff", c.n_ff},
                      {"rms_eps", c.rms_eps},
                      {"rope_layout", c.rope_layout == RopeLayout::kNeox ? "neox" : "normal"},
                      {"rope_dim", c.rope_dim},
                      {"rope_freq_base", c.rope_freq_base},
                      {"sliding_window", c.sliding_window},
                      {"tied_embeddings", c.tied_embeddings}};
      out["memory"] = {{"ctx_size", options.ctx_size},
                       {"weights_bytes", weight_bytes},
                       {"kv_cache_bytes", kv.bytes},
                       {"kv_bytes_per_token_full", kv.bytes_per_token_full}};
    } else {
      out["model_error"] = std::string(config.status().message());
    }
    if (options.tensors) {
      for (const GgufTensorInfo& t : file.tensors()) {
        out["tensors"].push_back({{"name", t.name},
                                  {"type", ggml_type_info(t.type)->name},
                                  {"shape", t.shape},
                                  {"offset", t.offset},
                                  {"bytes", t.n_bytes}});
      }
    }
    std::printf("%s\n", out.dump(2).c_str());
    return config.ok() || !has_tensors ? 0 : 1;
  }

  std::printf("file            %s\n", options.path.c_str());
  std::printf("format          GGUF v%u, %zu tensors, %zu metadata keys, %s\n", file.version(), file.tensors().size(),
              file.metadata().size(), human_bytes(file.file_size()).c_str());
  if (config.ok()) {
    const ModelConfig& c = *config;
    std::printf("model           %s (%s)\n", c.name.empty() ? "(unnamed)" : c.name.c_str(), c.arch.c_str());
    if (has_tensors) std::printf("parameters      %s\n", human_count(n_params).c_str());
    std::printf("context         %lld tokens (trained)\n", static_cast<long long>(c.n_ctx_train));
    std::printf("layers          %lld, n_embd %lld, n_ff %lld\n", static_cast<long long>(c.n_layer),
                static_cast<long long>(c.n_embd), static_cast<long long>(c.n_ff));
    std::printf("attention       %lld heads, %lld KV heads (GQA %lld), head dim %lld", static_cast<long long>(c.n_head),
                static_cast<long long>(c.n_head_kv), static_cast<long long>(c.n_head / c.n_head_kv),
                static_cast<long long>(c.head_dim_k));
    if (c.sliding_window > 0) {
      std::printf(", sliding window %lld (%s)", static_cast<long long>(c.sliding_window),
                  c.swa_period == 1 ? "every layer"
                                    : absl::StrFormat("%d of every %d layers", c.swa_period - 1, c.swa_period).c_str());
    }
    std::printf("\nrope            %s, %lld dims, base %g%s\n", c.rope_layout == RopeLayout::kNeox ? "neox" : "normal",
                static_cast<long long>(c.rope_dim), c.rope_freq_base,
                c.rope_freq_base_swa != c.rope_freq_base
                    ? absl::StrFormat(" (sliding layers %g)", c.rope_freq_base_swa).c_str()
                    : "");
    std::printf("norm            RMSNorm eps %g%s\n", c.rms_eps, c.qk_norm ? ", Q/K head norms" : "");
    std::printf("ffn             %s%s\n", c.ffn_activation == FfnActivation::kSilu ? "SwiGLU" : "GeGLU (tanh)",
                c.tied_embeddings ? ", output tied to token embeddings" : "");
  } else {
    std::printf("model           %s\n", std::string(config.status().message()).c_str());
  }
  std::printf("tokenizer       %s%s%s, %llu tokens, bos %lld, eos %lld%s\n", tok_model.c_str(),
              tok_pre.empty() ? "" : ", pre-tokenizer ", tok_pre.c_str(), static_cast<unsigned long long>(n_tokens),
              static_cast<long long>(bos), static_cast<long long>(eos), has_template ? ", chat template" : "");
  if (has_tensors) {
    std::vector<std::string> mix;
    for (const auto& [type, s] : quant_mix) {
      mix.push_back(absl::StrFormat("%s %d tensors %s (%.1f%%)", type, s.tensors, human_bytes(s.bytes),
                                    100.0 * s.bytes / std::max<uint64_t>(weight_bytes, 1)));
    }
    std::printf("quant mix       %s\n", absl::StrJoin(mix, "; ").c_str());
    std::printf("bits/weight     %.2f\n", 8.0 * weight_bytes / std::max<uint64_t>(n_params, 1));
  }
  if (config.ok()) {
    const KvCacheEstimate kv = estimate_kv_cache(*config, options.ctx_size);
    std::printf("memory          weights %s + KV cache %s at ctx %lld (f16) = %s\n", human_bytes(weight_bytes).c_str(),
                human_bytes(kv.bytes).c_str(), static_cast<long long>(options.ctx_size),
                human_bytes(weight_bytes + kv.bytes).c_str());
  }
  if (options.tensors) {
    std::printf("\n%-36s %-6s %-22s %12s %12s\n", "tensor", "type", "shape", "offset", "bytes");
    for (const GgufTensorInfo& t : file.tensors()) {
      std::printf("%-36s %-6s %-22s %12llu %12llu\n", std::string(t.name).c_str(),
                  std::string(ggml_type_info(t.type)->name).c_str(), ("[" + absl::StrJoin(t.shape, ", ") + "]").c_str(),
                  static_cast<unsigned long long>(t.offset), static_cast<unsigned long long>(t.n_bytes));
    }
  }
  return config.ok() || !has_tensors ? 0 : 1;
}

}  // namespace

void register_inspect_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* cmd =
      app.add_subcommand("inspect", "Show a GGUF model's architecture, size, quant mix, tokenizer and memory needs");
  cmd->add_option("file", options->path, "GGUF file")->required();
  cmd->add_option("-c,--ctx-size", options->ctx_size, "Context length for the KV cache estimate")
      ->capture_default_str();
  cmd->add_flag("--tensors", options->tensors, "List every tensor");
  cmd->add_flag("--json", options->json, "Machine-readable output");
  cmd->callback([options, &exit_code] { exit_code = run_inspect(*options); });
}

}  // namespace strata::cli
