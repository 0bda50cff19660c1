// The duplicate-processing rule of `suggest`: POST/PUT/PATCH that failed after their
// whole request reached the backend may have run there although the client got an
// error and will retry. The remedy is on the backend (idempotency keys); nginx must
// not make it worse by retrying them itself (proxy_next_upstream non_idempotent).
#pragma once

#include "advise/suggest.h"

namespace ngxwatch::advise {

// Fills `s` (already placed at the location) when `lm` saw requests at risk; returns
// false when there is nothing to say.
bool duplicate_risk_suggestion(Suggestion& s, const LocationMeasurements& lm,
                               const nginx::Config& config, const nginx::Location& loc);

}  // namespace ngxwatch::advise
