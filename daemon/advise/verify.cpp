#include "advise/verify.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "nginx/nginx_config.h"

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

}  // namespace

std::string common_directory(const FileSet& files) {
  std::string common;
  for (const auto& [path, text] : files) {
    std::string dir = fs::path(path).parent_path().string();
    if (common.empty()) {
      common = dir;
      continue;
    }
    while (common != "/" && !(dir == common || dir.starts_with(common + "/")))
      common = fs::path(common).parent_path().string();
  }
  return common.empty() ? "/" : common;
}

VerifyResult verify_config(const FileSet& files, const std::string& main_file,
                           const VerifyOptions& options) {
  VerifyResult r;
  if (::access(options.nginx.c_str(), X_OK) != 0) {
    r.error = "cannot run " + options.nginx + " to check the change (nginx -t); use --nginx";
    return r;
  }
  for (const auto& [path, text] : files) {
    if (path.empty() || path[0] != '/') {
      r.error = "configuration file name \"" + path + "\" is not absolute: cannot lay out a copy";
      return r;
    }
  }
  TempDir tmp;
  if (tmp.path.empty()) {
    r.error = "cannot create a temp directory for the copy";
    return r;
  }
  std::string root = common_directory(files);
  for (const auto& [path, text] : files) {
    fs::path copy = fs::path(tmp.path) / relative_to(root, path);
    std::error_code ec;
    fs::create_directories(copy.parent_path(), ec);
    std::ofstream out(copy, std::ios::binary);
    out << rewrite_includes(text, root, tmp.path);
    if (!out.flush()) {
      r.error = "cannot write " + copy.string();
      return r;
    }
  }
  nginx::NginxTResult t = nginx::run_nginx_T(
      options.nginx, tmp.path + "/" + relative_to(root, main_file), options.prefix);
  r.ok = t.ok;
  // nginx names the copy; the user knows the originals.
  if (!t.ok) r.error = replace_all(t.error, tmp.path + "/", root == "/" ? "/" : root + "/");
  return r;
}

}  // namespace ngxwatch::advise
