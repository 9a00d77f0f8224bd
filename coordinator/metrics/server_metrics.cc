#include "coordinator/metrics/server_metrics.h"

#include <prometheus/text_serializer.h>

namespace strata {
namespace {

// Latency buckets follow vLLM's so the same dashboards and quantile queries apply.
const prometheus::Histogram::BucketBoundaries kTtftBuckets = {0.001, 0.005, 0.01, 0.02,  0.04,  0.06,  0.08, 0.1,
                                                              0.25,  0.5,   0.75, 1.0,   2.5,   5.0,   7.5,  10.0,
                                                              20.0,  40.0,  80.0, 160.0, 640.0, 2560.0};
const prometheus::Histogram::BucketBoundaries kItlBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,  0.3,  0.4, 0.5,
                                                             0.75, 1.0,   2.5,  5.0,   7.5, 10.0, 20.0, 40.0, 80.0};
const prometheus::Histogram::BucketBoundaries kRequestBuckets = {0.3,  0.5,   0.8,   1.0,   1.5,   2.0,    2.5,
                                                                 5.0,  10.0,  15.0,  20.0,  30.0,  40.0,   50.0,
                                                                 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};
const prometheus::Histogram::BucketBoundaries kTokenBuckets = {1,   2,    5,    10,   20,    50,    100,  200,
                                                               500, 1000, 2000, 5000, 10000, 20000, 50000};
const prometheus::Histogram::BucketBoundaries kStepBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                              0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

}  // namespace

ServerMetrics::ServerMetrics(const std::string& model_name)
    : registry_(std::make_shared<prometheus::Registry>()), model_name_(model_name) {
  const prometheus::Labels labels = {{"model_name", model_name}};
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_).Add(labels);
  };
  auto counter = [&](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_).Add(labels);
  };
  auto histogram = [&](const char* name, const char* help, const prometheus::Histogram::BucketBoundaries& buckets) {
    return &prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_).Add(labels, buckets);
  };
  num_requests_running = gauge("strata_num_requests_running", "Number of requests in the running batch.");
  num_requests_waiting = gauge("strata_num_requests_waiting", "Number of requests waiting to be processed.");
  kv_cache_usage_perc = gauge("strata_kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.");
  prompt_tokens_total = counter("strata_prompt_tokens_total", "Number of prefill tokens processed.");
  generation_tokens_total = counter("strata_generation_tokens_total", "Number of generation tokens processed.");
  num_preemptions_total = counter("strata_num_preemptions_total", "Cumulative number of preemptions.");
  prefix_cache_queries_total =
      counter("strata_prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.");
  prefix_cache_hits_total =
      counter("strata_prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.");
  request_rejected_total = counter("strata_request_rejected_total", "Requests refused at submission.");
  time_to_first_token_seconds =
      histogram("strata_time_to_first_token_seconds", "Histogram of time to first token in seconds.", kTtftBuckets);
  inter_token_latency_seconds =
      histogram("strata_inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", kItlBuckets);
  e2e_request_latency_seconds = histogram("strata_e2e_request_latency_seconds",
                                          "Histogram of end to end request latency in seconds.", kRequestBuckets);
  request_queue_time_seconds = histogram("strata_request_queue_time_seconds",
                                         "Histogram of time spent in WAITING phase for request.", kRequestBuckets);
  request_prompt_tokens =
      histogram("strata_request_prompt_tokens", "Number of prefill tokens processed per request.", kTokenBuckets);
  request_generation_tokens = histogram("strata_request_generation_tokens",
                                        "Number of generation tokens processed per request.", kTokenBuckets);
  step_duration_seconds = histogram("strata_step_duration_seconds", "Duration of one engine step.", kStepBuckets);
  step_batch_tokens = histogram("strata_step_batch_tokens", "Tokens computed per engine step.", kTokenBuckets);
  step_batch_sequences =
      histogram("strata_step_batch_sequences", "Sequences per engine step.", {1, 2, 4, 8, 16, 32, 64, 128, 256});
  success_family_ = &prometheus::BuildCounter()
                         .Name("strata_request_success_total")
                         .Help("Count of successfully processed requests.")
                         .Register(*registry_);
  // Create the usual series up front so dashboards see zeros instead of gaps.
  request_success(FinishReason::kStop);
  request_success(FinishReason::kLength);
}

prometheus::Counter& ServerMetrics::request_success(FinishReason reason) {
  return success_family_->Add({{"model_name", model_name_}, {"finished_reason", finish_reason_name(reason)}});
}

std::string ServerMetrics::serialize() const { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

}  // namespace strata
