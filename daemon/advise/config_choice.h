// A host may run several nginx masters, each with its own configuration; measurements
// are labelled by server and location only. Both `suggest --trace` (the trace's
// snapshot) and the daemon's live `suggest` (the running masters) advise on the one
// configuration those labels belong to.
#pragma once

#include <cstddef>
#include <vector>

#include "advise/measurements.h"
#include "attribute/nginx_config_view.h"

namespace ngxwatch::advise {

// Index of the candidate naming the most measured (server, location) pairs; the first
// on a tie, so a single candidate is always chosen. Null candidates (configurations
// that could not be loaded) count no hits. candidates.size() when it is empty.
size_t most_measured(const Measurements& m, const std::vector<const NginxConfigView*>& candidates);

}  // namespace ngxwatch::advise
