// Built-in chat templates for GGUF files that ship none (Gemma 3 270M's, for one), chosen by the special tokens the
// vocabulary holds. They are ordinary Jinja templates run by the same engine as the models' own.
#pragma once

#include <functional>
#include <string_view>

namespace strata {

enum class BuiltinChatFormat {
  kChatMl,  // <|im_start|>role\n...<|im_end|>\n (Qwen, SmolLM, Hermes)
  kGemma,   // <bos><start_of_turn>user\n...<end_of_turn>\n, assistant as "model", system merged into the first turn
  kLlama3,  // <|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
  kPlain,   // "User: ...\n\nAssistant:" for vocabularies with no chat tokens
};

// ChatML when "<|im_start|>" is a token, else Gemma for "<start_of_turn>", Llama 3 for "<|start_header_id|>",
// else plain.
BuiltinChatFormat builtin_chat_format_for(const std::function<bool(std::string_view token)>& has_token);
std::string_view builtin_chat_template_source(BuiltinChatFormat format);
std::string_view builtin_chat_format_name(BuiltinChatFormat format);

}  // namespace strata
