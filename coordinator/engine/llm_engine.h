// The coordinator's engine: a thread that runs the scheduler and the executor step after step (continuous batching),
// with a thread-safe front for the API layer.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/cluster/executor.h"
#include "coordinator/engine/generation_request.h"
#include "coordinator/metrics/server_metrics.h"
#include "coordinator/scheduler/scheduler.h"

namespace strata {

struct EngineOptions {
  SchedulerOptions scheduler;
  int64_t max_waiting = 256;  // queued requests beyond this are rejected (HTTP 429)
};

class LlmEngine {
 public:
  // Starts the engine thread. `executor` and `metrics` (may be null) must outlive the engine.
  LlmEngine(Executor& executor, const EngineOptions& options, ServerMetrics* metrics);
  ~LlmEngine();  // stops the thread; unfinished requests get a kCancelled final event
  LlmEngine(const LlmEngine&) = delete;
  LlmEngine& operator=(const LlmEngine&) = delete;

  // Queues a request. InvalidArgument when the prompt is empty, has ids outside the vocabulary, or prompt +
  // max_tokens cannot fit the context; ResourceExhausted when the waiting queue is full. Returns the request id.
  absl::StatusOr<uint64_t> submit(GenerationRequest request, GenerationCallback callback);
  // Stops a request at the next step boundary (no-op when finished). `reason` is what it is recorded as: kStop
  // when the API layer matched a stop string (a normal end), kCancelled when the client went away.
  void cancel(uint64_t id, FinishReason reason = FinishReason::kCancelled);

  int64_t max_model_len() const { return scheduler_options_.max_model_len; }
  int64_t n_vocab() const { return executor_.info().n_vocab; }

 private:
  void loop();

  Executor& executor_;
  SchedulerOptions scheduler_options_;
  int64_t max_waiting_;
  ServerMetrics* metrics_;
  std::unique_ptr<Scheduler> scheduler_;  // touched by the engine thread only, after construction

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<SchedulerRequest>> incoming_;  // submitted, not yet seen by the scheduler
  std::unordered_map<uint64_t, FinishReason> cancelled_;
  uint64_t next_id_ = 1;
  int64_t queued_ = 0;  // incoming + waiting, for the 429 bound
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace strata
