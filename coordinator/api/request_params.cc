#include "coordinator/api/request_params.h"

#include <cmath>
#include <limits>
#include <random>

#include "absl/strings/str_cat.h"

namespace strata {
namespace {

using nlohmann::json;

// Returns the enclosing function's ApiError when `expr` produced one.
#define API_RETURN_IF_ERROR(expr)   \
  do {                              \
    if (auto api_error_ = (expr)) { \
      return api_error_;            \
    }                               \
  } while (0)

constexpr size_t kMaxStopStrings = 16;

// The field when present; JSON null counts as absent, as OpenAI treats it.
const json* find_field(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<ApiError> type_error(const char* name, const char* expected) {
  return invalid_request(absl::StrCat("'", name, "' must be ", expected), name);
}

std::optional<ApiError> read_float(const json& body, const char* name, float* out) {
  const json* v = find_field(body, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) return type_error(name, "a number");
  const double d = v->get<double>();
  if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max()) return type_error(name, "a finite number");
  *out = static_cast<float>(d);
  return std::nullopt;
}

std::optional<ApiError> read_int(const json& body, const char* name, std::optional<int64_t>* out) {
  const json* v = find_field(body, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) return type_error(name, "an integer");
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return type_error(name, "an integer that fits 64 bits");
  }
  *out = v->get<int64_t>();
  return std::nullopt;
}

std::optional<ApiError> read_bool(const json& body, const char* name, bool* out) {
  const json* v = find_field(body, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) return type_error(name, "a boolean");
  *out = v->get<bool>();
  return std::nullopt;
}

// n and best_of: only one choice per request is generated.
std::optional<ApiError> require_one(const json& body, const char* name) {
  std::optional<int64_t> n;
  API_RETURN_IF_ERROR(read_int(body, name, &n));
  if (n && *n != 1) {
    return invalid_request(absl::StrCat("'", name, "' = ", *n,
                                        " is not supported: this server generates one choice "
                                        "per request (send several requests instead)"),
                           name);
  }
  return std::nullopt;
}

std::optional<ApiError> read_stop(const json& body, std::vector<std::string>* out) {
  const json* v = find_field(body, "stop");
  if (v == nullptr) return std::nullopt;
  auto add = [&](const json& s) -> std::optional<ApiError> {
    if (!s.is_string()) return type_error("stop", "a string or a list of strings");
    // An empty stop string would match before the first character; OpenAI ignores it too.
    if (!s.get_ref<const std::string&>().empty()) out->push_back(s.get<std::string>());
    return std::nullopt;
  };
  if (v->is_array()) {
    if (v->size() > kMaxStopStrings) {
      return invalid_request(
          absl::StrCat("'stop' has ", v->size(), " strings, at most ", kMaxStopStrings, " are supported"), "stop");
    }
    for (const json& s : *v) API_RETURN_IF_ERROR(add(s));
    return std::nullopt;
  }
  return add(*v);
}

std::optional<ApiError> read_common(const json& body, GenerationParams* p) {
  if (!body.is_object()) return invalid_request("the request body must be a JSON object");
  if (const json* model = find_field(body, "model")) {
    if (!model->is_string()) return type_error("model", "a string");
    p->model = model->get<std::string>();
  }
  API_RETURN_IF_ERROR(require_one(body, "n"));
  API_RETURN_IF_ERROR(require_one(body, "best_of"));

  SamplingParams& s = p->sampling;
  s.temperature = 1.0f;  // OpenAI's default; temperature 0 asks for greedy decoding
  API_RETURN_IF_ERROR(read_float(body, "temperature", &s.temperature));
  API_RETURN_IF_ERROR(read_float(body, "top_p", &s.top_p));
  API_RETURN_IF_ERROR(read_float(body, "min_p", &s.min_p));
  API_RETURN_IF_ERROR(read_float(body, "presence_penalty", &s.presence_penalty));
  API_RETURN_IF_ERROR(read_float(body, "frequency_penalty", &s.frequency_penalty));
  API_RETURN_IF_ERROR(read_float(body, "repetition_penalty", &s.repetition_penalty));
  std::optional<int64_t> top_k;
  API_RETURN_IF_ERROR(read_int(body, "top_k", &top_k));
  if (top_k) {
    // vLLM spells "off" as -1, llama.cpp as 0.
    if (*top_k < -1 || *top_k > std::numeric_limits<int32_t>::max()) {
      return invalid_request(absl::StrCat("'top_k' = ", *top_k, " is out of range (-1 or 0: off)"), "top_k");
    }
    s.top_k = *top_k == -1 ? 0 : static_cast<int32_t>(*top_k);
  }
  std::optional<int64_t> seed;
  if (const json* v = find_field(body, "seed"); v != nullptr && v->is_number_unsigned()) {
    s.seed = v->get<uint64_t>();  // the whole unsigned range is a fine seed
  } else {
    API_RETURN_IF_ERROR(read_int(body, "seed", &seed));
    // Without a seed every request must still sample differently.
    s.seed = seed ? static_cast<uint64_t>(*seed)
                  : (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  }

  API_RETURN_IF_ERROR(read_stop(body, &p->stop));
  API_RETURN_IF_ERROR(read_bool(body, "stream", &p->stream));
  API_RETURN_IF_ERROR(read_bool(body, "ignore_eos", &p->ignore_eos));
  if (const json* opts = find_field(body, "stream_options")) {
    if (!opts->is_object()) return type_error("stream_options", "an object");
    if (const json* u = find_field(*opts, "include_usage")) {
      if (!u->is_boolean()) return type_error("stream_options.include_usage", "a boolean");
      p->include_usage = u->get<bool>();
    }
  }
  return std::nullopt;
}

std::optional<ApiError> read_max_tokens(const json& body, const char* name, GenerationParams* p) {
  std::optional<int64_t> n;
  API_RETURN_IF_ERROR(read_int(body, name, &n));
  if (!n) return std::nullopt;
  if (*n < 1) return invalid_request(absl::StrCat("'", name, "' = ", *n, " must be at least 1"), name);
  p->max_tokens = n;
  return std::nullopt;
}

// A message's content as one string: a string, null (an assistant turn that only called tools), or a list of text
// parts. Other parts (images, audio) are refused: this server's models read text.
std::optional<ApiError> read_content(const json& message, size_t index, std::string* out) {
  const std::string param = absl::StrCat("messages[", index, "].content");
  const json* content = find_field(message, "content");
  if (content == nullptr) return std::nullopt;
  if (content->is_string()) {
    *out = content->get<std::string>();
    return std::nullopt;
  }
  if (!content->is_array())
    return invalid_request(absl::StrCat("'", param, "' must be a string or a list of parts"), param);
  for (const json& part : *content) {
    const json* type = part.is_object() ? find_field(part, "type") : nullptr;
    const json* text = part.is_object() ? find_field(part, "text") : nullptr;
    if (type == nullptr || !type->is_string() || type->get<std::string>() != "text" || text == nullptr ||
        !text->is_string()) {
      return invalid_request(absl::StrCat("'", param, "' may only hold parts {\"type\": \"text\", \"text\": string}"),
                             param);
    }
    *out += text->get<std::string>();
  }
  return std::nullopt;
}

// SamplingParams::validate's message starts with the parameter's name ("top_p = 7 is out of range (0, 1]").
std::optional<ApiError> validate_sampling(const SamplingParams& sampling) {
  const absl::Status s = sampling.validate();
  if (s.ok()) return std::nullopt;
  const std::string message(s.message());
  const size_t name_end = message.find(" = ");
  return invalid_request(message, name_end == std::string::npos ? "" : message.substr(0, name_end));
}

}  // namespace

std::optional<ApiError> parse_chat_request(const json& body, ChatRequest* out) {
  GenerationParams& p = out->params;
  API_RETURN_IF_ERROR(read_common(body, &p));
  API_RETURN_IF_ERROR(read_max_tokens(body, "max_tokens", &p));
  API_RETURN_IF_ERROR(read_max_tokens(body, "max_completion_tokens", &p));  // the newer name wins

  API_RETURN_IF_ERROR(read_bool(body, "logprobs", &p.logprobs));
  p.sampling.logprobs = p.logprobs;
  std::optional<int64_t> top;
  API_RETURN_IF_ERROR(read_int(body, "top_logprobs", &top));
  if (top) {
    if (!p.logprobs) return invalid_request("'top_logprobs' needs 'logprobs': true", "top_logprobs");
    if (*top < 0 || *top > 20) return invalid_request("'top_logprobs' must be in [0, 20]", "top_logprobs");
    p.sampling.top_logprobs = static_cast<int32_t>(*top);
  }

  const json* messages = find_field(body, "messages");
  if (messages == nullptr) return invalid_request("'messages' is required", "messages");
  if (!messages->is_array() || messages->empty()) return type_error("messages", "a non-empty list of messages");
  out->messages = json::array();
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    const std::string param = absl::StrCat("messages[", i, "]");
    if (!m.is_object()) return invalid_request(absl::StrCat("'", param, "' must be an object"), param);
    const json* role = find_field(m, "role");
    if (role == nullptr || !role->is_string() || role->get_ref<const std::string&>().empty()) {
      return invalid_request(absl::StrCat("'", param, ".role' must be a non-empty string"), param + ".role");
    }
    std::string content;
    API_RETURN_IF_ERROR(read_content(m, i, &content));
    json normalized = m;  // other fields (name, tool_calls) stay for templates that use them
    normalized["content"] = std::move(content);
    out->messages.push_back(std::move(normalized));
  }
  return validate_sampling(p.sampling);
}

