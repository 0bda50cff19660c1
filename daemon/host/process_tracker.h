// Keeps the kernel's nginx process filter equal to the nginx processes alive on the
// host, across start, reload (HUP), binary upgrade (USR2) and restart.
//
// The BPF fork/exec/exit hooks update the filter immediately in kernel; this thread
// reconciles it with /proc (catching anything missed, e.g. before attach) and
// publishes the process picture (worker count) to the exporter. It runs off the
// event loop: /proc reads are blocking I/O.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "host/nginx_scan.h"
#include "source/kernel_maps.h"

namespace ngxwatch {

class ProcessTracker {
 public:
  using Listener = std::function<void(const NginxSnapshot&)>;

  ProcessTracker(KernelMaps maps, std::chrono::milliseconds interval, Listener listener)
      : maps_(maps), interval_(interval), listener_(std::move(listener)) {}
  ~ProcessTracker() { stop(); }

  // Scans once in the caller's thread (filling listeners and seeds for sockets that
  // predate the daemon) and returns the number of seeds; then starts the thread.
  unsigned start();
  void stop();
  // An nginx process forked/exec'd/exited: rescan soon (titles settle in ~ms).
  void poke();
  void set_interval(std::chrono::milliseconds interval);

 private:
  void reconcile();
  void loop();

  KernelMaps maps_;
  std::chrono::milliseconds interval_;
  Listener listener_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool poked_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ngxwatch
