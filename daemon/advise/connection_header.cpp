#include "advise/connection_header.h"

#include <strings.h>

namespace ngxwatch::advise {

namespace {

const nginx::Directive* find_connection(const nginx::EffectiveValue& v) {
  for (const nginx::Directive* d : v.occurrences) {
    if (!d->args.empty() && ::strcasecmp(d->args[0].c_str(), "connection") == 0) return d;
  }
  return nullptr;
}

}  // namespace

ConnectionHeader connection_header(const nginx::EffectiveValue& v) {
  const nginx::Directive* d = find_connection(v);
  if (d == nullptr || d->args.size() < 2) return ConnectionHeader::kAbsent;
  const std::string& value = d->args[1];
  if (value.empty()) return ConnectionHeader::kCleared;
  if (::strcasecmp(value.c_str(), "close") == 0) return ConnectionHeader::kClose;
  return ConnectionHeader::kOther;
}

const nginx::Directive* dropped_connection_clear(const nginx::EffectiveValue& own,
                                                 const nginx::EffectiveValue& outer) {
  if (find_connection(own) != nullptr) return nullptr;
  if (connection_header(outer) != ConnectionHeader::kCleared) return nullptr;
  return find_connection(outer);
}

bool defines(const nginx::Directive* block, std::string_view name) {
  if (block == nullptr) return false;
  for (const nginx::Directive& d : block->children) {
    if (d.name == name) return true;
  }
  return false;
}

bool connection_clear_dropped(const nginx::Config& c, const nginx::Location& loc) {
  for (const nginx::Location* l = &loc; l != nullptr; l = l->parent) {
    if (!defines(l->block, "proxy_set_header")) continue;
    nginx::EffectiveValue outer = l->parent != nullptr ? c.effective(*l->parent, "proxy_set_header")
                                  : l->server != nullptr
                                      ? c.effective(*l->server, "proxy_set_header")
                                      : c.effective_http("proxy_set_header");
    return dropped_connection_clear(c.effective(*l, "proxy_set_header"), outer) != nullptr;
  }
  if (loc.server != nullptr && defines(loc.server->block, "proxy_set_header")) {
    return dropped_connection_clear(c.effective(*loc.server, "proxy_set_header"),
                                    c.effective_http("proxy_set_header")) != nullptr;
  }
  return false;
}

}  // namespace ngxwatch::advise
