#pragma once

#include <string>
#include <string_view>

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

}  // namespace ngxwatch::nginx
