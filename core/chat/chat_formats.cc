#include "core/chat/chat_formats.h"

namespace strata {
namespace {

// Message content is a string, or (OpenAI's multi-part form) a list of {type, text} parts whose text parts are
// joined; null content (an assistant turn carrying only tool calls) renders empty.
#define STRATA_CHAT_TEXT_MACRO                                                                                \
  "{%- macro text(content) -%}"                                                                               \
  "{%- if content is string -%}{{ content }}"                                                                 \
  "{%- elif content is not none -%}"                                                                          \
  "{%- for part in content -%}{%- if part['type'] == 'text' -%}{{ part['text'] }}{%- endif -%}{%- endfor -%}" \
  "{%- endif -%}"                                                                                             \
  "{%- endmacro -%}\n"

constexpr std::string_view kChatMl = STRATA_CHAT_TEXT_MACRO R"(
{%- for message in messages -%}
{{- '<|im_start|>' + message['role'] + '\n' + text(message['content']) + '<|im_end|>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{- '<|im_start|>assistant\n' -}}
{%- endif -%}
)";

constexpr std::string_view kGemma = STRATA_CHAT_TEXT_MACRO R"(
{{- bos_token -}}
{%- set ns = namespace(system='') -%}
{%- if messages and messages[0]['role'] == 'system' -%}
{%- set ns.system = text(messages[0]['content']) + '\n\n' -%}
{%- set loop_messages = messages[1:] -%}
{%- else -%}
{%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}
{{- '<start_of_turn>' + role + '\n' + (ns.system if loop.first else '') + text(message['content']) | trim + '<end_of_turn>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{- '<start_of_turn>model\n' -}}
{%- endif -%}
)";

constexpr std::string_view kLlama3 = STRATA_CHAT_TEXT_MACRO R"(
{{- bos_token -}}
{%- for message in messages -%}
{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + text(message['content']) | trim + '<|eot_id|>' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
{%- endif -%}
)";

constexpr std::string_view kPlain = STRATA_CHAT_TEXT_MACRO R"(
{{- bos_token -}}
{%- for message in messages -%}
{{- message['role'] | capitalize + ': ' + text(message['content']) | trim + '\n\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{- 'Assistant:' -}}
{%- endif -%}
)";

#undef STRATA_CHAT_TEXT_MACRO

}  // namespace

BuiltinChatFormat builtin_chat_format_for(const std::function<bool(std::string_view token)>& has_token) {
  if (has_token("<|im_start|>")) return BuiltinChatFormat::kChatMl;
  if (has_token("<start_of_turn>")) return BuiltinChatFormat::kGemma;
  if (has_token("<|start_header_id|>")) return BuiltinChatFormat::kLlama3;
  return BuiltinChatFormat::kPlain;
}

std::string_view builtin_chat_template_source(BuiltinChatFormat format) {
  switch (format) {
    case BuiltinChatFormat::kChatMl:
      return kChatMl;
    case BuiltinChatFormat::kGemma:
      return kGemma;
    case BuiltinChatFormat::kLlama3:
      return kLlama3;
    case BuiltinChatFormat::kPlain:
      return kPlain;
  }
  return kPlain;
}

std::string_view builtin_chat_format_name(BuiltinChatFormat format) {
  switch (format) {
    case BuiltinChatFormat::kChatMl:
      return "chatml";
    case BuiltinChatFormat::kGemma:
      return "gemma";
    case BuiltinChatFormat::kLlama3:
      return "llama3";
    case BuiltinChatFormat::kPlain:
      return "plain";
  }
  return "plain";
}

}  // namespace strata
