#include "nginx/binary_info.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

namespace ngxwatch::nginx {

namespace {

constexpr std::string_view kVersion = "nginx version: ";
constexpr std::string_view kArgs = "configure arguments:";
constexpr std::string_view kElf =
    "\x7f"
    "ELF";

// Finds NUL-terminated strings starting with the markers in a stream of chunks. A string
// counts only where a string starts (after a NUL), so text that merely contains the
// marker is not taken. Keeps the last kMaxBinaryString+1 bytes between chunks so a
// string cut by a chunk boundary is found in the next window.
class StringScanner {
 public:
  void feed(std::string_view chunk) {
    window_.append(chunk);
    find(kVersion, version_);
    find(kArgs, args_);
    size_t keep = kMaxBinaryString + 1;
    if (window_.size() > keep) window_.erase(0, window_.size() - keep);
    first_ = false;
  }
  bool done() const { return !version_.empty() && !args_.empty(); }
  const std::string& version() const { return version_; }
  const std::string& args() const { return args_; }

 private:
  void find(std::string_view marker, std::string& into) {
    if (!into.empty()) return;
    for (size_t pos = window_.find(marker); pos != std::string::npos;
         pos = window_.find(marker, pos + 1)) {
      if (pos == 0 ? !first_ : window_[pos - 1] != '\0') continue;
      size_t end = window_.find('\0', pos);
      if (end == std::string::npos) return;  // cut by the chunk: the next window has it
      if (end - pos > kMaxBinaryString) continue;
      into.assign(window_, pos, end - pos);
      return;
    }
  }
  std::string window_;
  std::string version_, args_;
  bool first_ = true;
};

BinaryInfo result_of(const StringScanner& s, const std::string& name) {
  BinaryInfo info;
  if (!s.done()) {
    info.why = name + " is not an nginx binary (no \"" +
               std::string(s.version().empty() ? kVersion : kArgs) + "\" string)";
    info.build = parse_nginx_V("");
    return info;
  }
  info.is_nginx = true;
  std::string text = s.version() + "\n" + s.args() + "\n";
  info.build = parse_nginx_V(text);
  return info;
}

std::string errno_line(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

BinaryInfo not_nginx(std::string why) {
  BinaryInfo info;
  info.why = std::move(why);
  info.build = parse_nginx_V("");
  return info;
}

BinaryInfo read_fd(int fd, const std::string& path, const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return not_nginx(path + " is not a regular file");
  char head[4];
  if (::pread(fd, head, sizeof head, 0) != 4 || std::string_view(head, 4) != kElf)
    return not_nginx(path + " is not an ELF executable");
  StringScanner scan;
  std::string chunk(1u << 20, '\0');
  size_t total = 0;
  while (!scan.done() && total < kMaxBinaryBytes) {
    ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return not_nginx(errno_line("cannot read", path));
    if (n == 0) break;
    total += static_cast<size_t>(n);
    scan.feed(std::string_view(chunk.data(), static_cast<size_t>(n)));
  }
  return result_of(scan, path);
}

}  // namespace

BinaryInfo binary_info_from_bytes(std::string_view bytes, const std::string& name) {
  if (bytes.substr(0, 4) != kElf) return not_nginx(name + " is not an ELF executable");
  StringScanner scan;
  for (size_t at = 0; at < bytes.size() && !scan.done(); at += 1u << 20)
    scan.feed(bytes.substr(at, 1u << 20));
  return result_of(scan, name);
}

BinaryInfo read_binary_info(const std::string& path) {
  // O_NONBLOCK: a FIFO put in place of the file must not block the scan.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return not_nginx(errno_line("cannot open", path));
  struct stat st {};
  BinaryInfo info =
      ::fstat(fd, &st) != 0 ? not_nginx(errno_line("cannot stat", path)) : read_fd(fd, path, st);
  ::close(fd);
  return info;
}

BinaryInfo cached_binary_info(const std::string& path) {
  using Key = std::tuple<dev_t, ino_t, off_t, int64_t, int64_t>;
  static std::mutex mu;
  static std::map<Key, BinaryInfo> cache;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return not_nginx(errno_line("cannot open", path));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return not_nginx(errno_line("cannot stat", path));
  }
  Key key{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
  {
    std::lock_guard lock(mu);
    if (auto it = cache.find(key); it != cache.end()) {
      ::close(fd);
      return it->second;
    }
  }
  BinaryInfo info = read_fd(fd, path, st);
  ::close(fd);
  std::lock_guard lock(mu);
  if (cache.size() >= 256) cache.clear();  // binaries come and go with upgrades: stay small
  cache.emplace(key, info);
  return info;
}

}  // namespace ngxwatch::nginx
