// A host may run several nginx masters, each with its own configuration. Both
// `suggest --trace` (the trace's snapshot, measurements labelled by server and location
// only) and the daemon's live `suggest` (the running masters, measurements kept per
// master identity) advise on the one configuration the measurements belong to.
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

// The measurements taken under a view's master identity; empty ones when there are none.
const Measurements& measurements_of(const MeasurementsByNginx& m, const NginxConfigView& view);
// As above, each candidate judged by its own master's measurements only.
size_t most_measured(const MeasurementsByNginx& m,
                     const std::vector<const NginxConfigView*>& candidates);

}  // namespace ngxwatch::advise
