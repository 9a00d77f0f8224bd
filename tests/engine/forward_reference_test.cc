// The batched, paged forward pass against a plain float64 transformer written out here from the weights alone
// (no paging, no batching, no quantized activations), for each architecture, on synthesized F32 models.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/gguf/gguf_file.h"
#include "core/model/model_config.h"
#include "core/model/model_synth.h"
#include "core/quant/dequantize.h"
#include "kernels/cpu/cpu_backend.h"
#include "tests/engine/tiny_model.h"
#include "worker/shard/kv_cache.h"
#include "worker/shard/model_weights.h"
#include "worker/shard/transformer.h"

namespace strata {
namespace {

using Vec = std::vector<double>;

// Reference model: tensors dequantized to double, computed token by token with the textbook formulas.
class Reference {
 public:
  Reference(const GgufFile& file, const ModelConfig& c) : file_(file), c_(c) {}

  const Vec& tensor(const std::string& name) const {
    auto it = cache_.find(name);
    if (it != cache_.end()) return it->second;
    const GgufTensorInfo* t = file_.find_tensor(name);
    EXPECT_NE(t, nullptr) << name;
    std::vector<float> f(t->n_elements);
    EXPECT_TRUE(dequantize_row(t->type, t->data, f.data(), static_cast<int64_t>(t->n_elements)).ok());
    return cache_.emplace(name, Vec(f.begin(), f.end())).first->second;
  }
  // y = W x for W stored as [rows, cols] with cols contiguous.
  static Vec matvec(const Vec& w, const Vec& x) {
    const size_t cols = x.size(), rows = w.size() / cols;
    Vec y(rows, 0.0);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t j = 0; j < cols; ++j) y[r] += w[r * cols + j] * x[j];
    }
    return y;
  }
  Vec rms_norm(const Vec& x, const Vec& w, size_t offset = 0, size_t n = 0) const {
    if (n == 0) n = x.size();
    double ss = 0;
    for (size_t i = 0; i < n; ++i) ss += x[offset + i] * x[offset + i];
    const double inv = 1.0 / std::sqrt(ss / n + c_.rms_eps);
    Vec y(x);
    for (size_t i = 0; i < n; ++i) y[offset + i] = x[offset + i] * inv * w[i];
    return y;
  }
  void rope(Vec& x, int64_t n_heads, int64_t pos, double base) const {
    const int64_t hd = c_.head_dim_k, half = c_.rope_dim / 2;
    for (int64_t h = 0; h < n_heads; ++h) {
      for (int64_t i = 0; i < half; ++i) {
        const double theta = pos * std::pow(base, -2.0 * i / c_.rope_dim);
        const int64_t a = c_.rope_layout == RopeLayout::kNormal ? 2 * i : i;
        const int64_t b = c_.rope_layout == RopeLayout::kNormal ? 2 * i + 1 : i + half;
        const double x0 = x[h * hd + a], x1 = x[h * hd + b];
        x[h * hd + a] = x0 * std::cos(theta) - x1 * std::sin(theta);
        x[h * hd + b] = x0 * std::sin(theta) + x1 * std::cos(theta);
      }
    }
  }

