// Rules about upstream keepalive: the pool itself, and the protocol version and
// Connection header every location needs for nginx to put connections back into it.
#include <map>

#include "advise/connection_header.h"
#include "advise/lint_catalog.h"
#include "advise/lint_rule_set.h"
#include "advise/upload_location.h"
#include "nginx/proxy_target.h"

namespace ngxwatch::advise {

namespace {

// Upstream groups named by some location's proxy_pass, with how many locations use
// them. Groups only reached through variables or other *_pass modules are left out:
// keepalive advice for fastcgi/uwsgi differs.
std::map<const nginx::Upstream*, int> proxied_upstreams(const nginx::Config& c) {
  std::map<const nginx::Upstream*, int> used;
  for (const nginx::Location* loc : c.all_locations()) {
    std::optional<nginx::ProxyTarget> t = nginx::proxy_target(c, *loc);
    if (t && t->upstream != nullptr) ++used[t->upstream];
  }
  return used;
}

const nginx::Directive* first_directive(const nginx::Directive* block, std::string_view name) {
  if (block == nullptr) return nullptr;
  for (const nginx::Directive& d : block->children) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::string connection_problem(const nginx::EffectiveValue& psh) {
  switch (connection_header(psh)) {
    case ConnectionHeader::kAbsent:
      return std::string("no proxy_set_header Connection \"\" (") +
             (psh.is_default() ? "proxy_set_header not set" : "list from " + psh.origin()) +
             "), so nginx sends \"Connection: close\"";
    case ConnectionHeader::kClose:
      return "proxy_set_header Connection close (from " + psh.origin() + ")";
    case ConnectionHeader::kCleared:
    case ConnectionHeader::kOther:
      break;
  }
  return {};
}

}  // namespace

void rule_upstream_no_keepalive(const nginx::Config& c, const LintOptions&,
                                std::vector<LintFinding>& out) {
  for (const auto& [up, uses] : proxied_upstreams(c)) {
    if (up->block == nullptr || defines(up->block, "keepalive")) continue;
    out.push_back(make_finding(
        kRuleUpstreamNoKeepalive, up->block->file, up->block->line,
        "upstream \"" + up->name + "\" (" + up->where() + "), proxied to by " +
            std::to_string(uses) + " location(s), has no keepalive: every request opens a new " +
            "upstream connection (connect latency, TIME_WAIT, port exhaustion under load)",
        "add `keepalive 32;` to this upstream block, and `proxy_http_version 1.1;` plus "
        "`proxy_set_header Connection \"\";` where it is proxied to"));
  }
}

void rule_keepalive_unused(const nginx::Config& c, const LintOptions&,
                           std::vector<LintFinding>& out) {
  for (const nginx::Location* loc : c.all_locations()) {
    std::optional<nginx::ProxyTarget> t = nginx::proxy_target(c, *loc);
    if (!t || t->upstream == nullptr) continue;
    const nginx::Directive* keepalive = first_directive(t->upstream->block, "keepalive");
    if (keepalive == nullptr) continue;
    std::vector<std::string> problems;
    std::string fix;
    nginx::EffectiveValue version = c.effective(*loc, "proxy_http_version");
    if (version.value() != "1.1") {
      problems.push_back(
          "proxy_http_version " + version.value() +
          (version.is_default() ? " (default)" : " (from " + version.origin() + ")"));
      fix += "`proxy_http_version 1.1;`";
    }
    // A Connection "" dropped by a level's own proxy_set_header is reported once, at
    // that level, by connection-header-dropped.
    if (!connection_clear_dropped(c, *loc)) {
      std::string p = connection_problem(c.effective(*loc, "proxy_set_header"));
      if (!p.empty()) {
        problems.push_back(p);
        fix += std::string(fix.empty() ? "" : " and ") + "`proxy_set_header Connection \"\";`";
      }
    }
    if (problems.empty()) continue;
    std::string list = problems[0];
    for (size_t i = 1; i < problems.size(); ++i) list += " and " + problems[i];
    out.push_back(make_finding_at(
        kRuleKeepaliveUnused, *loc,
        describe(*loc) + " proxies to upstream \"" + t->upstream->name + "\" with keepalive (" +
            keepalive->where() + ") but has " + list +
            ": the backend connection is closed after every request",
        "add " + fix + " to this location (proxy_set_header at a level replaces every outer one)"));
  }
}

void rule_connection_header_dropped(const nginx::Config& c, const LintOptions&,
                                    std::vector<LintFinding>& out) {
  auto report = [&out](const nginx::Directive* block, const nginx::Directive* dropped,
                       const std::string& what) {
    const nginx::Directive* own = first_directive(block, "proxy_set_header");
    out.push_back(make_finding(
        kRuleConnectionHeaderDropped, own->file, own->line,
        "proxy_set_header in " + what + " replaces the inherited list, silently dropping " +
            "proxy_set_header Connection \"\" from " + dropped->where() +
            ": upstream requests here carry \"Connection: close\" and keepalive is lost",
        "repeat `proxy_set_header Connection \"\";` next to this proxy_set_header (and any "
        "other inherited headers still needed)"));
  };
  for (const nginx::Location* loc : c.all_locations()) {
    if (!defines(loc->block, "proxy_set_header")) continue;
    nginx::EffectiveValue outer =
        loc->parent != nullptr   ? c.effective(*loc->parent, "proxy_set_header")
        : loc->server != nullptr ? c.effective(*loc->server, "proxy_set_header")
                                 : c.effective_http("proxy_set_header");
    const nginx::Directive* dropped =
        dropped_connection_clear(c.effective(*loc, "proxy_set_header"), outer);
    if (dropped != nullptr) report(loc->block, dropped, describe(*loc));
  }
  for (const auto& server : c.servers()) {
    if (!defines(server->block, "proxy_set_header")) continue;
    const nginx::Directive* dropped = dropped_connection_clear(
        c.effective(*server, "proxy_set_header"), c.effective_http("proxy_set_header"));
    if (dropped != nullptr) report(server->block, dropped, "server (" + server->where() + ")");
  }
}

}  // namespace ngxwatch::advise
