#include "attribute/nginx_config_view.h"

#include "common/net_format.h"
#include "nginx/location_matcher.h"
#include "nginx/server_selector.h"
#include "nginx/units.h"

#include <set>

namespace ngxwatch {

NginxConfigView::NginxConfigView(std::shared_ptr<const nginx::Config> config, std::string instance,
                                 const nginx::HostResolver& resolve)
    : config_(std::move(config)), instance_(std::move(instance)), peers_(*config_, resolve) {
  for (const nginx::Location* loc : config_->all_locations()) {
    if (loc->server) by_label_[{server_label(*loc->server), loc->as_written}] = loc;
    cache_[loc] = {compute_place(*loc), compute_timeouts(*loc)};
  }
}

std::string NginxConfigView::server_label(const nginx::Server& server) {
  if (!server.primary_name().empty()) return server.primary_name();
  if (server.listens.empty()) return "";
  const auto& l = server.listens.front();
  return l.host + ":" + std::to_string(l.port);
}

Place NginxConfigView::place_of(const nginx::Location& loc) const {
  auto it = cache_.find(&loc);
  return it != cache_.end() ? it->second.first : compute_place(loc);
}

Place NginxConfigView::compute_place(const nginx::Location& loc) const {
  Place p;
  if (auto target = nginx::proxy_target(*config_, loc)) p.upstream = target->name();
  if (loc.server) p.server = server_label(*loc.server);
  p.location = loc.as_written;
  p.nginx = instance_;
  return p;
}

const nginx::Server* NginxConfigView::server_without_port(const std::string& ip,
                                                          std::string_view host) const {
  // A request head the kernel kept and sent only when the connection closed carries
  // no local port (the socket was already unhashed): every port this config listens
  // on is a candidate, and the answer stands only when they all agree.
  std::set<uint16_t> ports;
  for (const auto& srv : config_->servers())
    for (const auto& l : srv->listens) ports.insert(l.port);
  std::set<const nginx::Server*> candidates;
  for (uint16_t port : ports)
    if (const nginx::Server* s = nginx::select_server(*config_, ip, port, host))
      candidates.insert(s);
  if (candidates.size() == 1) return *candidates.begin();
  // Ports disagree (each has its own default server): the one that names the host.
  const nginx::Server* named = nullptr;
  for (const nginx::Server* s : candidates)
    for (const auto& n : s->names)
      if (n.name == host) {
        if (named && named != s) return nullptr;
        named = s;
      }
  return named;
}

std::optional<Place> NginxConfigView::for_client_request(const ngxw_endpoint& local,
                                                         std::string_view host,
                                                         std::string_view path) const {
  const nginx::Server* server =
      local.port ? nginx::select_server(*config_, format_address(local), local.port, host)
                 : server_without_port(format_address(local), host);
  if (!server) return std::nullopt;
  nginx::RequestMatch m = nginx::match_request(*server, path);
  if (!m.valid || !m.match.location) return Place{"", server_label(*server), "", instance_};
  return place_of(*m.match.location);
}

std::optional<Place> NginxConfigView::for_upstream_request(const std::string& peer,
                                                           std::string_view path) const {
  std::optional<Place> found;
  for (const auto& target : peers_.lookup(peer)) {
    for (const auto& c : nginx::locations_for_upstream_uri(*config_, path, target.name)) {
      if (!c.location) continue;
      Place p = place_of(*c.location);
      if (found && !(*found == p)) return std::nullopt;  // ambiguous: say nothing
      found = p;
    }
  }
  return found;
}

std::string NginxConfigView::upstream_for_peer(const std::string& peer) const {
  auto targets = peers_.lookup(peer);
  return targets.empty() ? "" : targets.front().name;
}

const nginx::Location* NginxConfigView::location_of(const Place& place) const {
  auto it = by_label_.find({place.server, place.location});
  return it == by_label_.end() ? nullptr : it->second;
}

Timeouts NginxConfigView::timeouts(const Place& place) const {
  const nginx::Location* loc = location_of(place);
  if (!loc) return {};
  auto it = cache_.find(loc);
  return it != cache_.end() ? it->second.second : compute_timeouts(*loc);
}

Timeouts NginxConfigView::compute_timeouts(const nginx::Location& loc) const {
  Timeouts t;
  auto seconds = [&](const char* name, double fallback) {
    auto v = nginx::parse_time(config_->effective(loc, name).value());
    return v ? static_cast<double>(v->count()) / 1000.0 : fallback;
  };
  t.connect_s = seconds("proxy_connect_timeout", t.connect_s);
  t.send_s = seconds("proxy_send_timeout", t.send_s);
  t.read_s = seconds("proxy_read_timeout", t.read_s);
  return t;
}

}  // namespace ngxwatch

namespace ngxwatch {

std::optional<int> NginxConfigView::worker_connections() const {
  std::string v = config_->effective_events("worker_connections").value();
  try {
    int n = std::stoi(v);
    if (n > 0) return n;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> NginxConfigView::temp_paths() const {
  // Every level may set its own path: collect the distinct effective values. The
  // first argument is the directory (the rest are hash levels); a relative one is
  // relative to the prefix nginx was started with.
  std::set<std::pair<std::string, std::string>> out;
  auto add = [&](const char* kind, const nginx::EffectiveValue& v) {
    std::string path = v.value();
    path = path.substr(0, path.find(' '));
    if (path.empty()) return;
    if (path[0] != '/') path = config_->build_info().prefix + "/" + path;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    out.insert({kind, path});
  };
  add("client_body", config_->effective_http("client_body_temp_path"));
  add("proxy", config_->effective_http("proxy_temp_path"));
  for (const nginx::Location* loc : config_->all_locations()) {
    add("client_body", config_->effective(*loc, "client_body_temp_path"));
    add("proxy", config_->effective(*loc, "proxy_temp_path"));
  }
  return {out.begin(), out.end()};
}

}  // namespace ngxwatch
