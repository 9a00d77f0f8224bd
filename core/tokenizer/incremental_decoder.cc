#include "core/tokenizer/incremental_decoder.h"

namespace strata {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the well-formed sequence a lead byte starts (0 when it can start none) and the allowed range of its
// second byte, per the Unicode table of well-formed UTF-8 byte sequences.
struct LeadInfo {
  int length;
  uint8_t second_min;
  uint8_t second_max;
};

LeadInfo lead_info(uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};  // no surrogates
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};  // nothing past U+10FFFF
  return {0, 0, 0};
}

}  // namespace

void take_complete_utf8(std::string* pending, bool final, std::string* out) {
  const std::string& p = *pending;
  size_t i = 0;
  while (i < p.size()) {
    const auto b = static_cast<uint8_t>(p[i]);
    const LeadInfo info = lead_info(b);
    if (info.length == 0) {
      out->append(kReplacement);
      ++i;
      continue;
    }
    // Count how many of the following bytes fit the sequence.
    int valid = 1;
    bool broken = false;
    while (valid < info.length && i + valid < p.size()) {
      const auto c = static_cast<uint8_t>(p[i + valid]);
      const bool ok = valid == 1 ? (c >= info.second_min && c <= info.second_max) : (c >= 0x80 && c <= 0xBF);
      if (!ok) {
        broken = true;
        break;
      }
      ++valid;
    }
    if (valid == info.length) {
      out->append(p, i, info.length);
      i += info.length;
    } else if (broken || final) {
      out->append(kReplacement);  // the maximal subpart lead..valid-1 can never complete
      i += valid;
    } else {
      break;  // might still complete
    }
  }
  pending->erase(0, i);
}

std::string IncrementalDecoder::push(int32_t id) { return push_bytes(tokenizer_.token_to_piece(id, render_special_)); }

std::string IncrementalDecoder::push_bytes(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  take_complete_utf8(&pending_, /*final=*/false, &out);
  return out;
}

std::string IncrementalDecoder::flush() {
  std::string out;
  take_complete_utf8(&pending_, /*final=*/true, &out);
  return out;
}

}  // namespace strata
