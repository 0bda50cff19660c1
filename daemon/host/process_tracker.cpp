#include "host/process_tracker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <set>

namespace ngxwatch {

namespace {

// The nginx processes of the host, without the daemon's own children (`nginx -V`/`-T`
// and `nginx -t` it runs to read or verify a config): each would look like a new
// master, and reading it would start another.
NginxSnapshot scan_without_own_children() {
  NginxSnapshot snap = scan_nginx_processes();
  const int self = static_cast<int>(::getpid());
  std::erase_if(snap.processes, [self](const NginxProcess& p) { return p.ppid == self; });
  return snap;
}

}  // namespace

unsigned ProcessTracker::start() {
  NginxSnapshot snap = scan_without_own_children();
  for (const auto& p : snap.processes)
    maps_.add_nginx_pid(static_cast<uint32_t>(p.pid), static_cast<uint32_t>(p.ppid));
  NginxSockets socks = scan_nginx_sockets(snap);
  for (const auto& l : socks.listeners) maps_.add_listener(l, 0);
  for (const auto& [key, seed] : socks.connections) maps_.add_seed(key, seed);
  spdlog::info(
      "nginx: {} processes ({} workers, {} masters), {} listening sockets, {} open "
      "connections adopted",
      snap.processes.size(), snap.active_workers(), snap.masters().size(), socks.listeners.size(),
      socks.connections.size());
  if (snap.processes.empty()) spdlog::info("nginx is not running yet; waiting for it to start");
  listener_(snap);
  thread_ = std::thread([this] { loop(); });
  return static_cast<unsigned>(socks.connections.size());
}

void ProcessTracker::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProcessTracker::poke() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

void ProcessTracker::set_interval(std::chrono::milliseconds interval) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    interval_ = interval;
  }
  cv_.notify_all();
}

void ProcessTracker::reconcile() {
  // Read before the scan: a worker the kernel's fork hook adds while /proc is being
  // read is not in the snapshot and must not be removed as gone, or its connections go
  // untracked until the next reconcile (seen as lost resets during 100 reloads).
  std::set<uint32_t> known = maps_.nginx_pids();
  NginxSnapshot snap = scan_without_own_children();
  std::set<uint32_t> alive;
  for (const auto& p : snap.processes) {
    alive.insert(static_cast<uint32_t>(p.pid));
    maps_.add_nginx_pid(static_cast<uint32_t>(p.pid), static_cast<uint32_t>(p.ppid));
  }
  for (uint32_t pid : known)
    if (!alive.count(pid)) maps_.remove_nginx_pid(pid);
  listener_(snap);
}

void ProcessTracker::loop() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!stopping_) {
    cv_.wait_for(lk, interval_, [this] { return stopping_ || poked_; });
    if (stopping_) break;
    if (poked_) {
      // Let a burst of forks/exits (a reload) settle and set their titles.
      cv_.wait_for(lk, std::chrono::milliseconds(100), [this] { return stopping_; });
      poked_ = false;
    }
    lk.unlock();
    reconcile();
    lk.lock();
  }
}

}  // namespace ngxwatch
