#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nginx/config_parser.h"

namespace ngxwatch::nginx {

namespace {

std::string os_error(const char* call, const std::string& path, int err) {
  return std::string(call) + "() \"" + path + "\" failed (" + std::to_string(err) + ": " +
         std::strerror(err) + ")";
}

// Configuration files are small; anything this large is not a config we should hold.
constexpr size_t kMaxFileBytes = 64u << 20;

}  // namespace

bool has_glob_chars(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

std::vector<std::string> DiskResolver::expand(const std::string& pattern) {
  if (!has_glob_chars(pattern)) return {pattern};
  glob_t g{};
  std::vector<std::string> out;
  // nginx uses GLOB_NOSORT off (sorted) and ignores a pattern that matches nothing.
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

bool DiskResolver::read(const std::string& path, std::string& out, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = os_error("open", path, errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    error = os_error("read", path, EISDIR);
    return false;
  }
  out.clear();
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = os_error("read", path, errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxFileBytes) {
      error = "\"" + path + "\" is larger than 64 MiB";
      ::close(fd);
      return false;
    }
  }
  ::close(fd);
  return true;
}

std::vector<std::string> MemoryResolver::expand(const std::string& pattern) {
  if (!has_glob_chars(pattern)) return {pattern};
  std::vector<std::string> out;
  for (const auto& [name, text] : files_) {  // std::map: sorted, like glob(3)
    if (::fnmatch(pattern.c_str(), name.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0) {
      out.push_back(name);
    }
  }
  return out;
}

bool MemoryResolver::read(const std::string& path, std::string& out, std::string& error) {
  auto it = files_.find(path);
  if (it == files_.end()) {
    error = os_error("open", path, ENOENT);
    return false;
  }
  out = it->second;
  return true;
}

}  // namespace ngxwatch::nginx
