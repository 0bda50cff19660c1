// Rules about the host the configuration runs on: temp-file disks and descriptors.
#include <charconv>
#include <set>

#include "advise/connection_header.h"
#include "advise/lint_catalog.h"
#include "advise/lint_rule_set.h"

namespace ngxwatch::advise {

namespace {

struct TempPath {
  std::string name;                             // directive name
  std::string path;                             // absolute
  const nginx::Directive* directive = nullptr;  // null: compiled-in default
};

std::string absolute(const std::string& prefix, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return prefix + (prefix.empty() || prefix.back() == '/' ? "" : "/") + path;
}

std::optional<uint64_t> number(const std::string& s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

void rule_temp_path_on_root(const nginx::Config& c, const LintOptions& o,
                            std::vector<LintFinding>& out) {
  const nginx::Directive* http = c.http_block();
  if (http == nullptr) return;
  const std::string prefix = o.prefix.empty() ? c.build_info().prefix : o.prefix;
  std::vector<TempPath> paths;
  std::set<std::pair<std::string, const nginx::Directive*>> seen;
  auto add = [&](const nginx::EffectiveValue& v) {
    const nginx::Directive* d = v.occurrences.empty() ? nullptr : v.occurrences[0];
    if (!seen.insert({v.name, d}).second) return;
    std::string p = d ? (d->args.empty() ? std::string() : d->args[0]) : v.value();
    if (!p.empty()) paths.push_back({v.name, absolute(prefix, p), d});
  };
  for (const char* name : {"client_body_temp_path", "proxy_temp_path"}) {
    add(c.effective_http(name));
    // Servers and locations may move the temp path; each definition is its own finding.
    for (const auto& server : c.servers()) add(c.effective(*server, name));
    for (const nginx::Location* loc : c.all_locations()) add(c.effective(*loc, name));
  }
  for (const TempPath& t : paths) {
    // Without a view of the filesystems (the shell passes one) nothing is on root.
    if (!o.on_root_filesystem || !o.on_root_filesystem(t.path)) continue;
    const nginx::Directive* at = t.directive ? t.directive : http;
    out.push_back(make_finding(
        kRuleTempPathOnRoot, at->file, at->line,
        t.name + " " + t.path +
            (t.directive ? " (from " + t.directive->where() + ")" : " (default)") +
            " is on the root filesystem: spooled uploads and responses can fill / and take " +
            "the host down with them",
        "point `" + t.name +
            "` at a directory on a dedicated filesystem (its own partition, "
            "volume or size-limited tmpfs)" +
            (t.directive ? std::string() : std::string(", in the http block"))));
  }
}

void rule_rlimit_nofile_low(const nginx::Config& c, const LintOptions& o,
                            std::vector<LintFinding>& out) {
  nginx::EffectiveValue wc = c.effective_events("worker_connections");
  std::optional<uint64_t> conns = number(wc.value());
  if (!conns) return;
  nginx::EffectiveValue rl = c.effective_main("worker_rlimit_nofile");
  const uint64_t needed = 2 * *conns;
  const std::string wc_text = "worker_connections " + wc.value() +
                              (wc.is_default() ? " (default)" : " (from " + wc.origin() + ")");
  if (!rl.is_default()) {
    std::optional<uint64_t> limit = number(rl.value());
    if (!limit || *limit >= needed) return;
    const nginx::Directive* d = rl.occurrences[0];
    out.push_back(
        make_finding(kRuleRlimitNofileLow, d->file, d->line,
                     "worker_rlimit_nofile " + rl.value() + " (from " + rl.origin() +
                         ") is below twice " + wc_text +
                         ": a proxied request holds a client and an upstream descriptor, so "
                         "workers hit \"Too many open files\" first",
                     "set `worker_rlimit_nofile " + std::to_string(needed) +
                         ";` (or more) in the main context"));
    return;
  }
  if (o.inherited_nofile >= needed || wc.is_default()) return;
  const nginx::Directive* d = wc.occurrences[0];
  out.push_back(make_finding(
      kRuleRlimitNofileLow, d->file, d->line,
      "worker_rlimit_nofile is not set, so workers inherit the service's open-file limit "
      "(typically " +
          std::to_string(o.inherited_nofile) + "), below twice " + wc_text +
          ": a proxied request holds a client and an upstream descriptor",
      "set `worker_rlimit_nofile " + std::to_string(needed) + ";` (or more) in the main context"));
}

}  // namespace ngxwatch::advise
