// The pre-tokenizers llama.cpp knows for byte-level BPE vocabularies (`tokenizer.ggml.pre`), as data: the regex list
// llama.cpp applies for each name, verbatim, and the vocabulary flags that name sets.
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace strata {

struct PreTokenizerConfig {
  std::vector<std::string_view> regexes;  // applied in order, each splitting the previous one's fragments
  bool ignore_merges = false;             // a word that is already a token is emitted whole, without BPE merges
  bool add_bos = false;                   // default for tokenizer.ggml.add_bos_token
  bool add_sep = false;                   // default for tokenizer.ggml.add_sep_token
  bool clean_spaces = true;               // decode removes spaces before punctuation (clean_up_tokenization_spaces)
  bool no_bos = false;                    // the family has no BOS token (ChatGLM)
  std::string_view name = {};             // the tokenizer.ggml.pre value that selected this row
};

// The row for `pre`; an empty `pre` selects "default" as llama.cpp does for old conversions. InvalidArgument naming
// the value for any name llama.cpp does not map onto one of these regex lists.
absl::StatusOr<PreTokenizerConfig> find_pre_tokenizer(std::string_view pre);

}  // namespace strata
