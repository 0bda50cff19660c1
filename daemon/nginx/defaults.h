#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "nginx/build_info.h"

namespace ngxwatch::nginx {

// Where a directive is looked up: some names mean different things in different
// blocks (keepalive_timeout in http is the client idle timeout, 75s; in upstream it
// is the idle timeout of cached backend connections, 60s).
enum class DirectiveContext { kMain, kEvents, kHttp, kUpstream };

// nginx 1.22's compiled-in default for `name` (as nginx would print it), for the
// directives ngxwatch reasons about; temp paths come from `build`. nullopt when the
// directive has no default we know of.
std::optional<std::string> default_value(DirectiveContext ctx, std::string_view name,
                                         const BuildInfo& build = {});

}  // namespace ngxwatch::nginx
