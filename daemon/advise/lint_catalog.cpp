#include "advise/lint_catalog.h"

namespace ngxwatch::advise {

const std::vector<LintRuleInfo>& lint_rule_catalog() {
  static const std::vector<LintRuleInfo> kRules = {
      {kRuleConfigError, Severity::kError, "The configuration could not be read or parsed",
       "A missing include, an unreadable file or a syntax error nginx would reject. Nothing "
       "else is checked until it is fixed."},
      {kRuleBodySizeDefault, Severity::kWarning,
       "Proxied location accepts request bodies with the default 1m client_max_body_size (or "
       "an upload location with 1m or less, however it was set)",
       "nginx answers 413 and closes the connection mid-upload for any body over the limit. "
       "Set client_max_body_size (http, server or location) to the largest body the backend "
       "accepts."},
      {kRuleUploadTimeout, Severity::kWarning,
       "Upload location with default or short proxy timeouts",
       "proxy_send_timeout and proxy_read_timeout default to 60s; a slow backend processing a "
       "large body makes nginx give up with 504 and reset the upstream connection. Raise both "
       "in the upload location."},
      {kRuleUpstreamNoKeepalive, Severity::kWarning, "Upstream group without keepalive",
       "Every proxied request opens a new upstream connection: connect latency, TIME_WAIT "
       "build-up and ephemeral port exhaustion under load. Add `keepalive N;` to the upstream "
       "block (with proxy_http_version 1.1 and proxy_set_header Connection \"\")."},
      {kRuleKeepaliveUnused, Severity::kError,
       "Upstream keepalive configured but the location cannot use it",
       "Upstream keepalive needs proxy_http_version 1.1 and proxy_set_header Connection \"\" in "
       "every location proxying to the group; otherwise nginx sends HTTP/1.0 or "
       "`Connection: close` and the pool stays empty."},
      {kRuleConnectionHeaderDropped, Severity::kError,
       "proxy_set_header here silently drops an inherited Connection \"\"",
       "proxy_set_header is an array directive: a level that sets any header discards every "
       "proxy_set_header of the outer levels, including Connection \"\", which silently turns "
       "upstream keepalive off. Repeat proxy_set_header Connection \"\" at this level."},
      {kRuleTempPathOnRoot, Severity::kWarning, "Temp path on the root filesystem",
       "Request bodies and buffered responses are spooled to client_body_temp_path and "
       "proxy_temp_path; large uploads filling / break the whole host. Put them on a "
       "dedicated filesystem."},
      {kRuleBufferingLargeBody, Severity::kWarning,
       "Request buffering on for a large-body or upload location",
       "With proxy_request_buffering on, nginx writes the whole body to its temp path before "
       "contacting the upstream: disk fill, doubled latency, and upstream timeouts that start "
       "late. Stream large bodies with proxy_request_buffering off."},
      {kRuleUploadNoRateLimit, Severity::kInfo, "Upload location without limit_req or limit_conn",
       "Unlimited concurrent uploads exhaust temp space, worker connections and the backend. "
       "Add limit_req or limit_conn to the upload location."},
      {kRuleRlimitNofileLow, Severity::kWarning,
       "worker_rlimit_nofile below twice worker_connections",
       "A proxied request holds two descriptors (client and upstream) plus temp files; with "
       "fewer than 2 x worker_connections open files allowed, workers fail with `Too many "
       "open files` before reaching their connection limit."},
  };
  return kRules;
}

const LintRuleInfo* find_lint_rule(std::string_view id) {
  for (const LintRuleInfo& r : lint_rule_catalog()) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

}  // namespace ngxwatch::advise
