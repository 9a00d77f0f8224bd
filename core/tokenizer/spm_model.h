// SentencePiece-style BPE over token scores (tokenizer.ggml.model "llama"), as llama.cpp's llm_tokenizer_spm.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/tokenizer/vocab.h"

namespace strata {

// Appends the tokens of `text` (a raw fragment with spaces already escaped to U+2581) to `out`.
//
// Starts from one symbol per UTF-8 character and repeatedly merges the adjacent pair whose concatenation is the
// highest-scoring vocabulary token (ties: leftmost pair). Final symbols that are not tokens are resegmented into the
// pairs they were merged from, and characters with no token fall back to <0xNN> byte tokens (the unknown token only
// when the vocabulary lacks those).
void spm_tokenize(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out);

}  // namespace strata
