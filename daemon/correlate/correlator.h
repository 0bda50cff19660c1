// The connection table: follows every tracked nginx socket through its events,
// remembers the request on it (captured head, link to the client request), and at
// each reset, close or status turns what it saw into observations.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "attribute/config_view.h"
#include "correlate/http_head.h"
#include "correlate/observations.h"
#include "source/event.h"
#include "source/reset_reasons.h"

namespace ngxwatch {

struct CorrelatorStats {
  uint64_t events = 0;
  uint64_t unparsed_captures = 0;  // captured bytes that were not HTTP (TLS, binary)
  uint64_t evicted = 0;            // connections dropped from the table (bound)
};

class Correlator {
 public:
  Correlator(const ConfigLookup* configs, ObservationSink* sink, ResetReasons reasons = {},
             size_t max_connections = 65536);

  void on_event(const Event& e);
  // Swapped by the event loop when nginx is reloaded; the caller keeps it alive.
  void set_configs(const ConfigLookup* configs) { configs_ = configs; }
  size_t connections() const { return conns_.size(); }
  // Where the current request on a tracked socket goes (detectors attribute temp-file
  // writes through it); nullopt when unknown.
  std::optional<Place> place_of(uint64_t sock_id) const {
    auto it = conns_.find(sock_id);
    return it == conns_.end() ? std::nullopt : it->second.place;
  }
  const CorrelatorStats& stats() const { return stats_; }

 private:
  struct PendingFailure {
    Place place;
    uint64_t id = 0;  // FailureObservation::id
  };
  struct Conn {
    uint8_t side = 0;
    uint32_t tgid = 0;
    ngxw_endpoint local{}, remote{};
    uint64_t opened_ns = 0;
    uint64_t last_ns = 0;
    RequestHead request;  // current request head (upstream: as nginx sent it)
    bool response_started = false;
    StatusLine response;
    uint64_t link = 0;  // upstream: client socket of the current request
    std::optional<Place> place;
    std::vector<PendingFailure> failures;  // client: upstream failures of this request
    uint64_t request_ts = 0;               // client: when the current request began
    uint32_t weight = 1;                   // client: requests the current one stands for
    bool request_reported = false;         // client: on_request already sent for it
    // client: nginx answered an error (413, 404...) before taking the body; what the
    // client still sends is that body, and its leaving then aborts nothing.
    bool refused = false;
    bool ended = false;   // a terminal verdict was already given
    bool closed = false;  // the socket is closing or closed
  };

  Conn& conn_for(uint64_t id, const ngxw_event_header& h, uint8_t side, const ngxw_endpoint& local,
                 const ngxw_endpoint& remote);
  void on_conn(const ngxw_conn_event& e);
  void on_data(const ngxw_data_event& e);
  void on_end(uint64_t id, Conn& c, const ngxw_conn_event& e);
  void on_client_status(Conn& c, const StatusLine& status);
  void report_request(const Conn& c, int status, uint64_t now, uint64_t body_bytes);
  Place place_of_upstream(const Conn& c) const;
  const ConfigView* config_of(const Conn& c) const {
    return configs_ ? configs_->for_pid(c.tgid) : nullptr;
  }
  // The place of a request nothing was matched for: none when the config is known,
  // "(unknown)" when it is not.
  Place no_place(const Conn& c) const { return config_of(c) ? Place{} : unknown_place(); }
  void evict_if_full();
  // The connection facts `explain` shows (ids, worker, client, bytes, ages) into f.
  void add_detail(FailureObservation& f, const Conn& c, const ngxw_conn_event* e);

  const ConfigLookup* configs_;
  ObservationSink* sink_;
  ResetReasons reasons_;
  size_t max_connections_;
  std::unordered_map<uint64_t, Conn> conns_;
  // Closed connections stay a little (a linger-0 close reports its RST after the
  // close) and leave in close order: O(1) per event, no scan of the table.
  std::deque<std::pair<uint64_t, uint64_t>> closed_;  // (sock id, close time)
  // Per nginx worker: the client socket whose request it began reading last. An
  // upstream connection that fails before nginx writes to it (connect refused or timed
  // out) carries no link of its own; this is the kernel's guess made at connect time.
  std::unordered_map<uint32_t, uint64_t> last_client_;
  CorrelatorStats stats_;
  uint64_t next_failure_id_ = 1;
};

}  // namespace ngxwatch
