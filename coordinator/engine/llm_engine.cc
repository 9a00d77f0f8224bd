#include "coordinator/engine/llm_engine.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace strata {

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kNone:
      return "none";
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kCancelled:
      return "cancelled";
    case FinishReason::kError:
      return "error";
  }
  return "unknown";
}

LlmEngine::LlmEngine(Executor& executor, const EngineOptions& options, ServerMetrics* metrics)
    : executor_(executor), scheduler_options_(options.scheduler), max_waiting_(options.max_waiting), metrics_(metrics) {
  const ExecutorInfo info = executor.info();
  scheduler_options_.n_blocks = info.n_kv_blocks;
  scheduler_options_.block_size = info.block_size;
  // One request must always be able to run alone, or it could wait forever.
  scheduler_options_.max_model_len = std::min(scheduler_options_.max_model_len, info.n_kv_blocks * info.block_size);
  scheduler_ = std::make_unique<Scheduler>(scheduler_options_, executor_, metrics_);
  thread_ = std::thread([this] { loop(); });
}

LlmEngine::~LlmEngine() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  // Requests never handed to the scheduler still get their final event.
  for (auto& r : incoming_) {
    GenerationEvent event;
    event.finish = FinishReason::kCancelled;
    event.error = "server shutting down";
    r->callback(event);
  }
  scheduler_.reset();  // ends the scheduler's requests with kCancelled
}

absl::StatusOr<uint64_t> LlmEngine::submit(GenerationRequest request, GenerationCallback callback) {
  auto reject = [&](absl::Status status) {
    if (metrics_) metrics_->request_rejected_total->Increment();
    return status;
  };
  const int64_t n_prompt = static_cast<int64_t>(request.prompt.size());
  if (n_prompt == 0) return reject(absl::InvalidArgumentError("the prompt is empty"));
  const int64_t n_vocab = executor_.info().n_vocab;
  for (int32_t t : request.prompt) {
    if (t < 0 || t >= n_vocab)
      return reject(absl::InvalidArgumentError(absl::StrCat("token id ", t, " is outside the vocabulary")));
  }
  if (request.max_tokens < 1) return reject(absl::InvalidArgumentError("max_tokens must be at least 1"));
  if (n_prompt + request.max_tokens > scheduler_options_.max_model_len) {
    return reject(absl::InvalidArgumentError(absl::StrCat(
        "This model's maximum context length is ", scheduler_options_.max_model_len, " tokens. However, you requested ",
        n_prompt + request.max_tokens, " tokens (", n_prompt, " in the messages, ", request.max_tokens,
        " in the completion). Please reduce the length of the messages or completion.")));
  }
  if (absl::Status s = request.sampling.validate(); !s.ok()) return reject(s);

  auto r = std::make_unique<SchedulerRequest>();
  r->request = std::move(request);
  r->callback = std::move(callback);
  r->arrival = std::chrono::steady_clock::now();
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queued_ >= max_waiting_) {
      return reject(absl::ResourceExhaustedError(
          absl::StrCat("the server is busy: ", queued_, " requests are waiting; retry later")));
    }
    if (stop_) return reject(absl::UnavailableError("the server is shutting down"));
    id = next_id_++;
    r->id = id;
    incoming_.push_back(std::move(r));
    ++queued_;
  }
  wake_.notify_one();
  return id;
}

void LlmEngine::cancel(uint64_t id, FinishReason reason) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_.emplace(id, reason);
  }
  wake_.notify_one();
}

void LlmEngine::loop() {
  while (true) {
    std::deque<std::unique_ptr<SchedulerRequest>> incoming;
    std::unordered_map<uint64_t, FinishReason> cancelled;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || !incoming_.empty() || !cancelled_.empty() || scheduler_->has_work(); });
      if (stop_) return;
      incoming.swap(incoming_);
      cancelled.swap(cancelled_);
    }
    for (auto& r : incoming) scheduler_->add(std::move(r));
    for (const auto& [id, reason] : cancelled) scheduler_->cancel(id, reason);

    const auto start = std::chrono::steady_clock::now();
    ScheduledStep step = scheduler_->schedule();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queued_ = static_cast<int64_t>(incoming_.size()) + scheduler_->num_waiting();
    }
    if (step.empty()) {
      if (scheduler_->has_work()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    auto outputs = executor_.execute(step.seqs);
    if (outputs.ok()) {
      scheduler_->complete(step, *outputs);
    } else {
      scheduler_->fail(step, std::string(outputs.status().message()));
    }
    if (metrics_) {
      metrics_->step_duration_seconds->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      metrics_->step_batch_tokens->Observe(static_cast<double>(step.n_tokens));
      metrics_->step_batch_sequences->Observe(static_cast<double>(step.seqs.size()));
    }
  }
}

}  // namespace strata