std::optional<ApiError> parse_completion_request(const json& body, CompletionRequest* out) {
  GenerationParams& p = out->params;
  API_RETURN_IF_ERROR(read_common(body, &p));
  API_RETURN_IF_ERROR(read_max_tokens(body, "max_tokens", &p));
  if (!p.max_tokens) p.max_tokens = 16;  // the legacy endpoint's documented default

  // The legacy endpoint's logprobs is the number of alternatives (0: only the chosen token's logprob).
  std::optional<int64_t> logprobs;
  API_RETURN_IF_ERROR(read_int(body, "logprobs", &logprobs));
  if (logprobs) {
    if (*logprobs < 0 || *logprobs > 20) return invalid_request("'logprobs' must be in [0, 20]", "logprobs");
    p.logprobs = p.sampling.logprobs = true;
    p.sampling.top_logprobs = static_cast<int32_t>(*logprobs);
  }
  bool echo = false;
  API_RETURN_IF_ERROR(read_bool(body, "echo", &echo));
  if (echo) return invalid_request("'echo' is not supported", "echo");
  if (find_field(body, "suffix") != nullptr) return invalid_request("'suffix' is not supported", "suffix");

  const json* prompt = find_field(body, "prompt");
  if (prompt == nullptr) return invalid_request("'prompt' is required", "prompt");
  const json* single = prompt;
  if (prompt->is_array() && !prompt->empty() && (prompt->front().is_string() || prompt->front().is_array())) {
    if (prompt->size() != 1) {
      return invalid_request("one prompt per request is supported (send several requests instead)", "prompt");
    }
    single = &prompt->front();
  }
  if (single->is_string()) {
    out->prompt = single->get<std::string>();
    if (out->prompt.empty()) return invalid_request("'prompt' is empty", "prompt");
  } else if (single->is_array() && !single->empty()) {
    out->prompt_is_tokens = true;
    for (const json& t : *single) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
        return invalid_request("'prompt' token ids must be non-negative integers", "prompt");
      }
      out->prompt_tokens.push_back(static_cast<int32_t>(t.get<int64_t>()));
    }
  } else {
    return type_error("prompt", "a non-empty string or a list of token ids");
  }
  return validate_sampling(p.sampling);
}

}  // namespace strata
