#include <algorithm>
#include <array>

#include "nginx/config_model.h"

namespace ngxwatch::nginx {

namespace {

// Directives that belong to one level and are never inherited by inner levels:
// handlers (*_pass, return), rewrite-module statements, location-only settings.
constexpr std::array<std::string_view, 19> kNotInherited = {
    "proxy_pass",     "fastcgi_pass", "uwsgi_pass", "scgi_pass",  "grpc_pass",
    "memcached_pass", "return",       "rewrite",    "set",        "if",
    "location",       "alias",        "break",      "internal",   "limit_except",
    "server",         "upstream",     "listen",     "server_name"};

bool not_inherited(std::string_view name) {
  return std::find(kNotInherited.begin(), kNotInherited.end(), name) != kNotInherited.end();
}

// allow and deny fill one rule list in nginx: a level with either hides both outer lists.
bool same_array(std::string_view a, std::string_view b) {
  if (a == b) return true;
  return (a == "allow" || a == "deny") && (b == "allow" || b == "deny");
}

}  // namespace

EffectiveValue Config::lookup(const std::vector<const std::vector<Directive>*>& levels,
                              std::string_view name, DirectiveContext ctx) const {
  EffectiveValue v;
  v.name = std::string(name);
  size_t searched = not_inherited(name) ? std::min<size_t>(levels.size(), 1) : levels.size();
  // levels are innermost first
  for (size_t i = 0; i < searched; ++i) {
    const std::vector<Directive>& level = *levels[i];
    bool defines = std::any_of(level.begin(), level.end(),
                               [&](const Directive& d) { return same_array(d.name, name); });
    if (!defines) continue;
    for (const Directive& d : level) {
      if (d.name == name) v.occurrences.push_back(&d);
    }
    return v;
  }
  v.default_value = default_value(ctx, name, build_);
  return v;
}

EffectiveValue Config::effective(const Location& loc, std::string_view name) const {
  std::vector<const std::vector<Directive>*> levels;
  for (const Location* l = &loc; l != nullptr; l = l->parent) levels.push_back(&l->block->children);
  if (loc.server != nullptr && loc.server->block != nullptr) {
    levels.push_back(&loc.server->block->children);
  }
  if (http_ != nullptr) levels.push_back(&http_->children);
  return lookup(levels, name, DirectiveContext::kHttp);
}

EffectiveValue Config::effective(const Server& server, std::string_view name) const {
  std::vector<const std::vector<Directive>*> levels;
  if (server.block != nullptr) levels.push_back(&server.block->children);
  if (http_ != nullptr) levels.push_back(&http_->children);
  return lookup(levels, name, DirectiveContext::kHttp);
}

EffectiveValue Config::effective_http(std::string_view name) const {
  std::vector<const std::vector<Directive>*> levels;
  if (http_ != nullptr) levels.push_back(&http_->children);
  return lookup(levels, name, DirectiveContext::kHttp);
}

EffectiveValue Config::effective(const Upstream& upstream, std::string_view name) const {
  std::vector<const std::vector<Directive>*> levels;
  if (upstream.block != nullptr) levels.push_back(&upstream.block->children);
  // Upstream settings never inherit from http: "keepalive_timeout" there is another
  // directive. Look only inside the upstream block.
  return lookup(levels, name, DirectiveContext::kUpstream);
}

EffectiveValue Config::effective_main(std::string_view name) const {
  std::vector<const std::vector<Directive>*> levels = {&parsed_.root};
  return lookup(levels, name, DirectiveContext::kMain);
}

EffectiveValue Config::effective_events(std::string_view name) const {
  std::vector<const std::vector<Directive>*> levels;
  if (events_ != nullptr) levels.push_back(&events_->children);
  return lookup(levels, name, DirectiveContext::kEvents);
}

}  // namespace ngxwatch::nginx
