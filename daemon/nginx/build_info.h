#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ngxwatch::nginx {

// What `nginx -V` tells about the binary: version and compiled-in paths.
struct BuildInfo {
  std::string version;  // "1.22.1"
  std::string prefix = "/usr/local/nginx";
  std::string conf_path;              // --conf-path, absolute
  std::string client_body_temp_path;  // absolute
  std::string proxy_temp_path;        // absolute
  std::vector<std::string> configure_args;
};

// Parses `nginx -V` output (stderr text). Missing options take nginx's defaults:
// <prefix>/client_body_temp, <prefix>/proxy_temp, <prefix>/conf/nginx.conf.
BuildInfo parse_nginx_V(std::string_view text);

}  // namespace ngxwatch::nginx
