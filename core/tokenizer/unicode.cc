#include "core/tokenizer/unicode.h"

namespace strata {

DecodedCodepoint decode_utf8_lenient(std::string_view text, size_t offset) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[offset + i]); };
  const auto continuation = [&](size_t i) { return offset + i < text.size() && (byte(i) & 0xC0) == 0x80; };
  const uint8_t b0 = byte(0);
  if ((b0 & 0x80) == 0) return {b0, 1, true};
  if ((b0 & 0x40) == 0) return {kReplacementChar, 1, false};
  if ((b0 & 0x20) == 0) {
    if (!continuation(1)) return {kReplacementChar, 1, false};
    return {static_cast<uint32_t>((b0 & 0x1F) << 6 | (byte(1) & 0x3F)), 2, true};
  }
  if ((b0 & 0x10) == 0) {
    if (!continuation(1) || !continuation(2)) return {kReplacementChar, 1, false};
    return {static_cast<uint32_t>((b0 & 0x0F) << 12 | (byte(1) & 0x3F) << 6 | (byte(2) & 0x3F)), 3, true};
  }
  if ((b0 & 0x08) == 0) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return {kReplacementChar, 1, false};
    return {
        static_cast<uint32_t>((b0 & 0x07) << 18 | (byte(1) & 0x3F) << 12 | (byte(2) & 0x3F) << 6 | (byte(3) & 0x3F)), 4,
        true};
  }
  return {kReplacementChar, 1, false};
}

void append_utf8(uint32_t codepoint, std::string* out) {
  if (codepoint <= 0x7F) {
    out->push_back(static_cast<char>(codepoint));
  } else if (codepoint <= 0x7FF) {
    out->push_back(static_cast<char>(0xC0 | (codepoint >> 6)));
    out->push_back(static_cast<char>(0x80 | (codepoint & 0x3F)));
  } else if (codepoint <= 0xFFFF) {
    out->push_back(static_cast<char>(0xE0 | (codepoint >> 12)));
    out->push_back(static_cast<char>(0x80 | ((codepoint >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (codepoint & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (codepoint >> 18)));
    out->push_back(static_cast<char>(0x80 | ((codepoint >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((codepoint >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (codepoint & 0x3F)));
  }
}

bool is_unicode_whitespace(uint32_t c) {
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || c == 0x20;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

const ByteLevelAlphabet& ByteLevelAlphabet::get() {
  static const ByteLevelAlphabet alphabet;
  return alphabet;
}

ByteLevelAlphabet::ByteLevelAlphabet() {
  decoded_.fill(-1);
  // Printable Latin-1 bytes stand for themselves; the rest are shifted past 255 in byte order.
  const auto printable = [](int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; };
  int shifted = 0;
  for (int b = 0; b < 256; ++b) {
    const uint32_t codepoint = printable(b) ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + shifted++);
    std::string utf8;
    append_utf8(codepoint, &utf8);
    encoded_length_[b] = static_cast<uint8_t>(utf8.size());
    for (size_t i = 0; i < utf8.size(); ++i) encoded_[b][i] = utf8[i];
    decoded_[codepoint] = static_cast<int16_t>(b);
  }
}

}  // namespace strata
