// The OpenAI-compatible HTTP server of `strata serve`: POST /v1/chat/completions, POST /v1/completions,
// GET /v1/models, GET /health and GET /metrics, with optional bearer-key auth on /v1/*. Every failure is answered
// with an OpenAI-style JSON error; no request can take the server down.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "core/chat/chat_prompt.h"
#include "coordinator/api/generation_handler.h"

namespace strata {

struct ApiServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;      // 0: any free port (see port())
  std::string api_key;  // empty: no auth
  std::string served_model_name;
  size_t max_body_bytes = 8 * 1024 * 1024;  // larger bodies get 413
  int http_threads = 64;                    // a streaming response holds one thread for its whole life
};

class ApiServer {
 public:
  // `engine`, `tokenizer`, `chat` and `metrics` (may be null) must outlive the server.
  ApiServer(const ApiServerOptions& options, LlmEngine& engine, const Tokenizer& tokenizer, const ChatPrompt& chat,
            ServerMetrics* metrics);
  ~ApiServer();

  absl::Status bind();  // binds the listening socket (port 0 picks a free port)
  int port() const { return port_; }
  void run();   // serves until stop(); call after bind()
  void stop();  // safe from any thread (a signal handler's helper thread included)

 private:
  void register_routes();
  bool authorized(const httplib::Request& req, httplib::Response& res) const;
  void handle_chat(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void handle_completion(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void handle_models(const httplib::Request& req, httplib::Response& res);
  // Reads the body, at most max_body_bytes however it is sent; false after answering with an error.
  bool read_body(const httplib::ContentReader& reader, httplib::Response& res, std::string* text);
  // Parses it as JSON; false after answering with an error.
  bool parse_body(const std::string& text, httplib::Response& res, nlohmann::json* body);
  bool check_model(const std::string& model, httplib::Response& res);
  void reject(httplib::Response& res, const ApiError& error);

  ApiServerOptions options_;
  GenerationContext ctx_;
  const ChatPrompt& chat_;
  httplib::Server http_;
  int port_ = 0;
  std::atomic<bool> stop_requested_{false};  // stop() before run() started listening
};

}  // namespace strata
