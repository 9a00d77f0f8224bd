#include "core/model/model_synth.h"

#include <cmath>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/gguf/gguf_file.h"
#include "core/gguf/gguf_writer.h"
#include "core/model/model_config.h"
#include "core/quant/quantize.h"
#include "core/util/status_macros.h"

namespace strata {
namespace {

// splitmix64: fast, seedable, and good enough for random weights (the distribution matters, not crypto quality).
struct FastRng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Approximately normal: the sum of four uniforms (Irwin–Hall) rescaled to unit variance.
  float normal() {
    const uint64_t r = next();
    float sum = 0;
    for (int i = 0; i < 4; ++i) sum += static_cast<float>((r >> (16 * i)) & 0xffff) * (1.0f / 65536.0f);
    return (sum - 2.0f) * 1.7320508f;
  }
};

absl::StatusOr<GgmlType> parse_type(const std::string& name) {
  for (uint32_t raw = 0; raw < 64; ++raw) {
    const GgmlTypeInfo* info = ggml_type_info(raw);
    if (info != nullptr && std::string(info->name) == name && can_quantize(static_cast<GgmlType>(raw))) {
      return static_cast<GgmlType>(raw);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("synth: --type ", name,
                                                 " is not one of F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K "
                                                 "Q4_K Q5_K Q6_K Q4_K_M"));
}

// llama.cpp's Q4_K_M gives more bits to the first and last eighth of the layers and every third one between.
bool use_more_bits(int64_t il, int64_t n_layer) {
  return il < n_layer / 8 || il >= 7 * n_layer / 8 || (il - n_layer / 8) % 3 == 2;
}

GgmlType tensor_type(const std::string& name, const std::vector<uint64_t>& shape, GgmlType base, bool k_m_mix,
                     int64_t n_layer) {
  if (shape.size() == 1) return GgmlType::kF32;  // norms and biases stay f32, as in every real GGUF
  GgmlType type = base;
  if (k_m_mix) {
    int64_t il = -1;
    if (name.rfind("blk.", 0) == 0) il = std::stoll(name.substr(4));
    if (name == "output.weight")
      type = GgmlType::kQ6_K;
    else if (il >= 0 &&
             (name.find("attn_v.weight") != std::string::npos || name.find("ffn_down.weight") != std::string::npos) &&
             use_more_bits(il, n_layer)) {
      type = GgmlType::kQ6_K;
    }
  }
  // Rows that do not fill whole super-blocks fall back to a 32-element format, as llama.cpp's quantizer does.
  const GgmlTypeInfo* info = ggml_type_info(type);
  if (shape[0] % info->block_size != 0) type = GgmlType::kQ8_0;
  return type;
}

void add_builtin_vocab(GgufWriter& w, int64_t n_vocab) {
  // A SentencePiece-style vocabulary with byte fallback: any text encodes (as bytes), and ids up to n_vocab exist.
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(absl::StrFormat("<0x%02X>", b));
    types.push_back(6);
  }
  for (int64_t i = static_cast<int64_t>(tokens.size()); i < n_vocab; ++i) {
    tokens.push_back(absl::StrCat("\xe2\x96\x81t", i));
    types.push_back(1);
  }
  std::vector<float> scores(tokens.size());
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = -static_cast<float>(i);
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string("tokenizer.ggml.pre", "default");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_array("tokenizer.ggml.scores", std::span<const float>(scores));
  w.set_array("tokenizer.ggml.token_type", std::span<const int32_t>(types));
  w.set_u32("tokenizer.ggml.unknown_token_id", 0);
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
}

}  // namespace

