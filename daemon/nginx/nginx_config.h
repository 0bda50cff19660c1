#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "nginx/build_info.h"
#include "nginx/config_model.h"
#include "nginx/config_parser.h"

namespace ngxwatch::nginx {

// Loads a configuration from disk as nginx would with `-c conf_path -p prefix`:
// a relative conf_path is taken relative to `prefix`; includes are relative to the
// directory of the main file. Throws ConfigError.
Config load_from_file(const std::string& conf_path, const std::string& prefix = "",
                      const BuildInfo& build = {});

// Loads a configuration from `nginx -T` output (real file names and lines kept).
Config load_from_dump(std::string_view nginx_T_text, const BuildInfo& build = {});

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
