#include "coordinator/api/token_text_stream.h"

#include <utility>

namespace strata {

TokenTextStream::TokenTextStream(const Tokenizer& tokenizer, std::vector<std::string> stops)
    : decoder_(tokenizer), matcher_(std::move(stops)) {}

TextDelta TokenTextStream::push(const GenerationEvent& event) {
  if (stopped()) return {};
  ++n_tokens_;
  const std::string text = decoder_.push(event.token);
  pending_.push_back({event.token, event.logprob, event.top_logprobs, decoded_bytes_});
  decoded_bytes_ += static_cast<int64_t>(text.size());
  pending_ends_.push_back(decoded_bytes_);
  return release(matcher_.push(text), /*final=*/false);
}

TextDelta TokenTextStream::finish() {
  if (stopped()) return {};
  std::string text = matcher_.push(decoder_.flush());
  if (!stopped()) text += matcher_.flush();
  return release(std::move(text), /*final=*/true);
}

TextDelta TokenTextStream::release(std::string text, bool final) {
  TextDelta delta;
  released_bytes_ += static_cast<int64_t>(text.size());
  delta.text = std::move(text);
  if (stopped()) {
    // Tokens that began before the stop string carry released text; the rest only made up the stop string.
    while (!pending_.empty() && pending_.front().text_offset < released_bytes_) {
      delta.tokens.push_back(std::move(pending_.front()));
      pending_.pop_front();
      pending_ends_.pop_front();
    }
    pending_.clear();
    pending_ends_.clear();
    return delta;
  }
  while (!pending_.empty()) {
    const GeneratedToken& t = pending_.front();
    const int64_t end = pending_ends_.front();
    // A token with no text yet (bytes waiting for the rest of a character, or a control token) goes out with the
    // first text released past its offset, so a stop string starting there can still drop it.
    const bool out = final || (end <= released_bytes_ && (end > t.text_offset || t.text_offset < released_bytes_));
    if (!out) break;
    delta.tokens.push_back(std::move(pending_.front()));
    pending_.pop_front();
    pending_ends_.pop_front();
  }
  return delta;
}

}  // namespace strata
