// The coordinator's only way to compute: an Executor runs one step — a batch of sequences, each with its new tokens,
// positions and KV block table — and returns the sampled token of every sequence that asked for one. The embedded
// executor calls the shard code in-process; the remote one (cluster issue) sends the same step over gRPC.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/sampling/sampler.h"
#include "worker/shard/forward_batch.h"

namespace strata {

struct ExecutorInfo {
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_kv_blocks = 0;          // physical KV blocks every stage holds
  int64_t block_size = 0;           // tokens per KV block
  std::vector<int32_t> eog_tokens;  // end-of-generation ids (EOS, EOT, ...)
};

struct StepSequence {
  uint64_t seq_id = 0;
  SequenceStep step;            // tokens, start_pos, block table (all_logits is ignored)
  bool sample = false;          // false for a prefill chunk that does not reach the prompt's end
  SamplingParams sampling;      // with `sample`
  std::vector<int32_t> prompt;  // on a sequence's first sampling step: its prompt, for the repetition penalty
};

struct StepOutput {
  uint64_t seq_id = 0;
  SampleResult result;
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual ExecutorInfo info() const = 0;
  // Runs one step; outputs in the order of the sampling sequences. An error fails the whole step.
  virtual absl::StatusOr<std::vector<StepOutput>> execute(const std::vector<StepSequence>& batch) = 0;
  // Forgets per-sequence sampling state (RNG, penalty history) of a finished or preempted sequence.
  virtual void release(uint64_t seq_id) = 0;
};

}  // namespace strata
