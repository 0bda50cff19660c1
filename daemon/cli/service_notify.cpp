#include "cli/service_notify.h"

#include <systemd/sd-daemon.h>

namespace ngxwatch {

ServiceNotifier::ServiceNotifier() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) watchdog_ = std::chrono::microseconds(usec);
}

void ServiceNotifier::ready(const std::string& status) {
  sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
}

void ServiceNotifier::reloading() { sd_notify(0, "RELOADING=1"); }

void ServiceNotifier::stopping() { sd_notify(0, "STOPPING=1"); }

void ServiceNotifier::tick() {
  if (watchdog_.count() == 0) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ping_ < watchdog_ / 2) return;
  sd_notify(0, "WATCHDOG=1");
  last_ping_ = now;
}

}  // namespace ngxwatch
