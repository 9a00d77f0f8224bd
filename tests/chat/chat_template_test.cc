// Chat templates as models publish them, rendered and compared with what Hugging Face's apply_chat_template produces
// (Jinja2, trim_blocks + lstrip_blocks). The template texts and expected prompts are data: the templates are copied
// verbatim from the models' tokenizer_config.json, the expected strings were rendered by Jinja2; where llama.cpp's
// tests/test-chat-template.cpp lists the same conversation's output it is checked as well.
#include "core/chat/chat_template.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>

#include "core/chat/chat_formats.h"
#include "core/gguf/gguf_file.h"
#include "nlohmann/json.hpp"

namespace strata {
namespace {

using nlohmann::json;

// meta-llama/Meta-Llama-3-8B-Instruct, tokenizer_config.json chat_template.
constexpr char kLlama3Template[] =
    R"TPL({% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %})TPL";
// Qwen/Qwen2.5-7B-Instruct, tokenizer_config.json chat_template.
constexpr char kQwen25Template[] = R"TPL({%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
)TPL";
// mistralai/Mistral-7B-Instruct-v0.2 (as listed in llama.cpp tests/test-chat-template.cpp).
constexpr char kMistralTemplate[] =
    R"TPL({{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %})TPL";
// google/gemma-3-*-it, tokenizer_config.json chat_template.
constexpr char kGemma3Template[] = R"TPL({{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
)TPL";
// microsoft/Phi-3-mini-4k-instruct, tokenizer_config.json chat_template.
constexpr char kPhi3Template[] =
    R"TPL({% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %})TPL";

constexpr char kExpected_smol_sys[] =
    "<|im_start|>system\nYou are a "
    "pirate.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nAhoy!<|im_end|>\n<|im_start|>"
    "user\nWhere is the treasure?<|im_end|>\n<|im_start|>assistant\n";
constexpr char kExpected_smol_default[] =
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nAhoy!<|im_end|>\n<|im_start|>user\nWhere "
    "is the treasure?<|im_end|>\n<|im_start|>assistant\n";
constexpr char kExpected_llama3[] =
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful "
    "assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_"
    "header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are "
    "you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an "
    "assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother "
    "question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
constexpr char kExpected_qwen[] =
    "<|im_start|>system\nYou are a helpful "
    "assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi "
    "there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   "
    "<|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n";
constexpr char kExpected_qwen_default[] =
    "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
    "assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi "
    "there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   "
    "<|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n";
constexpr char kExpected_qwen_tools[] =
    "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n\n# Tools\n\nYou may "
    "call one or more functions to assist with the user query.\n\nYou are provided with function signatures within "
    "<tools></tools> XML tags:\n<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", "
    "\"description\": \"Get weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": "
    "\"string\"}}, \"required\": [\"city\"]}}}\n</tools>\n\nFor each function call, return a json object with function "
    "name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
    "\"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n<|im_start|>user\nWeather in "
    "Paris?<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
    "\"Paris\"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{\"temp\": "
    "20}\n</tool_response><|im_end|>\n<|im_start|>assistant\nIt is 20 degrees.<|im_end|>\n<|im_start|>assistant\n";
constexpr char kExpected_mistral[] =
    "<s>[INST] Hello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question "
    "[/INST]";
constexpr char kExpected_gemma[] =
    "<bos><start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi "
    "there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an "
    "assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n";
constexpr char kExpected_phi3[] =
    "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi "
    "there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother "
    "question<|end|>\n<|assistant|>\n";
constexpr char kExpected_phi3_noagp[] =
    "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi "
    "there<|end|>\n<|endoftext|>";

// llama.cpp's standard conversation.
json conversation() {
  return json::parse(R"([{"role": "system", "content": "You are a helpful assistant"},
                         {"role": "user", "content": "Hello"},
                         {"role": "assistant", "content": "Hi there"},
                         {"role": "user", "content": "Who are you"},
                         {"role": "assistant", "content": "   I am an assistant   "},
                         {"role": "user", "content": "Another question"}])");
}
json without_system() {
  json c = conversation();
  c.erase(c.begin());
  return c;
}

ChatTemplate parse_or_die(std::string_view source) {
  absl::StatusOr<ChatTemplate> t = ChatTemplate::parse(source);
  EXPECT_TRUE(t.ok()) << t.status();
  return *std::move(t);
}

std::string render_ok(const ChatTemplate& t, const json& messages, bool add_generation_prompt, const std::string& bos,
                      const std::string& eos) {
  absl::StatusOr<std::string> out = t.render(messages, add_generation_prompt, bos, eos);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : std::string();
}

