// Which failures may have been processed twice: a non-idempotent request (POST, PUT,
// PATCH) whose body fully reached the backend before the connection failed may have
// been executed although the client got a 502/504 and will retry — the duplicate
// payment callback or webhook. A body cut mid-upload never ran; a GET is safe to
// repeat; a keepalive race met a connection the backend had already given up on
// (it closed without reading the request).
#pragma once

#include <string>

namespace ngxwatch {

// The method class kept as evidence ("POST", "PUT", "PATCH"), never the URI; "" when
// the method is not one whose repetition is a risk.
std::string risky_method(const std::string& method);

// True when a failure of that method, phase and cause may have run on the backend.
bool duplicate_risk(const std::string& method, const std::string& phase, const std::string& cause);

}  // namespace ngxwatch
