#include "coordinator/scheduler/scheduler.h"

#include <algorithm>

namespace strata {
namespace {

double seconds_between(SteadyTime a, SteadyTime b) { return std::chrono::duration<double>(b - a).count(); }

}  // namespace

Scheduler::Scheduler(const SchedulerOptions& options, Executor& executor, ServerMetrics* metrics)
    : options_(options), executor_(executor), metrics_(metrics), allocator_(static_cast<int32_t>(options.n_blocks)) {}

Scheduler::~Scheduler() { abort_all(FinishReason::kCancelled, "server shutting down"); }

void Scheduler::add(std::unique_ptr<SchedulerRequest> request) {
  request->n_prompt = static_cast<int64_t>(request->request.prompt.size());
  request->tokens = request->request.prompt;
  waiting_.push_back(std::move(request));
  update_gauges();
}

bool Scheduler::admit(SchedulerRequest& r) {
  const int32_t bs = static_cast<int32_t>(options_.block_size);
  r.blocks = std::make_unique<SequenceBlocks>(allocator_, bs);
  r.n_computed = 0;
  r.n_published = 0;
  r.block_hashes.clear();
  if (options_.enable_prefix_caching) {
    // Reuse cached full blocks of the prefix, but always compute at least the last token: its logits are needed.
    const int64_t reusable = (static_cast<int64_t>(r.tokens.size()) - 1) / bs;
    uint64_t parent = 0;
    for (int64_t b = 0; b < reusable; ++b) {
      const uint64_t hash = kv_block_hash(parent, std::span<const int32_t>(r.tokens.data() + b * bs, bs));
      const int32_t block = allocator_.lookup(hash);
      if (block < 0) break;
      r.blocks->adopt(block);
      r.block_hashes.push_back(hash);
      parent = hash;
    }
    r.n_computed = static_cast<int64_t>(r.block_hashes.size()) * bs;
    r.n_published = static_cast<int64_t>(r.block_hashes.size());
  }
  if (!r.blocks->reserve(static_cast<int64_t>(r.tokens.size())).ok()) {
    r.blocks->release_all();  // hits go back to the cache
    r.blocks.reset();
    r.n_computed = 0;
    return false;
  }
  if (!r.admitted_once) {
    r.admitted_once = true;
    r.n_cached_prompt = r.n_computed;
    r.first_scheduled = std::chrono::steady_clock::now();
    if (metrics_) {
      metrics_->request_queue_time_seconds->Observe(seconds_between(r.arrival, r.first_scheduled));
      if (options_.enable_prefix_caching) {
        metrics_->prefix_cache_queries_total->Increment(static_cast<double>(r.n_prompt));
        metrics_->prefix_cache_hits_total->Increment(static_cast<double>(r.n_computed));
      }
    }
  }
  return true;
}

void Scheduler::publish_full_blocks(SchedulerRequest& r) {
  if (!options_.enable_prefix_caching || !r.blocks) return;
  const int64_t bs = options_.block_size;
  const int64_t full = r.n_computed / bs;
  for (int64_t b = r.n_published; b < full; ++b) {
    const uint64_t parent = b == 0 ? 0 : r.block_hashes[b - 1];
    const uint64_t hash = kv_block_hash(parent, std::span<const int32_t>(r.tokens.data() + b * bs, bs));
    allocator_.publish(r.blocks->table()[b], hash);
    r.block_hashes.push_back(hash);
  }
  r.n_published = std::max(r.n_published, full);
}

void Scheduler::preempt(SchedulerRequest& r) {
  // Its full blocks stay published, so the recompute after resumption is mostly prefix-cache hits.
  publish_full_blocks(r);
  r.blocks->release_all();
  r.blocks.reset();
  r.n_computed = 0;
  if (r.sampler_started) executor_.release(r.id);
  r.sampler_started = false;
  if (metrics_) metrics_->num_preemptions_total->Increment();
}

ScheduledStep Scheduler::schedule() {
  ScheduledStep step;
  int64_t budget = options_.max_num_batched_tokens;
  auto plan = [&](SchedulerRequest& r, int64_t n) {
    StepSequence s;
    s.seq_id = r.id;
    s.step.tokens.assign(r.tokens.begin() + r.n_computed, r.tokens.begin() + r.n_computed + n);
    s.step.start_pos = static_cast<int32_t>(r.n_computed);
    s.step.block_table = r.blocks->table();
    s.sample = r.n_computed + n == static_cast<int64_t>(r.tokens.size());
    if (s.sample) {
      s.sampling = r.request.sampling;
      if (!r.sampler_started) s.prompt = r.tokens;
    }
    step.seqs.push_back(std::move(s));
    step.requests.push_back(&r);
    step.n_new.push_back(n);
    step.n_tokens += n;
    budget -= n;
  };

  // Running requests first: each gets its next token or prompt chunk, preempting the newest when blocks run out.
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    SchedulerRequest& r = *running_[i];
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(r.tokens.size()) - r.n_computed, budget);
    bool preempted_self = false;
    while (!r.blocks->reserve(r.n_computed + n).ok()) {
      std::unique_ptr<SchedulerRequest> victim = std::move(running_.back());
      running_.pop_back();
      preempt(*victim);
      preempted_self = victim.get() == &r;
      waiting_.push_front(std::move(victim));
      if (preempted_self) break;
    }
    if (preempted_self) break;  // r was the newest: nothing after it remains
    plan(r, n);
    ++i;
  }

  // Then waiting requests, first come first served, while budget, batch size and KV blocks allow.
  while (!waiting_.empty() && budget > 0 && static_cast<int64_t>(running_.size()) < options_.max_num_seqs) {
    SchedulerRequest& r = *waiting_.front();
    if (!admit(r)) break;
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
    plan(r, std::min<int64_t>(static_cast<int64_t>(r.tokens.size()) - r.n_computed, budget));
  }
  update_gauges();
  return step;
}

