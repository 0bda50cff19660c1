#include "nginx/defaults.h"

#include <array>
#include <utility>

namespace ngxwatch::nginx {

namespace {

using Entry = std::pair<std::string_view, std::string_view>;

// From the nginx 1.22 module sources' merge functions (x86-64: page size 4k, so
// "one page" buffers are 4k and "two pages" 8k/16k as noted).
constexpr std::array kHttp = {
    Entry{"proxy_read_timeout", "60s"},
    Entry{"proxy_send_timeout", "60s"},
    Entry{"proxy_connect_timeout", "60s"},
    Entry{"proxy_request_buffering", "on"},
    Entry{"proxy_buffering", "on"},
    Entry{"proxy_http_version", "1.0"},
    Entry{"proxy_buffer_size", "4k"},
    Entry{"proxy_buffers", "8 4k"},
    Entry{"proxy_busy_buffers_size", "8k"},
    Entry{"proxy_max_temp_file_size", "1024m"},
    Entry{"proxy_temp_file_write_size", "8k"},
    Entry{"proxy_next_upstream", "error timeout"},
    Entry{"proxy_next_upstream_tries", "0"},
    Entry{"proxy_next_upstream_timeout", "0"},
    Entry{"proxy_ignore_client_abort", "off"},
    Entry{"proxy_socket_keepalive", "off"},
    Entry{"proxy_intercept_errors", "off"},
    Entry{"client_max_body_size", "1m"},
    Entry{"client_body_timeout", "60s"},
    Entry{"client_header_timeout", "60s"},
    Entry{"client_body_buffer_size", "16k"},
    Entry{"client_header_buffer_size", "1k"},
    Entry{"large_client_header_buffers", "4 8k"},
    Entry{"client_body_in_file_only", "off"},
    Entry{"client_body_in_single_buffer", "off"},
    Entry{"keepalive_timeout", "75s"},
    Entry{"keepalive_requests", "1000"},
    Entry{"keepalive_time", "1h"},
    Entry{"send_timeout", "60s"},
    Entry{"lingering_close", "on"},
    Entry{"lingering_time", "30s"},
    Entry{"lingering_timeout", "5s"},
    Entry{"reset_timedout_connection", "off"},
    Entry{"sendfile", "off"},
    Entry{"tcp_nodelay", "on"},
    Entry{"tcp_nopush", "off"},
    Entry{"merge_slashes", "on"},
};

constexpr std::array kUpstream = {
    Entry{"keepalive_timeout", "60s"},
    Entry{"keepalive_requests", "1000"},
    Entry{"keepalive_time", "1h"},
};

constexpr std::array kMain = {
    Entry{"worker_processes", "1"},
    Entry{"worker_rlimit_nofile", ""},
};

constexpr std::array kEvents = {
    Entry{"worker_connections", "512"},
    Entry{"multi_accept", "off"},
    Entry{"accept_mutex", "off"},
};

template <typename Table>
std::optional<std::string> lookup(const Table& table, std::string_view name) {
  for (const auto& [k, v] : table) {
    if (k == name && !v.empty()) return std::string(v);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> default_value(DirectiveContext ctx, std::string_view name,
                                         const BuildInfo& build) {
  switch (ctx) {
    case DirectiveContext::kMain:
      return lookup(kMain, name);
    case DirectiveContext::kEvents:
      return lookup(kEvents, name);
    case DirectiveContext::kUpstream:
      return lookup(kUpstream, name);
    case DirectiveContext::kHttp:
      if (name == "client_body_temp_path") return build.client_body_temp_path;
      if (name == "proxy_temp_path") return build.proxy_temp_path;
      return lookup(kHttp, name);
  }
  return std::nullopt;
}

}  // namespace ngxwatch::nginx
