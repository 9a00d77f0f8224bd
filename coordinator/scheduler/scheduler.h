// Continuous batching: which requests run in the next step and with which tokens.
//
// Every step first gives each running request its next token (decode) or its next prompt chunk, then admits
// waiting requests first come, first served while the token budget (max_num_batched_tokens) and max_num_seqs
// allow — so a long prompt is prefilled in chunks beside the running streams instead of stalling them. A request is
// admitted only when KV blocks for its whole prompt fit; when a decode needs a block and none is left, the newest
// running request is preempted (its blocks freed, recomputed later from its tokens so far).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "coordinator/cluster/executor.h"
#include "coordinator/engine/generation_request.h"
#include "coordinator/kv/block_allocator.h"
#include "coordinator/metrics/server_metrics.h"

namespace strata {

struct SchedulerOptions {
  int64_t max_num_seqs = 64;             // requests in the running batch at most
  int64_t max_num_batched_tokens = 512;  // tokens computed per step at most
  int64_t max_model_len = 4096;          // prompt + generated tokens of one request at most
  int64_t n_blocks = 256;                // KV blocks in the cache
  int64_t block_size = 16;               // tokens per block
  bool enable_prefix_caching = true;
};

using SteadyTime = std::chrono::steady_clock::time_point;

struct SchedulerRequest {
  uint64_t id = 0;
  GenerationRequest request;
  GenerationCallback callback;
  std::vector<int32_t> tokens;  // prompt, then every generated token
  int64_t n_prompt = 0;
  int64_t n_computed = 0;  // leading tokens whose K/V are in the cache
  int64_t n_generated = 0;
  int64_t n_cached_prompt = 0;         // prompt tokens that came from the prefix cache (first admission)
  int64_t n_published = 0;             // leading full blocks already published to the prefix cache
  std::vector<uint64_t> block_hashes;  // prefix hash of each full block, in order
  std::unique_ptr<SequenceBlocks> blocks;
  bool sampler_started = false;  // the executor holds sampling state for this request
  bool admitted_once = false;
  SteadyTime arrival;
  SteadyTime first_scheduled;
  SteadyTime last_token;
};

struct ScheduledStep {
  std::vector<StepSequence> seqs;
  std::vector<SchedulerRequest*> requests;  // parallel to seqs
  std::vector<int64_t> n_new;               // tokens computed for each
  int64_t n_tokens = 0;
  bool empty() const { return seqs.empty(); }
};

class Scheduler {
 public:
  Scheduler(const SchedulerOptions& options, Executor& executor, ServerMetrics* metrics);
  ~Scheduler();

  void add(std::unique_ptr<SchedulerRequest> request);
  // Stops a request: it gets a final event with `reason` and its blocks are freed.
  void cancel(uint64_t id, FinishReason reason);
  // Ends every request with a final event of `reason` (shutdown).
  void abort_all(FinishReason reason, const std::string& error);

  // Plans the next step; empty when there is nothing to run.
  ScheduledStep schedule();
  // Applies a finished step: advances computed tokens, publishes full blocks, emits tokens, ends finished requests.
  void complete(ScheduledStep& step, const std::vector<StepOutput>& outputs);
  // A failed step ends the requests in it with kError (the engine keeps serving the others).
  void fail(ScheduledStep& step, const std::string& error);

  bool has_work() const { return !running_.empty() || !waiting_.empty(); }
  int64_t num_running() const { return static_cast<int64_t>(running_.size()); }
  int64_t num_waiting() const { return static_cast<int64_t>(waiting_.size()); }
  const KvBlockAllocator& allocator() const { return allocator_; }

 private:
  bool admit(SchedulerRequest& r);  // takes prefix-cache hits and blocks for the whole prompt
  void preempt(SchedulerRequest& r);
  void finish(SchedulerRequest& r, FinishReason reason, const std::string& error = "");
  // Sends the final event with `reason`, then finishes the request.
  void end_request(SchedulerRequest& r, FinishReason reason, const std::string& error);
  void publish_full_blocks(SchedulerRequest& r);
  void remove_finished();
  void update_gauges();

  SchedulerOptions options_;
  Executor& executor_;
  ServerMetrics* metrics_;
  KvBlockAllocator allocator_;
  std::deque<std::unique_ptr<SchedulerRequest>> waiting_;
  std::vector<std::unique_ptr<SchedulerRequest>> running_;  // in admission order: the last is preempted first
  std::vector<uint64_t> finished_;                          // ids ended during the current call
};

}  // namespace strata
