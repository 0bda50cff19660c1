#include "classify/duplicate_risk.h"

namespace ngxwatch {

std::string risky_method(const std::string& method) {
  if (method == "POST" || method == "PUT" || method == "PATCH") return method;
  return "";
}

bool duplicate_risk(const std::string& method, const std::string& phase, const std::string& cause) {
  if (risky_method(method).empty()) return false;
  // read_header / read_body: the whole request had been written to the backend (the
  // classifier says send_request while any of it was still unsent).
  if (phase != "read_header" && phase != "read_body") return false;
  return cause == "upstream_reset_before_header" || cause == "upstream_closed_before_header" ||
         cause == "read_timeout" || cause == "upstream_reset_mid_response";
}

}  // namespace ngxwatch
