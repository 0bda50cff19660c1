#include "advise/suggest_edits.h"

#include <cmath>
#include <cstdio>

#include "nginx/units.h"

namespace ngxwatch::advise {

namespace {

Edit edit_in_block(const nginx::Directive& block, std::string_view name, const std::string& value) {
  for (const nginx::Directive& d : block.children) {
    if (d.name == name) return {Edit::Kind::kSet, d.file, d.line, d.name, d.args, d.name, value};
  }
  return {Edit::Kind::kInsert, block.file,        block.line, block.name,
          block.args,          std::string(name), value};
}

}  // namespace

Edit location_edit(const nginx::Location& loc, std::string_view name, const std::string& value) {
  return edit_in_block(*loc.block, name, value);
}

Edit upstream_edit(const nginx::Upstream& upstream, std::string_view name,
                   const std::string& value) {
  return edit_in_block(*upstream.block, name, value);
}

Edit block_edit(const nginx::Directive& block, std::string_view name, const std::string& value,
                bool add) {
  if (add)
    return {Edit::Kind::kInsert, block.file,        block.line, block.name,
            block.args,          std::string(name), value};
  return edit_in_block(block, name, value);
}

Edit main_edit(const nginx::Config& config, const nginx::Directive& anchor, std::string_view name,
               const std::string& value) {
  nginx::EffectiveValue current = config.effective_main(name);
  if (!current.is_default() && !current.occurrences.empty()) {
    const nginx::Directive& d = *current.occurrences.back();
    return {Edit::Kind::kSet, d.file, d.line, d.name, d.args, d.name, value};
  }
  return {Edit::Kind::kInsertBefore, anchor.file, anchor.line, anchor.name, anchor.args,
          std::string(name),         value};
}

Edit insert_after_edit(const nginx::Directive& at, std::string_view name,
                       const std::string& value) {
  return {Edit::Kind::kInsertAfter, at.file, at.line, at.name, at.args, std::string(name), value};
}

std::optional<double> seconds_of(const nginx::EffectiveValue& v) {
  auto ms = nginx::parse_time(v.value());
  if (!ms) return std::nullopt;
  return static_cast<double>(ms->count()) / 1000.0;
}

std::string setting(const nginx::EffectiveValue& v) {
  return v.value() + (v.is_default() ? " (default)" : " (at " + v.origin() + ")");
}

std::string nginx_time(double seconds) {
  if (seconds >= 2) return std::to_string(static_cast<long>(std::lround(seconds))) + "s";
  return std::to_string(static_cast<long>(std::lround(seconds * 1000))) + "ms";
}

std::string secs(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof(buf),
                seconds >= 100  ? "%.0f"
                : seconds >= 10 ? "%.1f"
                                : "%.2f",
                seconds);
  return buf;
}

std::string human_bytes(double bytes) {
  static const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  size_t u = 0;
  while (bytes >= 1024 && u + 1 < std::size(units)) bytes /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 || bytes >= 100 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

std::string count_of(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace ngxwatch::advise
