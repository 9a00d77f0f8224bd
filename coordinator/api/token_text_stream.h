// Turns the engine's token events into the text a client receives: UTF-8-safe incremental detokenization, then stop
// string matching, while keeping each token's logprobs aligned with the text that carries it (a token whose text is
// held back is reported when its text is released; tokens that only make up a stop string are never reported).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "coordinator/api/stop_matcher.h"
#include "coordinator/engine/generation_request.h"
#include "core/tokenizer/incremental_decoder.h"
#include "core/tokenizer/tokenizer.h"

namespace strata {

struct GeneratedToken {
  int32_t token = 0;
  float logprob = 0;
  std::vector<TokenLogprob> top;
  int64_t text_offset = 0;  // where the token's text starts in the completion text, in bytes
};

struct TextDelta {
  std::string text;
  std::vector<GeneratedToken> tokens;  // tokens whose text is now out, in order

  bool empty() const { return text.empty() && tokens.empty(); }
};

class TokenTextStream {
 public:
  // `tokenizer` must outlive the stream.
  TokenTextStream(const Tokenizer& tokenizer, std::vector<std::string> stops);

  // One generated token.
  TextDelta push(const GenerationEvent& event);
  // The end of generation: whatever is still held back (an unfinished character comes out as U+FFFD).
  TextDelta finish();

  bool stopped() const { return matcher_.stopped(); }
  int64_t n_tokens() const { return n_tokens_; }  // tokens pushed, reported or not: usage.completion_tokens

 private:
  TextDelta release(std::string text, bool final);

  IncrementalDecoder decoder_;
  StopMatcher matcher_;
  std::deque<GeneratedToken> pending_;  // pushed, text not yet released
  std::deque<int64_t> pending_ends_;    // parallel to pending_: where each token's text ends
  int64_t decoded_bytes_ = 0;           // text the decoder produced so far
  int64_t released_bytes_ = 0;          // text released to the client so far
  int64_t n_tokens_ = 0;
};

}  // namespace strata
