#include "detect/temp_dir.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace ngxwatch {

namespace {

std::optional<FsSpace> real_statfs(const std::string& path) {
  struct statvfs s {};
  if (statvfs(path.c_str(), &s) != 0) return std::nullopt;
  return FsSpace{static_cast<uint64_t>(s.f_bavail) * s.f_frsize,
                 static_cast<uint64_t>(s.f_blocks) * s.f_frsize};
}

std::string mib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1024.0 * 1024.0));
  return buf;
}

}  // namespace

TempDirDetector::TempDirDetector(ObservationSink* failures, TempDirOptions o, StatFs statfs)
    : failures_(failures), o_(o), statfs_(statfs ? std::move(statfs) : real_statfs) {}

void TempDirDetector::set_configs(const ConfigLookup* configs) {
  if (!configs) return;
  // Keep the history of paths still configured; add new ones.
  std::map<std::string, PathState> next;
  for (const ConfigView* v : configs->views())
    for (const auto& [kind, path] : v->temp_paths()) {
      auto it = paths_.find(path);
      next[path] = it != paths_.end() ? std::move(it->second) : PathState{};
      next[path].kind = kind;
    }
  paths_ = std::move(next);
}

TempDirDetector::PathState* TempDirDetector::path_of(const std::string& file) {
  PathState* best = nullptr;
  size_t best_len = 0;
  for (auto& [path, st] : paths_)
    if (file.size() > path.size() && file.compare(0, path.size(), path) == 0 &&
        file[path.size()] == '/' && path.size() > best_len) {
      best = &st;
      best_len = path.size();
    }
  return best;
}

void TempDirDetector::on_event(const Event& e) {
  if (const auto* t = std::get_if<ngxw_temp_event>(&e)) on_temp(*t);
}

void TempDirDetector::on_temp(const ngxw_temp_event& e) {
  std::string file(e.name, strnlen(e.name, sizeof e.name));
  PathState* p = path_of(file);
  // Which request it is for: a client body is written by the worker while it reads
  // that client's request; a proxied response while it reads that upstream.
  std::string kind = p ? p->kind : "";
  uint64_t sock = kind == "proxy" ? e.upstream_sock_id : e.client_sock_id;
  std::optional<Place> place = place_of_ && sock ? place_of_(sock) : std::nullopt;
  if (e.ret > 0) {
    if (!p || !place) {
      unattributed_ += static_cast<uint64_t>(e.ret);
      if (!p) return;
    }
    Place pl = place.value_or(Place{});
    spooled_[{pl.server, pl.location, kind}] += static_cast<uint64_t>(e.ret);
    return;
  }
  if (e.ret != -1) return;  // NGX_AGAIN (-2): a threaded write in progress, not a failure
  if (p) {
    ++p->errors;
    p->last_error_ns = e.hdr.ts_ns;
  }
  if (!failures_) return;
  FailureObservation f;
  f.place = place.value_or(Place{});
  f.phase = kind == "proxy" ? "read_response" : "client_body";
  f.cause = "temp_file_error";
  f.evidence = "nginx could not create or write a " + (kind.empty() ? "temp" : kind) +
               " temp file under " + (p ? file.substr(0, file.find_last_of('/')) : file) +
               " (ENOSPC, EIO or EACCES)";
  f.ts_ns = e.hdr.ts_ns;
  f.pid = e.hdr.tgid;
  f.ended_by = "nginx: the temp-file write failed";
  failures_->on_failure(f);
}

void TempDirDetector::tick(uint64_t now_ns) {
  for (auto& [path, p] : paths_) {
    if (p.last_sample_ns && now_ns < p.last_sample_ns + o_.sample_interval_s * 1e9) {
      judge(path, p, now_ns);
      continue;
    }
    p.last_sample_ns = now_ns;
    p.space = statfs_(path);
    if (p.space) {
      p.samples.emplace_back(now_ns, p.space->free_bytes);
      uint64_t window = static_cast<uint64_t>(o_.fill_window_s * 1e9);
      while (p.samples.size() > 2 && p.samples.front().first + window < now_ns)
        p.samples.pop_front();
      // Fill rate: the drop of free space across the window (net of files nginx
      // removed meanwhile: spooled bytes alone overstate it, they are short-lived).
      // The peak of the window is the reference, so a fill that started within it is
      // measured from where it started.
      auto peak = std::max_element(p.samples.begin(), p.samples.end(),
                                   [](auto& a, auto& b) { return a.second < b.second; });
      double dt = static_cast<double>(now_ns - peak->first) / 1e9;
      double drop = static_cast<double>(peak->second) - static_cast<double>(p.space->free_bytes);
      if (p.space->free_bytes == 0)
        p.eta_s = 0;
      else if (dt > 0 && drop > 0)
        p.eta_s = static_cast<double>(p.space->free_bytes) / (drop / dt);
      else
        p.eta_s.reset();
    }
    judge(path, p, now_ns);
  }
}

void TempDirDetector::judge(const std::string& path, PathState& p, uint64_t now_ns) {
  bool recent_error =
      p.last_error_ns && p.last_error_ns + static_cast<uint64_t>(o_.error_window_s * 1e9) >= now_ns;
  bool filling = p.eta_s && *p.eta_s <= o_.warn_eta_s;
  if (!recent_error && !filling) {
    if (p.finding) p.finding->active = false;
    return;
  }
  if (!p.finding || !p.finding->active) {
    p.finding = Finding{};
    p.finding->kind = "temp_dir_fill";
    p.finding->subject = path;
    p.finding->onset_ns = recent_error && !filling ? p.last_error_ns : now_ns;
  }
  bool critical = recent_error || (p.eta_s && *p.eta_s <= o_.critical_eta_s);
  p.finding->severity = critical ? "critical" : "warning";
  char eta[64] = "not filling";
  if (p.eta_s) std::snprintf(eta, sizeof eta, "full in %.0f s at the current rate", *p.eta_s);
  p.finding->evidence = p.kind + " temp path " + path + ": " +
                        (p.space ? mib(static_cast<double>(p.space->free_bytes)) + " free of " +
                                       mib(static_cast<double>(p.space->size_bytes))
                                 : std::string("free space unknown")) +
                        ", " + eta + "; " + std::to_string(p.errors) + " failed temp-file writes";
}

std::vector<Finding> TempDirDetector::findings() const {
  std::vector<Finding> out;
  for (const auto& [path, p] : paths_)
    if (p.finding) out.push_back(*p.finding);
  return out;
}

}  // namespace ngxwatch
