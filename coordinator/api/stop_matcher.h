// Finds stop strings in streamed text that arrives in arbitrary pieces (one token's text at a time), so a stop string
// split across tokens still matches. Text that could be the start of a stop string is held back until it is certain
// either way: a client never sees any part of a stop string.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace strata {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  // Adds text; returns the text now safe to emit. Once a stop string is found, returns the text before it and
  // stopped() turns true; later calls return nothing.
  std::string push(std::string_view text);
  // The end of the stream: returns what is still held back (no stop string can complete any more).
  std::string flush();

  bool stopped() const { return stopped_; }
  // Bytes pushed and not yet returned.
  size_t held_bytes() const { return held_.size(); }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace strata
