// Building blocks of the suggest rules: where a directive change goes in the parsed
// configuration, and numbers written the way nginx and people read them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "advise/config_edit.h"
#include "nginx/config_model.h"

namespace ngxwatch::advise {

// `name value;` for this location only: the location's own directive changed when it
// has one, else one inserted into the location block (an outer level's value is left
// alone: other locations inherit it).
Edit location_edit(const nginx::Location& loc, std::string_view name, const std::string& value);

// `name value;` for an upstream group: its own directive changed, or one inserted.
Edit upstream_edit(const nginx::Upstream& upstream, std::string_view name,
                   const std::string& value);

// `name value;` in a top-level block (http, events): its own directive changed, or
// one inserted; `add` always inserts (directives that may repeat: limit_req_zone).
Edit block_edit(const nginx::Directive& block, std::string_view name, const std::string& value,
                bool add = false);

// `name value;` in the main context: its own directive changed, or one inserted
// before `anchor` (a top-level directive: the events block).
Edit main_edit(const nginx::Config& config, const nginx::Directive& anchor, std::string_view name,
               const std::string& value);

// Adds a directive to the level a list directive was defined at, right after its
// defining line (proxy_set_header at a level replaces every outer list: adding one
// to an inner level would drop the inherited entries).
Edit insert_after_edit(const nginx::Directive& at, std::string_view name, const std::string& value);

// The effective value in seconds (nullopt when malformed), and how it is set: "60s
// (default)" or "1s (at file:line)".
std::optional<double> seconds_of(const nginx::EffectiveValue& v);
std::string setting(const nginx::EffectiveValue& v);

// nginx time text: whole seconds ("4s"), or milliseconds below 2 s ("900ms").
std::string nginx_time(double seconds);
// "1.30", "12.0", "120": seconds for evidence text.
std::string secs(double seconds);
// "10 KiB", "180.0 MiB": sizes for evidence text.
std::string human_bytes(double bytes);
std::string count_of(uint64_t n, std::string_view one, std::string_view many);

}  // namespace ngxwatch::advise
