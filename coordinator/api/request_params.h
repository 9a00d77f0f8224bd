// The JSON bodies of POST /v1/chat/completions and /v1/completions, read and checked field by field. Each check
// fails with an OpenAI-style 400 naming the field, so a client learns exactly what to fix.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/api/api_error.h"
#include "core/sampling/sampler.h"

namespace strata {

// What both endpoints share: sampling, length, stop strings, logprobs, streaming.
struct GenerationParams {
  std::string model;                  // empty: the client named none
  std::optional<int64_t> max_tokens;  // unset: until the context is full (chat) or 16 (completions, as OpenAI)
  SamplingParams sampling;            // OpenAI's defaults: temperature 1, top_p 1
  std::vector<std::string> stop;      // matched on the generated text, never emitted
  bool logprobs = false;              // report the chosen token's logprob (+ sampling.top_logprobs alternatives)
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool ignore_eos = false;     // vLLM's extension: keep generating past end-of-generation tokens
};

struct ChatRequest {
  GenerationParams params;
  nlohmann::json messages;  // array of {role, content (a string), ...} for the chat template
};

struct CompletionRequest {
  GenerationParams params;
  std::string prompt;                  // the prompt as text, or
  std::vector<int32_t> prompt_tokens;  // as token ids (OpenAI accepts both)
  bool prompt_is_tokens = false;
};

// Fill `*out` from a request body; the first problem found is returned instead.
std::optional<ApiError> parse_chat_request(const nlohmann::json& body, ChatRequest* out);
std::optional<ApiError> parse_completion_request(const nlohmann::json& body, CompletionRequest* out);

}  // namespace strata
