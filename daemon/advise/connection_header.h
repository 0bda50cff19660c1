#pragma once

#include "nginx/config_model.h"

namespace ngxwatch::advise {

// What the effective proxy_set_header list does with the Connection header. nginx
// sends "Connection: close" upstream unless told otherwise, which disables upstream
// keepalive; `proxy_set_header Connection "";` removes the header.
enum class ConnectionHeader {
  kAbsent,   // not set: nginx sends "Connection: close"
  kCleared,  // set to "": removed, keepalive works
  kClose,    // set to the literal "close"
  kOther,    // a variable (websocket maps) or another literal: cannot tell, assume fine
};

ConnectionHeader connection_header(const nginx::EffectiveValue& proxy_set_header);

// The `proxy_set_header Connection "";` directive of `outer` when `own` (a level's own
// proxy_set_header list, which replaces outer's entirely) does not set Connection;
// nullptr when nothing was dropped.
const nginx::Directive* dropped_connection_clear(const nginx::EffectiveValue& own,
                                                 const nginx::EffectiveValue& outer);

// Whether the innermost level defining proxy_set_header for `loc` dropped an inherited
// Connection "" (reported by connection-header-dropped, at that level).
bool connection_clear_dropped(const nginx::Config& config, const nginx::Location& loc);

// True when `block` itself contains a directive `name`.
bool defines(const nginx::Directive* block, std::string_view name);

}  // namespace ngxwatch::advise