  // Logits after every token of `tokens`, run from position 0.
  std::vector<Vec> run(const std::vector<int32_t>& tokens) const {
    const int64_t E = c_.n_embd, hd = c_.head_dim_k, H = c_.n_head, KV = c_.n_head_kv;
    const Vec embd = tensor("token_embd.weight");
    std::vector<std::vector<Vec>> keys(c_.n_layer), values(c_.n_layer);
    std::vector<Vec> out;
    for (size_t t = 0; t < tokens.size(); ++t) {
      Vec x(embd.begin() + tokens[t] * E, embd.begin() + (tokens[t] + 1) * E);
      for (double& v : x) v *= c_.embedding_scale;
      for (int64_t il = 0; il < c_.n_layer; ++il) {
        const std::string p = "blk." + std::to_string(il) + ".";
        Vec h = rms_norm(x, tensor(p + "attn_norm.weight"));
        Vec q = matvec(tensor(p + "attn_q.weight"), h);
        Vec k = matvec(tensor(p + "attn_k.weight"), h);
        Vec v = matvec(tensor(p + "attn_v.weight"), h);
        if (c_.qkv_bias) {
          const Vec qb = tensor(p + "attn_q.bias"), kb = tensor(p + "attn_k.bias"), vb = tensor(p + "attn_v.bias");
          for (size_t i = 0; i < q.size(); ++i) q[i] += qb[i];
          for (size_t i = 0; i < k.size(); ++i) k[i] += kb[i];
          for (size_t i = 0; i < v.size(); ++i) v[i] += vb[i];
        }
        if (c_.qk_norm) {
          const Vec qn = tensor(p + "attn_q_norm.weight"), kn = tensor(p + "attn_k_norm.weight");
          for (int64_t hh = 0; hh < H; ++hh) q = rms_norm(q, qn, hh * hd, hd);
          for (int64_t hh = 0; hh < KV; ++hh) k = rms_norm(k, kn, hh * hd, hd);
        }
        const bool sliding = c_.is_sliding_layer(il);
        const double base = sliding ? c_.rope_freq_base_swa : c_.rope_freq_base;
        rope(q, H, static_cast<int64_t>(t), base);
        rope(k, KV, static_cast<int64_t>(t), base);
        keys[il].push_back(k);
        values[il].push_back(v);
        Vec attn(H * hd, 0.0);
        const int64_t first = sliding ? std::max<int64_t>(0, static_cast<int64_t>(t) - c_.sliding_window + 1) : 0;
        for (int64_t hh = 0; hh < H; ++hh) {
          const int64_t kvh = hh / (H / KV);
          Vec scores;
          for (int64_t s = first; s <= static_cast<int64_t>(t); ++s) {
            double dot = 0;
            for (int64_t j = 0; j < hd; ++j) dot += q[hh * hd + j] * keys[il][s][kvh * hd + j];
            scores.push_back(dot * c_.attn_scale);
          }
          const double mx = *std::max_element(scores.begin(), scores.end());
          double sum = 0;
          for (double& sc : scores) sum += (sc = std::exp(sc - mx));
          for (int64_t s = first; s <= static_cast<int64_t>(t); ++s) {
            const double w = scores[s - first] / sum;
            for (int64_t j = 0; j < hd; ++j) attn[hh * hd + j] += w * values[il][s][kvh * hd + j];
          }
        }
        Vec o = matvec(tensor(p + "attn_output.weight"), attn);
        if (c_.post_norms) o = rms_norm(o, tensor(p + "post_attention_norm.weight"));
        for (int64_t i = 0; i < E; ++i) x[i] += o[i];
        h = rms_norm(x, tensor(p + "ffn_norm.weight"));
        const Vec g = matvec(tensor(p + "ffn_gate.weight"), h);
        const Vec u = matvec(tensor(p + "ffn_up.weight"), h);
        Vec a(g.size());
        for (size_t i = 0; i < g.size(); ++i) {
          const double act =
              c_.ffn_activation == FfnActivation::kSilu
                  ? g[i] / (1 + std::exp(-g[i]))
                  : 0.5 * g[i] * (1 + std::tanh(std::sqrt(2 / M_PI) * (g[i] + 0.044715 * g[i] * g[i] * g[i])));
          a[i] = act * u[i];
        }
        Vec d = matvec(tensor(p + "ffn_down.weight"), a);
        if (c_.post_norms) d = rms_norm(d, tensor(p + "post_ffw_norm.weight"));
        for (int64_t i = 0; i < E; ++i) x[i] += d[i];
      }
      const Vec h = rms_norm(x, tensor("output_norm.weight"));
      out.push_back(matvec(tensor(c_.tied_embeddings ? "token_embd.weight" : "output.weight"), h));
    }
    return out;
  }

 private:
  const GgufFile& file_;
  const ModelConfig& c_;
  mutable std::map<std::string, Vec> cache_;
};

double normalized_error(const std::vector<float>& got, const Vec& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / den);
}

class ForwardReference : public ::testing::TestWithParam<const char*> {};

TEST_P(ForwardReference, MatchesFloat64Transformer) {
  const std::string arch = GetParam();
  SynthOptions o = tiny_model_options();
  o.arch = arch;
  o.n_layer = 2;
  o.type = "F32";
  o.sliding_window = 5;  // shorter than the sequence, so gemma3's sliding layers really slide
  o.seed = 7;
  cpu::CpuBackend backend(2);
  TinyModel m;
  ASSERT_NO_FATAL_FAILURE(load_tiny_model(o, "ref_" + arch, backend, m));
  const ModelConfig& config = m.config;
  auto cache = KvCache::create(backend, config, config.n_layer, /*n_blocks=*/8, /*block_size=*/4);
  ASSERT_TRUE(cache.ok());
  Transformer transformer(config, *m.weights, **cache, backend);

  std::mt19937 rng(42);
  std::vector<int32_t> tokens(11);
  for (int32_t& t : tokens) t = std::uniform_int_distribution<int32_t>(0, 299)(rng);
  const std::vector<Vec> want = Reference(*m.file, config).run(tokens);

  // Prefill 7 tokens (scattered, non-consecutive blocks), then decode the rest one at a time.
  const std::vector<int32_t> table = {5, 2, 7};
  ForwardBatch prefill;
  prefill.seqs.push_back({std::vector<int32_t>(tokens.begin(), tokens.begin() + 7), 0, table, true});
  std::vector<float> logits;
  ASSERT_TRUE(transformer.forward(prefill, logits).ok());
  const int64_t V = config.n_vocab;
  // Tolerance: the KV cache holds f16 (relative rounding 2^-11), the reference doubles everywhere.
  constexpr double kTolerance = 5e-3;
  for (int t = 0; t < 7; ++t) {
    std::vector<float> row(logits.begin() + t * V, logits.begin() + (t + 1) * V);
    EXPECT_LT(normalized_error(row, want[t]), kTolerance) << arch << " prefill token " << t;
  }
  for (int t = 7; t < 11; ++t) {
    ForwardBatch step;
    step.seqs.push_back({{tokens[t]}, t, table, false});
    ASSERT_TRUE(transformer.forward(step, logits).ok());
    EXPECT_LT(normalized_error(logits, want[t]), kTolerance) << arch << " decode token " << t;
  }
}

