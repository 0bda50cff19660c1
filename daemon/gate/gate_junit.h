// The JUnit XML report of `ngxwatch gate --junit FILE`, which CI systems display: one
// test case per location (classname = server, name = location) that fails when the
// location crossed a threshold, with the attributed evidence; one more for the load
// command itself. Everything from the wire (request lines, evidence) is escaped, cut
// to valid UTF-8 and stripped of characters XML 1.0 cannot carry; query strings are
// redacted again, whatever the source.
#pragma once

#include <string>
#include <vector>

#include "gate/gate_report.h"
#include "gate/gate_thresholds.h"

namespace ngxwatch::gate {

std::string format_junit(const GateReport& r, const Thresholds& t,
                         const std::vector<std::string>& run_reasons);

// Text safe inside an XML attribute or element: & < > " ' escaped, invalid UTF-8
// replaced by U+FFFD, control characters other than tab/newline dropped.
std::string xml_escape(const std::string& s);

}  // namespace ngxwatch::gate
