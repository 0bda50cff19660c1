// ConfigView over the parsed nginx configuration (daemon/nginx/): answers where a
// request went and which timeouts applied there.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "attribute/config_view.h"
#include "nginx/config_model.h"
#include "nginx/proxy_target.h"

namespace ngxwatch {

class NginxConfigView : public ConfigView {
 public:
  // `instance`: the master identity stamped on every Place this view names. `resolve`
  // turns the host names of upstream servers and proxy_pass into addresses, once, here
  // (peers are matched by address).
  explicit NginxConfigView(std::shared_ptr<const nginx::Config> config, std::string instance = {},
                           const nginx::HostResolver& resolve = nginx::resolve_host);

  std::optional<Place> for_client_request(const ngxw_endpoint& local, std::string_view host,
                                          std::string_view path) const override;
  std::optional<Place> for_upstream_request(const std::string& peer,
                                            std::string_view path) const override;
  std::string upstream_for_peer(const std::string& peer) const override;
  Timeouts timeouts(const Place& place) const override;
  std::optional<int> worker_connections() const override;
  std::vector<std::pair<std::string, std::string>> temp_paths() const override;

  const std::string& instance() const override { return instance_; }
  const nginx::Config& config() const { return *config_; }
  // The Location a Place names, or null.
  const nginx::Location* location_of(const Place& place) const;

  // The `server` label: first server_name, else the first listen address.
  static std::string server_label(const nginx::Server& server);

 private:
  Place place_of(const nginx::Location& loc) const;
  // The server a request goes to when the kernel could not say the local port.
  const nginx::Server* server_without_port(const std::string& ip, std::string_view host) const;
  Place compute_place(const nginx::Location& loc) const;
  Timeouts compute_timeouts(const nginx::Location& loc) const;

  std::shared_ptr<const nginx::Config> config_;
  std::string instance_;
  nginx::PeerIndex peers_;
  std::map<std::pair<std::string, std::string>, const nginx::Location*> by_label_;
  // Per location, computed once at load: the hot path only looks them up.
  std::map<const nginx::Location*, std::pair<Place, Timeouts>> cache_;
};

}  // namespace ngxwatch