INSTANTIATE_TEST_SUITE_P(Archs, ForwardReference, ::testing::Values("llama", "qwen2", "gemma3"));

// The step buffers grow to the largest step and stay: a decode step between two prefills must not make the second
// prefill reallocate them (a step's sizes are not the buffers' capacity).
TEST(StepBuffers, GrowOnlyPastTheLargestStep) {
  SynthOptions o = tiny_model_options();
  o.n_layer = 1;
  o.type = "F32";
  cpu::CpuBackend backend(2);
  TinyModel m;
  ASSERT_NO_FATAL_FAILURE(load_tiny_model(o, "step_buffers", backend, m));
  auto cache = KvCache::create(backend, m.config, m.config.n_layer, /*n_blocks=*/16, /*block_size=*/4);
  ASSERT_TRUE(cache.ok());
  Transformer transformer(m.config, *m.weights, **cache, backend);

  std::vector<float> logits;
  auto step = [&](int n_tokens, int start, std::vector<int32_t> table) {
    ForwardBatch b;
    b.seqs.push_back({std::vector<int32_t>(n_tokens, 7), start, std::move(table), false});
    return transformer.forward(b, logits);
  };
  ASSERT_TRUE(step(12, 0, {0, 1, 2, 3}).ok());  // prefill: 16 tokens of room
  EXPECT_EQ(transformer.step_buffer_allocations(), 1);
  ASSERT_TRUE(step(1, 12, {0, 1, 2, 3}).ok());  // decode
  ASSERT_TRUE(step(12, 0, {4, 5, 6}).ok());     // another prefill, as large as the first
  EXPECT_EQ(transformer.step_buffer_allocations(), 1);
  ASSERT_TRUE(step(20, 0, {7, 8, 9, 10, 11}).ok());  // larger: grows once
  EXPECT_EQ(transformer.step_buffer_allocations(), 2);
  ASSERT_TRUE(step(1, 12, {4, 5, 6, 12}).ok());
  ASSERT_TRUE(step(20, 0, {7, 8, 9, 10, 11}).ok());
  ASSERT_TRUE(step(12, 0, {0, 1, 2}).ok());
  EXPECT_EQ(transformer.step_buffer_allocations(), 2);
}

// A real model's logits after each of `tokens`: one prefill of them all by the engine (CPU backend, 2 threads,
// the KV blocks scattered), and the float64 transformer.
struct RealModelRun {
  int64_t n_vocab = 0;
  std::vector<float> engine;   // [tokens, n_vocab]
  std::vector<Vec> reference;  // [tokens][n_vocab]
};

void run_real_model(const std::string& file_name, const std::vector<int32_t>& tokens, RealModelRun& out) {
  auto file = GgufFile::open(std::string(STRATA_SOURCE_DIR) + "/models/" + file_name);
  ASSERT_TRUE(file.ok()) << file.status() << " (run deploy/fetch-models.sh)";
  auto config = load_model_config(**file);
  ASSERT_TRUE(config.ok()) << config.status();
  cpu::CpuBackend backend(2);
  auto weights = load_model_weights(**file, *config, backend, 0, config->n_layer);
  ASSERT_TRUE(weights.ok()) << weights.status();
  auto cache = KvCache::create(backend, *config, config->n_layer, 4, 16);
  ASSERT_TRUE(cache.ok());
  Transformer transformer(*config, *weights, **cache, backend);
  ForwardBatch batch;
  batch.seqs.push_back({tokens, 0, {3, 1, 2}, true});
  ASSERT_TRUE(transformer.forward(batch, out.engine).ok());
  out.n_vocab = config->n_vocab;
  ASSERT_EQ(out.engine.size(), tokens.size() * out.n_vocab);
  out.reference = Reference(**file, *config).run(tokens);
}