absl::Status synthesize_model(const SynthOptions& o, const std::string& path) {
  const bool k_m_mix = o.type == "Q4_K_M";
  GgmlType base = GgmlType::kQ4_K;
  if (!k_m_mix) {
    STRATA_ASSIGN_OR_RETURN(base, parse_type(o.type));
  }
  if (o.arch != "llama" && o.arch != "qwen2" && o.arch != "gemma3") {
    return absl::InvalidArgumentError(absl::StrCat("synth: --arch ", o.arch, " is not one of llama, qwen2, gemma3"));
  }
  if (o.n_embd <= 0 || o.n_layer <= 0 || o.n_head <= 0 || o.n_head_kv <= 0 || o.n_ff <= 0 || o.n_ctx <= 0 ||
      o.n_embd % o.n_head != 0 || o.n_head % o.n_head_kv != 0) {
    return absl::InvalidArgumentError(
        "synth: sizes must be positive, n_embd a multiple of n_head and n_head a multiple of n_head_kv");
  }

  GgufWriter w;
  std::unique_ptr<GgufFile> vocab;
  int64_t n_vocab = o.n_vocab;
  if (!o.vocab_from.empty()) {
    STRATA_ASSIGN_OR_RETURN(vocab, GgufFile::open(o.vocab_from));
    STRATA_RETURN_IF_ERROR(
        w.copy_metadata_from(*vocab, [](std::string_view key) { return key.rfind("tokenizer.", 0) == 0; }));
    STRATA_ASSIGN_OR_RETURN(const GgufArray* tokens, vocab->get_array("tokenizer.ggml.tokens"));
    n_vocab = static_cast<int64_t>(tokens->count);
  } else {
    if (n_vocab < 259) return absl::InvalidArgumentError("synth: --n-vocab must be at least 259 (bytes + specials)");
    add_builtin_vocab(w, n_vocab);
  }
  const std::string& a = o.arch;
  w.set_string("general.architecture", a);
  w.set_string("general.name", o.name);
  w.set_u32(a + ".context_length", static_cast<uint32_t>(o.n_ctx));
  w.set_u32(a + ".embedding_length", static_cast<uint32_t>(o.n_embd));
  w.set_u32(a + ".block_count", static_cast<uint32_t>(o.n_layer));
  w.set_u32(a + ".feed_forward_length", static_cast<uint32_t>(o.n_ff));
  w.set_u32(a + ".attention.head_count", static_cast<uint32_t>(o.n_head));
  w.set_u32(a + ".attention.head_count_kv", static_cast<uint32_t>(o.n_head_kv));
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_f32(a + ".rope.freq_base", 10000.0f);
  if (a == "gemma3") w.set_u32("gemma3.attention.sliding_window", static_cast<uint32_t>(o.sliding_window));

  // The tensor list comes from the same description the loader validates against.
  ModelConfig c;
  c.arch = a;
  c.n_vocab = n_vocab;
  c.n_embd = o.n_embd;
  c.n_layer = o.n_layer;
  c.n_head = o.n_head;
  c.n_head_kv = o.n_head_kv;
  c.head_dim_k = c.head_dim_v = o.n_embd / o.n_head;
  c.n_ff = o.n_ff;
  c.qkv_bias = a == "qwen2";
  c.qk_norm = c.post_norms = a == "gemma3";
  std::vector<float> values;
  std::vector<uint8_t> bytes;
  uint64_t tensor_index = 0;
  for (const ExpectedTensor& t : expected_tensors(c)) {
    ++tensor_index;
    const bool tied_output = t.name == "output.weight" && a == "gemma3";
    if (tied_output) continue;  // Gemma ties its output to the embeddings
    uint64_t n = 1;
    for (uint64_t d : t.shape) n *= d;
    FastRng rng{o.seed * 0x100000001b3ull + tensor_index};
    values.resize(n);
    const bool is_norm = t.shape.size() == 1 && t.name.find("bias") == std::string::npos;
    // Weights ~ N(0, 0.02²) as at initialization; norms near 1 so activations keep their scale through layers.
    for (float& v : values) v = is_norm ? 1.0f + 0.05f * rng.normal() : 0.02f * rng.normal();
    const GgmlType type = tensor_type(t.name, t.shape, base, k_m_mix, o.n_layer);
    const int64_t row = static_cast<int64_t>(t.shape[0]);
    const size_t row_bytes = row_size(type, row);
    const uint64_t rows = n / row;
    bytes.resize(row_bytes * rows);
    for (uint64_t r = 0; r < rows; ++r) {
      STRATA_RETURN_IF_ERROR(quantize_row(type, values.data() + r * row, bytes.data() + r * row_bytes, row));
    }
    STRATA_RETURN_IF_ERROR(w.add_tensor(t.name, type, t.shape, bytes.data(), bytes.size()));
  }
  return w.write(path);
}

}  // namespace strata
