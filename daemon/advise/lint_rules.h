#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "advise/lint_finding.h"
#include "nginx/config_model.h"

namespace ngxwatch::advise {

struct LintOptions {
  // client_max_body_size above this makes a proxied location an upload location.
  uint64_t upload_body_threshold = 1u << 20;
  // client_max_body_size above this (or 0) makes it a large-body location, where
  // proxy_request_buffering on spools the whole body to disk first.
  uint64_t large_body_threshold = 10u << 20;
  // proxy_send_timeout / proxy_read_timeout below this on an upload location are short.
  std::chrono::milliseconds min_upload_timeout{120'000};
  // RLIMIT_NOFILE a worker inherits when worker_rlimit_nofile is not set (the usual
  // soft limit of a shell or a systemd service).
  uint64_t inherited_nofile = 1024;
  // Relative temp paths are resolved against this (nginx's -p); empty: the build prefix.
  std::string prefix;
  // The filesystem view: is this absolute path on the root filesystem? The lint CLI
  // passes host/root_filesystem.h (st_dev); unset, the temp-path rule finds nothing,
  // so the rules give the same answer on every machine.
  std::function<bool(const std::string& path)> on_root_filesystem;
  std::set<std::string> disabled_rules;
};

// Every static rule over a loaded configuration, in report order (finding_less).
// Rules and their ids: lint_catalog.h.
std::vector<LintFinding> lint_config(const nginx::Config& config, const LintOptions& options);

}  // namespace ngxwatch::advise
