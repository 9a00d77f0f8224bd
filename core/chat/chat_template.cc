#include "core/chat/chat_template.h"

#include "core/chat/chat_formats.h"
#include "core/util/status_macros.h"

namespace strata {

absl::StatusOr<ChatTemplate> ChatTemplate::parse(std::string_view source) {
  STRATA_ASSIGN_OR_RETURN(jinja::Template tmpl, jinja::Template::parse(source));
  return ChatTemplate(std::string(source), std::move(tmpl));
}

template <typename Json>
absl::StatusOr<std::string> ChatTemplate::render_json(const Json& messages, bool add_generation_prompt,
                                                      const std::string& bos_token, const std::string& eos_token,
                                                      const Json& extra) const {
  if (!messages.is_array()) return absl::InvalidArgumentError("chat messages must be a JSON array");
  if (!extra.is_null() && !extra.is_object())
    return absl::InvalidArgumentError("chat template extras must be an object");
  auto context = std::make_shared<jinja::ValueDict>();
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) {
      STRATA_ASSIGN_OR_RETURN(jinja::Value v, jinja::value_from_json(it.value()));
      context->set(it.key(), std::move(v));
    }
  }
  STRATA_ASSIGN_OR_RETURN(jinja::Value message_list, jinja::value_from_json(messages));
  context->set("messages", std::move(message_list));
  context->set("add_generation_prompt", jinja::Value(add_generation_prompt));
  context->set("bos_token", jinja::Value(bos_token));
  context->set("eos_token", jinja::Value(eos_token));
  return template_.render(jinja::Value(std::move(context)), limits_);
}

absl::StatusOr<std::string> ChatTemplate::render(const nlohmann::json& messages, bool add_generation_prompt,
                                                 const std::string& bos_token, const std::string& eos_token,
                                                 const nlohmann::json& extra) const {
  return render_json(messages, add_generation_prompt, bos_token, eos_token, extra);
}

absl::StatusOr<std::string> ChatTemplate::render(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                                 const std::string& bos_token, const std::string& eos_token,
                                                 const nlohmann::ordered_json& extra) const {
  return render_json(messages, add_generation_prompt, bos_token, eos_token, extra);
}

absl::StatusOr<ChatTemplate> chat_template_for(std::optional<std::string_view> gguf_template,
                                               const std::function<bool(std::string_view token)>& has_token) {
  if (gguf_template.has_value() && !gguf_template->empty()) return ChatTemplate::parse(*gguf_template);
  return ChatTemplate::parse(builtin_chat_template_source(builtin_chat_format_for(has_token)));
}

}  // namespace strata
