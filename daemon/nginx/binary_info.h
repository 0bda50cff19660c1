// What `nginx -V` tells (version, configure arguments, hence the compiled-in prefix,
// conf path and temp paths), read from the executable's bytes instead of running it.
// nginx prints -V from two string literals compiled into every build:
//   "nginx version: " NGINX_VER_BUILD "\n"   and   "configure arguments:" NGX_CONFIGURE "\n"
// A file holding both, in an ELF image, is taken to be nginx; anything else (a program
// named nginx, or renamed with PR_SET_NAME) is not, and is never executed by ngxwatch.
#pragma once

#include <string>

#include "nginx/build_info.h"

namespace ngxwatch::nginx {

struct BinaryInfo {
  bool is_nginx = false;
  std::string why;  // when not: one line naming the file and what it lacks
  BuildInfo build;  // parse_nginx_V of the two strings (defaults when not nginx)
};

// Bounds on what is read: the strings sit in .rodata, within the first MiBs even of an
// nginx with debug info; a file without them is read up to the cap once (then cached).
inline constexpr size_t kMaxBinaryBytes = 64u << 20;
inline constexpr size_t kMaxBinaryString = 64u << 10;

// Reads `path` (e.g. /proc/PID/exe, which opens the process's own file even in another
// mount namespace or after it was deleted) without following anything but that link:
// a regular file, ELF magic, at most kMaxBinaryBytes scanned in chunks.
BinaryInfo read_binary_info(const std::string& path);

// The same, remembered by file identity (device, inode, size, mtime): every worker of
// a master shares one binary, and the scan asks every interval.
BinaryInfo cached_binary_info(const std::string& path);

// The two strings in `bytes` (the scanning rule, on a buffer; for tests and fuzzing).
BinaryInfo binary_info_from_bytes(std::string_view bytes, const std::string& name);

}  // namespace ngxwatch::nginx
