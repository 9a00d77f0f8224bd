// Cuts special-token text out of input before tokenization, with the result of llama.cpp's tokenizer_st_partition.
//
// llama.cpp takes the special tokens longest first and, for each, splits every remaining text fragment at all its
// occurrences (control and unknown tokens only when parse_special; user-defined tokens always), swallowing adjacent
// whitespace for tokens marked lstrip/rstrip. That is one text scan per special token; here a trie finds every
// occurrence in one scan and the same precedence is replayed over them, so long inputs and vocabularies with
// thousands of special tokens (Gemma) stay linear.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/tokenizer/vocab.h"

namespace strata {

// A piece of partitioned input: a special token, or a raw text range [begin, end).
struct Fragment {
  int32_t token = -1;  // >= 0 for a special token
  uint32_t begin = 0;
  uint32_t end = 0;
  bool is_token() const { return token >= 0; }
};

class SpecialTokenMatcher {
 public:
  explicit SpecialTokenMatcher(const Vocab& vocab);

  // Partitions `text` into fragments, in text order.
  void partition(std::string_view text, bool parse_special, std::vector<Fragment>* out) const;

 private:
  struct Trie {
    struct Node {
      int32_t rank = -1;  // index into the vocabulary's special_tokens() of the token ending here
      std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
    };
    std::vector<Node> nodes;
    std::array<bool, 256> first_byte{};  // bytes some token starts with
    void insert(std::string_view text, int32_t rank);
    int32_t child(int32_t node, uint8_t byte) const;
  };

  const Vocab& vocab_;
  Trie all_;                // every special token (parse_special)
  Trie user_defined_only_;  // those matched without parse_special
};

}  // namespace strata
