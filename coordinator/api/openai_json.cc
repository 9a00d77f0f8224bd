#include "coordinator/api/openai_json.h"

#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"

namespace strata {
namespace {

using nlohmann::json;

std::string random_hex(int n) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n, '0');
  for (char& c : out) c = kHex[rng() & 15];
  return out;
}

json bytes_json(const std::string& piece) {
  json out = json::array();
  for (unsigned char c : piece) out.push_back(static_cast<int>(c));
  return out;
}

json chat_logprobs(const Tokenizer& tokenizer, const std::vector<GeneratedToken>& tokens) {
  json content = json::array();
  for (const GeneratedToken& t : tokens) {
    const std::string piece = tokenizer.token_to_piece(t.token, /*render_special=*/true);
    json top = json::array();
    for (const TokenLogprob& alt : t.top) {
      const std::string alt_piece = tokenizer.token_to_piece(alt.token, true);
      top.push_back({{"token", alt_piece}, {"logprob", alt.logprob}, {"bytes", bytes_json(alt_piece)}});
    }
    content.push_back({{"token", piece}, {"logprob", t.logprob}, {"bytes", bytes_json(piece)}, {"top_logprobs", top}});
  }
  return {{"content", content}};
}

json completion_logprobs(const Tokenizer& tokenizer, const std::vector<GeneratedToken>& tokens) {
  json out = {{"tokens", json::array()},
              {"token_logprobs", json::array()},
              {"top_logprobs", json::array()},
              {"text_offset", json::array()}};
  for (const GeneratedToken& t : tokens) {
    out["tokens"].push_back(tokenizer.token_to_piece(t.token, true));
    out["token_logprobs"].push_back(t.logprob);
    json top = json::object();
    for (const TokenLogprob& alt : t.top) top[tokenizer.token_to_piece(alt.token, true)] = alt.logprob;
    out["top_logprobs"].push_back(top);
    out["text_offset"].push_back(t.text_offset);
  }
  return out;
}

json base(const ResponseHeader& header, const char* object) {
  return {{"id", header.id}, {"object", object}, {"created", header.created}, {"model", header.model}};
}

}  // namespace

ResponseHeader make_response_header(ApiKind kind, std::string model, bool logprobs) {
  ResponseHeader h;
  h.kind = kind;
  h.id = absl::StrCat(kind == ApiKind::kChat ? "chatcmpl-" : "cmpl-", random_hex(24));
  h.created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  h.model = std::move(model);
  h.logprobs = logprobs;
  return h;
}

json usage_json(int64_t prompt_tokens, int64_t completion_tokens) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens}};
}

json logprobs_json(const ResponseHeader& header, const Tokenizer& tokenizer,
                   const std::vector<GeneratedToken>& tokens) {
  if (!header.logprobs) return nullptr;
  return header.kind == ApiKind::kChat ? chat_logprobs(tokenizer, tokens) : completion_logprobs(tokenizer, tokens);
}

json stream_chunk(const ResponseHeader& header, const Tokenizer& tokenizer, const TextDelta& delta,
                  const std::optional<std::string>& finish_reason, bool role_only, bool with_usage_field) {
  json choice = {{"index", 0}};
  if (header.kind == ApiKind::kChat) {
    json d = json::object();
    if (role_only) {
      d = {{"role", "assistant"}, {"content", ""}};
    } else if (!delta.text.empty() || !finish_reason) {
      d["content"] = delta.text;
    }
    choice["delta"] = d;
  } else {
    choice["text"] = delta.text;
  }
  choice["logprobs"] = delta.tokens.empty() ? json(nullptr) : logprobs_json(header, tokenizer, delta.tokens);
  choice["finish_reason"] = finish_reason ? json(*finish_reason) : json(nullptr);
  json chunk = base(header, header.kind == ApiKind::kChat ? "chat.completion.chunk" : "text_completion");
  chunk["choices"] = json::array({choice});
  if (with_usage_field) chunk["usage"] = nullptr;
  return chunk;
}

json stream_usage_chunk(const ResponseHeader& header, int64_t prompt_tokens, int64_t completion_tokens) {
  json chunk = base(header, header.kind == ApiKind::kChat ? "chat.completion.chunk" : "text_completion");
  chunk["choices"] = json::array();
  chunk["usage"] = usage_json(prompt_tokens, completion_tokens);
  return chunk;
}

json full_response(const ResponseHeader& header, const Tokenizer& tokenizer, const std::string& text,
                   const std::vector<GeneratedToken>& tokens, const std::string& finish_reason, int64_t prompt_tokens,
                   int64_t completion_tokens) {
  json choice = {{"index", 0}};
  if (header.kind == ApiKind::kChat) {
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    choice["text"] = text;
  }
  choice["logprobs"] = logprobs_json(header, tokenizer, tokens);
  choice["finish_reason"] = finish_reason;
  json out = base(header, header.kind == ApiKind::kChat ? "chat.completion" : "text_completion");
  out["choices"] = json::array({choice});
  out["usage"] = usage_json(prompt_tokens, completion_tokens);
  return out;
}

}  // namespace strata
