// Streams generated tokens out as text without ever splitting a UTF-8 character.
//
// A character can arrive across several tokens (byte-fallback <0xNN> tokens, byte-level BPE pieces); its bytes are
// held back until it is complete. Bytes that can no longer become a valid character come out as U+FFFD, one per
// maximal ill-formed subpart (Unicode's "substitution of maximal subparts"), as soon as that is certain.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/tokenizer/tokenizer.h"

namespace strata {

class IncrementalDecoder {
 public:
  // `tokenizer` must outlive the decoder. Control tokens render as text only with `render_special`.
  explicit IncrementalDecoder(const Tokenizer& tokenizer, bool render_special = false)
      : tokenizer_(tokenizer), render_special_(render_special) {}

  // Adds one token; returns the text that became complete (often empty, never a partial character).
  std::string push(int32_t id);
  // Adds raw bytes, as push does for a token's piece.
  std::string push_bytes(std::string_view bytes);
  // Ends the stream: returns what is still held back, incomplete sequences replaced by U+FFFD.
  std::string flush();

  // Bytes held back waiting for the rest of a character.
  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer& tokenizer_;
  bool render_special_;
  std::string pending_;
};

// Moves the longest prefix of `*pending` that is settled (complete characters and certainly-invalid bytes, the latter
// as U+FFFD) to `out`; with `final`, everything is settled.
void take_complete_utf8(std::string* pending, bool final, std::string* out);

}  // namespace strata
