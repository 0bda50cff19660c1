#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ngxwatch::nginx {

// nginx time value ("60s", "1m30s", "500ms", "1h", "2d"; a bare number means
// seconds) like ngx_parse_time. nullopt when malformed or overflowing.
std::optional<std::chrono::milliseconds> parse_time(std::string_view value);

// nginx size/offset value ("1m", "10k", "1g", "512"; "0" is 0, which for
// client_max_body_size means unlimited) like ngx_parse_offset. nullopt if malformed.
std::optional<uint64_t> parse_size(std::string_view value);

}  // namespace ngxwatch::nginx
