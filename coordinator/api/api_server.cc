#include "coordinator/api/api_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "coordinator/api/http_response.h"
#include "coordinator/api/request_params.h"

namespace strata {
namespace {

using nlohmann::json;

constexpr int kMaxJsonDepth = 64;

struct Route {
  const char* path;
  const char* method;
};
constexpr Route kRoutes[] = {{"/v1/chat/completions", "POST"},
                             {"/v1/completions", "POST"},
                             {"/v1/models", "GET"},
                             {"/health", "GET"},
                             {"/metrics", "GET"}};

// Nesting depth of a JSON text, found without parsing it: a body of a million '[' must be refused before anything
// recursive (the chat template, a dump) ever walks it.
int json_depth(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

// Compares without an early exit, so response timing does not reveal how much of a guessed key was right (the key's
// length is no secret).
bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// The answer to a request cpp-httplib refused or routed nowhere (it calls this for every status >= 400, so responses
// that already carry a body are left alone).
void answer_unrouted(const httplib::Request& req, httplib::Response& res) {
  if (!res.body.empty()) return;
  ApiError e;
  e.status = res.status;
  switch (res.status) {
    case 404: {
      std::string allowed;
      for (const Route& r : kRoutes) {
        if (req.path == r.path) allowed = r.method;
      }
      if (!allowed.empty()) {
        e.status = 405;
        e.code = "method_not_allowed";
        e.message = absl::StrCat("method ", req.method, " is not allowed on ", req.path, "; use ", allowed);
        res.set_header("Allow", allowed);
      } else {
        e.code = "unknown_url";
        e.message = absl::StrCat("unknown route: ", req.method, " ", req.path);
      }
      break;
    }
    case 413:
      e.code = "payload_too_large";
      e.message = "the request body is larger than this server accepts";
      break;
    case 414:
      e.message = "the request URI is too long";
      break;
    default:
      if (res.status >= 500) e.type = "server_error";
      e.message = absl::StrCat("the request could not be processed (HTTP ", res.status, ")");
      break;
  }
  send_error(res, e);
}

}  // namespace

ApiServer::ApiServer(const ApiServerOptions& options, LlmEngine& engine, const Tokenizer& tokenizer,
                     const ChatPrompt& chat, ServerMetrics* metrics)
    : options_(options), chat_(chat) {
  ctx_.engine = &engine;
  ctx_.tokenizer = &tokenizer;
  ctx_.metrics = metrics;
  ctx_.served_model = options.served_model_name;
  const int threads = std::max(options.http_threads, 4);
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_.set_payload_max_length(options.max_body_bytes);
  http_.set_tcp_nodelay(true);  // one SSE chunk per token: do not let Nagle hold tokens back
  http_.set_keep_alive_max_count(1000);
  register_routes();
}

ApiServer::~ApiServer() { stop(); }

void ApiServer::register_routes() {
  // Handlers read their bodies themselves: cpp-httplib 0.11 applies the payload limit to Content-Length bodies only,
  // and a chunked upload must not be able to grow without bound either.
  http_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res,
                                            const httplib::ContentReader& reader) { handle_chat(req, res, reader); });
  http_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res,
                                       const httplib::ContentReader& reader) { handle_completion(req, res, reader); });
  http_.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) { handle_models(req, res); });
  http_.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, {{"status", "ok"}});
  });
  http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(ctx_.metrics ? ctx_.metrics->serialize() : std::string(),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  http_.set_error_handler([](const httplib::Request& req, httplib::Response& res) { answer_unrouted(req, res); });
  http_.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("{} {}: internal error: {}", req.method, req.path, what);
    ApiError e;
    e.status = 500;
    e.type = "server_error";
    e.message = absl::StrCat("internal error: ", what);
    send_error(res, e);
  });
  http_.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    spdlog::debug("{} {} -> {}", req.method, req.path, res.status);
  });
}

absl::Status ApiServer::bind() {
  if (options_.port == 0) {
    port_ = http_.bind_to_any_port(options_.host);
    if (port_ <= 0) return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.host));
  } else {
    if (!http_.bind_to_port(options_.host, options_.port)) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options_.host, ":", options_.port, " (in use, or not an address here)"));
    }
    port_ = options_.port;
  }
  return absl::OkStatus();
}

void ApiServer::run() {
  if (!stop_requested_) http_.listen_after_bind();
}

void ApiServer::stop() {
  stop_requested_ = true;
  if (http_.is_running()) http_.stop();
}

