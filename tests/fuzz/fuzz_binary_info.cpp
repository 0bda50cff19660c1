// Fuzzes the reader of an nginx executable's bytes (any program may be named nginx,
// and /proc/PID/exe of a hostile process is read): the ELF check, the search for the
// two -V strings, and the parse of its configure arguments into paths.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nginx/binary_info.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ngxwatch::nginx;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  BinaryInfo info = binary_info_from_bytes(bytes, "/proc/1/exe");
  if (info.is_nginx != info.why.empty()) __builtin_trap();         // a "no" always says why
  if (info.why.find('\n') != std::string::npos) __builtin_trap();  // one line
  // Under an absolute prefix every path is absolute: the daemon opens them (temp dirs,
  // the config). (A relative --prefix is relative to nginx's cwd, unknown here.)
  bool absolute_prefix = !info.build.prefix.empty() && info.build.prefix.front() == '/';
  for (const std::string* p :
       {&info.build.conf_path, &info.build.client_body_temp_path, &info.build.proxy_temp_path})
    if (absolute_prefix && (p->empty() || p->front() != '/')) __builtin_trap();
  (void)parse_nginx_V(bytes);
  return 0;
}