std::unique_ptr<GgufFile> open_model(const std::string& name) {
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::open(std::string(STRATA_SOURCE_DIR) + "/models/" + name);
  EXPECT_TRUE(file.ok()) << name << ": " << file.status();
  return file.ok() ? *std::move(file) : nullptr;
}

TEST(ChatTemplateTest, SmolLM2TemplateFromGguf) {
  std::unique_ptr<GgufFile> file = open_model("SmolLM2-135M-Instruct.Q4_1.gguf");
  ASSERT_NE(file, nullptr);
  absl::StatusOr<std::string_view> source = file->get_string("tokenizer.chat_template");
  ASSERT_TRUE(source.ok()) << source.status();
  ChatTemplate t = parse_or_die(*source);
  json messages =
      json::parse(R"([{"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "Hi!"},
                                  {"role": "assistant", "content": "Ahoy!"},
                                  {"role": "user", "content": "Where is the treasure?"}])");
  EXPECT_EQ(render_ok(t, messages, true, "", ""), kExpected_smol_sys);
  EXPECT_EQ(render_ok(t, messages, true, "", ""),
            "<|im_start|>system\nYou are a pirate.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"
            "<|im_start|>assistant\nAhoy!<|im_end|>\n<|im_start|>user\nWhere is the treasure?<|im_end|>\n"
            "<|im_start|>assistant\n");
  // Without a system message the template supplies SmolLM's default one.
  messages.erase(messages.begin());
  EXPECT_EQ(render_ok(t, messages, true, "", ""), kExpected_smol_default);
  EXPECT_EQ(render_ok(t, messages, false, "", "").find("<|im_start|>assistant\n", 200), std::string::npos);
}

TEST(ChatTemplateTest, Llama3) {
  ChatTemplate t = parse_or_die(kLlama3Template);
  EXPECT_EQ(render_ok(t, conversation(), true, "<|begin_of_text|>", "<|eot_id|>"), kExpected_llama3);
  // llama.cpp's expected output (rendered with an empty BOS).
  EXPECT_EQ(render_ok(t, conversation(), true, "", ""),
            "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user"
            "<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant"
            "<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother "
            "question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplateTest, Qwen25) {
  ChatTemplate t = parse_or_die(kQwen25Template);
  EXPECT_EQ(render_ok(t, conversation(), true, "", "<|im_end|>"), kExpected_qwen);
  // llama.cpp's ChatML expectation for the same conversation.
  EXPECT_EQ(render_ok(t, conversation(), true, "", "<|im_end|>"),
            "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
            "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
            "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(render_ok(t, without_system(), true, "", "<|im_end|>"), kExpected_qwen_default);
}

TEST(ChatTemplateTest, Qwen25WithToolsKeepsKeyOrder) {
  ChatTemplate t = parse_or_die(kQwen25Template);
  auto tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {"name": "get_weather",
      "description": "Get weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
      "required": ["city"]}}}])");
  auto messages = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather",
      "arguments": {"city": "Paris"}}}]}, {"role": "tool", "content": "{\"temp\": 20}"},
      {"role": "assistant", "content": "It is 20 degrees."}])");
  nlohmann::ordered_json extra = {{"tools", tools}};
  absl::StatusOr<std::string> out = t.render(messages, true, "", "<|im_end|>", extra);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, kExpected_qwen_tools);
}

TEST(ChatTemplateTest, Mistral) {
  ChatTemplate t = parse_or_die(kMistralTemplate);
  EXPECT_EQ(render_ok(t, without_system(), true, "<s>", "</s>"), kExpected_mistral);
  // This template knows no system role: the role check raises on it.
  absl::StatusOr<std::string> with_system = t.render(conversation(), true, "<s>", "</s>");
  ASSERT_FALSE(with_system.ok());
  EXPECT_EQ(with_system.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(with_system.status().message(), "Conversation roles must alternate user/assistant/user/assistant/...");
  json two_users = json::parse(R"([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])");
  absl::StatusOr<std::string> bad = t.render(two_users, true, "<s>", "</s>");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "Conversation roles must alternate user/assistant/user/assistant/...");
}

TEST(ChatTemplateTest, Gemma3) {
  ChatTemplate t = parse_or_die(kGemma3Template);
  EXPECT_EQ(render_ok(t, conversation(), true, "<bos>", "<eos>"), kExpected_gemma);
  // llama.cpp's expected output (rendered with an empty BOS): system merged into the first user turn.
  EXPECT_EQ(render_ok(t, conversation(), true, "", ""),
            "<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi "
            "there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an "
            "assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n");
  json parts = json::parse(R"([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": " hi "}]}])");
  EXPECT_EQ(render_ok(t, parts, true, "<bos>", ""),
            "<bos><start_of_turn>user\n<start_of_image>hi<end_of_turn>\n<start_of_turn>model\n");
}