// The real quantized models against the same float64 transformer. The kernels quantize activations to 8 bits, as
// llama.cpp's do (RMS rounding error ~1 % of each activation row per matmul), and that compounds over 7 matmuls
// in each of 18-30 layers: measured 3-7 % normalized error on these logits. A layout or formula error gives an
// error of order one, far above the 10 % bound.
class RealModelReference : public ::testing::TestWithParam<const char*> {};

TEST_P(RealModelReference, LogitsMatchFloat64Transformer) {
  const std::vector<int32_t> tokens = {2, 818, 5279, 529, 7001, 563};  // ids valid in both vocabularies
  RealModelRun run;
  ASSERT_NO_FATAL_FAILURE(run_real_model(GetParam(), tokens, run));
  const std::vector<float>& logits = run.engine;
  const std::vector<Vec>& want = run.reference;
  const int64_t V = run.n_vocab;
  for (size_t t = 0; t < tokens.size(); ++t) {
    std::vector<float> row(logits.begin() + t * V, logits.begin() + (t + 1) * V);
    const double err = normalized_error(row, want[t]);
    EXPECT_LT(err, 0.10) << GetParam() << " token " << t;
    // The engine's most likely next token is among the reference's three most likely (near-ties may swap).
    const auto top = std::max_element(row.begin(), row.end()) - row.begin();
    int rank = 0;
    for (double v : want[t]) rank += v > want[t][top];
    EXPECT_LT(rank, 3) << GetParam() << " token " << t << " (normalized error " << err << ")";
  }
}

// KL(p_reference || p_engine) of the next-token distributions, in nats.
double kl_divergence(const Vec& want, const float* got) {
  const double want_max = *std::max_element(want.begin(), want.end());
  const double got_max = *std::max_element(got, got + want.size());
  double want_sum = 0, got_sum = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    want_sum += std::exp(want[i] - want_max);
    got_sum += std::exp(got[i] - got_max);
  }
  // log p_i = x_i - (max + log sum exp(x - max)), likewise for q.
  const double want_norm = want_max + std::log(want_sum), got_norm = got_max + std::log(got_sum);
  double kl = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double lp = want[i] - want_norm, lq = got[i] - got_norm;
    kl += std::exp(lp) * (lp - lq);
  }
  return kl;
}

// SmolLM2 on a real chat prompt (its template, with special tokens in the middle of the text: 37 tokens) as the
// engine runs it, one prefill of the whole prompt, against the float64 transformer position by position. The
// engine's next-token distributions are as close to the float64 model's as llama.cpp's: on 36 tokens of the GPL
// text, the mean KL divergence from the float64 distribution was 0.0071 nats for the engine and 0.0075 for
// llama.cpp run token by token. Here it measures 0.0063, bounded at 0.02; attention scaled 1.1x too much gives
// 0.055, the other RoPE layout 1.2. The engine must also predict what a chat model does after "<|im_end|>\n":
// the next turn's <|im_start|> (99.7 % in the float64 model).
TEST(RealModelChat, PromptMatchesFloat64Transformer) {
  // "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n
  //  <|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
  const std::vector<int32_t> tokens = {1,   9690, 198, 2683, 359,   253,  5356, 5646, 11173, 3365, 3511, 308,  34519,
                                       28,  7018, 411, 407,  19712, 8182, 2,    198,  1,     4093, 198,  1780, 314,
                                       260, 3575, 282, 4649, 47,    2,    198,  1,    520,   9531, 198};
  constexpr int32_t kImStart = 1;
  RealModelRun run;
  ASSERT_NO_FATAL_FAILURE(run_real_model("SmolLM2-135M-Instruct.Q4_1.gguf", tokens, run));
  const std::vector<float>& logits = run.engine;
  const std::vector<Vec>& want = run.reference;
  const int64_t V = run.n_vocab;
  double kl_sum = 0;
  for (size_t t = 0; t < tokens.size(); ++t) kl_sum += kl_divergence(want[t], logits.data() + t * V);
  EXPECT_LT(kl_sum / tokens.size(), 0.02);
  const size_t after_turn = 32;  // the prompt's second "<|im_end|>\n"
  ASSERT_EQ(tokens[after_turn], 198);
  const float* row = logits.data() + after_turn * V;
  EXPECT_EQ(std::max_element(row, row + V) - row, kImStart);
}

INSTANTIATE_TEST_SUITE_P(Models, RealModelReference,
                         ::testing::Values("SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf"));

}  // namespace
}  // namespace strata
