// Byte-level BPE over merge ranks (tokenizer.ggml.model "gpt2"), as llama.cpp's llm_tokenizer_bpe_session.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tokenizer/string_map.h"
#include "core/tokenizer/vocab.h"

namespace strata {

class BpeModel {
 public:
  // `merges` are "left right" lines in rank order (tokenizer.ggml.merges); the first occurrence of a pair wins.
  static absl::StatusOr<std::unique_ptr<BpeModel>> create(const Vocab& vocab, const std::vector<std::string>& merges);

  // Appends the tokens of one pre-tokenized word, given as raw bytes (byte-level encoding happens here).
  //
  // The word becomes one symbol per byte-level character; the adjacent pair with the lowest merge rank (ties: the
  // leftmost) merges until none is left. A final symbol that is not a token is emitted byte by byte where single
  // bytes are tokens, as llama.cpp does. With ignore_merges, a word that is itself a token is emitted whole.
  void tokenize_word(std::string_view word, std::vector<int32_t>* out) const;

  size_t n_merges() const { return ranks_.size(); }

 private:
  explicit BpeModel(const Vocab& vocab) : vocab_(vocab) {}

  const Vocab& vocab_;
  StringMap<int32_t> ranks_;  // "left right" -> rank
};

}  // namespace strata
