#include "host/root_filesystem.h"

#include <sys/stat.h>

namespace ngxwatch::advise {

bool on_root_filesystem(const std::string& path) {
  struct stat root {};
  if (::stat("/", &root) != 0) return false;
  std::string p = path;
  while (!p.empty()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) return st.st_dev == root.st_dev;
    size_t slash = p.find_last_of('/');
    if (slash == std::string::npos) return false;
    p = slash == 0 ? "/" : p.substr(0, slash);
    if (p == "/") return true;
  }
  return false;
}

}  // namespace ngxwatch::advise
