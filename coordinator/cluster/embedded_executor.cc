#include "coordinator/cluster/embedded_executor.h"

#include "absl/strings/str_cat.h"

namespace strata {

ExecutorInfo EmbeddedExecutor::info() const {
  ExecutorInfo info;
  info.n_vocab = model_.config.n_vocab;
  info.n_ctx_train = model_.config.n_ctx_train;
  info.n_kv_blocks = model_.cache->n_blocks();
  info.block_size = model_.block_size;
  for (int32_t id = 0; id < model_.tokenizer->n_vocab(); ++id) {
    if (model_.tokenizer->is_eog(id)) info.eog_tokens.push_back(id);
  }
  return info;
}

absl::StatusOr<std::vector<StepOutput>> EmbeddedExecutor::execute(const std::vector<StepSequence>& batch) {
  ForwardBatch forward;
  forward.seqs.reserve(batch.size());
  for (const StepSequence& s : batch) {
    forward.seqs.push_back(s.step);
    forward.seqs.back().all_logits = false;
  }
  absl::Status status = model_.transformer->forward(forward, logits_);
  if (!status.ok()) return status;

  // One logits row per sequence (its last token); only sampling sequences use theirs.
  const int64_t n_vocab = model_.config.n_vocab;
  std::vector<StepOutput> outputs;
  for (size_t i = 0; i < batch.size(); ++i) {
    const StepSequence& s = batch[i];
    if (!s.sample) continue;
    auto it = samplers_.find(s.seq_id);
    if (it == samplers_.end()) {
      SequenceSampling state;
      state.sampler = std::make_unique<Sampler>(s.sampling);
      state.prompt = s.prompt;
      it = samplers_.emplace(s.seq_id, std::move(state)).first;
    }
    SequenceSampling& state = it->second;
    const std::span<const float> row(logits_.data() + i * n_vocab, static_cast<size_t>(n_vocab));
    StepOutput out;
    out.seq_id = s.seq_id;
    out.result = state.sampler->sample(row, state.prompt, state.generated);
    state.generated.push_back(out.result.token);
    outputs.push_back(std::move(out));
  }
  return outputs;
}

}  // namespace strata
