// What the API layer hands the engine, and what the engine streams back for each request.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/sampling/sampler.h"

namespace strata {

enum class FinishReason {
  kNone,       // still running
  kStop,       // an end-of-generation token (or the API layer's stop string)
  kLength,     // max_tokens or the context length reached
  kCancelled,  // the client went away or the callback asked to stop
  kError,      // the step failed; `error` says why
};

const char* finish_reason_name(FinishReason reason);  // "stop", "length", "cancelled", "error"

struct GenerationRequest {
  std::vector<int32_t> prompt;  // token ids, BOS included when the model wants one
  SamplingParams sampling;
  int64_t max_tokens = 16;  // generated tokens at most; the engine also stops at the context length
  bool ignore_eos = false;
  std::string model_name;  // for metric labels and logs
};

// One generated token, or the final event of a request. Events of one request arrive in order, on the engine thread.
struct GenerationEvent {
  int32_t token = -1;  // -1 in a final event that carries no token
  float logprob = 0;
  std::vector<TokenLogprob> top_logprobs;
  FinishReason finish = FinishReason::kNone;  // set on the request's last event
  std::string error;                          // with FinishReason::kError
  int64_t prompt_tokens = 0;                  // set on every event
  int64_t cached_prompt_tokens = 0;           // prompt tokens served from the prefix cache
};

// Called for each event. Return false to stop the request (client disconnected, stop string matched): the engine
// frees its KV blocks before the next step and sends no further events. Must not block.
using GenerationCallback = std::function<bool(const GenerationEvent&)>;

}  // namespace strata
