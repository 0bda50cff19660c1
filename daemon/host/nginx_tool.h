// nginx as a program on this host: `nginx -T` run unprivileged, and what a binary says
// about its build (read from its bytes). The configuration model itself (nginx/) only
// ever sees the text these produce.
#pragma once

#include <string>
#include <vector>

#include "nginx/build_info.h"
#include "nginx/nginx_config.h"

namespace ngxwatch::nginx {

struct NginxTResult {
  bool ok = false;
  std::string text;   // the dump (stdout) when ok
  std::string error;  // nginx's own error line ("nginx: [emerg] ... in /x:3") when not
};

// Runs `binary -T -q -c conf [-p prefix] [-g directives...]` unprivileged (run_process.h)
// and returns the dump or nginx's error.
NginxTResult run_nginx_T(const std::string& binary, const std::string& conf,
                         const std::string& prefix = "",
                         const std::vector<std::string>& globals = {});

// What `binary -V` would say, read from its bytes (binary_info.h), never by running it;
// defaults when it is not nginx.
BuildInfo build_info_of(const std::string& binary);

}  // namespace ngxwatch::nginx
