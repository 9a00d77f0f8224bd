// Writing JSON and OpenAI-style errors into cpp-httplib responses.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "coordinator/api/api_error.h"

namespace strata {

void send_json(httplib::Response& res, int status, const nlohmann::json& body);
void send_error(httplib::Response& res, const ApiError& error);

}  // namespace strata