void Scheduler::complete(ScheduledStep& step, const std::vector<StepOutput>& outputs) {
  const auto now = std::chrono::steady_clock::now();
  const ExecutorInfo info = executor_.info();
  size_t next_output = 0;
  for (size_t k = 0; k < step.seqs.size(); ++k) {
    SchedulerRequest& r = *step.requests[k];
    r.n_computed += step.n_new[k];
    if (metrics_ && r.n_computed <= r.n_prompt)
      metrics_->prompt_tokens_total->Increment(static_cast<double>(step.n_new[k]));
    publish_full_blocks(r);
    if (!step.seqs[k].sample) continue;
    const SampleResult& result = outputs[next_output++].result;
    r.sampler_started = true;
    const bool eog = std::find(info.eog_tokens.begin(), info.eog_tokens.end(), result.token) != info.eog_tokens.end();
    if (metrics_) {
      metrics_->generation_tokens_total->Increment();
      if (r.n_generated == 0) {
        metrics_->time_to_first_token_seconds->Observe(seconds_between(r.arrival, now));
      } else {
        metrics_->inter_token_latency_seconds->Observe(seconds_between(r.last_token, now));
      }
    }
    r.last_token = now;
    GenerationEvent event;
    event.prompt_tokens = r.n_prompt;
    event.cached_prompt_tokens = r.n_cached_prompt;
    if (eog && !r.request.ignore_eos) {
      event.finish = FinishReason::kStop;  // the end-of-generation token itself is not output
      r.callback(event);
      finish(r, FinishReason::kStop);
      continue;
    }
    r.tokens.push_back(result.token);
    ++r.n_generated;
    event.token = result.token;
    event.logprob = result.logprob;
    event.top_logprobs = result.top;
    if (r.n_generated >= r.request.max_tokens || static_cast<int64_t>(r.tokens.size()) >= options_.max_model_len) {
      event.finish = FinishReason::kLength;
    }
    const bool keep = r.callback(event);
    if (event.finish != FinishReason::kNone) {
      finish(r, event.finish);
    } else if (!keep) {
      finish(r, FinishReason::kCancelled);
    }
  }
  remove_finished();
}

void Scheduler::fail(ScheduledStep& step, const std::string& error) {
  for (SchedulerRequest* r : step.requests) end_request(*r, FinishReason::kError, error);
  remove_finished();
}

void Scheduler::finish(SchedulerRequest& r, FinishReason reason, const std::string&) {
  if (std::find(finished_.begin(), finished_.end(), r.id) != finished_.end()) return;
  if (r.blocks) {
    publish_full_blocks(r);
    r.blocks->release_all();
    r.blocks.reset();
  }
  if (r.sampler_started) executor_.release(r.id);
  r.sampler_started = false;
  if (metrics_) {
    if (reason == FinishReason::kStop || reason == FinishReason::kLength) metrics_->request_success(reason).Increment();
    metrics_->e2e_request_latency_seconds->Observe(seconds_between(r.arrival, std::chrono::steady_clock::now()));
    metrics_->request_prompt_tokens->Observe(static_cast<double>(r.n_prompt));
    metrics_->request_generation_tokens->Observe(static_cast<double>(r.n_generated));
  }
  finished_.push_back(r.id);
}

void Scheduler::remove_finished() {
  if (finished_.empty()) return;
  auto done = [&](const std::unique_ptr<SchedulerRequest>& r) {
    return std::find(finished_.begin(), finished_.end(), r->id) != finished_.end();
  };
  running_.erase(std::remove_if(running_.begin(), running_.end(), done), running_.end());
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), done), waiting_.end());
  finished_.clear();
  update_gauges();
}

void Scheduler::end_request(SchedulerRequest& r, FinishReason reason, const std::string& error) {
  GenerationEvent event;
  event.finish = reason;
  event.error = error;
  event.prompt_tokens = r.n_prompt;
  event.cached_prompt_tokens = r.n_cached_prompt;
  r.callback(event);
  finish(r, reason, error);
}

void Scheduler::cancel(uint64_t id, FinishReason reason) {
  for (auto& r : running_) {
    if (r->id == id) end_request(*r, reason, "");
  }
  for (auto& r : waiting_) {
    if (r->id == id) end_request(*r, reason, "");
  }
  remove_finished();
}

void Scheduler::abort_all(FinishReason reason, const std::string& error) {
  for (auto& r : running_) end_request(*r, reason, error);
  for (auto& r : waiting_) end_request(*r, reason, error);
  remove_finished();
}

void Scheduler::update_gauges() {
  if (!metrics_) return;
  metrics_->num_requests_running->Set(static_cast<double>(running_.size()));
  metrics_->num_requests_waiting->Set(static_cast<double>(waiting_.size()));
  metrics_->kv_cache_usage_perc->Set(static_cast<double>(allocator_.num_in_use()) / allocator_.num_blocks());
}

}  // namespace strata
