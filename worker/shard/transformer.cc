#include "worker/shard/transformer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace strata {

const ModelConfig& LayerOps::config() const { return t_.config_; }
StepBuffers& LayerOps::buffers() { return t_.buf_; }
Backend& LayerOps::backend() { return t_.backend_; }

void LayerOps::norm(const float* x, const float* w, float* y) {
  t_.backend_.rms_norm(x, w, t_.buf_.n_tokens, t_.config_.n_embd, t_.config_.rms_eps, y);
}

void LayerOps::add(const float* x, float* y) { t_.backend_.add(x, t_.buf_.n_tokens, t_.config_.n_embd, y); }

absl::Status LayerOps::attention(const float* in, float* out) {
  const ModelConfig& c = t_.config_;
  Backend& b = t_.backend_;
  StepBuffers& s = t_.buf_;
  const int64_t n = s.n_tokens;
  const MatmulOutput qkv[] = {{&w_.wq, s.q}, {&w_.wk, s.k}, {&w_.wv, s.v}};
  STRATA_RETURN_IF_ERROR(b.matmul_group(qkv, in, n));
  if (c.qkv_bias) {
    b.add_bias(w_.q_bias, n, c.q_dim(), s.q);
    b.add_bias(w_.k_bias, n, c.kv_dim_k(), s.k);
    b.add_bias(w_.v_bias, n, c.kv_dim_v(), s.v);
  }
  if (c.qk_norm) {  // each head normalized on its own: rows of head_dim
    b.rms_norm(s.q, w_.q_norm, n * c.n_head, c.head_dim_k, c.rms_eps, s.q);
    b.rms_norm(s.k, w_.k_norm, n * c.n_head_kv, c.head_dim_k, c.rms_eps, s.k);
  }
  const bool sliding = c.is_sliding_layer(layer_);
  const RopeParams rope{c.rope_layout, c.rope_dim, sliding ? c.rope_freq_base_swa : c.rope_freq_base,
                        c.rope_freq_scale};
  b.rope(s.q, s.pos, n, c.n_head, c.head_dim_k, rope);
  b.rope(s.k, s.pos, n, c.n_head_kv, c.head_dim_k, rope);

  KvCache& cache = t_.cache_;
  const int64_t local_layer = layer_ - t_.weights_.layer_begin;
  b.kv_store(s.k, s.v, s.slots, n, c.kv_dim_k(), c.kv_dim_v(), cache.k(local_layer), cache.v(local_layer));

  PagedAttentionArgs a;
  a.q = s.q;
  a.out = s.attn;
  a.k_cache = cache.k(local_layer);
  a.v_cache = cache.v(local_layer);
  a.block_tables = s.tables;
  a.token_seq = s.seq;
  a.token_pos = s.pos;
  a.n_tokens = n;
  a.n_head = c.n_head;
  a.n_head_kv = c.n_head_kv;
  a.head_dim_k = c.head_dim_k;
  a.head_dim_v = c.head_dim_v;
  a.block_size = cache.block_size();
  a.max_blocks_per_seq = s.max_blocks;
  a.scale = c.attn_scale;
  a.window = sliding ? c.sliding_window : 0;
  b.paged_attention(a);
  return b.matmul(w_.wo, s.attn, n, out);
}

absl::Status LayerOps::ffn(const float* in, float* out) {
  const ModelConfig& c = t_.config_;
  Backend& b = t_.backend_;
  StepBuffers& s = t_.buf_;
  const MatmulOutput gate_up[] = {{&w_.w_gate, s.gate}, {&w_.w_up, s.up}};
  STRATA_RETURN_IF_ERROR(b.matmul_group(gate_up, in, s.n_tokens));
  b.gated_activation(s.gate, s.up, s.n_tokens, c.n_ff, c.ffn_activation, s.gate);
  return b.matmul(w_.w_down, s.gate, s.n_tokens, out);
}

Transformer::Transformer(const ModelConfig& config, const ModelWeights& weights, KvCache& cache, Backend& backend)
    : config_(config),
      weights_(weights),
      cache_(cache),
      backend_(backend),
      layer_forward_(find_layer_forward(config.arch)) {}

Transformer::~Transformer() { release_buffers(); }

void Transformer::release_buffers() {
  for (void* p : allocations_) backend_.release(p);
  allocations_.clear();
}

