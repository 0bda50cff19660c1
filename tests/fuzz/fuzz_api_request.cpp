// Fuzzes the local API's request line (any local client may connect): whatever it
// sends, the reply is one line holding one JSON object, and a resource name is only
// returned for a well-formed {"get": NAME}.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "api/api_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nlohmann::json;
  std::string_view line(reinterpret_cast<const char*>(data), size);
  static const ngxwatch::ApiRoutes routes = {
      {"snapshot",
       [] {
         return json{{"version", 1}, {"rows", json::array()}};
       }},
      // Bytes that are not UTF-8 in a reply (captured request text) must not throw.
      {"bytes",
       [] {
         return json{{"request", std::string("GET /\xff\xfe HTTP/1.1")}};
       }},
      {"fails", []() -> json { throw std::runtime_error("route failed"); }},
  };
  std::string reply = ngxwatch::handle_api_request(line, routes);
  if (reply.find('\n') != std::string::npos) __builtin_trap();  // one line per request
  json parsed = json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) __builtin_trap();
  std::string name = ngxwatch::api_resource_of(line);
  // A resource is named only by a request the handler would route (or reject as unknown).
  if (!name.empty() && routes.count(name) && parsed.contains("error") && name != "fails")
    __builtin_trap();
  return 0;
}
