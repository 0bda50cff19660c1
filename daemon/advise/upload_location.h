#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "nginx/config_model.h"

namespace ngxwatch::advise {

// Why a location counts as an upload location (for messages); empty when it does not.
//
// An upload location is a proxied location (proxy_pass in the location itself) that
//  - has a name suggesting uploads: a path word starting with upload, file, media,
//    import, attachment, ingest, blob, backup, video or asset; or
//  - allows bodies above `body_threshold` (effective client_max_body_size > 1m, or 0 =
//    unlimited); or
//  - streams bodies (proxy_request_buffering off), which only makes sense for big ones.
std::string upload_reason(const nginx::Config& config, const nginx::Location& loc,
                          uint64_t body_threshold);

// True when the location's path names uploads (a word starting with upload, file,
// media, ...; see upload_reason).
bool upload_named(const nginx::Location& loc);

// Effective client_max_body_size in bytes; 0 means unlimited; nullopt when malformed.
std::optional<uint64_t> max_body_size(const nginx::Config& config, const nginx::Location& loc);

// True when the location has its own proxy_pass.
bool is_proxied(const nginx::Location& loc);

// True when a `limit_except` in the location allows only body-less methods (GET, HEAD,
// OPTIONS), so the location never accepts a request body.
bool bodyless_methods_only(const nginx::Location& loc);

}  // namespace ngxwatch::advise
