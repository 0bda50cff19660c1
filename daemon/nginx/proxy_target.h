#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nginx/config_model.h"

namespace ngxwatch::nginx {

// A location's proxy_pass, taken apart.
struct ProxyTarget {
  std::string raw;     // as written: "http://backend/api/"
  std::string scheme;  // "http" or "https"
  std::string host;    // "backend", "127.0.0.1", "::1"
  uint16_t port = 0;   // explicit, else 80 (http) / 443 (https)
  bool has_uri = false;
  std::string uri;                     // the URI part ("/api/"), when has_uri
  bool has_variables = false;          // "$" in the target: chosen per request
  const Upstream* upstream = nullptr;  // the upstream block named by host, if any
  const Directive* directive = nullptr;

  // The upstream group name, or "host:port" for an implicit target.
  std::string name() const;
};

// The proxy_pass of `loc` itself (proxy_pass is not inherited); nullopt if none or
// not an http(s):// URL.
std::optional<ProxyTarget> proxy_target(const Config& config, const Location& loc);

// A location that could have produced an upstream request, and the client URI
// (normalized path) it would have received.
struct UriCandidate {
  const Location* location = nullptr;
  std::string client_uri;
  // False for named locations (reached by try_files/error_page, never by URI), where
  // the matcher cannot confirm the guess.
  bool verified = false;
};

// Inverts proxy_pass for a request nginx sent upstream (`upstream_target`, the path
// and query as seen by the backend). Without a URI part nginx forwards the client's
// URI unchanged; with one, the matched location prefix was replaced by it, so the
// replacement is undone. Every guess is checked with the location matcher.
// `target_name` (ProxyTarget::name()) restricts to one upstream/implicit target.
std::vector<UriCandidate> locations_for_upstream_uri(const Config& config,
                                                     std::string_view upstream_target,
                                                     std::string_view target_name = {});

// Resolves a host for peer lookup: IP literals as is, "localhost" as 127.0.0.1 and
// ::1, anything else with getaddrinfo(3). Returns canonical IP texts.
std::vector<std::string> resolve_host(const std::string& host);

// The same without DNS: a name that is not a literal (nor "localhost") resolves to
// nothing. For configurations from elsewhere (a recorded trace), whose names this host's
// resolver neither knows nor should be asked.
std::vector<std::string> resolve_literal(const std::string& host);

using HostResolver = std::function<std::vector<std::string>(const std::string& host)>;

struct PeerTarget {
  std::string name;                    // upstream group name, or "host:port"
  const Upstream* upstream = nullptr;  // null for implicit proxy_pass targets
};

// Which upstream groups and implicit proxy_pass targets contain a peer address.
// Host names are resolved once, when the index is built (at config load).
class PeerIndex {
 public:
  PeerIndex() = default;
  explicit PeerIndex(const Config& config, const HostResolver& resolver = resolve_host);

  // `peer` is "IP:PORT" ("10.0.0.1:8080", "[::1]:8080", "::ffff:10.0.0.1" mapped forms ok).
  std::vector<PeerTarget> lookup(std::string_view peer) const;

 private:
  void add(const std::string& ip, unsigned port, PeerTarget target);
  std::multimap<std::string, PeerTarget> by_peer_;
};

}  // namespace ngxwatch::nginx
