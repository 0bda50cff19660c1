// `ngxwatch gate --api-socket`: the verdict as the difference of two snapshots of the
// running daemon (before and after the load; api/live_stats.h's format), so a gate
// runs on a host whose daemon already holds the probes. Totals are cumulative in the
// snapshot, so the difference is exact; evidence comes from the rows' latest events.
#pragma once

#include <nlohmann/json.hpp>

#include "gate/gate_report.h"

namespace ngxwatch::gate {

// Throws nlohmann::json::exception on a snapshot of the wrong shape.
GateReport from_snapshots(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace ngxwatch::gate
