#include "source/nginx_binaries.h"

#include <filesystem>
#include <set>

#include "common/file_read.h"
#include "nginx/binary_info.h"

namespace ngxwatch {

std::vector<std::string> find_nginx_binaries(const std::string& proc_root) {
  namespace fs = std::filesystem;
  std::set<std::string> found;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    fs::path real = fs::canonical(p, ec);
    if (!ec && fs::is_regular_file(real, ec)) found.insert(real.string());
  };
  for (const char* p : {"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx",
                        "/usr/bin/nginx"})
    add(p);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(proc_root, ec)) {
    std::string pid = entry.path().filename();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    auto comm = read_file((entry.path() / "comm").string());
    if (!comm || comm->rfind("nginx", 0) != 0) continue;
    // Only an executable that is nginx (anyone can call a process nginx).
    if (!nginx::cached_binary_info((entry.path() / "exe").string()).is_nginx) continue;
    add(entry.path() / "exe");
  }
  return {found.begin(), found.end()};
}

}  // namespace ngxwatch
