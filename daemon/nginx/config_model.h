#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nginx/build_info.h"
#include "nginx/defaults.h"
#include "nginx/directive.h"
#include "nginx/regex.h"

namespace ngxwatch::nginx {

struct Server;

enum class LocationModifier {
  kPrefix,         // location /x
  kExact,          // location = /x
  kPrefixNoRegex,  // location ^~ /x
  kRegex,          // location ~ re
  kRegexCaseless,  // location ~* re
  kNamed,          // location @x
};

struct Location {
  LocationModifier modifier = LocationModifier::kPrefix;
  std::string name;        // the path or pattern, without the modifier
  std::string as_written;  // "= /x", "~ \.php$", "/api/", "@fallback"
  const Directive* block = nullptr;
  const Location* parent = nullptr;  // enclosing location; null at server level
  const Server* server = nullptr;
  std::vector<std::unique_ptr<Location>> children;  // nested locations, config order
  std::unique_ptr<Regex> regex;                     // for ~ and ~*
  // A request for the name without its trailing '/' gets a 301 to the name
  // (nginx does this for locations ending in '/' that contain a *_pass directive).
  bool auto_redirect = false;

  bool is_regex() const {
    return modifier == LocationModifier::kRegex || modifier == LocationModifier::kRegexCaseless;
  }
  bool is_named() const { return modifier == LocationModifier::kNamed; }
  std::string where() const { return block ? block->where() : std::string(); }
};

struct ListenAddress {
  std::string host = "*";  // "*", an IPv4/IPv6 literal, a host name, or "unix:/path"
  uint16_t port = 80;
  bool default_server = false;
  const Directive* directive = nullptr;  // null for the implicit "listen *:80"
};

struct ServerName {
  std::string name;              // as written ("example.com", "*.example.com", "~^www")
  std::unique_ptr<Regex> regex;  // for "~..." names
};

struct Server {
  std::vector<ListenAddress> listens;
  std::vector<ServerName> names;
  const Directive* block = nullptr;
  std::vector<std::unique_ptr<Location>> locations;  // server-level locations, config order
  size_t index = 0;                                  // position among the http servers

  std::string primary_name() const { return names.empty() ? std::string() : names[0].name; }
  std::string where() const { return block ? block->where() : std::string(); }
};

struct UpstreamServer {
  std::string address;  // as written: "10.0.0.1:8080", "backend.local", "unix:/sock"
  std::string host;     // without the port
  uint16_t port = 80;
  bool is_unix = false;
  std::vector<std::string> params;  // "max_fails=3", "backup", ...
  const Directive* directive = nullptr;
};

struct Upstream {
  std::string name;
  std::vector<UpstreamServer> servers;
  const Directive* block = nullptr;
  std::string where() const { return block ? block->where() : std::string(); }
};

// A directive's value as nginx would apply it at some level, and where it came from.
struct EffectiveValue {
  std::string name;
  // The directives that define it, all from the innermost level defining it; empty
  // when the compiled-in default applies.
  std::vector<const Directive*> occurrences;
  std::optional<std::string> default_value;

  bool is_default() const { return occurrences.empty(); }
  bool defined() const { return !occurrences.empty() || default_value.has_value(); }
  // First occurrence's arguments joined by spaces, else the default, else "".
  std::string value() const;
  // Every occurrence, arguments joined (for array directives such as add_header).
  std::vector<std::string> values() const;
  // "file:line" of the first occurrence, or "default".
  std::string origin() const;
};

// The http-level view of a parsed configuration: servers, locations, upstreams and
// effective directive values. Owns the parsed tree it points into.
class Config {
 public:
  // Throws ConfigError for things nginx -t would reject in what we model (bad
  // location modifiers, misplaced nested locations, invalid regexes, bad listen).
  static Config build(ParsedConfig parsed, BuildInfo build = {});

  const ParsedConfig& parsed() const { return parsed_; }
  const BuildInfo& build_info() const { return build_; }
  const Directive* http_block() const { return http_; }
  const Directive* events_block() const { return events_; }
  const std::vector<std::unique_ptr<Server>>& servers() const { return servers_; }
  const std::vector<std::unique_ptr<Upstream>>& upstreams() const { return upstreams_; }
  const Upstream* find_upstream(std::string_view name) const;

  // Every location (nested included), depth first in config order.
  std::vector<const Location*> all_locations() const;

  // Effective value of `name` in a location, applying nginx's inheritance
  // http -> server -> location -> nested location. A level that defines the
  // directive (for allow/deny: either of them) hides every outer level; this is
  // both the scalar rule and the array rule (proxy_set_header, add_header, ...).
  // Directives that never inherit (proxy_pass, return, rewrite, alias, ...) are
  // looked up in the location itself only.
  EffectiveValue effective(const Location& loc, std::string_view name) const;
  EffectiveValue effective(const Server& server, std::string_view name) const;
  EffectiveValue effective_http(std::string_view name) const;
  EffectiveValue effective(const Upstream& upstream, std::string_view name) const;
  // Main-context (worker_processes) and events-context (worker_connections) values.
  EffectiveValue effective_main(std::string_view name) const;
  EffectiveValue effective_events(std::string_view name) const;

 private:
  EffectiveValue lookup(const std::vector<const std::vector<Directive>*>& levels,
                        std::string_view name, DirectiveContext ctx) const;

  ParsedConfig parsed_;
  BuildInfo build_;
  const Directive* http_ = nullptr;
  const Directive* events_ = nullptr;
  std::vector<std::unique_ptr<Server>> servers_;
  std::vector<std::unique_ptr<Upstream>> upstreams_;
};

// Parses "host:port", "host", "[v6]:port", "*:port", "port" as nginx's listen and
// upstream server do. Returns false if the port is not a number in 1..65535.
bool split_host_port(std::string_view text, uint16_t default_port, std::string& host,
                     uint16_t& port);

}  // namespace ngxwatch::nginx