TEST(ChatTemplateTest, Phi3) {
  ChatTemplate t = parse_or_die(kPhi3Template);
  EXPECT_EQ(render_ok(t, conversation(), true, "<s>", "<|endoftext|>"), kExpected_phi3);
  json first_turns = conversation();
  first_turns.erase(first_turns.begin() + 3, first_turns.end());
  EXPECT_EQ(render_ok(t, first_turns, false, "<s>", "<|endoftext|>"), kExpected_phi3_noagp);
}

TEST(ChatTemplateTest, RejectsBadInput) {
  ChatTemplate t = parse_or_die(kLlama3Template);
  EXPECT_FALSE(t.render(json::object(), true, "", "").ok());
  EXPECT_FALSE(t.render(conversation(), true, "", "", json::array()).ok());
  EXPECT_FALSE(ChatTemplate::parse("{% for m in messages %}").ok());
}

TEST(ChatTemplateTest, ExtraVariablesReachTheTemplate) {
  ChatTemplate t = parse_or_die("{{ greeting }} {{ messages | length }} {{ bos_token }}");
  absl::StatusOr<std::string> out =
      t.render(without_system(), false, "<s>", "", json{{"greeting", "hey"}, {"bos_token", "ignored"}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "hey 5 <s>");
}

std::function<bool(std::string_view)> token_set(std::set<std::string> tokens) {
  return [tokens = std::move(tokens)](std::string_view token) { return tokens.count(std::string(token)) > 0; };
}

TEST(ChatTemplateTest, FallbackChoosesFormatFromVocabulary) {
  EXPECT_EQ(builtin_chat_format_for(token_set({"<|im_start|>", "<|im_end|>"})), BuiltinChatFormat::kChatMl);
  EXPECT_EQ(builtin_chat_format_for(token_set({"<start_of_turn>", "<end_of_turn>"})), BuiltinChatFormat::kGemma);
  EXPECT_EQ(builtin_chat_format_for(token_set({"<|start_header_id|>"})), BuiltinChatFormat::kLlama3);
  EXPECT_EQ(builtin_chat_format_for(token_set({"<s>"})), BuiltinChatFormat::kPlain);

  // The built-in formats render a plain conversation exactly as the models' own templates do.
  absl::StatusOr<ChatTemplate> chatml = chat_template_for(std::nullopt, token_set({"<|im_start|>"}));
  ASSERT_TRUE(chatml.ok()) << chatml.status();
  EXPECT_EQ(render_ok(*chatml, conversation(), true, "", ""), kExpected_qwen);
  absl::StatusOr<ChatTemplate> llama3 = chat_template_for("", token_set({"<|start_header_id|>"}));
  ASSERT_TRUE(llama3.ok()) << llama3.status();
  EXPECT_EQ(render_ok(*llama3, conversation(), true, "<|begin_of_text|>", ""), kExpected_llama3);
  absl::StatusOr<ChatTemplate> plain = chat_template_for(std::nullopt, token_set({}));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(render_ok(*plain, json::parse(R"([{"role": "user", "content": " Hi "}])"), true, "", ""),
            "User: Hi\n\nAssistant:");

  // A GGUF template, when present, wins over the vocabulary.
  absl::StatusOr<ChatTemplate> own = chat_template_for(kPhi3Template, token_set({"<|im_start|>"}));
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->source(), kPhi3Template);
}

TEST(ChatTemplateTest, Gemma3GgufWithoutTemplateFallsBackToGemmaFormat) {
  std::unique_ptr<GgufFile> file = open_model("gemma-3-270m-q4_k_m.gguf");
  ASSERT_NE(file, nullptr);
  absl::StatusOr<std::string_view> source = file->get_string("tokenizer.chat_template");
  ASSERT_EQ(source.status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<const GgufArray*> tokens = file->get_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  std::set<std::string> vocab((*tokens)->strings.begin(), (*tokens)->strings.end());
  auto has_token = token_set(std::move(vocab));
  EXPECT_EQ(builtin_chat_format_for(has_token), BuiltinChatFormat::kGemma);
  absl::StatusOr<ChatTemplate> t = chat_template_for(std::nullopt, has_token);
  ASSERT_TRUE(t.ok()) << t.status();
  // Same prompt as Gemma 3's published template.
  EXPECT_EQ(render_ok(*t, conversation(), true, "<bos>", "<eos>"), kExpected_gemma);
  json parts =
      json::parse(R"([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                               {"role": "assistant", "content": null}])");
  EXPECT_EQ(render_ok(*t, parts, false, "<bos>", ""),
            "<bos><start_of_turn>user\nab<end_of_turn>\n<start_of_turn>model\n<end_of_turn>\n");
}

}  // namespace
}  // namespace strata