bool ApiServer::authorized(const httplib::Request& req, httplib::Response& res) const {
  if (options_.api_key.empty()) return true;
  const std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() > kBearer.size() && std::string_view(header).substr(0, kBearer.size()) == kBearer &&
      equal_constant_time(std::string_view(header).substr(kBearer.size()), options_.api_key)) {
    return true;
  }
  ApiError e;
  e.status = 401;
  e.code = "invalid_api_key";
  e.message = header.empty() ? "missing API key: send the header 'Authorization: Bearer KEY'" : "invalid API key";
  send_error(res, e);
  return false;
}

void ApiServer::reject(httplib::Response& res, const ApiError& error) {
  if (ctx_.metrics) ctx_.metrics->request_rejected_total->Increment();
  send_error(res, error);
}

bool ApiServer::read_body(const httplib::ContentReader& reader, httplib::Response& res, std::string* body) {
  std::string& text = *body;
  bool too_large = false;
  const bool complete = reader([&](const char* data, size_t n) {
    if (text.size() + n > options_.max_body_bytes) {
      too_large = true;
      return false;
    }
    text.append(data, n);
    return true;
  });
  if (too_large || res.status == 413) {  // 413: cpp-httplib refused a Content-Length over the limit
    ApiError e;
    e.status = 413;
    e.code = "payload_too_large";
    e.message = absl::StrCat("the request body is larger than the ", options_.max_body_bytes, " bytes accepted");
    res.set_header("Connection", "close");  // the rest of the body was never read
    reject(res, e);
    return false;
  }
  if (!complete) {
    res.set_header("Connection", "close");
    reject(res, invalid_request("the request body could not be read"));
    return false;
  }
  return true;
}

bool ApiServer::parse_body(const std::string& text, httplib::Response& res, json* body) {
  if (json_depth(text) > kMaxJsonDepth) {
    reject(res, invalid_request(absl::StrCat("the JSON body nests deeper than ", kMaxJsonDepth, " levels")));
    return false;
  }
  try {
    *body = json::parse(text);
  } catch (const json::parse_error& e) {
    reject(res, invalid_request(absl::StrCat("the body is not valid JSON: ", e.what())));
    return false;
  }
  return true;
}

bool ApiServer::check_model(const std::string& model, httplib::Response& res) {
  if (model.empty() || model == ctx_.served_model) return true;
  ApiError e;
  e.status = 404;
  e.code = "model_not_found";
  e.param = "model";
  e.message = absl::StrCat("The model `", model, "` does not exist. This server serves `", ctx_.served_model, "`.");
  reject(res, e);
  return false;
}

void ApiServer::handle_chat(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  std::string text;
  json body;
  if (!read_body(reader, res, &text) || !authorized(req, res) || !parse_body(text, res, &body)) return;
  ChatRequest chat;
  if (auto error = parse_chat_request(body, &chat)) return reject(res, *error);
  if (!check_model(chat.params.model, res)) return;
  absl::StatusOr<std::vector<int32_t>> prompt = chat_.build(chat.messages);
  if (!prompt.ok()) {
    ApiError e = api_error_from_status(prompt.status());
    e.param = "messages";
    return reject(res, e);
  }
  serve_generation(ctx_, ApiKind::kChat, chat.params, std::move(*prompt), "messages", res);
}

void ApiServer::handle_completion(const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& reader) {
  std::string text;
  json body;
  if (!read_body(reader, res, &text) || !authorized(req, res) || !parse_body(text, res, &body)) return;
  CompletionRequest completion;
  if (auto error = parse_completion_request(body, &completion)) return reject(res, *error);
  if (!check_model(completion.params.model, res)) return;
  std::vector<int32_t> prompt = completion.prompt_is_tokens
                                    ? std::move(completion.prompt_tokens)
                                    : ctx_.tokenizer->encode(completion.prompt, /*add_special=*/true,
                                                             /*parse_special=*/true);
  serve_generation(ctx_, ApiKind::kCompletion, completion.params, std::move(prompt), "prompt", res);
}

void ApiServer::handle_models(const httplib::Request& req, httplib::Response& res) {
  if (!authorized(req, res)) return;
  static const int64_t created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  json model = {{"id", ctx_.served_model},
                {"object", "model"},
                {"created", created},
                {"owned_by", "strata"},
                {"max_model_len", ctx_.engine->max_model_len()}};
  send_json(res, 200, {{"object", "list"}, {"data", json::array({model})}});
}

}  // namespace strata
