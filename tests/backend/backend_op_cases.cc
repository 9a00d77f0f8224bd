#include "tests/backend/backend_op_cases.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "core/quant/dequantize.h"
#include "core/quant/fp16.h"
#include "core/quant/quantize.h"
#include "core/util/status_macros.h"

namespace strata::testing {
namespace {

// Backend memory released when it goes out of scope.
class BackendBuffer {
 public:
  BackendBuffer(Backend& backend, void* ptr) : backend_(backend), ptr_(ptr) {}
  ~BackendBuffer() { backend_.release(ptr_); }
  BackendBuffer(const BackendBuffer&) = delete;
  BackendBuffer& operator=(const BackendBuffer&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  Backend& backend_;
  void* ptr_;
};

template <typename T>
absl::StatusOr<std::unique_ptr<BackendBuffer>> upload(Backend& backend, const std::vector<T>& host) {
  const size_t bytes = std::max<size_t>(host.size() * sizeof(T), 1);
  STRATA_ASSIGN_OR_RETURN(void* p, backend.allocate(bytes));
  auto buffer = std::make_unique<BackendBuffer>(backend, p);
  STRATA_RETURN_IF_ERROR(backend.copy_to_backend(p, host.data(), host.size() * sizeof(T)));
  return buffer;
}

absl::StatusOr<std::unique_ptr<BackendBuffer>> scratch(Backend& backend, size_t bytes) {
  STRATA_ASSIGN_OR_RETURN(void* p, backend.allocate(std::max<size_t>(bytes, 1)));
  return std::make_unique<BackendBuffer>(backend, p);
}

absl::StatusOr<std::vector<float>> download(Backend& backend, const BackendBuffer& buffer, size_t count) {
  STRATA_RETURN_IF_ERROR(backend.synchronize());
  std::vector<float> out(count);
  STRATA_RETURN_IF_ERROR(backend.copy_to_host(out.data(), buffer.as<void>(), count * sizeof(float)));
  return out;
}

std::vector<float> gaussian(std::mt19937_64& rng, size_t n, float stddev = 1.0f, float mean = 0.0f) {
  std::normal_distribution<float> dist(mean, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::string type_name(GgmlType type) { return std::string(ggml_type_info(type)->name); }

// y = x W^T with W in a GGUF block format. Tolerance: quantized types round the activations to 8 bits (the
// partner format), an RMS error of ~0.5-0.7 % of each row, so 2e-2 leaves 3x; float types only differ in f32
// summation order: 1e-5.
class MatmulCase : public OpCase {
 public:
  MatmulCase(GgmlType type, int64_t n, int64_t k, int64_t m) : type_(type), n_(n), k_(k), m_(m) {}
  std::string name() const override { return absl::StrCat("matmul_", type_name(type_), "_n", n_, "_k", k_, "_m", m_); }
  double tolerance() const override {
    return type_ == GgmlType::kF32 || type_ == GgmlType::kF16 || type_ == GgmlType::kBF16 ? 1e-5 : 2e-2;
  }
  double flops() const override { return 2.0 * m_ * n_ * k_; }
  double bytes() const override { return static_cast<double>(weights_.size()) + 4.0 * (m_ * k_ + m_ * n_); }
  void build(uint64_t seed) override {
    std::mt19937_64 rng(seed);
    const std::vector<float> w = gaussian(rng, n_ * k_, 0.05f);
    row_bytes_ = row_size(type_, k_);
    weights_.resize(row_bytes_ * n_);
    dequantized_.resize(n_ * k_);
    for (int64_t r = 0; r < n_; ++r) {
      (void)quantize_row(type_, w.data() + r * k_, weights_.data() + r * row_bytes_, k_);
      (void)dequantize_row(type_, weights_.data() + r * row_bytes_, dequantized_.data() + r * k_, k_);
    }
    x_ = gaussian(rng, m_ * k_);
  }
  std::vector<double> reference() const override {
    std::vector<double> y(m_ * n_, 0.0);
    for (int64_t i = 0; i < m_; ++i) {
      for (int64_t j = 0; j < n_; ++j) {
        double s = 0;
        for (int64_t l = 0; l < k_; ++l) s += static_cast<double>(x_[i * k_ + l]) * dequantized_[j * k_ + l];
        y[i * n_ + j] = s;
      }
    }
    return y;
  }
  absl::StatusOr<std::vector<float>> run(Backend& backend) override {
    WeightTensor w{type_, nullptr, n_, k_, row_bytes_};
    STRATA_ASSIGN_OR_RETURN(w.data, backend.map_weights(weights_.data(), weights_.size()));
    // The layout the model loader gives matmul: packed where the backend has a packed layout for the type.
    std::unique_ptr<BackendBuffer> packed;
    if (const size_t bytes = backend.packed_weight_bytes(w); bytes > 0) {
      STRATA_ASSIGN_OR_RETURN(packed, scratch(backend, bytes));
      STRATA_ASSIGN_OR_RETURN(w, backend.pack_weight(w, packed->as<void>()));
    }
    STRATA_ASSIGN_OR_RETURN(auto x, upload(backend, x_));
    STRATA_ASSIGN_OR_RETURN(auto y, scratch(backend, m_ * n_ * sizeof(float)));
    STRATA_RETURN_IF_ERROR(backend.matmul(w, x->as<float>(), m_, y->as<float>()));
    return download(backend, *y, m_ * n_);
  }

 private:
  GgmlType type_;
  int64_t n_, k_, m_;
  size_t row_bytes_ = 0;
  std::vector<uint8_t> weights_;
  std::vector<float> dequantized_, x_;
};

// Embedding rows dequantized and scaled: the same dequantization as the reference, so only f32 rounding: 1e-6.
class EmbedCase : public OpCase {
 public:
  EmbedCase(GgmlType type, int64_t vocab, int64_t dim, int64_t m) : type_(type), vocab_(vocab), dim_(dim), m_(m) {}
  std::string name() const override {
    return absl::StrCat("embed_", type_name(type_), "_v", vocab_, "_d", dim_, "_m", m_);
  }
  double tolerance() const override { return 1e-6; }
  double flops() const override { return static_cast<double>(m_ * dim_); }
  double bytes() const override { return static_cast<double>(m_) * (row_bytes_ + 4 * dim_); }
  void build(uint64_t seed) override {
    std::mt19937_64 rng(seed);
    const std::vector<float> table = gaussian(rng, vocab_ * dim_);
    row_bytes_ = row_size(type_, dim_);
    table_.resize(row_bytes_ * vocab_);
    for (int64_t r = 0; r < vocab_; ++r)
      (void)quantize_row(type_, table.data() + r * dim_, table_.data() + r * row_bytes_, dim_);
    ids_.resize(m_);
    for (int32_t& id : ids_) id = std::uniform_int_distribution<int32_t>(0, static_cast<int32_t>(vocab_ - 1))(rng);
  }
  std::vector<double> reference() const override {
    std::vector<double> y;
    std::vector<float> row(dim_);
    for (int32_t id : ids_) {
      (void)dequantize_row(type_, table_.data() + id * row_bytes_, row.data(), dim_);
      for (float v : row) y.push_back(v * kScale);
    }
    return y;
  }
  absl::StatusOr<std::vector<float>> run(Backend& backend) override {
    WeightTensor t{type_, nullptr, vocab_, dim_, row_bytes_};
    STRATA_ASSIGN_OR_RETURN(t.data, backend.map_weights(table_.data(), table_.size()));
    STRATA_ASSIGN_OR_RETURN(auto ids, upload(backend, ids_));
    STRATA_ASSIGN_OR_RETURN(auto y, scratch(backend, m_ * dim_ * sizeof(float)));
    STRATA_RETURN_IF_ERROR(backend.embed(t, ids->as<int32_t>(), m_, kScale, y->as<float>()));
    return download(backend, *y, m_ * dim_);
  }

 private:
  static constexpr float kScale = 1.5f;
  GgmlType type_;
  int64_t vocab_, dim_, m_;
  size_t row_bytes_ = 0;
  std::vector<uint8_t> table_;
  std::vector<int32_t> ids_;
};

// RMSNorm: one reduction and a scale per element; float rounding only: 1e-6.
class RmsNormCase : public OpCase {
 public:
  RmsNormCase(int64_t m, int64_t n) : m_(m), n_(n) {}
  std::string name() const override { return absl::StrCat("rms_norm_m", m_, "_n", n_); }
  double tolerance() const override { return 1e-6; }
  double flops() const override { return 4.0 * m_ * n_; }
  double bytes() const override { return 4.0 * (2 * m_ * n_ + n_); }
  void build(uint64_t seed) override {
    std::mt19937_64 rng(seed);
    x_ = gaussian(rng, m_ * n_, 3.0f, 0.5f);
    w_ = gaussian(rng, n_, 0.2f, 1.0f);
  }
  std::vector<double> reference() const override {
    std::vector<double> y(m_ * n_);
    for (int64_t i = 0; i < m_; ++i) {
      double ss = 0;
      for (int64_t j = 0; j < n_; ++j) ss += static_cast<double>(x_[i * n_ + j]) * x_[i * n_ + j];
      const double inv = 1.0 / std::sqrt(ss / n_ + kEps);
      for (int64_t j = 0; j < n_; ++j) y[i * n_ + j] = x_[i * n_ + j] * inv * w_[j];
    }
    return y;
  }
  absl::StatusOr<std::vector<float>> run(Backend& backend) override {
    STRATA_ASSIGN_OR_RETURN(auto x, upload(backend, x_));
    STRATA_ASSIGN_OR_RETURN(auto w, upload(backend, w_));
    STRATA_ASSIGN_OR_RETURN(auto y, scratch(backend, m_ * n_ * sizeof(float)));
    backend.rms_norm(x->as<float>(), w->as<float>(), m_, n_, kEps, y->as<float>());
    return download(backend, *y, m_ * n_);
  }

 private:
  static constexpr float kEps = 1e-6f;
  int64_t m_, n_;
  std::vector<float> x_, w_;
};

// RoPE in both layouts, with a partial rotary dimension and position scaling. f32 trigonometry of angles up to
// ~4000 rad: 1e-5.
class RopeCase : public OpCase {
 public:
  RopeCase(RopeLayout layout, int64_t m, int64_t heads, int64_t head_dim, int64_t rope_dim, float base, float scale)
      : layout_(layout), m_(m), heads_(heads), head_dim_(head_dim), rope_dim_(rope_dim), base_(base), scale_(scale) {}
  std::string name() const override {
    return absl::StrCat("rope_", layout_ == RopeLayout::kNeox ? "neox" : "normal", "_m", m_, "_h", heads_, "_d",
                        head_dim_, "_r", rope_dim_);
  }
  double tolerance() const override { return 1e-5; }
  double flops() const override { return 6.0 * m_ * heads_ * rope_dim_ / 2; }
  double bytes() const override { return 8.0 * m_ * heads_ * head_dim_; }
  void build(uint64_t seed) override {
    std::mt19937_64 rng(seed);
    x_ = gaussian(rng, m_ * heads_ * head_dim_);
    pos_.resize(m_);
    for (int32_t& p : pos_) p = std::uniform_int_distribution<int32_t>(0, 4000)(rng);
  }
  std::vector<double> reference() const override {
    std::vector<double> y(x_.begin(), x_.end());
    const int64_t half = rope_dim_ / 2;
    for (int64_t t = 0; t < m_; ++t) {
      for (int64_t h = 0; h < heads_; ++h) {
        double* v = y.data() + (t * heads_ + h) * head_dim_;
        for (int64_t i = 0; i < half; ++i) {
          const double theta =
              pos_[t] * static_cast<double>(scale_) * std::pow(static_cast<double>(base_), -2.0 * i / rope_dim_);
          const int64_t a = layout_ == RopeLayout::kNormal ? 2 * i : i;
          const int64_t b = layout_ == RopeLayout::kNormal ? 2 * i + 1 : i + half;
          const double x0 = v[a], x1 = v[b];
          v[a] = x0 * std::cos(theta) - x1 * std::sin(theta);
          v[b] = x0 * std::sin(theta) + x1 * std::cos(theta);
        }
      }
    }
    return y;
  }
  absl::StatusOr<std::vector<float>> run(Backend& backend) override {
    STRATA_ASSIGN_OR_RETURN(auto x, upload(backend, x_));
    STRATA_ASSIGN_OR_RETURN(auto pos, upload(backend, pos_));
    backend.rope(x->as<float>(), pos->as<int32_t>(), m_, heads_, head_dim_,
                 RopeParams{layout_, rope_dim_, base_, scale_});
    return download(backend, *x, x_.size());
  }

 private:
  RopeLayout layout_;
  int64_t m_, heads_, head_dim_, rope_dim_;
  float base_, scale_;
  std::vector<float> x_;
  std::vector<int32_t> pos_;
};

// SwiGLU / GeGLU gate: elementwise transcendental functions in f32: 1e-6.
class GatedActivationCase : public OpCase {
 public:
  GatedActivationCase(FfnActivation act, int64_t m, int64_t n) : act_(act), m_(m), n_(n) {}
  std::string name() const override {
    return absl::StrCat(act_ == FfnActivation::kSilu ? "swiglu" : "geglu", "_m", m_, "_n", n_);
  }
  double tolerance() const override { return 1e-6; }
  double flops() const override { return 10.0 * m_ * n_; }
  double bytes() const override { return 12.0 * m_ * n_; }
  void build(uint64_t seed) override {
    std::mt19937_64 rng(seed);
    gate_ = gaussian(rng, m_ * n_, 2.0f);
    up_ = gaussian(rng, m_ * n_);
  }
  std::vector<double> reference() const override {
    std::vector<double> y(m_ * n_);
    for (size_t i = 0; i < y.size(); ++i) {
      const double g = gate_[i];
      const double a = act_ == FfnActivation::kSilu
                           ? g / (1 + std::exp(-g))
                           : 0.5 * g * (1 + std::tanh(std::sqrt(2 / M_PI) * (g + 0.044715 * g * g * g)));
      y[i] = a * up_[i];
    }
    return y;
  }
  absl::StatusOr<std::vector<float>> run(Backend& backend) override {
    STRATA_ASSIGN_OR_RETURN(auto gate, upload(backend, gate_));
    STRATA_ASSIGN_OR_RETURN(auto up, upload(backend, up_));
    STRATA_ASSIGN_OR_RETURN(auto y, scratch(backend, m_ * n_ * sizeof(float)));
    backend.gated_activation(gate->as<float>(), up->as<float>(), m_, n_, act_, y->as<float>());
    return download(backend, *y, m_ * n_);
  }

 private:
  FfnActivation act_;
  int64_t m_, n_;
  std::vector<float> gate_, up_;
};

// Residual add, bias add and row gather in one case (they feed each other): exact up to f32 addition, 1e-7.
class ElementwiseCase : public OpCase {
 public:
  ElementwiseCase(int64_t m, int64_t n) : m_(m), n_(n) {}
  std::string name() const override { return absl::StrCat("add_bias_gather_m", m_, "_n", n_); }
  double tolerance() const override { return 1e-7; }
  double flops() const override { return 2.0 * m_ * n_; }
  double bytes() const override { return 4.0 * (4 * m_ * n_ + n_); }
  void build(uint64_t seed) override {
    std::mt19937_64 rng(seed);
    x_ = gaussian(rng, m_ * n_);
    y_ = gaussian(rng, m_ * n_);
    bias_ = gaussian(rng, n_);
    rows_.resize(m_);
    std::iota(rows_.begin(), rows_.end(), 0);
    std::shuffle(rows_.begin(), rows_.end(), rng);
  }
  std::vector<double> reference() const override {
    std::vector<double> sum(m_ * n_), out(m_ * n_);
    for (int64_t i = 0; i < m_; ++i) {
      for (int64_t j = 0; j < n_; ++j)
        sum[i * n_ + j] = static_cast<double>(y_[i * n_ + j]) + x_[i * n_ + j] + bias_[j];
    }
    for (int64_t i = 0; i < m_; ++i) {
      for (int64_t j = 0; j < n_; ++j) out[i * n_ + j] = sum[rows_[i] * n_ + j];
    }
    return out;
  }
  absl::StatusOr<std::vector<float>> run(Backend& backend) override {
    STRATA_ASSIGN_OR_RETURN(auto x, upload(backend, x_));
    STRATA_ASSIGN_OR_RETURN(auto y, upload(backend, y_));
    STRATA_ASSIGN_OR_RETURN(auto bias, upload(backend, bias_));
    STRATA_ASSIGN_OR_RETURN(auto rows, upload(backend, rows_));
    STRATA_ASSIGN_OR_RETURN(auto out, scratch(backend, m_ * n_ * sizeof(float)));
    backend.add(x->as<float>(), m_, n_, y->as<float>());
    backend.add_bias(bias->as<float>(), m_, n_, y->as<float>());
    backend.gather_rows(y->as<float>(), rows->as<int32_t>(), m_, n_, out->as<float>());
    return download(backend, *out, m_ * n_);
  }

 private:
  int64_t m_, n_;
  std::vector<float> x_, y_, bias_;
  std::vector<int32_t> rows_;
};

// Paged, causal, grouped-query attention with an optional sliding window, the K/V written through kv_store into
// scattered blocks. K/V are f16 in the cache (the reference reads the same f16 values), so only the f32
// accumulation of the online softmax differs: 1e-5.
class PagedAttentionCase : public OpCase {
 public:
  PagedAttentionCase(std::vector<int32_t> seq_lens, std::vector<int32_t> new_tokens, int64_t n_head, int64_t n_head_kv,
                     int64_t head_dim, int64_t block_size, int64_t window)
      : seq_lens_(std::move(seq_lens)),
        new_tokens_(std::move(new_tokens)),
        n_head_(n_head),
        n_head_kv_(n_head_kv),
        head_dim_(head_dim),
        block_size_(block_size),
        window_(window) {}
  std::string name() const override {
    std::string lens;
    for (size_t i = 0; i < seq_lens_.size(); ++i) lens += absl::StrCat(i ? "_" : "", seq_lens_[i], "p", new_tokens_[i]);
    return absl::StrCat("paged_attention_s", lens, "_h", n_head_, "_kv", n_head_kv_, "_d", head_dim_, "_bs",
                        block_size_, "_w", window_);
  }
  double tolerance() const override { return 1e-5; }
  double flops() const override {
    double f = 0;
    for (size_t s = 0; s < seq_lens_.size(); ++s) {
      for (int32_t t = 0; t < new_tokens_[s]; ++t)
        f += 4.0 * n_head_ * head_dim_ * context(seq_lens_[s] - new_tokens_[s] + t);
    }
    return f;
  }
  double bytes() const override {
    double b = 0;
    for (int32_t len : seq_lens_) b += 4.0 * len * n_head_kv_ * head_dim_;  // K and V in f16, read once per group
    return b;
  }
  void build(uint64_t seed) override {
    std::mt19937_64 rng(seed);
    const int64_t kv_dim = n_head_kv_ * head_dim_;
    max_blocks_ = 0;
    for (int32_t len : seq_lens_) max_blocks_ = std::max<int64_t>(max_blocks_, (len + block_size_ - 1) / block_size_);
    n_blocks_ = max_blocks_ * static_cast<int64_t>(seq_lens_.size()) + 3;
    // Blocks handed out in a shuffled order, so tables are not contiguous.
    std::vector<int32_t> ids(n_blocks_);
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), rng);
    tables_.assign(seq_lens_.size() * max_blocks_, 0);
    size_t next = 0;
    for (size_t s = 0; s < seq_lens_.size(); ++s) {
      for (int64_t b = 0; b < (seq_lens_[s] + block_size_ - 1) / block_size_; ++b)
        tables_[s * max_blocks_ + b] = ids[next++];
    }
    // The cache before this step holds earlier positions; this step's K/V go through kv_store.
    k_cache_.assign(n_blocks_ * block_size_ * kv_dim, 0);
    v_cache_.assign(n_blocks_ * block_size_ * kv_dim, 0);
    token_seq_.clear();
    token_pos_.clear();
    for (size_t s = 0; s < seq_lens_.size(); ++s) {
      for (int32_t p = 0; p < seq_lens_[s]; ++p) {
        const int64_t slot =
            static_cast<int64_t>(tables_[s * max_blocks_ + p / block_size_]) * block_size_ + p % block_size_;
        if (p >= seq_lens_[s] - new_tokens_[s]) {
          token_seq_.push_back(static_cast<int32_t>(s));
          token_pos_.push_back(p);
          slots_.push_back(static_cast<int32_t>(slot));
          continue;
        }
        for (int64_t j = 0; j < kv_dim; ++j) {
          k_cache_[slot * kv_dim + j] = f32_to_fp16(std::normal_distribution<float>()(rng));
          v_cache_[slot * kv_dim + j] = f32_to_fp16(std::normal_distribution<float>()(rng));
        }
      }
    }
    const size_t n = token_pos_.size();
    q_ = gaussian(rng, n * n_head_ * head_dim_);
    new_k_ = gaussian(rng, n * kv_dim);
    new_v_ = gaussian(rng, n * kv_dim);
  }
  std::vector<double> reference() const override {
    const int64_t kv_dim = n_head_kv_ * head_dim_;
    // The cache as the backend will see it: stored f16 values, this step's rows rounded to f16 by kv_store.
    std::vector<uint16_t> k = k_cache_, v = v_cache_;
    for (size_t t = 0; t < slots_.size(); ++t) {
      for (int64_t j = 0; j < kv_dim; ++j) {
        k[slots_[t] * kv_dim + j] = f32_to_fp16(new_k_[t * kv_dim + j]);
        v[slots_[t] * kv_dim + j] = f32_to_fp16(new_v_[t * kv_dim + j]);
      }
    }
    const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
    std::vector<double> out(token_pos_.size() * n_head_ * head_dim_, 0.0);
    for (size_t t = 0; t < token_pos_.size(); ++t) {
      const int32_t s = token_seq_[t], pos = token_pos_[t];
      const int32_t first = window_ > 0 ? std::max<int32_t>(0, pos - static_cast<int32_t>(window_) + 1) : 0;
      for (int64_t h = 0; h < n_head_; ++h) {
        const int64_t kvh = h / (n_head_ / n_head_kv_);
        std::vector<double> scores;
        for (int32_t p = first; p <= pos; ++p) {
          const int64_t slot =
              static_cast<int64_t>(tables_[s * max_blocks_ + p / block_size_]) * block_size_ + p % block_size_;
          double dot = 0;
          for (int64_t j = 0; j < head_dim_; ++j) {
            dot += static_cast<double>(q_[(t * n_head_ + h) * head_dim_ + j]) *
                   fp16_to_f32(k[slot * kv_dim + kvh * head_dim_ + j]);
          }
          scores.push_back(dot * scale);
        }
        const double mx = *std::max_element(scores.begin(), scores.end());
        double sum = 0;
        for (double& x : scores) sum += (x = std::exp(x - mx));
        for (int32_t p = first; p <= pos; ++p) {
          const int64_t slot =
              static_cast<int64_t>(tables_[s * max_blocks_ + p / block_size_]) * block_size_ + p % block_size_;
          for (int64_t j = 0; j < head_dim_; ++j) {
            out[(t * n_head_ + h) * head_dim_ + j] +=
                scores[p - first] / sum * fp16_to_f32(v[slot * kv_dim + kvh * head_dim_ + j]);
          }
        }
      }
    }
    return out;
  }
  absl::StatusOr<std::vector<float>> run(Backend& backend) override {
    const int64_t n = static_cast<int64_t>(token_pos_.size());
    const int64_t kv_dim = n_head_kv_ * head_dim_;
    STRATA_ASSIGN_OR_RETURN(auto q, upload(backend, q_));
    STRATA_ASSIGN_OR_RETURN(auto nk, upload(backend, new_k_));
    STRATA_ASSIGN_OR_RETURN(auto nv, upload(backend, new_v_));
    STRATA_ASSIGN_OR_RETURN(auto kc, upload(backend, k_cache_));
    STRATA_ASSIGN_OR_RETURN(auto vc, upload(backend, v_cache_));
    STRATA_ASSIGN_OR_RETURN(auto tables, upload(backend, tables_));
    STRATA_ASSIGN_OR_RETURN(auto seq, upload(backend, token_seq_));
    STRATA_ASSIGN_OR_RETURN(auto pos, upload(backend, token_pos_));
    STRATA_ASSIGN_OR_RETURN(auto slots, upload(backend, slots_));
    STRATA_ASSIGN_OR_RETURN(auto out, scratch(backend, n * n_head_ * head_dim_ * sizeof(float)));
    backend.kv_store(nk->as<float>(), nv->as<float>(), slots->as<int32_t>(), n, kv_dim, kv_dim, kc->as<uint16_t>(),
                     vc->as<uint16_t>());
    PagedAttentionArgs a;
    a.q = q->as<float>();
    a.out = out->as<float>();
    a.k_cache = kc->as<uint16_t>();
    a.v_cache = vc->as<uint16_t>();
    a.block_tables = tables->as<int32_t>();
    a.token_seq = seq->as<int32_t>();
    a.token_pos = pos->as<int32_t>();
    a.n_tokens = n;
    a.n_head = n_head_;
    a.n_head_kv = n_head_kv_;
    a.head_dim_k = a.head_dim_v = head_dim_;
    a.block_size = block_size_;
    a.max_blocks_per_seq = max_blocks_;
    a.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim_)));
    a.window = window_;
    backend.paged_attention(a);
    return download(backend, *out, n * n_head_ * head_dim_);
  }

