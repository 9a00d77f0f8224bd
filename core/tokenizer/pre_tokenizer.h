// Splits text into words with a list of regexes, exactly as llama.cpp's unicode_regex_split does, on PCRE2.
//
// Each regex splits every fragment the previous one left; the spans between matches stay fragments of their own.
// llama.cpp matches its regexes with std::regex over a transformed text, and PCRE2 is made to see the same thing:
//  - the text is decoded leniently (invalid bytes become U+FFFD, overlong forms are decoded) and re-encoded;
//  - non-ASCII whitespace is replaced by U+000B in the subject, so it matches \s and negated classes but no literal
//    range (llama.cpp feeds its engines U+000B there too);
//  - \s is the ASCII set [\t\n\v\f\r ] (plus that U+000B stand-in): what std::regex and llama.cpp's custom GPT-2 and
//    Llama-3 splitters call whitespace, i.e. Unicode White_Space overall; \p{L}, \p{N}, \p{P}, \p{M} are Unicode
//    general categories as in llama.cpp's tables;
//  - `$` is the end of the fragment only, and lookaheads stop at fragment ends (each fragment is its own subject).
// Patterns are JIT-compiled once; matching is thread-safe (per-thread match data and JIT stack).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace strata {

// A byte range [begin, end) of a PreTokenizer's normalized text.
struct TextSpan {
  uint32_t begin = 0;
  uint32_t end = 0;
};

// Rewrites one llama.cpp regex into the PCRE2 pattern with the same meaning (see above). InvalidArgument for
// constructs whose llama.cpp meaning is not reproduced (\d, \w, \b, \S inside a class, \p{} other than L N P M).
absl::StatusOr<std::string> translate_regex_for_pcre2(std::string_view llama_regex);

class PreTokenizer {
 public:
  static absl::StatusOr<std::unique_ptr<PreTokenizer>> create(const std::vector<std::string_view>& regexes);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Splits `text`. `normalized` receives the text as llama.cpp rebuilds it from code points (identical to `text` for
  // valid UTF-8); `words` receives the words as byte ranges of `normalized`, in order, covering it completely.
  void split(std::string_view text, std::string* normalized, std::vector<TextSpan>* words) const;

 private:
  struct Compiled;
  explicit PreTokenizer(std::vector<Compiled> regexes);
  std::vector<Compiled> regexes_;
};

}  // namespace strata