absl::Status Transformer::reserve(int64_t n_tokens, int64_t n_seqs, int64_t max_blocks, int64_t n_out) {
  // Checked against what was allocated, not against the last step's sizes: a decode step after a prefill must not
  // shrink the next prefill's room (it reallocated every step whose batch outgrew the one before).
  auto fit = [&] {
    buf_.n_tokens = n_tokens;
    buf_.n_seqs = n_seqs;
    buf_.max_blocks = max_blocks;
    buf_.n_out = n_out;
    return absl::OkStatus();
  };
  if (n_tokens <= capacity_.tokens && n_seqs <= capacity_.seqs && n_seqs * max_blocks <= capacity_.table_entries &&
      n_out <= capacity_.out) {
    return fit();
  }
  release_buffers();
  // Grow with headroom so a growing batch does not reallocate every step, and never below what was there.
  const Capacity old = capacity_;
  capacity_ = {};
  const int64_t cap_tokens = std::max<int64_t>({n_tokens, 16, old.tokens});
  const int64_t cap_seqs = std::max<int64_t>({n_seqs, 8, old.seqs});
  const int64_t cap_tables = std::max<int64_t>({n_seqs * max_blocks, cap_seqs * 64, old.table_entries});
  const int64_t cap_out = std::max<int64_t>({n_out, 8, old.out});
  const ModelConfig& c = config_;
  auto alloc = [&](auto*& ptr, int64_t count) -> absl::Status {
    using T = std::remove_reference_t<decltype(*ptr)>;
    STRATA_ASSIGN_OR_RETURN(void* p, backend_.allocate(static_cast<size_t>(count) * sizeof(T)));
    allocations_.push_back(p);
    ptr = static_cast<T*>(p);
    return absl::OkStatus();
  };
  STRATA_RETURN_IF_ERROR(alloc(buf_.x, cap_tokens * c.n_embd));
  STRATA_RETURN_IF_ERROR(alloc(buf_.h, cap_tokens * c.n_embd));
  STRATA_RETURN_IF_ERROR(alloc(buf_.q, cap_tokens * c.q_dim()));
  STRATA_RETURN_IF_ERROR(alloc(buf_.k, cap_tokens * c.kv_dim_k()));
  STRATA_RETURN_IF_ERROR(alloc(buf_.v, cap_tokens * c.kv_dim_v()));
  STRATA_RETURN_IF_ERROR(alloc(buf_.attn, cap_tokens * c.n_head * c.head_dim_v));
  STRATA_RETURN_IF_ERROR(alloc(buf_.o, cap_tokens * c.n_embd));
  STRATA_RETURN_IF_ERROR(alloc(buf_.gate, cap_tokens * c.n_ff));
  STRATA_RETURN_IF_ERROR(alloc(buf_.up, cap_tokens * c.n_ff));
  STRATA_RETURN_IF_ERROR(alloc(buf_.ids, cap_tokens));
  STRATA_RETURN_IF_ERROR(alloc(buf_.pos, cap_tokens));
  STRATA_RETURN_IF_ERROR(alloc(buf_.seq, cap_tokens));
  STRATA_RETURN_IF_ERROR(alloc(buf_.slots, cap_tokens));
  STRATA_RETURN_IF_ERROR(alloc(buf_.tables, cap_tables));
  STRATA_RETURN_IF_ERROR(alloc(buf_.out_rows, cap_out));
  STRATA_RETURN_IF_ERROR(alloc(buf_.hidden_out, cap_out * c.n_embd));
  STRATA_RETURN_IF_ERROR(alloc(buf_.logits, cap_out * c.n_vocab));
  capacity_ = {cap_tokens, cap_seqs, cap_tables, cap_out};
  ++step_buffer_allocations_;
  return fit();
}