 private:
  int64_t context(int32_t pos) const { return window_ > 0 ? std::min<int64_t>(pos + 1, window_) : pos + 1; }
  std::vector<int32_t> seq_lens_, new_tokens_;  // total length after the step, tokens added by it
  int64_t n_head_, n_head_kv_, head_dim_, block_size_, window_;
  int64_t max_blocks_ = 0, n_blocks_ = 0;
  std::vector<int32_t> tables_, token_seq_, token_pos_, slots_;
  std::vector<uint16_t> k_cache_, v_cache_;
  std::vector<float> q_, new_k_, new_v_;
};

}  // namespace

double normalized_error(const std::vector<float>& got, const std::vector<double>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

std::vector<std::unique_ptr<OpCase>> all_op_cases() {
  std::vector<std::unique_ptr<OpCase>> cases;
  for (GgmlType type : {GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ4_0, GgmlType::kQ4_1,
                        GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0, GgmlType::kQ2_K, GgmlType::kQ3_K,
                        GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K}) {
    for (int64_t m : {1, 3, 8, 37}) cases.push_back(std::make_unique<MatmulCase>(type, 67, 512, m));
  }
  cases.push_back(std::make_unique<MatmulCase>(GgmlType::kQ4_0, 2048, 2048, 1));
  cases.push_back(std::make_unique<MatmulCase>(GgmlType::kQ4_K, 1536, 2048, 128));
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kF16, GgmlType::kQ4_K}) {
    cases.push_back(std::make_unique<EmbedCase>(type, 1000, 768, 13));
  }
  cases.push_back(std::make_unique<RmsNormCase>(7, 576));
  cases.push_back(std::make_unique<RmsNormCase>(33, 4096));
  cases.push_back(std::make_unique<RopeCase>(RopeLayout::kNormal, 9, 5, 64, 64, 10000.0f, 1.0f));
  cases.push_back(std::make_unique<RopeCase>(RopeLayout::kNeox, 9, 3, 256, 256, 1e6f, 1.0f));
  cases.push_back(std::make_unique<RopeCase>(RopeLayout::kNeox, 4, 2, 128, 64, 10000.0f, 0.25f));
  cases.push_back(std::make_unique<GatedActivationCase>(FfnActivation::kSilu, 5, 1536));
  cases.push_back(std::make_unique<GatedActivationCase>(FfnActivation::kGeluTanh, 5, 2048));
  cases.push_back(std::make_unique<ElementwiseCase>(11, 640));
  // Decode batch, prefill, mixed; GQA groups 1, 3, 4, 8; head dims 64 / 80 / 128 / 256; block sizes 16 / 5; windows.
  cases.push_back(std::make_unique<PagedAttentionCase>(std::vector<int32_t>{1, 17, 40, 129},
                                                       std::vector<int32_t>{1, 1, 1, 1}, 9, 3, 64, 16, 0));
  cases.push_back(
      std::make_unique<PagedAttentionCase>(std::vector<int32_t>{37}, std::vector<int32_t>{37}, 4, 4, 80, 5, 0));
  cases.push_back(std::make_unique<PagedAttentionCase>(std::vector<int32_t>{70, 23}, std::vector<int32_t>{30, 1}, 4, 1,
                                                       256, 16, 0));
  cases.push_back(std::make_unique<PagedAttentionCase>(std::vector<int32_t>{90, 60}, std::vector<int32_t>{25, 1}, 8, 2,
                                                       64, 16, 24));
  // GQA group 8 (two passes of 4 heads in the AVX-512 chunk), head dim 128, a long decode context.
  cases.push_back(std::make_unique<PagedAttentionCase>(std::vector<int32_t>{300, 6}, std::vector<int32_t>{1, 6}, 16, 2,
                                                       128, 16, 0));
  return cases;
}

}  // namespace strata::testing
