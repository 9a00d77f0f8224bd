#include "core/tokenizer/vocab.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <utility>

#include "absl/strings/ascii.h"
#include "core/util/str_cat.h"
#include "core/tokenizer/unicode.h"
#include "core/util/status_macros.h"

namespace strata {

namespace {

uint32_t attrs_from_gguf_type(int32_t type) {
  switch (static_cast<GgufTokenType>(type)) {
    case GgufTokenType::kNormal:
      return TokenAttr::kNormal;
    case GgufTokenType::kUnknown:
      return TokenAttr::kUnknown;
    case GgufTokenType::kControl:
      return TokenAttr::kControl;
    case GgufTokenType::kUserDefined:
      return TokenAttr::kUserDefined;
    case GgufTokenType::kUnused:
      return TokenAttr::kUnused;
    case GgufTokenType::kByte:
      return TokenAttr::kByte;
    default:
      return TokenAttr::kUndefined;
  }
}

bool text_is_one_of(std::string_view text, const std::vector<std::string_view>& candidates) {
  return std::find(candidates.begin(), candidates.end(), text) != candidates.end();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Vocab>> Vocab::create(const TokenizerSpec& spec) {
  std::unique_ptr<Vocab> vocab(new Vocab());
  STRATA_RETURN_IF_ERROR(vocab->load(spec));
  return vocab;
}

uint8_t Vocab::token_to_byte(int32_t id) const {
  // "<0xNN>": two hex digits at offset 3.
  const std::string& text = tokens_[id].text;
  if (text.size() < 5) return 0;
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  return static_cast<uint8_t>(hex(text[3]) * 16 + hex(text[4]));
}

absl::Status Vocab::load(const TokenizerSpec& spec) {
  model_name_ = spec.model;
  pre_name_ = spec.pre;
  auto& bos = special_ids_[static_cast<size_t>(SpecialTokenKey::kBos)];
  auto& eos = special_ids_[static_cast<size_t>(SpecialTokenKey::kEos)];
  auto& unk = special_ids_[static_cast<size_t>(SpecialTokenKey::kUnknown)];

  // Family defaults, as llama.cpp's llama_vocab::impl::load.
  if (spec.model == "llama") {
    type_ = VocabType::kSpm;
    bos = 1;
    eos = 2;
    unk = 0;
    // SentencePiece vocabularies have no pre-tokenizer; llama.cpp ignores tokenizer.ggml.pre for them.
    add_space_prefix_ = true;
    clean_spaces_ = false;
    add_bos_ = true;
    add_eos_ = false;
  } else if (spec.model == "gpt2") {
    type_ = VocabType::kBpe;
    if (spec.merges.empty()) return absl::InvalidArgumentError("gpt2 tokenizer without tokenizer.ggml.merges");
    bos = 11;
    eos = 11;
    STRATA_ASSIGN_OR_RETURN(pre_tokenizer_, find_pre_tokenizer(spec.pre));
    add_space_prefix_ = false;
    clean_spaces_ = pre_tokenizer_->clean_spaces;
    ignore_merges_ = pre_tokenizer_->ignore_merges;
    add_bos_ = pre_tokenizer_->add_bos;
    add_sep_ = pre_tokenizer_->add_sep;
    if (pre_tokenizer_->no_bos) bos = -1;
  } else {
    return absl::InvalidArgumentError(
        str_cat("unsupported tokenizer model (tokenizer.ggml.model): '", spec.model, "'"));
  }
  if (spec.add_space_prefix) add_space_prefix_ = *spec.add_space_prefix;
  if (spec.remove_extra_whitespaces) remove_extra_whitespaces_ = *spec.remove_extra_whitespaces;

  // Tokens.
  const size_t n = spec.tokens.size();
  if (n == 0) return absl::InvalidArgumentError("tokenizer.ggml.tokens is empty");
  if (n > static_cast<size_t>(INT32_MAX)) return absl::InvalidArgumentError("tokenizer.ggml.tokens is too large");
  if (!spec.scores.empty() && spec.scores.size() < n) {
    return absl::InvalidArgumentError("tokenizer.ggml.scores is shorter than tokenizer.ggml.tokens");
  }
  if (!spec.token_types.empty() && spec.token_types.size() < n) {
    return absl::InvalidArgumentError("tokenizer.ggml.token_type is shorter than tokenizer.ggml.tokens");
  }
  tokens_.resize(n);
  text_to_id_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    TokenData& token = tokens_[i];
    // An empty text could never be matched and would make special-token search loop; llama.cpp renames it too.
    token.text = spec.tokens[i].empty() ? str_cat("[EMPTY_", i, "]") : spec.tokens[i];
    token.score = spec.scores.empty() ? 0.0f : spec.scores[i];
    token.attrs = spec.token_types.empty() ? TokenAttr::kNormal : attrs_from_gguf_type(spec.token_types[i]);
    const auto [it, inserted] = text_to_id_.emplace(token.text, static_cast<int32_t>(i));
    if (!inserted) {
      return absl::InvalidArgumentError(
          str_cat("duplicate token in vocabulary: '", token.text, "' has ids ", it->second, " and ", i));
    }
  }

  // Byte tokens.
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    if (type_ == VocabType::kSpm) {
      const char name[] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
      int32_t id = find(std::string_view(name, sizeof(name)));
      if (id < 0) id = find(std::string_view(reinterpret_cast<const char*>(&b), 1));
      byte_tokens_[b] = id;
    } else {
      byte_tokens_[b] = find(ByteLevelAlphabet::get().encode(static_cast<uint8_t>(b)));
    }
  }

