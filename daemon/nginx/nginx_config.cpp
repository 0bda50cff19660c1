#include "nginx/nginx_config.h"

namespace ngxwatch::nginx {

Config load_from_file(const std::string& conf_path, const std::string& prefix,
                      const BuildInfo& build) {
  std::string path = conf_path;
  if (!path.empty() && path[0] != '/' && !prefix.empty()) {
    path = prefix + (prefix.back() == '/' ? "" : "/") + path;
  }
  return Config::build(parse_file(path), build);
}

Config load_from_dump(std::string_view nginx_T_text, const BuildInfo& build) {
  return Config::build(parse_nginx_T(nginx_T_text), build);
}

}  // namespace ngxwatch::nginx
