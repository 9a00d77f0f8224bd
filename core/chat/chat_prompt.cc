#include "core/chat/chat_prompt.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/chat/chat_formats.h"

namespace strata {
namespace {

constexpr char kTemplateKey[] = "tokenizer.chat_template";

}  // namespace

ChatPrompt::ChatPrompt(const Tokenizer& tokenizer, ChatTemplate chat_template, std::string origin)
    : tokenizer_(tokenizer), template_(std::move(chat_template)), origin_(std::move(origin)) {
  if (tokenizer.bos_id() >= 0) bos_text_ = tokenizer.token_to_piece(tokenizer.bos_id(), /*render_special=*/true);
  if (tokenizer.eos_id() >= 0) eos_text_ = tokenizer.token_to_piece(tokenizer.eos_id(), /*render_special=*/true);
}

absl::StatusOr<std::unique_ptr<ChatPrompt>> ChatPrompt::create(const GgufFile& file, const Tokenizer& tokenizer) {
  std::optional<std::string_view> source;
  if (file.find(kTemplateKey) != nullptr) {
    absl::StatusOr<std::string_view> text = file.get_string(kTemplateKey);
    if (!text.ok()) return text.status();
    if (!text->empty()) source = *text;
  }
  auto has_token = [&](std::string_view token) { return tokenizer.vocab().find(token) >= 0; };
  absl::StatusOr<ChatTemplate> parsed = chat_template_for(source, has_token);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("the chat template cannot be used: ", parsed.status().message()));
  }
  const std::string origin =
      source ? absl::StrCat(kTemplateKey, " from the model file (", source->size(), " bytes)")
             : absl::StrCat("built-in ", std::string(builtin_chat_format_name(builtin_chat_format_for(has_token))),
                            " (the model file has none)");
  return std::unique_ptr<ChatPrompt>(new ChatPrompt(tokenizer, std::move(*parsed), origin));
}

absl::StatusOr<std::vector<int32_t>> ChatPrompt::build(const nlohmann::json& messages) const {
  absl::StatusOr<std::string> text = template_.render(messages, /*add_generation_prompt=*/true, bos_text_, eos_text_);
  if (!text.ok()) {
    // The template refusing a conversation (raise_exception: roles out of order, an unknown role) is the client's
    // error; so is a conversation too big to render within the template limits.
    return absl::InvalidArgumentError(
        absl::StrCat("the chat template rejected the messages: ", text.status().message()));
  }
  if (text->empty()) return absl::InvalidArgumentError("the chat template rendered an empty prompt");
  // Templates write BOS themselves where the format has one ({{ bos_token }}); add it only when the vocabulary wants
  // one and the template did not, so the prompt never starts with two.
  std::vector<int32_t> tokens = tokenizer_.encode(*text, /*add_special=*/false, /*parse_special=*/true);
  if (tokenizer_.add_bos() && tokenizer_.bos_id() >= 0 && (tokens.empty() || tokens.front() != tokenizer_.bos_id())) {
    tokens.insert(tokens.begin(), tokenizer_.bos_id());
  }
  if (tokens.empty()) return absl::InvalidArgumentError("the chat prompt has no tokens");
  return tokens;
}

}  // namespace strata
