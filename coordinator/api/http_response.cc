#include "coordinator/api/http_response.h"

namespace strata {

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(dump_json(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& error) {
  send_json(res, error.status, api_error_json(error));
  if (error.status == 401) res.set_header("WWW-Authenticate", "Bearer");
}

}  // namespace strata
