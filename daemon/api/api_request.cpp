#include "api/api_request.h"

namespace ngxwatch {

using nlohmann::json;

std::string api_error(const std::string& message) {
  return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string api_resource_of(std::string_view line) {
  if (line.size() >= kMaxApiRequest) return "";
  json req = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!req.is_object() || !req.contains("get") || !req["get"].is_string()) return "";
  return req["get"].get<std::string>();
}

std::string handle_api_request(std::string_view line, const ApiRoutes& routes) {
  if (line.size() >= kMaxApiRequest)
    return api_error("request too large (max " + std::to_string(kMaxApiRequest) + " bytes)");
  json req = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (req.is_discarded()) return api_error("request is not JSON; send {\"get\":\"snapshot\"}");
  if (!req.is_object() || !req.contains("get") || !req["get"].is_string())
    return api_error("unknown request; send {\"get\":\"snapshot\"}");
  auto it = routes.find(req["get"].get<std::string>());
  if (it == routes.end()) {
    std::string known;
    for (const auto& [name, _] : routes) known += (known.empty() ? "" : ", ") + name;
    // The requested name is not echoed back: request bytes stay out of every output.
    return api_error("unknown resource; known: " + known);
  }
  try {
    return it->second().dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const std::exception& e) {
    return api_error(std::string("internal error: ") + e.what());
  }
}

}  // namespace ngxwatch
