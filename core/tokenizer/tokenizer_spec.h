// The tokenizer half of a GGUF file as plain data: what `tokenizer.ggml.*` (and general.name) say, before any
// interpretation. Tests build specs directly; production reads them with tokenizer_spec_from_gguf.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/gguf/gguf_file.h"

namespace strata {

// Special-token ids a GGUF can name, in the order llama.cpp reads them (later keys override earlier ones).
enum class SpecialTokenKey : int {
  kBos,
  kEos,
  kEot,
  kEom,
  kUnknown,
  kSeparator,
  kPadding,
  kMask,
  kFimPre,
  kFimSuf,
  kFimMid,
  kFimPad,
  kFimRep,
  kFimSep,
  kCount,
};

// GGUF token types (tokenizer.ggml.token_type), as gguf-py writes them.
enum class GgufTokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct TokenizerSpec {
  std::string model;                 // tokenizer.ggml.model: "llama" (SentencePiece) or "gpt2" (byte-level BPE)
  std::string pre;                   // tokenizer.ggml.pre; empty when absent
  std::string general_name;          // general.name; llama.cpp keys a few per-model token attributes on it
  std::string general_architecture;  // general.architecture, likewise
  std::vector<std::string> tokens;
  std::vector<float> scores;         // empty: every score is 0
  std::vector<int32_t> token_types;  // empty: every token is normal
  std::vector<std::string> merges;   // BPE only, "left right" in rank order
  std::array<std::optional<int64_t>, static_cast<size_t>(SpecialTokenKey::kCount)> special_ids;
  // Deprecated FIM keys (prefix/suffix/middle_token_id); llama.cpp applies them after the fim_* keys.
  std::optional<int64_t> prefix_id, suffix_id, middle_id;
  std::optional<bool> add_bos, add_eos, add_sep, add_space_prefix, remove_extra_whitespaces;

  std::optional<int64_t>& special_id(SpecialTokenKey key) { return special_ids[static_cast<size_t>(key)]; }
  const std::optional<int64_t>& special_id(SpecialTokenKey key) const { return special_ids[static_cast<size_t>(key)]; }
};

// Reads the spec; InvalidArgument when a key has the wrong type or array lengths disagree, NotFound when
// tokenizer.ggml.model or tokenizer.ggml.tokens is missing.
absl::StatusOr<TokenizerSpec> tokenizer_spec_from_gguf(const GgufFile& file);

}  // namespace strata
