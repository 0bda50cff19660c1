// Fuzzes the parsers of kernel text the daemon reads about other processes: an nginx
// process's /proc/PID/{cmdline,stat,net/tcp,net/tcp6} and fd links (a process names
// itself: its title and comm are chosen by whoever runs it), and the tracefs format
// file whose __print_symbolic table names the reset reasons.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "host/proc_parse.h"
#include "source/reset_reasons.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ngxwatch;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)classify_nginx_cmdline(text);
  MasterArgs args = parse_master_args(text);
  if (args.conf_path.size() > size || args.prefix.size() > size) __builtin_trap();
  (void)parse_stat_ppid(text);
  (void)parse_socket_link(text);
  for (int family : {AF_INET, AF_INET6}) {
    for (const SocketRow& row : parse_proc_net_tcp(text, family))
      if (row.local.family != family || row.remote.family != family) __builtin_trap();
  }
  for (std::string_view field : {"reason", "state"}) {
    ResetReasons names(parse_print_symbolic(text, field));
    (void)names.name(0);
    (void)names.name(2);
  }
  return 0;
}