absl::Status Transformer::validate(const ForwardBatch& batch) const {
  if (batch.seqs.empty()) return absl::InvalidArgumentError("forward: empty batch");
  for (size_t i = 0; i < batch.seqs.size(); ++i) {
    const SequenceStep& s = batch.seqs[i];
    if (s.tokens.empty()) return absl::InvalidArgumentError(absl::StrCat("forward: sequence ", i, " has no tokens"));
    const int64_t end = static_cast<int64_t>(s.start_pos) + static_cast<int64_t>(s.tokens.size());
    if (s.start_pos < 0 || end > static_cast<int64_t>(s.block_table.size()) * cache_.block_size()) {
      return absl::InvalidArgumentError(absl::StrCat("forward: sequence ", i, " positions [", s.start_pos, ", ", end,
                                                     ") exceed its ", s.block_table.size(), " KV blocks"));
    }
    for (int32_t block : s.block_table) {
      if (block < 0 || block >= cache_.n_blocks()) {
        return absl::InvalidArgumentError(absl::StrCat("forward: sequence ", i, " uses KV block ", block,
                                                       " outside the cache of ", cache_.n_blocks()));
      }
    }
    for (int32_t id : s.tokens) {
      if (id < 0 || id >= config_.n_vocab) {
        return absl::InvalidArgumentError(absl::StrCat("forward: token id ", id, " outside the vocabulary"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Transformer::forward(const ForwardBatch& batch, std::vector<float>& logits) {
  if (layer_forward_ == nullptr) {
    return absl::UnimplementedError(absl::StrCat("forward: no forward pass for architecture ", config_.arch));
  }
  STRATA_RETURN_IF_ERROR(validate(batch));
  const ModelConfig& c = config_;

  // Flatten the batch on the host, then upload the step's small integer arrays once.
  std::vector<int32_t> ids, pos, seq, slots, out_rows;
  int64_t max_blocks = 0;
  for (const SequenceStep& s : batch.seqs) max_blocks = std::max<int64_t>(max_blocks, s.block_table.size());
  std::vector<int32_t> tables(batch.seqs.size() * max_blocks, 0);
  for (size_t i = 0; i < batch.seqs.size(); ++i) {
    const SequenceStep& s = batch.seqs[i];
    std::copy(s.block_table.begin(), s.block_table.end(), tables.begin() + i * max_blocks);
    for (size_t j = 0; j < s.tokens.size(); ++j) {
      const int32_t p = s.start_pos + static_cast<int32_t>(j);
      if (s.all_logits || j + 1 == s.tokens.size()) out_rows.push_back(static_cast<int32_t>(ids.size()));
      ids.push_back(s.tokens[j]);
      pos.push_back(p);
      seq.push_back(static_cast<int32_t>(i));
      slots.push_back(s.block_table[p / cache_.block_size()] * static_cast<int32_t>(cache_.block_size()) +
                      p % static_cast<int32_t>(cache_.block_size()));
    }
  }
  const int64_t n = static_cast<int64_t>(ids.size());
  const int64_t n_out = static_cast<int64_t>(out_rows.size());
  STRATA_RETURN_IF_ERROR(reserve(n, static_cast<int64_t>(batch.seqs.size()), max_blocks, n_out));
  StepBuffers& s = buf_;
  STRATA_RETURN_IF_ERROR(backend_.copy_to_backend(s.ids, ids.data(), n * sizeof(int32_t)));
  STRATA_RETURN_IF_ERROR(backend_.copy_to_backend(s.pos, pos.data(), n * sizeof(int32_t)));
  STRATA_RETURN_IF_ERROR(backend_.copy_to_backend(s.seq, seq.data(), n * sizeof(int32_t)));
  STRATA_RETURN_IF_ERROR(backend_.copy_to_backend(s.slots, slots.data(), n * sizeof(int32_t)));
  STRATA_RETURN_IF_ERROR(backend_.copy_to_backend(s.tables, tables.data(), tables.size() * sizeof(int32_t)));
  STRATA_RETURN_IF_ERROR(backend_.copy_to_backend(s.out_rows, out_rows.data(), n_out * sizeof(int32_t)));

  STRATA_RETURN_IF_ERROR(backend_.embed(weights_.token_embd, s.ids, n, c.embedding_scale, s.x));
  for (size_t l = 0; l < weights_.layers.size(); ++l) {
    LayerOps ops(*this, weights_.layer_begin + static_cast<int64_t>(l), weights_.layers[l]);
    STRATA_RETURN_IF_ERROR(layer_forward_(ops));
  }
  backend_.gather_rows(s.x, s.out_rows, n_out, c.n_embd, s.hidden_out);
  backend_.rms_norm(s.hidden_out, weights_.output_norm, n_out, c.n_embd, c.rms_eps, s.hidden_out);
  STRATA_RETURN_IF_ERROR(backend_.matmul(weights_.output, s.hidden_out, n_out, s.logits));
  logits.resize(static_cast<size_t>(n_out * c.n_vocab));
  STRATA_RETURN_IF_ERROR(backend_.copy_to_host(logits.data(), s.logits, logits.size() * sizeof(float)));
  return backend_.synchronize();
}

}  // namespace strata
