// The coordinator's Prometheus metrics, named strata_* with the meaning of vLLM's vllm:* metrics of the same suffix,
// so vLLM dashboards translate one to one. All series carry the label model_name.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "coordinator/engine/generation_request.h"

namespace strata {

class ServerMetrics {
 public:
  explicit ServerMetrics(const std::string& model_name);

  // The registry in Prometheus text exposition format (what GET /metrics returns).
  std::string serialize() const;
  prometheus::Registry& registry() { return *registry_; }

  prometheus::Counter& request_success(FinishReason reason);  // strata_request_success_total{finished_reason}

  prometheus::Gauge* num_requests_running;          // requests in the running batch
  prometheus::Gauge* num_requests_waiting;          // requests queued, not yet running
  prometheus::Gauge* kv_cache_usage_perc;           // fraction (0..1) of KV blocks in use
  prometheus::Counter* prompt_tokens_total;         // prompt tokens prefilled (cached ones excluded)
  prometheus::Counter* generation_tokens_total;     // tokens generated
  prometheus::Counter* num_preemptions_total;       // requests preempted for KV space
  prometheus::Counter* prefix_cache_queries_total;  // prompt tokens looked up in the prefix cache
  prometheus::Counter* prefix_cache_hits_total;     // of which found
  prometheus::Counter* request_rejected_total;      // refused at submission (queue full, invalid)
  prometheus::Histogram* time_to_first_token_seconds;
  prometheus::Histogram* inter_token_latency_seconds;
  prometheus::Histogram* e2e_request_latency_seconds;
  prometheus::Histogram* request_queue_time_seconds;
  prometheus::Histogram* request_prompt_tokens;
  prometheus::Histogram* request_generation_tokens;
  prometheus::Histogram* step_duration_seconds;  // one engine step (scheduling + forward + sampling)
  prometheus::Histogram* step_batch_tokens;      // tokens computed in one step
  prometheus::Histogram* step_batch_sequences;   // sequences in one step

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::string model_name_;
  prometheus::Family<prometheus::Counter>* success_family_;
};

}  // namespace strata
