// A tokenizer vocabulary: token texts, scores and attributes, special-token ids and the flags that steer encoding,
// interpreted from a TokenizerSpec with llama.cpp's rules (defaults per tokenizer family, metadata overrides, and
// its text-based detection of end-of-generation and control tokens). Needs no tensors.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "core/tokenizer/pre_tokenizer_config.h"
#include "core/tokenizer/string_map.h"
#include "core/tokenizer/tokenizer_spec.h"

namespace strata {

enum class VocabType {
  kSpm,  // tokenizer.ggml.model "llama": SentencePiece BPE over scores, byte fallback
  kBpe,  // tokenizer.ggml.model "gpt2": byte-level BPE over merge ranks, regex pre-tokenizer
};

// Token attribute bits (llama.cpp's llama_token_attr values).
struct TokenAttr {
  static constexpr uint32_t kUndefined = 0;
  static constexpr uint32_t kUnknown = 1u << 0;
  static constexpr uint32_t kUnused = 1u << 1;
  static constexpr uint32_t kNormal = 1u << 2;
  static constexpr uint32_t kControl = 1u << 3;
  static constexpr uint32_t kUserDefined = 1u << 4;
  static constexpr uint32_t kByte = 1u << 5;
  static constexpr uint32_t kNormalized = 1u << 6;
  static constexpr uint32_t kLstrip = 1u << 7;  // swallow whitespace before the token's text when partitioning
  static constexpr uint32_t kRstrip = 1u << 8;  // swallow whitespace after it
  static constexpr uint32_t kSingleWord = 1u << 9;
};

struct TokenData {
  std::string text;
  float score = 0.0f;
  uint32_t attrs = TokenAttr::kNormal;
};

class Vocab {
 public:
  // InvalidArgument for an unknown tokenizer model or pre-tokenizer, a duplicate token text, or add_bos/add_eos
  // requested without the token.
  static absl::StatusOr<std::unique_ptr<Vocab>> create(const TokenizerSpec& spec);

  VocabType type() const { return type_; }
  std::string_view model_name() const { return model_name_; }
  std::string_view pre_name() const { return pre_name_; }
  // The BPE pre-tokenizer row (regexes and flags); unset for SPM.
  const std::optional<PreTokenizerConfig>& pre_tokenizer() const { return pre_tokenizer_; }

  int32_t n_tokens() const { return static_cast<int32_t>(tokens_.size()); }
  bool is_valid(int32_t id) const { return id >= 0 && id < n_tokens(); }
  const TokenData& token(int32_t id) const { return tokens_[id]; }
  bool has_attr(int32_t id, uint32_t attr) const { return (tokens_[id].attrs & attr) != 0; }
  // The id whose text is exactly `text`, or -1.
  int32_t find(std::string_view text) const {
    const auto it = text_to_id_.find(text);
    return it == text_to_id_.end() ? -1 : it->second;
  }
  // The token standing for a raw byte: <0xNN> (SPM, falling back to the one-byte text) or the byte-level character
  // (BPE); -1 when the vocabulary has none.
  int32_t byte_to_token(uint8_t byte) const { return byte_tokens_[byte]; }
  // The byte an SPM/BPE byte token (<0xNN>) stands for.
  uint8_t token_to_byte(int32_t id) const;

  int32_t special_id(SpecialTokenKey key) const { return special_ids_[static_cast<size_t>(key)]; }
  int32_t bos_id() const { return special_id(SpecialTokenKey::kBos); }
  int32_t eos_id() const { return special_id(SpecialTokenKey::kEos); }
  int32_t eot_id() const { return special_id(SpecialTokenKey::kEot); }
  int32_t unk_id() const { return special_id(SpecialTokenKey::kUnknown); }
  bool is_eog(int32_t id) const { return eog_ids_.contains(id); }
  const absl::flat_hash_set<int32_t>& eog_ids() const { return eog_ids_; }

  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  bool add_sep() const { return add_sep_; }
  bool add_space_prefix() const { return add_space_prefix_; }
  // Read for completeness; llama.cpp applies it only to unigram (T5) vocabularies, so encoding ignores it.
  bool remove_extra_whitespaces() const { return remove_extra_whitespaces_; }
  bool clean_spaces() const { return clean_spaces_; }
  bool ignore_merges() const { return ignore_merges_; }

  // Control, user-defined and unknown tokens, longest text first: the order special text is cut out of input.
  const std::vector<int32_t>& special_tokens() const { return special_tokens_; }

 private:
  Vocab() = default;
  absl::Status load(const TokenizerSpec& spec);
  void detect_special_tokens();
  void apply_model_token_attrs(const TokenizerSpec& spec);

  VocabType type_ = VocabType::kSpm;
  std::string model_name_;
  std::string pre_name_;
  std::optional<PreTokenizerConfig> pre_tokenizer_;
  std::vector<TokenData> tokens_;
  StringMap<int32_t> text_to_id_;
  std::vector<int32_t> byte_tokens_ = std::vector<int32_t>(256, -1);
  std::vector<int32_t> special_ids_ = std::vector<int32_t>(static_cast<size_t>(SpecialTokenKey::kCount), -1);
  absl::flat_hash_set<int32_t> eog_ids_;
  std::vector<int32_t> special_tokens_;
  bool add_bos_ = false;
  bool add_eos_ = false;
  bool add_sep_ = false;
  bool add_space_prefix_ = false;
  bool remove_extra_whitespaces_ = false;
  bool clean_spaces_ = false;
  bool ignore_merges_ = false;
};

}  // namespace strata
