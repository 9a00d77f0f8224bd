// OpenAI's response shapes, for the chat (chat.completion / chat.completion.chunk) and the legacy completions
// (text_completion) endpoints: ids, object, created, model, choices, logprobs and usage.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/api/token_text_stream.h"
#include "core/tokenizer/tokenizer.h"

namespace strata {

enum class ApiKind { kChat, kCompletion };

// What every response and chunk of one request repeats.
struct ResponseHeader {
  ApiKind kind = ApiKind::kChat;
  std::string id;  // chatcmpl-… / cmpl-…
  int64_t created = 0;
  std::string model;
  bool logprobs = false;  // the client asked for logprobs
};

// A fresh header: a random id with the endpoint's prefix, the current time.
ResponseHeader make_response_header(ApiKind kind, std::string model, bool logprobs);

nlohmann::json usage_json(int64_t prompt_tokens, int64_t completion_tokens);

// choices[].logprobs for `tokens`: chat's {"content": [{token, logprob, bytes, top_logprobs}]} or the legacy
// {tokens, token_logprobs, top_logprobs, text_offset}.
nlohmann::json logprobs_json(const ResponseHeader& header, const Tokenizer& tokenizer,
                             const std::vector<GeneratedToken>& tokens);

// One streamed chunk carrying `delta` (chat: a first chunk with the role when `role_only`), finishing with
// `finish_reason` when set. `with_usage_field`: stream_options.include_usage asks for "usage": null on every chunk.
nlohmann::json stream_chunk(const ResponseHeader& header, const Tokenizer& tokenizer, const TextDelta& delta,
                            const std::optional<std::string>& finish_reason, bool role_only, bool with_usage_field);
// The last chunk with include_usage: no choices, only usage.
nlohmann::json stream_usage_chunk(const ResponseHeader& header, int64_t prompt_tokens, int64_t completion_tokens);

// A whole (non-streamed) response.
nlohmann::json full_response(const ResponseHeader& header, const Tokenizer& tokenizer, const std::string& text,
                             const std::vector<GeneratedToken>& tokens, const std::string& finish_reason,
                             int64_t prompt_tokens, int64_t completion_tokens);

}  // namespace strata
