// What the correlator needs to know of nginx's configuration: where a request goes
// (server, location, upstream group) and the timeouts in force there. Implemented
// over the nginx config model (daemon/nginx/) and, in tests, over small tables.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ngxwatch/events.h"

namespace ngxwatch {

// Label values: names from the config, never from request bytes.
struct Place {
  std::string upstream;  // group name, or "host:port" of an implicit proxy_pass
  std::string server;    // first server_name, or the listen address
  std::string location;  // as written: "/api/", "= /x", "~ \.php$"
  // The nginx master identity ("BINARY -c CONF -p PREFIX") whose config named it, ""
  // when unknown: two instances on one host with the same names never share evidence.
  std::string nginx = {};  // (a default: the three-name form stays the common one)
  bool operator==(const Place&) const = default;
};

// Where an event goes whose nginx master's configuration is not known (unreadable,
// or it never arrived): not "", which reads as "no location matched".
inline const std::string kUnknownLabel = "(unknown)";
inline Place unknown_place() { return {kUnknownLabel, kUnknownLabel, kUnknownLabel}; }

struct Timeouts {
  double connect_s = 60;
  double send_s = 60;
  double read_s = 60;
};

class ConfigView {
 public:
  virtual ~ConfigView() = default;
  // A client request, by the address nginx accepted it on, its Host and its path.
  virtual std::optional<Place> for_client_request(const ngxw_endpoint& local, std::string_view host,
                                                  std::string_view path) const = 0;
  // An upstream request, by the peer nginx connected to and the path nginx sent.
  virtual std::optional<Place> for_upstream_request(const std::string& peer,
                                                    std::string_view path) const = 0;
  // The upstream group a peer belongs to ("" if none), when no request was seen.
  virtual std::string upstream_for_peer(const std::string& peer) const = 0;
  virtual Timeouts timeouts(const Place& place) const = 0;
  // events { worker_connections }: the per-worker connection limit (detectors).
  virtual std::optional<int> worker_connections() const { return std::nullopt; }
  // Effective client_body_temp_path / proxy_temp_path directories, each with its kind
  // ("client_body" or "proxy"), absolute (detectors: temp-dir fill).
  virtual std::vector<std::pair<std::string, std::string>> temp_paths() const { return {}; }
  // The master identity its places carry (Place::nginx).
  virtual const std::string& instance() const {
    static const std::string none;
    return none;
  }
};

// Which configuration applies to an nginx process (several masters may run).
class ConfigLookup {
 public:
  virtual ~ConfigLookup() = default;
  virtual const ConfigView* for_pid(uint32_t pid) const = 0;
  // Every distinct configuration in force (periodic checks such as statvfs).
  virtual std::vector<const ConfigView*> views() const { return {}; }
};

// One configuration for every process (tests, analyze of a single-master trace).
class SingleConfig : public ConfigLookup {
 public:
  explicit SingleConfig(const ConfigView* view) : view_(view) {}
  const ConfigView* for_pid(uint32_t) const override { return view_; }
  std::vector<const ConfigView*> views() const override {
    return view_ ? std::vector<const ConfigView*>{view_} : std::vector<const ConfigView*>{};
  }

 private:
  const ConfigView* view_;
};

}  // namespace ngxwatch