  // Special ids: a default outside the vocabulary is disabled; a metadata id outside it is ignored.
  const auto apply_id = [&](int32_t& id, const std::optional<int64_t>& value) {
    if (id >= static_cast<int64_t>(n)) id = -1;
    if (value && *value < static_cast<int64_t>(n)) id = static_cast<int32_t>(*value);
  };
  for (size_t k = 0; k < special_ids_.size(); ++k) apply_id(special_ids_[k], spec.special_ids[k]);
  apply_id(special_ids_[static_cast<size_t>(SpecialTokenKey::kFimPre)], spec.prefix_id);
  apply_id(special_ids_[static_cast<size_t>(SpecialTokenKey::kFimSuf)], spec.suffix_id);
  apply_id(special_ids_[static_cast<size_t>(SpecialTokenKey::kFimMid)], spec.middle_id);

  if (spec.add_bos) add_bos_ = *spec.add_bos;
  if (spec.add_eos) add_eos_ = *spec.add_eos;
  if (spec.add_sep) add_sep_ = *spec.add_sep;
  if (add_bos_ && bos < 0) {
    return absl::InvalidArgumentError(
        "tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set");
  }
  if (add_eos_ && eos < 0) {
    return absl::InvalidArgumentError(
        "tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set");
  }
  if (add_sep_ && special_id(SpecialTokenKey::kSeparator) < 0) {
    return absl::InvalidArgumentError(
        "tokenizer.ggml.add_sep_token is true, but tokenizer.ggml.seperator_token_id is not set");
  }

  detect_special_tokens();

  // Partition order: longest text first. llama.cpp's std::sort leaves equal lengths unordered; ids break ties here.
  for (int32_t id = 0; id < n_tokens(); ++id) {
    if (has_attr(id, TokenAttr::kControl | TokenAttr::kUserDefined | TokenAttr::kUnknown)) {
      special_tokens_.push_back(id);
    }
  }
  std::stable_sort(special_tokens_.begin(), special_tokens_.end(),
                   [&](int32_t a, int32_t b) { return tokens_[a].text.size() > tokens_[b].text.size(); });

