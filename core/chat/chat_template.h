// A model's chat template: turns OpenAI-style messages into the prompt text the model was trained on.
//
// The template is the GGUF's own `tokenizer.chat_template` (Jinja, run by core/chat's engine with the settings
// Hugging Face's apply_chat_template uses), or a built-in one chosen from the vocabulary when the file has none.
// Templates emit special tokens as text (bos_token included where the model's format starts with it), so the
// prompt must be tokenized with special-token parsing and without adding another BOS.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/chat/template.h"
#include "nlohmann/json.hpp"

namespace strata {

class ChatTemplate {
 public:
  // InvalidArgument (naming the line) when `source` is not a template this engine can run.
  static absl::StatusOr<ChatTemplate> parse(std::string_view source);

  // Renders `messages` (a JSON array of {role, content, ...}). The template sees `messages`,
  // `add_generation_prompt`, `bos_token`, `eos_token` and every key of `extra` (an object, e.g. `tools`); the four
  // named arguments win over keys of `extra`. The template's raise_exception(msg) comes back as InvalidArgument
  // with exactly msg; other template errors name the line; exceeding limits() is ResourceExhausted.
  absl::StatusOr<std::string> render(const nlohmann::json& messages, bool add_generation_prompt,
                                     const std::string& bos_token, const std::string& eos_token,
                                     const nlohmann::json& extra = nlohmann::json::object()) const;
  // The same with insertion-ordered objects, so `tojson` shows keys (tool schemas) in the order the client sent.
  absl::StatusOr<std::string> render(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                     const std::string& bos_token, const std::string& eos_token,
                                     const nlohmann::ordered_json& extra = nlohmann::ordered_json::object()) const;

  const std::string& source() const { return source_; }
  const jinja::RenderLimits& limits() const { return limits_; }
  void set_limits(const jinja::RenderLimits& limits) { limits_ = limits; }

 private:
  ChatTemplate(std::string source, jinja::Template tmpl) : source_(std::move(source)), template_(std::move(tmpl)) {}

  template <typename Json>
  absl::StatusOr<std::string> render_json(const Json& messages, bool add_generation_prompt,
                                          const std::string& bos_token, const std::string& eos_token,
                                          const Json& extra) const;

  std::string source_;
  jinja::Template template_;
  jinja::RenderLimits limits_;
};

// The GGUF's template when it has a non-empty one, else the built-in format matching the vocabulary (see
// builtin_chat_format_for in core/chat/chat_formats.h). `has_token` says whether a token text is in the vocabulary.
absl::StatusOr<ChatTemplate> chat_template_for(std::optional<std::string_view> gguf_template,
                                               const std::function<bool(std::string_view token)>& has_token);

}  // namespace strata
