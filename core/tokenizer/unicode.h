// UTF-8 and Unicode helpers with llama.cpp's exact conventions (the reference the tokenizer must match).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace strata {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Byte length of a UTF-8 sequence judged by its first byte only, as llama.cpp's unicode_len_utf8: continuation and
// invalid lead bytes count as 1. SPM and BPE cut their initial symbols with it, so malformed input stays byte-exact.
inline size_t utf8_sequence_length(char lead) {
  static constexpr std::array<uint8_t, 16> kLength = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLength[static_cast<uint8_t>(lead) >> 4];
}

struct DecodedCodepoint {
  uint32_t codepoint = 0;
  size_t length = 1;  // bytes consumed
  bool valid = false;
};

// Decodes one code point at `offset` the way llama.cpp's unicode_cpt_from_utf8 does: lenient about overlong forms and
// surrogates, strict about continuation bytes. An invalid sequence consumes one byte and decodes to U+FFFD.
DecodedCodepoint decode_utf8_lenient(std::string_view text, size_t offset);

// Appends the UTF-8 form of `codepoint` (which must be <= 0x10FFFF; surrogates are encoded as-is).
void append_utf8(uint32_t codepoint, std::string* out);

// Unicode White_Space: what llama.cpp's tables (generated from Python's `regex` \s) call whitespace.
bool is_unicode_whitespace(uint32_t codepoint);

// GPT-2 byte-level alphabet: every byte maps to one printable code point (bytes_to_unicode in GPT-2's encoder.py).
class ByteLevelAlphabet {
 public:
  static const ByteLevelAlphabet& get();

  // UTF-8 of the code point standing for `byte`.
  std::string_view encode(uint8_t byte) const { return {encoded_[byte].data(), encoded_length_[byte]}; }
  // The byte a code point stands for, or -1 when it is not part of the alphabet.
  int decode(uint32_t codepoint) const { return codepoint < decoded_.size() ? decoded_[codepoint] : -1; }

 private:
  ByteLevelAlphabet();
  std::array<std::array<char, 2>, 256> encoded_{};
  std::array<uint8_t, 256> encoded_length_{};
  std::array<int16_t, 324> decoded_{};  // the alphabet's code points are all below 256 + 68
};

}  // namespace strata
