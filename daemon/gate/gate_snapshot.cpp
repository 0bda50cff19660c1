#include "gate/gate_snapshot.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace ngxwatch::gate {

namespace {

using nlohmann::json;
using RowKey = std::tuple<std::string, std::string, std::string, std::string>;

RowKey row_key(const json& row) {
  return {row.at("upstream").get<std::string>(), row.at("server").get<std::string>(),
          row.at("location").get<std::string>(), row.at("phase").get<std::string>()};
}

uint64_t minus(uint64_t after, uint64_t before) { return after > before ? after - before : 0; }

// (server, location[, status]) -> count, from a snapshot's list (absent: empty).
template <typename Key, typename MakeKey>
std::map<Key, uint64_t> counts(const json& snap, const char* name, MakeKey make) {
  std::map<Key, uint64_t> out;
  if (snap.contains(name))
    for (const auto& e : snap.at(name)) out[make(e)] += e.at("count").get<uint64_t>();
  return out;
}

std::string finding_identity(const json& f) {
  return f.value("kind", "") + "|" + f.value("subject", "") + "|" + f.value("server", "") + "|" +
         f.value("location", "") + "|" + std::to_string(f.value("onset_ns", uint64_t{0}));
}

}  // namespace

GateReport from_snapshots(const json& before, const json& after) {
  GateReport r;
  std::map<RowKey, const json*> old_rows;
  for (const auto& row : before.at("rows")) old_rows[row_key(row)] = &row;
  for (const auto& row : after.at("rows")) {
    RowKey key = row_key(row);
    const auto& [upstream, server, location, phase] = key;
    const json* old = old_rows.count(key) ? old_rows[key] : nullptr;
    const json& totals = row.at("totals");
    auto old_total = [&](const char* name) {
      return old ? old->at("totals").value(name, uint64_t{0}) : uint64_t{0};
    };
    uint64_t events = minus(totals.value("events", uint64_t{0}), old_total("events"));
    uint64_t resets = minus(totals.value("resets", uint64_t{0}), old_total("resets"));
    r.events += events;
    if (events == 0) continue;
    LocationReport& loc = r.location(server, location);
    loc.resets += resets;
    if (!totals.contains("causes")) continue;
    for (const auto& [cause, n] : totals.at("causes").items()) {
      uint64_t was = old && old->at("totals").contains("causes")
                         ? old->at("totals").at("causes").value(cause, uint64_t{0})
                         : 0;
      uint64_t d = minus(n.get<uint64_t>(), was);
      if (d == 0) continue;
      CauseCount c{upstream, cause, phase, d, 0, "", ""};
      for (const auto& e : row.at("latest"))  // newest first: the run's own evidence
        if (e.value("kind", "") == "failure" && e.value("cause", "") == cause) {
          c.evidence = e.value("evidence", "");
          c.request = e.value("request", "");
          break;
        }
      // Compared with c's copies: clang before 16 cannot capture structured bindings.
      auto same = std::find_if(loc.failures.begin(), loc.failures.end(), [&c](const auto& f) {
        return f.upstream == c.upstream && f.cause == c.cause;
      });
      if (same != loc.failures.end())
        same->count += d;
      else
        loc.failures.push_back(std::move(c));
    }
  }
  using Place2 = std::pair<std::string, std::string>;
  using Visible = std::tuple<std::string, std::string, int>;
  auto place2 = [](const json& e) {
    return Place2{e.at("server").get<std::string>(), e.at("location").get<std::string>()};
  };
  auto visible = [](const json& e) {
    return Visible{e.at("server").get<std::string>(), e.at("location").get<std::string>(),
                   e.at("status").get<int>()};
  };
  auto vis_before = counts<Visible>(before, "client_visible", visible);
  for (const auto& [k, n] : counts<Visible>(after, "client_visible", visible))
    if (uint64_t d = minus(n, vis_before[k]))
      r.location(std::get<0>(k), std::get<1>(k)).client_errors[std::get<2>(k)] += d;
  if (after.contains("requests")) {
    auto req_before = counts<Place2>(before, "requests", place2);
    uint64_t total = 0;
    for (const auto& [k, n] : counts<Place2>(after, "requests", place2))
      if (uint64_t d = minus(n, req_before[k])) {
        r.location(k.first, k.second).requests = d;
        total += d;
      }
    r.requests = total;
    for (auto& l : r.locations)
      if (!l.requests) l.requests = 0;
  } else {
    r.notes.push_back(
        "this daemon's snapshot has no request or per-cause counts (an older ngxwatch): "
        "the verdict shows events only");
  }
  std::set<std::string> old_findings;
  for (const auto& f : before.value("findings", json::array()))
    old_findings.insert(finding_identity(f));
  for (const auto& f : after.value("findings", json::array())) {
    if (old_findings.count(finding_identity(f)) && !f.value("active", false)) continue;
    Finding x;
    x.kind = f.value("kind", "");
    x.severity = f.value("severity", "");
    x.place = {f.value("upstream", ""), f.value("server", ""), f.value("location", "")};
    x.subject = f.value("subject", "");
    x.active = f.value("active", false);
    x.onset_ns = f.value("onset_ns", uint64_t{0});
    x.evidence = f.value("evidence", "");
    r.findings.push_back(std::move(x));
  }
  std::map<std::string, uint64_t> free_before;
  for (const auto& t : before.value("temp_dirs", json::array()))
    free_before[t.value("path", "")] = t.value("free_bytes", uint64_t{0});
  for (const auto& t : after.value("temp_dirs", json::array())) {
    TempDirReport d;
    d.path = t.value("path", "");
    d.size_bytes = t.value("total_bytes", uint64_t{0});
    d.free_bytes_now = t.value("free_bytes", uint64_t{0});
    uint64_t low = d.free_bytes_now;
    if (free_before.count(d.path)) low = std::min(low, free_before[d.path]);
    d.high_water_used_bytes = minus(d.size_bytes, low);
    if (t.contains("eta_s") && t.at("eta_s").is_number()) d.min_eta_s = t.at("eta_s").get<double>();
    r.temp_dirs.push_back(std::move(d));
  }
  return r;
}

}  // namespace ngxwatch::gate
