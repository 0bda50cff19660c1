// systemd integration (Type=notify): READY once watching, WATCHDOG pings from the
// event loop, RELOADING/STOPPING. No-ops when not started by systemd.
#pragma once

#include <chrono>
#include <string>

namespace ngxwatch {

class ServiceNotifier {
 public:
  ServiceNotifier();
  void ready(const std::string& status);
  void reloading();
  void stopping();
  // Called every loop iteration; pings at half the watchdog interval.
  void tick();

 private:
  std::chrono::microseconds watchdog_{0};
  std::chrono::steady_clock::time_point last_ping_{};
};

}  // namespace ngxwatch
