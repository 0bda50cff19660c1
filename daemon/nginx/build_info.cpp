#include "nginx/build_info.h"

namespace ngxwatch::nginx {

namespace {

// Splits configure arguments on spaces, honouring the single quotes nginx -V keeps
// around values such as --with-cc-opt='-g -O2'.
std::vector<std::string> split_args(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_quote = false;
  bool have = false;
  for (char c : s) {
    if (c == '\'') {
      in_quote = !in_quote;
      have = true;
      continue;
    }
    if (!in_quote && (c == ' ' || c == '\t' || c == '\r')) {
      if (have) out.push_back(cur);
      cur.clear();
      have = false;
      continue;
    }
    cur.push_back(c);
    have = true;
  }
  if (have) out.push_back(cur);
  return out;
}

std::string absolute(const std::string& prefix, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return prefix + (prefix.empty() || prefix.back() == '/' ? "" : "/") + path;
}

}  // namespace

BuildInfo parse_nginx_V(std::string_view text) {
  BuildInfo info;
  std::string body_temp, proxy_temp, conf;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    static constexpr std::string_view kVersion = "nginx version: ";
    static constexpr std::string_view kArgs = "configure arguments:";
    if (line.substr(0, kVersion.size()) == kVersion) {
      std::string_view v = line.substr(kVersion.size());
      size_t slash = v.find('/');
      if (slash != std::string_view::npos) v = v.substr(slash + 1);
      size_t sp = v.find(' ');
      info.version = std::string(v.substr(0, sp));
    } else if (line.substr(0, kArgs.size()) == kArgs) {
      info.configure_args = split_args(line.substr(kArgs.size()));
    }
  }
  for (const std::string& a : info.configure_args) {
    auto value_of = [&a](std::string_view opt) -> const char* {
      return a.compare(0, opt.size(), opt) == 0 ? a.c_str() + opt.size() : nullptr;
    };
    if (const char* v = value_of("--prefix=")) info.prefix = v;
    if (const char* v = value_of("--http-client-body-temp-path=")) body_temp = v;
    if (const char* v = value_of("--http-proxy-temp-path=")) proxy_temp = v;
    if (const char* v = value_of("--conf-path=")) conf = v;
  }
  while (info.prefix.size() > 1 && info.prefix.back() == '/') info.prefix.pop_back();
  info.client_body_temp_path =
      absolute(info.prefix, body_temp.empty() ? "client_body_temp" : body_temp);
  info.proxy_temp_path = absolute(info.prefix, proxy_temp.empty() ? "proxy_temp" : proxy_temp);
  info.conf_path = absolute(info.prefix, conf.empty() ? "conf/nginx.conf" : conf);
  return info;
}

}  // namespace ngxwatch::nginx
