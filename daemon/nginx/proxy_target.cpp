#include "nginx/proxy_target.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <algorithm>

#include "nginx/ip_text.h"
#include "nginx/location_matcher.h"
#include "nginx/uri_normalize.h"

namespace ngxwatch::nginx {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] + 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

bool is_static(const Location& l) {
  return l.modifier == LocationModifier::kPrefix ||
         l.modifier == LocationModifier::kPrefixNoRegex || l.modifier == LocationModifier::kExact;
}

}  // namespace

std::string ProxyTarget::name() const {
  if (upstream != nullptr) return upstream->name;
  return ip_port_key(host, port);
}

std::optional<ProxyTarget> proxy_target(const Config& config, const Location& loc) {
  EffectiveValue pass = config.effective(loc, "proxy_pass");
  if (pass.occurrences.empty() || pass.occurrences.front()->args.size() != 1) return std::nullopt;
  ProxyTarget t;
  t.directive = pass.occurrences.front();
  t.raw = t.directive->args[0];
  std::string_view rest = t.raw;
  uint16_t default_port;
  if (rest.size() > 7 && iequals(rest.substr(0, 7), "http://")) {
    t.scheme = "http";
    default_port = 80;
    rest.remove_prefix(7);
  } else if (rest.size() > 8 && iequals(rest.substr(0, 8), "https://")) {
    t.scheme = "https";
    default_port = 443;
    rest.remove_prefix(8);
  } else {
    return std::nullopt;
  }
  t.has_variables = t.raw.find('$') != std::string::npos;
  size_t slash = rest.find('/');
  if (rest.substr(0, 5) == "unix:") {
    // unix:/path/sock:/uri — the URI starts after the ':' following the socket path.
    size_t colon = rest.find(':', 5);
    t.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      t.has_uri = true;
      t.uri = std::string(rest.substr(colon + 1));
    }
    return t;
  }
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    t.has_uri = true;
    t.uri = std::string(rest.substr(slash));
  }
  if (!split_host_port(authority, default_port, t.host, t.port)) return std::nullopt;
  if (t.host == "*") return std::nullopt;  // "proxy_pass http://8080" is not a target
  // nginx binds the target to an upstream{} block by name, whatever port is written.
  for (const auto& up : config.upstreams()) {
    if (iequals(up->name, t.host)) t.upstream = up.get();
  }
  return t;
}

std::vector<UriCandidate> locations_for_upstream_uri(const Config& config,
                                                     std::string_view upstream_target,
                                                     std::string_view target_name) {
  std::vector<UriCandidate> out;
  std::optional<std::string> sent = normalize_uri(upstream_target);
  if (!sent) return out;
  for (const Location* loc : config.all_locations()) {
    std::optional<ProxyTarget> t = proxy_target(config, *loc);
    if (!t || t->has_variables) continue;
    if (!target_name.empty() && t->name() != target_name) continue;
    UriCandidate c;
    c.location = loc;
    if (!t->has_uri) {
      c.client_uri = *sent;
    } else if (is_static(*loc)) {
      // nginx sent <proxy_pass URI> + <client URI minus the location prefix>.
      if (sent->compare(0, t->uri.size(), t->uri) != 0) continue;
      if (loc->modifier == LocationModifier::kExact) {
        if (*sent != t->uri) continue;
        c.client_uri = loc->name;
      } else {
        c.client_uri = loc->name + sent->substr(t->uri.size());
      }
    } else {
      continue;  // a URI part in a regex/named location needs variables: not invertible
    }
    if (loc->is_named()) {
      out.push_back(std::move(c));
      continue;
    }
    LocationMatch m = find_location(*loc->server, c.client_uri);
    if (m.location != loc || m.auto_redirect) continue;
    c.verified = true;
    out.push_back(std::move(c));
  }
  return out;
}

namespace {

bool is_literal(const std::string& host) {
  return host == "localhost" || canonical_ip(host) != host ||
         host.find_first_not_of("0123456789.") == std::string::npos ||
         host.find(':') != std::string::npos;
}

}  // namespace

std::vector<std::string> resolve_literal(const std::string& host) {
  if (!is_literal(host)) return {};
  if (host == "localhost") return {"127.0.0.1", "::1"};
  return {canonical_ip(host)};
}

std::vector<std::string> resolve_host(const std::string& host) {
  if (is_literal(host)) return resolve_literal(host);
  std::vector<std::string> out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    char buf[NI_MAXHOST];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) ==
        0) {
      std::string ip = canonical_ip(buf);
      if (std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
    }
  }
  freeaddrinfo(res);
  return out;
}

PeerIndex::PeerIndex(const Config& config, const HostResolver& resolver) {
  for (const auto& up : config.upstreams()) {
    for (const UpstreamServer& s : up->servers) {
      if (s.is_unix) continue;
      for (const std::string& ip : resolver(s.host))
        add(ip, s.port, PeerTarget{up->name, up.get()});
    }
  }
  for (const Location* loc : config.all_locations()) {
    std::optional<ProxyTarget> t = proxy_target(config, *loc);
    if (!t || t->upstream != nullptr || t->has_variables || t->host.rfind("unix:", 0) == 0) {
      continue;
    }
    for (const std::string& ip : resolver(t->host))
      add(ip, t->port, PeerTarget{t->name(), nullptr});
  }
}

void PeerIndex::add(const std::string& ip, unsigned port, PeerTarget target) {
  std::string key = ip_port_key(canonical_ip(ip), port);
  auto range = by_peer_.equal_range(key);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second.name == target.name) return;
  }
  by_peer_.emplace(std::move(key), std::move(target));
}

std::vector<PeerTarget> PeerIndex::lookup(std::string_view peer) const {
  std::string host;
  uint16_t port = 0;
  std::vector<PeerTarget> out;
  // "::ffff:1.2.3.4:80" (unbracketed v6) is split at the last ':' by split_host_port.
  if (!split_host_port(peer, 0, host, port) || port == 0) return out;
  auto range = by_peer_.equal_range(ip_port_key(canonical_ip(host), port));
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

}  // namespace ngxwatch::nginx
