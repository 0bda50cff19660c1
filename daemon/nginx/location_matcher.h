#pragma once

#include <string>
#include <string_view>

#include "nginx/config_model.h"

namespace ngxwatch::nginx {

struct LocationMatch {
  // The location nginx uses; null when none matches (the server's own settings apply).
  const Location* location = nullptr;
  // nginx answers "301 Location: <name>" instead of running `location` (request for
  // "/x" with a "location /x/ { proxy_pass ...; }" and no location exactly "/x").
  bool auto_redirect = false;
};

// Location lookup for an already normalized URI (see normalize_uri), following
// ngx_http_core_find_location: an exact "=" match wins; otherwise the longest
// prefix, whose nested locations are searched the same way (nested regexes before
// outer ones); unless that prefix is "^~", the regexes of the level are then tried
// in config order and the first match (refined by its own nested locations) wins;
// else the longest prefix. Prefix comparison is case-sensitive, like nginx on Linux.
// Named locations never match.
LocationMatch find_location(const Server& server, std::string_view uri);

struct RequestMatch {
  bool valid = false;  // false: nginx answers 400 before any location lookup
  std::string uri;     // normalized URI (no query)
  LocationMatch match;
};

// Normalizes a request target ("/a/../b%20c?x=1") and finds its location.
RequestMatch match_request(const Server& server, std::string_view target);

}  // namespace ngxwatch::nginx
