// libFuzzer target for the nginx config model: tokenizer, parser (includes served
// from memory, so nothing outside the input is read), model building, effective
// values, location matching, proxy_pass mapping, and the nginx -T / -V parsers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "nginx/build_info.h"
#include "nginx/config_model.h"
#include "nginx/config_parser.h"
#include "nginx/location_matcher.h"
#include "nginx/proxy_target.h"
#include "nginx/server_selector.h"
#include "nginx/units.h"
#include "nginx/uri_normalize.h"

using namespace ngxwatch::nginx;

namespace {

void exercise_model(const Config& c) {
  static const char* kTargets[] = {"/", "/a/b.php", "/api/../x?y", "//%2e%2e/", "/x/y/"};
  static const char* kNames[] = {"proxy_read_timeout", "proxy_set_header", "allow",
                                 "client_max_body_size", "proxy_pass"};
  for (const auto& s : c.servers()) {
    for (const char* t : kTargets) (void)match_request(*s, t);
  }
  (void)select_server(c, "127.0.0.1", 80, "www.example.com");
  for (const Location* l : c.all_locations()) {
    for (const char* n : kNames) (void)c.effective(*l, n).value();
    (void)proxy_target(c, *l);
  }
  for (const auto& u : c.upstreams()) (void)c.effective(*u, "keepalive_timeout").origin();
  (void)locations_for_upstream_uri(c, "/v2/users?id=1");
  // No DNS in the fuzzer: names resolve to nothing, literals still index.
  PeerIndex peers(c, [](const std::string& host) -> std::vector<std::string> {
    return host.find_first_not_of("0123456789.:[]") == std::string::npos
               ? std::vector<std::string>{host}
               : std::vector<std::string>{};
  });
  (void)peers.lookup("127.0.0.1:80");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ParseLimits limits;
  limits.max_total_bytes = 4u << 20;
  limits.max_include_depth = 4;
  limits.max_includes = 32;
  // "include self.conf" re-reads the input (include loops hit the depth bound);
  // conf.d/*.conf globs over two fixed files.
  MemoryResolver files({{"/fuzz/self.conf", std::string(text)},
                        {"/fuzz/conf.d/a.conf", "server { listen 81; location /a/ { } }"},
                        {"/fuzz/conf.d/b.conf", "upstream b { server 10.0.0.1:80; }"}});
  try {
    Config c = Config::build(parse_text(text, "/fuzz/nginx.conf", files, "/fuzz", limits));
    exercise_model(c);
  } catch (const ConfigError&) {
  }
  try {
    (void)parse_nginx_T(text, limits);
  } catch (const ConfigError&) {
  }
  (void)normalize_uri(text);
  (void)parse_time(text);
  (void)parse_size(text);
  (void)parse_nginx_V(text);
  return 0;
}
