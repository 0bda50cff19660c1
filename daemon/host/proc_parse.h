// Pure parsers for the /proc files the process tracker reads. No I/O here, so every
// one of them is unit-tested on captured text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ngxwatch/events.h"

namespace ngxwatch {

enum class NginxRole { kMaster, kWorker, kHelper, kShuttingDown, kSingle };

// Role from the process title nginx sets ("nginx: worker process", ...). The cmdline
// file separates arguments with NUL; both forms are accepted.
NginxRole classify_nginx_cmdline(std::string_view cmdline);

// The master's -c/-p arguments, when given ("nginx: master process nginx -c /x.conf").
struct MasterArgs {
  std::string conf_path;
  std::string prefix;
  std::string binary;
};
MasterArgs parse_master_args(std::string_view cmdline);

// ppid from /proc/<pid>/stat; the comm field may contain spaces and parentheses.
std::optional<int> parse_stat_ppid(std::string_view stat);

// "socket:[12345]" -> 12345
std::optional<uint64_t> parse_socket_link(std::string_view target);

struct SocketRow {
  ngxw_endpoint local{};
  ngxw_endpoint remote{};
  unsigned state = 0;  // TCP_* number
  uint64_t inode = 0;
};

// Rows of /proc/<pid>/net/tcp (family AF_INET) or tcp6 (AF_INET6). Malformed lines
// are skipped.
std::vector<SocketRow> parse_proc_net_tcp(std::string_view text, int family);

}  // namespace ngxwatch
