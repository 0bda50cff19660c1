#include "host/verify.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "host/nginx_tool.h"
#include "host/unprivileged_spawn.h"

namespace ngxwatch::advise {

namespace fs = std::filesystem;

namespace {

// Removes the temp tree on every exit path.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/ngxwatch-suggest-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

std::string relative_to(const std::string& dir, const std::string& path) {
  return dir == "/" ? path.substr(1) : path.substr(dir.size() + 1);
}

// The name as one printable line (a trace may hold any bytes).
std::string printable(const std::string& name) {
  std::string out = name.substr(0, 200);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

// Writes `text` as a new file: O_EXCL|O_NOFOLLOW, so nothing already there (a link
// planted in the copy) is followed or overwritten.
bool write_new_file(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return ::close(fd) == 0 && done == text.size();
}

// A log or pid path nginx could create here: its directory exists (relative paths
// are the prefix's). One that could not stays, so nginx -t fails as it would.
bool directory_exists(const std::string& path) {
  if (path.empty() || path[0] != '/') return true;
  std::error_code ec;
  return fs::is_directory(fs::path(path).parent_path(), ec);
}

}  // namespace

std::string unsafe_name_reason(const std::string& path) {
  if (path.empty() || path[0] != '/') return "is not absolute";
  if (path.size() > 4096) return "is longer than 4096 bytes";
  if (path.find('\0') != std::string::npos) return "contains a NUL byte";
  for (size_t pos = 1; pos <= path.size();) {
    size_t slash = std::min(path.find('/', pos), path.size());
    std::string_view part(path.data() + pos, slash - pos);
    if (part.empty()) return "has an empty component";
    if (part == "." || part == "..") return "has a \".\" or \"..\" component";
    pos = slash + 1;
  }
  return "";
}

VerifyResult verify_config(const FileSet& files, const std::string& main_file,
                           const VerifyOptions& options) {
  VerifyResult r;
  // A trace is untrusted: every name must stay inside the copy.
  for (const auto& [path, text] : files) {
    if (std::string why = unsafe_name_reason(path); !why.empty()) {
      r.error = "configuration file name \"" + printable(path) + "\" " + why + ": not copied";
      return r;
    }
  }
  if (!files.count(main_file)) {
    r.error = "main file \"" + printable(main_file) + "\" is not among the files: not checked";
    return r;
  }
  if (std::string why = nginx::untrusted_binary_reason(options.nginx); !why.empty()) {
    r.error = "cannot check the change with nginx -t: " + why + " (use --nginx)";
    return r;
  }
  TempDir tmp;
  if (tmp.path.empty()) {
    r.error = "cannot create a temp directory for the copy";
    return r;
  }
  std::string root = common_directory(files);
  int runtime_files = 0;
  bool has_pid = false;
  for (const auto& [path, text] : files) {
    fs::path copy = fs::path(tmp.path) / relative_to(root, path);
    std::error_code ec;
    fs::create_directories(copy.parent_path(), ec);
    RuntimeRedirect moved = redirect_runtime_files(rewrite_includes(text, root, tmp.path), tmp.path,
                                                   runtime_files, directory_exists);
    runtime_files = moved.files;
    has_pid = has_pid || moved.pid;
    if (!write_new_file(copy.string(), moved.text)) {
      r.error = "cannot write " + copy.string() + ": " + std::strerror(errno);
      return r;
    }
  }
  // nginx -t runs as the unprivileged identity: the copy is its own, nobody else's.
  nginx::RunIdentity id = nginx::unprivileged_identity();
  if (::geteuid() == 0 && ::chown(tmp.path.c_str(), id.uid, id.gid) != 0) {
    r.error = "cannot hand the copy to uid " + std::to_string(id.uid) + ": " + std::strerror(errno);
    return r;
  }
  // The compiled-in pid and error log, which nginx -t would open when the config names
  // none (several error_log lines are allowed; a second pid is not).
  std::vector<std::string> globals = {"error_log " + tmp.path + "/error.log;"};
  if (!has_pid) globals.push_back("pid " + tmp.path + "/nginx.pid;");
  nginx::NginxTResult t = nginx::run_nginx_T(
      options.nginx, tmp.path + "/" + relative_to(root, main_file), options.prefix, globals);
  r.ok = t.ok;
  // nginx names the copy; the user knows the originals.
  if (!t.ok) r.error = replace_all(t.error, tmp.path + "/", root == "/" ? "/" : root + "/");
  return r;
}

ConfigCheck nginx_check(const VerifyOptions& options) {
  return [options](const FileSet& files, const std::string& main_file) {
    return verify_config(files, main_file, options);
  };
}

SuggestReport check_suggestions(std::vector<Suggestion> suggestions, const FileSet& files,
                                const std::string& main_file, const VerifyOptions& options) {
  return check_suggestions(std::move(suggestions), files, main_file, nginx_check(options));
}

SuggestReport run_suggest(const Measurements& measurements, const nginx::Config& config,
                          const VerifyOptions& options) {
  return run_suggest(measurements, config, nginx_check(options));
}

}  // namespace ngxwatch::advise
