#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ngxwatch::nginx {

// The URI nginx matches locations against, computed from a request target the way
// ngx_http_parse_complex_uri does: percent-decoding (a decoded '%', '#' or '?' is
// literal; other decoded bytes, '/' and '.' included, take part in the steps below),
// merging "//" (merge_slashes on), removing "/./", resolving "/../", and cutting at
// '?' (query) or '#' (fragment).
// nullopt where nginx answers 400: target not starting with '/', bad or %00 escape,
// ".." above the root, control characters or spaces.
std::optional<std::string> normalize_uri(std::string_view target, bool merge_slashes = true);

}  // namespace ngxwatch::nginx
