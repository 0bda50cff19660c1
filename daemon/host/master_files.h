// Reads a running nginx master's configuration files as nginx itself opened them:
// through /proc/PID/root (the master's own root, so nginx in a container or another
// mount namespace is read from its filesystem), never by running anything.
//
// Paths stay the master's own ("/etc/nginx/nginx.conf"): they are what the config, the
// trace and every file:line message name. Every open is resolved inside the root
// (openat2 RESOLVE_IN_ROOT: "..", absolute symlinks and sites-enabled links cannot
// leave it, /proc magic links are refused), with O_NONBLOCK so a FIFO cannot block, and
// only regular files within the size cap are read: an include of a FIFO, a device or a
// huge file fails the load with one line naming the file.
#pragma once

#include <string>

#include "nginx/build_info.h"
#include "nginx/config_parser.h"
#include "host/proc_parse.h"

namespace ngxwatch {

class RootResolver : public nginx::IncludeResolver {
 public:
  static constexpr size_t kMaxFileBytes = 16u << 20;
  static constexpr size_t kMaxDirEntries = 65536;

  // `root_dir`: "/proc/PID/root", or any directory standing for "/" (tests).
  explicit RootResolver(const std::string& root_dir);
  ~RootResolver() override;
  RootResolver(const RootResolver&) = delete;
  RootResolver& operator=(const RootResolver&) = delete;

  bool ok() const { return root_fd_ >= 0; }
  const std::string& error() const { return error_; }

  std::vector<std::string> expand(const std::string& pattern) override;
  bool read(const std::string& path, std::string& out, std::string& error) override;

 private:
  int open_in_root(const std::string& path, int flags) const;
  std::vector<std::string> list_dir(const std::string& dir) const;
  int root_fd_ = -1;
  std::string root_dir_;
  std::string error_;
};

// The main file nginx reads for these arguments: -c (relative to the prefix), else the
// compiled-in conf path; the prefix is -p, else the compiled-in one.
std::string master_conf_path(const MasterArgs& args, const nginx::BuildInfo& build);

// Parses the master's configuration through `root_dir`. Throws nginx::ConfigError.
nginx::ParsedConfig read_master_files(const std::string& root_dir, const MasterArgs& args,
                                      const nginx::BuildInfo& build);

// The files in `nginx -T` form ("# configuration file PATH:" + text), which the trace
// snapshot stores and load_from_dump reads back with the same names and lines.
std::string dump_of(const nginx::ParsedConfig& parsed);

}  // namespace ngxwatch
