// Rules over single proxied locations: body size, timeouts, buffering, rate limits.
#include <algorithm>
#include <chrono>

#include "advise/lint_catalog.h"
#include "advise/lint_rule_set.h"
#include "advise/upload_location.h"
#include "nginx/units.h"

namespace ngxwatch::advise {

namespace {

// "60s (default)" or "30s (from conf/x.conf:12)".
std::string shown(const nginx::EffectiveValue& v) {
  std::string value = v.value().empty() ? std::string("(empty)") : v.value();
  return value + (v.is_default() ? " (default)" : " (from " + v.origin() + ")");
}

constexpr uint64_t kDefaultBodySize = 1024 * 1024;  // nginx's compiled-in 1m

std::string seconds(std::chrono::milliseconds ms) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(ms).count()) + "s";
}

}  // namespace

void rule_body_size_default(const nginx::Config& c, const LintOptions&,
                            std::vector<LintFinding>& out) {
  for (const nginx::Location* loc : c.all_locations()) {
    if (!is_proxied(*loc) || bodyless_methods_only(*loc)) continue;
    nginx::EffectiveValue size = c.effective(*loc, "client_max_body_size");
    // The effective value, however it was set: an explicit 1m on an upload location
    // cuts the same uploads as the default does (the incident's own "before" config).
    std::optional<uint64_t> bytes = max_body_size(c, *loc);
    bool small_upload = upload_named(*loc) && bytes && *bytes != 0 && *bytes <= kDefaultBodySize;
    if (!size.is_default() && !small_upload) continue;
    std::string what = size.is_default() ? describe(*loc) + " proxies request bodies"
                                         : "upload " + describe(*loc) + " accepts bodies";
    out.push_back(make_finding_at(
        kRuleBodySizeDefault, *loc,
        what + " with client_max_body_size " + shown(size) +
            ": any larger upload is cut off with 413",
        "set `client_max_body_size <largest accepted body>;` in this location, its server or "
        "http (0 disables the check)"));
  }
}

void rule_upload_timeout(const nginx::Config& c, const LintOptions& o,
                         std::vector<LintFinding>& out) {
  const std::string suggested =
      seconds(std::max(o.min_upload_timeout, std::chrono::milliseconds(300'000)));
  for (const nginx::Location* loc : c.all_locations()) {
    std::string why = upload_reason(c, *loc, o.upload_body_threshold);
    if (why.empty()) continue;
    std::vector<std::string> problems;
    std::string fix;
    for (const char* name : {"proxy_send_timeout", "proxy_read_timeout"}) {
      nginx::EffectiveValue v = c.effective(*loc, name);
      std::optional<std::chrono::milliseconds> t = nginx::parse_time(v.value());
      if (!v.is_default() && t && *t >= o.min_upload_timeout) continue;
      problems.push_back(std::string(name) + " " + shown(v));
      fix += std::string(fix.empty() ? "" : " ") + name + " " + suggested + ";";
    }
    if (problems.empty()) continue;
    std::string list = problems[0];
    for (size_t i = 1; i < problems.size(); ++i) list += ", " + problems[i];
    out.push_back(make_finding_at(
        kRuleUploadTimeout, *loc,
        "upload " + describe(*loc) + " (" + why + ") has " + list + "; below " +
            seconds(o.min_upload_timeout) +
            " a backend still busy with a large body gets reset and the client a 504",
        "in this location: `" + fix + "` (or the longest processing time the backend needs)"));
  }
}

void rule_buffering_large_body(const nginx::Config& c, const LintOptions& o,
                               std::vector<LintFinding>& out) {
  for (const nginx::Location* loc : c.all_locations()) {
    if (!is_proxied(*loc) || bodyless_methods_only(*loc)) continue;
    std::optional<uint64_t> bytes = max_body_size(c, *loc);
    bool large = bytes && (*bytes == 0 || *bytes > o.large_body_threshold);
    // An upload location buffers every body to disk whatever its current limit: the
    // limit is the next thing raised in an upload incident.
    if (!large && !upload_named(*loc)) continue;
    nginx::EffectiveValue buffering = c.effective(*loc, "proxy_request_buffering");
    if (buffering.value() == "off") continue;
    nginx::EffectiveValue size = c.effective(*loc, "client_max_body_size");
    std::string what = large ? describe(*loc) + " accepts bodies up to " +
                                   (*bytes == 0 ? std::string("any size") : size.value()) +
                                   " (client_max_body_size " +
                                   (size.is_default() ? "default" : "from " + size.origin()) + ")"
                             : "upload " + describe(*loc) + " (its path suggests uploads)";
    out.push_back(make_finding_at(
        kRuleBufferingLargeBody, *loc,
        what + " with proxy_request_buffering " + shown(buffering) +
            ": each body is spooled to client_body_temp_path before the upstream sees a byte",
        "in this location: `proxy_request_buffering off;` (the backend then receives the "
        "body as it arrives)"));
  }
}

void rule_upload_no_rate_limit(const nginx::Config& c, const LintOptions& o,
                               std::vector<LintFinding>& out) {
  for (const nginx::Location* loc : c.all_locations()) {
    std::string why = upload_reason(c, *loc, o.upload_body_threshold);
    if (why.empty()) continue;
    if (!c.effective(*loc, "limit_req").is_default()) continue;
    if (!c.effective(*loc, "limit_conn").is_default()) continue;
    out.push_back(make_finding_at(
        kRuleUploadNoRateLimit, *loc,
        "upload " + describe(*loc) + " (" + why +
            ") has no limit_req or limit_conn: concurrent uploads are unbounded",
        "define `limit_conn_zone $binary_remote_addr zone=uploads:10m;` in http and add "
        "`limit_conn uploads 4;` (or a limit_req) in this location"));
  }
}

}  // namespace ngxwatch::advise
