#include "core/tokenizer/tokenizer_spec.h"

#include <string_view>
#include <utility>

#include "core/util/str_cat.h"
#include "core/util/status_macros.h"

namespace strata {

namespace {

absl::StatusOr<std::vector<std::string>> read_strings(const GgufFile& file, std::string_view key) {
  STRATA_ASSIGN_OR_RETURN(const GgufArray* array, file.get_array(key));
  if (array->element_type != GgufValueType::kString) {
    return absl::InvalidArgumentError(
        str_cat(key, ": expected an array of strings, got an array of ", gguf_value_type_name(array->element_type)));
  }
  return std::vector<std::string>(array->strings.begin(), array->strings.end());
}

absl::StatusOr<std::optional<bool>> read_optional_bool(const GgufFile& file, std::string_view key) {
  if (file.find(key) == nullptr) return std::optional<bool>();
  STRATA_ASSIGN_OR_RETURN(bool value, file.get_bool(key));
  return std::optional<bool>(value);
}

// Token ids are uint32 in every converter's output; a negative stored id means "none", as llama.cpp's -1.
absl::StatusOr<std::optional<int64_t>> read_optional_id(const GgufFile& file, std::string_view key) {
  if (file.find(key) == nullptr) return std::optional<int64_t>();
  STRATA_ASSIGN_OR_RETURN(int64_t value, file.get_int(key));
  if (value < 0) return std::optional<int64_t>();
  return std::optional<int64_t>(value);
}

}  // namespace

absl::StatusOr<TokenizerSpec> tokenizer_spec_from_gguf(const GgufFile& file) {
  TokenizerSpec spec;
  STRATA_ASSIGN_OR_RETURN(std::string_view model, file.get_string("tokenizer.ggml.model"));
  spec.model = std::string(model);
  if (file.find("tokenizer.ggml.pre") != nullptr) {
    STRATA_ASSIGN_OR_RETURN(std::string_view pre, file.get_string("tokenizer.ggml.pre"));
    spec.pre = std::string(pre);
  }
  if (file.find("general.name") != nullptr) {
    STRATA_ASSIGN_OR_RETURN(std::string_view name, file.get_string("general.name"));
    spec.general_name = std::string(name);
  }
  if (file.find("general.architecture") != nullptr) {
    STRATA_ASSIGN_OR_RETURN(std::string_view arch, file.get_string("general.architecture"));
    spec.general_architecture = std::string(arch);
  }
  STRATA_ASSIGN_OR_RETURN(spec.tokens, read_strings(file, "tokenizer.ggml.tokens"));
  const size_t n_tokens = spec.tokens.size();

  if (file.find("tokenizer.ggml.scores") != nullptr) {
    STRATA_ASSIGN_OR_RETURN(spec.scores, file.get_f32_array("tokenizer.ggml.scores"));
    if (spec.scores.size() < n_tokens) {
      return absl::InvalidArgumentError(
          str_cat("tokenizer.ggml.scores has ", spec.scores.size(), " entries for ", n_tokens, " tokens"));
    }
  }
  if (file.find("tokenizer.ggml.token_type") != nullptr) {
    STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> types, file.get_int_array("tokenizer.ggml.token_type"));
    if (types.size() < n_tokens) {
      return absl::InvalidArgumentError(
          str_cat("tokenizer.ggml.token_type has ", types.size(), " entries for ", n_tokens, " tokens"));
    }
    spec.token_types.assign(types.begin(), types.end());
  }
  if (file.find("tokenizer.ggml.merges") != nullptr) {
    STRATA_ASSIGN_OR_RETURN(spec.merges, read_strings(file, "tokenizer.ggml.merges"));
  }

  static constexpr std::pair<SpecialTokenKey, std::string_view> kIdKeys[] = {
      {SpecialTokenKey::kBos, "tokenizer.ggml.bos_token_id"},
      {SpecialTokenKey::kEos, "tokenizer.ggml.eos_token_id"},
      {SpecialTokenKey::kEot, "tokenizer.ggml.eot_token_id"},
      {SpecialTokenKey::kEom, "tokenizer.ggml.eom_token_id"},
      {SpecialTokenKey::kUnknown, "tokenizer.ggml.unknown_token_id"},
      {SpecialTokenKey::kSeparator, "tokenizer.ggml.seperator_token_id"},  // sic: the GGUF spelling
      {SpecialTokenKey::kPadding, "tokenizer.ggml.padding_token_id"},
      {SpecialTokenKey::kMask, "tokenizer.ggml.mask_token_id"},
      {SpecialTokenKey::kFimPre, "tokenizer.ggml.fim_pre_token_id"},
      {SpecialTokenKey::kFimSuf, "tokenizer.ggml.fim_suf_token_id"},
      {SpecialTokenKey::kFimMid, "tokenizer.ggml.fim_mid_token_id"},
      {SpecialTokenKey::kFimPad, "tokenizer.ggml.fim_pad_token_id"},
      {SpecialTokenKey::kFimRep, "tokenizer.ggml.fim_rep_token_id"},
      {SpecialTokenKey::kFimSep, "tokenizer.ggml.fim_sep_token_id"},
  };
  for (const auto& [id_key, name] : kIdKeys) {
    STRATA_ASSIGN_OR_RETURN(spec.special_id(id_key), read_optional_id(file, name));
  }
  STRATA_ASSIGN_OR_RETURN(spec.prefix_id, read_optional_id(file, "tokenizer.ggml.prefix_token_id"));
  STRATA_ASSIGN_OR_RETURN(spec.suffix_id, read_optional_id(file, "tokenizer.ggml.suffix_token_id"));
  STRATA_ASSIGN_OR_RETURN(spec.middle_id, read_optional_id(file, "tokenizer.ggml.middle_token_id"));

  STRATA_ASSIGN_OR_RETURN(spec.add_bos, read_optional_bool(file, "tokenizer.ggml.add_bos_token"));
  STRATA_ASSIGN_OR_RETURN(spec.add_eos, read_optional_bool(file, "tokenizer.ggml.add_eos_token"));
  STRATA_ASSIGN_OR_RETURN(spec.add_sep, read_optional_bool(file, "tokenizer.ggml.add_sep_token"));
  STRATA_ASSIGN_OR_RETURN(spec.add_space_prefix, read_optional_bool(file, "tokenizer.ggml.add_space_prefix"));
  STRATA_ASSIGN_OR_RETURN(spec.remove_extra_whitespaces,
                          read_optional_bool(file, "tokenizer.ggml.remove_extra_whitespaces"));
  return spec;
}

}  // namespace strata
