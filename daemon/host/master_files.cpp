#include "host/master_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ngxwatch {

namespace {

std::string os_error(const char* call, const std::string& path, int err) {
  return std::string(call) + "() \"" + path + "\" failed (" + std::to_string(err) + ": " +
         std::strerror(err) + ")";
}

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

}  // namespace

RootResolver::RootResolver(const std::string& root_dir) : root_dir_(root_dir) {
  root_fd_ = ::open(root_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ < 0) error_ = os_error("open", root_dir, errno);
}

RootResolver::~RootResolver() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

int RootResolver::open_in_root(const std::string& path, int flags) const {
  open_how how{};
  // openat2 refuses O_PATH with any flag but O_DIRECTORY/O_NOFOLLOW/O_CLOEXEC.
  int extra = (flags & O_PATH) != 0 ? O_CLOEXEC : O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.flags = static_cast<uint64_t>(flags | extra);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string rel = path;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  if (rel.empty()) rel = ".";
  return static_cast<int>(::syscall(SYS_openat2, root_fd_, rel.c_str(), &how, sizeof how));
}

bool RootResolver::read(const std::string& path, std::string& out, std::string& error) {
  if (!ok()) {
    error = error_;
    return false;
  }
  int fd = open_in_root(path, O_RDONLY);
  if (fd < 0) {
    error = os_error("open", path, errno);
    return false;
  }
  struct stat st {};
  std::string why;
  if (::fstat(fd, &st) != 0)
    why = os_error("fstat", path, errno);
  else if (S_ISDIR(st.st_mode))
    why = os_error("read", path, EISDIR);
  else if (!S_ISREG(st.st_mode))
    why = "\"" + path + "\" is not a regular file (a FIFO, socket or device): not read";
  else if (static_cast<size_t>(st.st_size) > kMaxFileBytes)
    why = "\"" + path + "\" is larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB";
  if (!why.empty()) {
    ::close(fd);
    error = why;
    return false;
  }
  out.clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = os_error("read", path, errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxFileBytes) {  // grew while we read
      error = "\"" + path + "\" is larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB";
      ::close(fd);
      return false;
    }
  }
  ::close(fd);
  return true;
}

std::vector<std::string> RootResolver::list_dir(const std::string& dir) const {
  std::vector<std::string> names;
  int fd = open_in_root(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return names;
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return names;
  }
  while (dirent* e = ::readdir(d)) {
    if (names.size() >= kMaxDirEntries) break;
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  return names;
}

std::vector<std::string> RootResolver::expand(const std::string& pattern) {
  if (!nginx::has_glob_chars(pattern)) return {pattern};
  if (!ok()) return {};
  // glob(3) inside the root, one component at a time: only names that exist match,
  // and a pattern matching nothing yields nothing (nginx then ignores the include).
  std::vector<std::string> current = {""};
  for (const std::string& part : components(pattern)) {
    std::vector<std::string> next;
    for (const std::string& dir : current) {
      if (!nginx::has_glob_chars(part)) {
        next.push_back(dir + "/" + part);
        continue;
      }
      std::vector<std::string> names = list_dir(dir.empty() ? "/" : dir);
      std::sort(names.begin(), names.end());
      for (const std::string& n : names)
        if (::fnmatch(part.c_str(), n.c_str(), FNM_PERIOD) == 0) next.push_back(dir + "/" + n);
      if (next.size() > kMaxDirEntries) break;
    }
    current = std::move(next);
  }
  std::erase_if(current, [this](const std::string& p) {
    int fd = open_in_root(p, O_PATH);
    if (fd < 0) return true;
    ::close(fd);
    return false;
  });
  std::sort(current.begin(), current.end());
  return current;
}

std::string master_conf_path(const MasterArgs& args, const nginx::BuildInfo& build) {
  std::string prefix = args.prefix.empty() ? build.prefix : args.prefix;
  std::string conf = args.conf_path.empty() ? build.conf_path : args.conf_path;
  if (!conf.empty() && conf[0] != '/')
    conf = prefix + (!prefix.empty() && prefix.back() == '/' ? "" : "/") + conf;
  return conf;
}

nginx::ParsedConfig read_master_files(const std::string& root_dir, const MasterArgs& args,
                                      const nginx::BuildInfo& build) {
  RootResolver root(root_dir);
  std::string conf = master_conf_path(args, build);
  if (!root.ok()) throw nginx::ConfigError(conf, 0, root.error());
  return nginx::parse_config(conf, root);
}

std::string dump_of(const nginx::ParsedConfig& parsed) {
  std::string out;
  for (const nginx::SourceFile& f : parsed.files)
    out += "# configuration file " + f.path + ":\n" + f.text + "\n";  // as nginx -T
  return out;
}

}  // namespace ngxwatch