  apply_model_token_attrs(spec);
  return absl::OkStatus();
}

// llama.cpp finds EOT/EOM/FIM and end-of-generation tokens by their text when the metadata does not name them, and
// forces them to control type. It walks a hash map; ids are walked in order here, so where a vocabulary has several
// candidates for one role the lowest id wins.
void Vocab::detect_special_tokens() {
  const auto slot = [&](SpecialTokenKey key) -> int32_t& { return special_ids_[static_cast<size_t>(key)]; };
  const auto mark_control = [&](int32_t id) { tokens_[id].attrs |= TokenAttr::kControl; };
  struct Role {
    SpecialTokenKey key;
    std::vector<std::string_view> texts;
  };
  const Role roles[] = {
      {SpecialTokenKey::kEot,
       {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
        "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"}},
      {SpecialTokenKey::kEom, {"<|eom_id|>"}},
      {SpecialTokenKey::kFimPre,
       {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>",
        "<|prefix|>"}},
      {SpecialTokenKey::kFimSuf,
       {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>",
        "<|suffix|>"}},
      {SpecialTokenKey::kFimMid,
       {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>",
        "<|middle|>"}},
      {SpecialTokenKey::kFimPad, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"}},
      {SpecialTokenKey::kFimRep, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"}},
      {SpecialTokenKey::kFimSep, {"<|file_sep|>"}},
  };
  for (int32_t id = 0; id < n_tokens(); ++id) {
    for (const Role& role : roles) {
      if (slot(role.key) < 0 && text_is_one_of(tokens_[id].text, role.texts)) {
        slot(role.key) = id;
        mark_control(id);
      }
    }
  }

  // Control tokens named "unused" are unused.
  for (TokenData& token : tokens_) {
    if ((token.attrs & TokenAttr::kControl) != 0 && token.text.find("unused") != std::string::npos) {
      token.attrs |= TokenAttr::kUnused;
    }
  }

  for (SpecialTokenKey key : {SpecialTokenKey::kFimPad, SpecialTokenKey::kFimRep, SpecialTokenKey::kFimSep}) {
    if (slot(key) >= 0) eog_ids_.insert(slot(key));
  }
  for (int32_t id = 0; id < n_tokens(); ++id) {
    const std::string& text = tokens_[id].text;
    if (text_is_one_of(text, {"<|eot_id|>",
                              "<|im_end|>",
                              "<|end|>",
                              "<|return|>",
                              "<|call|>",
                              "<|flush|>",
                              "<|calls|>",
                              "<end_of_turn>",
                              "<|endoftext|>",
                              "</s>",
                              "<|eom_id|>",
                              "<EOT>",
                              "_<EOT>",
                              "[EOT]",
                              "[EOS]",
                              "<|end_of_text|>",
                              "<end_of_utterance>",
                              "<eos>",
                              "<turn|>",
                              "<|tool_response>",
                              "<｜end▁of▁sentence｜>",
                              "[e~["})) {
      eog_ids_.insert(id);
      mark_control(id);
    }
  }
  // gpt-oss: these always render.
  for (int32_t id = 0; id < n_tokens(); ++id) {
    if (text_is_one_of(tokens_[id].text, {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"})) {
      tokens_[id].attrs = TokenAttr::kUserDefined;
    }
  }
  for (SpecialTokenKey key : {SpecialTokenKey::kEos, SpecialTokenKey::kEot, SpecialTokenKey::kEom}) {
    if (slot(key) >= 0) eog_ids_.insert(slot(key));
  }

  // o200k_harmony / solar-open: "<|end|>" ends a message, not the generation, when the return/call tokens exist.
  int32_t end_id = -1;
  bool has_return = false, has_call = false, has_flush = false, has_tool_response = false;
  int32_t s_id = -1;
  for (int32_t id : eog_ids_) {
    const std::string& text = tokens_[id].text;
    has_return |= text == "<|return|>";
    has_call |= text == "<|call|>" || text == "<|calls|>";
    has_flush |= text == "<|flush|>";
    has_tool_response |= text == "<|tool_response>";
    if (text == "<|end|>") end_id = id;
    if (text == "</s>") s_id = id;
  }
  if (end_id >= 0 && ((has_return && has_call) || (has_call && has_flush))) {
    eog_ids_.erase(end_id);
    tokens_[end_id].attrs = TokenAttr::kUserDefined;
  }
  // Gemma 4 and PaddleOCR: "</s>" is ordinary text there.
  if (has_tool_response && s_id >= 0) {
    eog_ids_.erase(s_id);
    tokens_[s_id].attrs = TokenAttr::kNormal;
  }
}

// Per-model strip attributes llama.cpp sets by model, pre-tokenizer or architecture name.
void Vocab::apply_model_token_attrs(const TokenizerSpec& spec) {
  const auto set_attr = [&](std::string_view text, uint32_t attr, bool value) {
    const int32_t id = find(text);
    if (id < 0) return;
    tokens_[id].attrs = value ? (tokens_[id].attrs | attr) : (tokens_[id].attrs & ~attr);
  };
  const std::string name = absl::AsciiStrToLower(spec.general_name);
  const auto contains_any = [](std::string_view s, std::initializer_list<std::string_view> parts) {
    return std::any_of(parts.begin(), parts.end(), [&](std::string_view p) { return s.find(p) != s.npos; });
  };
  if (contains_any(spec.pre, {"jina-v2-de", "jina-v2-es", "jina-v2-code"}) ||
      contains_any(spec.general_architecture, {"nomic-bert-moe", "jina-bert-v3"})) {
    set_attr("<mask>", TokenAttr::kLstrip, true);
  } else if (contains_any(name, {"phi-3", "phi3"})) {
    for (int32_t id : special_tokens_) tokens_[id].attrs |= TokenAttr::kRstrip;
    set_attr("</s>", TokenAttr::kRstrip, true);
    for (std::string_view text : {"<unk>", "<s>", "<|endoftext|>"}) set_attr(text, TokenAttr::kRstrip, false);
  } else if (contains_any(name, {"modern-bert"})) {
    set_attr("[MASK]", TokenAttr::kLstrip, true);
  }
}

}  // namespace strata
