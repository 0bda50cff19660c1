// One request of the local API: a line of JSON like {"get":"snapshot"} in, one line of
// JSON out. Anything else (not JSON, not an object, an unknown verb or resource) gets
// {"error": "..."} so a client always learns what went wrong; nothing here throws.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace ngxwatch {

// Resources served by {"get": NAME}.
using ApiRoutes = std::map<std::string, std::function<nlohmann::json()>>;

inline constexpr size_t kMaxApiRequest = 4096;  // bytes, newline included

// The reply line (without the trailing newline) to one request line.
std::string handle_api_request(std::string_view line, const ApiRoutes& routes);

// The NAME of a well-formed {"get": NAME} request, else "".
std::string api_resource_of(std::string_view line);

// {"error": message} as a line.
std::string api_error(const std::string& message);

}  // namespace ngxwatch
