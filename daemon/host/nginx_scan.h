// Finds the nginx processes on this host and the sockets they hold, from /proc.
// Used at start (sockets that predate the daemon) and periodically to reconcile the
// kernel's process filter with reality.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ngxwatch/events.h"
#include "host/proc_parse.h"

namespace ngxwatch {

struct NginxProcess {
  int pid = 0;
  int ppid = 0;
  int master = 0;  // the nginx ancestor that is not itself a child of nginx
  NginxRole role = NginxRole::kSingle;
  uint32_t netns = 0;
  std::string cmdline;  // NULs replaced by spaces
};

struct NginxSockets {
  std::vector<ngxw_listen_key> listeners;
  std::vector<std::pair<ngxw_tuple_key, ngxw_seed>> connections;
};

struct NginxSnapshot {
  std::vector<NginxProcess> processes;
  int active_workers() const;
  std::vector<int> masters() const;
};

// comm beginning with "nginx" (nginx, nginx-debug): what the kernel filter uses too.
// Only a first sieve: scan_nginx_processes keeps a process only if its executable is
// nginx (nginx/binary_info.h), and logs once each process it ignores.
bool is_nginx_comm(const std::string& comm);

NginxSnapshot scan_nginx_processes(const std::string& proc_root = "/proc");

NginxSockets scan_nginx_sockets(const NginxSnapshot& snap, const std::string& proc_root = "/proc");

}  // namespace ngxwatch
