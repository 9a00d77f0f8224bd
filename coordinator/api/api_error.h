// OpenAI-style error responses: {"error": {"message", "type", "param", "code"}} with the HTTP status that goes with
// them. Every failure the API layer reports, from malformed JSON to a full queue, is one of these.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"

namespace strata {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // the offending request field; empty: null
  std::string code;   // a machine-readable reason; empty: null
};

// 400 invalid_request_error naming `param`.
ApiError invalid_request(std::string message, std::string param = "");

// Maps an engine / library status onto HTTP: InvalidArgument and OutOfRange 400, NotFound 404,
// ResourceExhausted 429, Unauthenticated 401, everything else 500.
ApiError api_error_from_status(const absl::Status& status);

nlohmann::json api_error_json(const ApiError& error);

// Serializes JSON for the wire. Model output can hold any bytes (a token's piece may be half a UTF-8 character), so
// invalid UTF-8 becomes U+FFFD instead of an exception.
std::string dump_json(const nlohmann::json& value);

}  // namespace strata
