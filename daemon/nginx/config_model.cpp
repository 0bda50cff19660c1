#include "nginx/config_model.h"

#include "nginx/config_error.h"

namespace ngxwatch::nginx {

namespace {

const std::vector<std::string> kPassDirectives = {"proxy_pass", "fastcgi_pass",   "uwsgi_pass",
                                                  "scgi_pass",  "memcached_pass", "grpc_pass"};

std::string join(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

bool parse_port(std::string_view s, uint16_t& port) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v == 0 || v > 65535) return false;
  port = static_cast<uint16_t>(v);
  return true;
}

void set_modifier(Location& loc, const Directive& d) {
  auto fail = [&d](const std::string& msg) { throw ConfigError(d.file, d.line, msg); };
  if (d.args.empty() || d.args.size() > 2) {
    fail("invalid number of arguments in \"location\" directive");
  }
  const std::string& first = d.args[0];
  if (d.args.size() == 2) {
    loc.name = d.args[1];
    if (first == "=") {
      loc.modifier = LocationModifier::kExact;
    } else if (first == "^~") {
      loc.modifier = LocationModifier::kPrefixNoRegex;
    } else if (first == "~") {
      loc.modifier = LocationModifier::kRegex;
    } else if (first == "~*") {
      loc.modifier = LocationModifier::kRegexCaseless;
    } else {
      fail("invalid location modifier \"" + first + "\"");
    }
  } else if (first.size() > 1 && first[0] == '=') {
    loc.modifier = LocationModifier::kExact;
    loc.name = first.substr(1);
  } else if (first.size() > 2 && first.compare(0, 2, "^~") == 0) {
    loc.modifier = LocationModifier::kPrefixNoRegex;
    loc.name = first.substr(2);
  } else if (first.size() > 2 && first.compare(0, 2, "~*") == 0) {
    loc.modifier = LocationModifier::kRegexCaseless;
    loc.name = first.substr(2);
  } else if (first.size() > 1 && first[0] == '~') {
    loc.modifier = LocationModifier::kRegex;
    loc.name = first.substr(1);
  } else if (first.size() > 0 && first[0] == '@') {
    loc.modifier = LocationModifier::kNamed;
    loc.name = first;
  } else {
    loc.modifier = LocationModifier::kPrefix;
    loc.name = first;
  }
  loc.as_written = join(d.args);
}

std::unique_ptr<Location> build_location(const Directive& d, const Server& server,
                                         const Location* parent) {
  auto loc = std::make_unique<Location>();
  loc->block = &d;
  loc->parent = parent;
  loc->server = &server;
  set_modifier(*loc, d);
  auto fail = [&d](const std::string& msg) { throw ConfigError(d.file, d.line, msg); };
  // The same placement rules nginx -t enforces, so that matching never sees a tree
  // nginx would refuse to load.
  if (parent != nullptr) {
    if (parent->modifier == LocationModifier::kExact) {
      fail("location \"" + loc->name + "\" cannot be inside the exact location \"" + parent->name +
           "\"");
    }
    if (parent->is_named()) {
      fail("location \"" + loc->name + "\" cannot be inside the named location \"" + parent->name +
           "\"");
    }
    if (loc->is_named()) fail("named location \"" + loc->name + "\" can be on server level only");
    if (!loc->is_regex() && loc->name.compare(0, parent->name.size(), parent->name) != 0) {
      fail("location \"" + loc->name + "\" is outside location \"" + parent->name + "\"");
    }
  }
  if (loc->is_regex()) {
    loc->regex = std::make_unique<Regex>(
        loc->name, loc->modifier == LocationModifier::kRegexCaseless, d.file, d.line);
  }
  for (const Directive& child : d.children) {
    for (const std::string& pass : kPassDirectives) {
      if (child.name == pass && !loc->name.empty() && loc->name.back() == '/') {
        loc->auto_redirect = true;
      }
    }
    if (child.name == "location" && child.block) {
      loc->children.push_back(build_location(child, server, loc.get()));
    }
  }
  return loc;
}

ListenAddress parse_listen(const Directive& d) {
  if (d.args.empty())
    throw ConfigError(d.file, d.line, "invalid number of arguments in \"listen\"");
  ListenAddress l;
  l.directive = &d;
  const std::string& a = d.args[0];
  if (a.compare(0, 5, "unix:") == 0) {
    l.host = a;
    l.port = 0;
  } else if (!split_host_port(a, 80, l.host, l.port)) {
    throw ConfigError(d.file, d.line, "invalid port in \"" + a + "\" of the \"listen\" directive");
  }
  for (size_t i = 1; i < d.args.size(); ++i) {
    if (d.args[i] == "default_server" || d.args[i] == "default") l.default_server = true;
  }
  return l;
}

std::unique_ptr<Server> build_server(const Directive& d, size_t index) {
  auto server = std::make_unique<Server>();
  server->block = &d;
  server->index = index;
  for (const Directive& child : d.children) {
    if (child.name == "listen") {
      server->listens.push_back(parse_listen(child));
    } else if (child.name == "server_name") {
      for (const std::string& n : child.args) {
        ServerName sn;
        sn.name = n;
        if (n.size() > 1 && n[0] == '~') {
          sn.regex = std::make_unique<Regex>(n.substr(1), false, child.file, child.line);
        }
        server->names.push_back(std::move(sn));
      }
    } else if (child.name == "location" && child.block) {
      server->locations.push_back(build_location(child, *server, nullptr));
    }
  }
  if (server->listens.empty()) server->listens.push_back(ListenAddress{});
  return server;
}

std::unique_ptr<Upstream> build_upstream(const Directive& d) {
  if (d.args.size() != 1) {
    throw ConfigError(d.file, d.line, "invalid number of arguments in \"upstream\" directive");
  }
  auto up = std::make_unique<Upstream>();
  up->name = d.args[0];
  up->block = &d;
  for (const Directive& child : d.children) {
    if (child.name != "server" || child.args.empty()) continue;
    UpstreamServer s;
    s.directive = &child;
    s.address = child.args[0];
    s.params.assign(child.args.begin() + 1, child.args.end());
    if (s.address.compare(0, 5, "unix:") == 0) {
      s.is_unix = true;
      s.host = s.address;
      s.port = 0;
    } else if (!split_host_port(s.address, 80, s.host, s.port)) {
      throw ConfigError(child.file, child.line, "invalid port in upstream \"" + s.address + "\"");
    }
    up->servers.push_back(std::move(s));
  }
  return up;
}

}  // namespace

bool split_host_port(std::string_view text, uint16_t default_port, std::string& host,
                     uint16_t& port) {
  port = default_port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return true;
    if (rest[0] != ':') return false;
    return parse_port(rest.substr(1), port);
  }
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    // A bare number is a port ("listen 8080"); anything else is a host.
    uint16_t p = 0;
    if (parse_port(text, p)) {
      host = "*";
      port = p;
      return true;
    }
    bool all_digits = !text.empty() && text.find_first_not_of("0123456789") == text.npos;
    if (all_digits) return false;
    host = std::string(text);
    return !host.empty();
  }
  host = std::string(text.substr(0, colon));
  if (host.empty()) return false;
  return parse_port(text.substr(colon + 1), port);
}

std::string EffectiveValue::value() const {
  if (!occurrences.empty()) return join(occurrences.front()->args);
  return default_value.value_or("");
}

std::vector<std::string> EffectiveValue::values() const {
  std::vector<std::string> out;
  for (const Directive* d : occurrences) out.push_back(join(d->args));
  if (out.empty() && default_value) out.push_back(*default_value);
  return out;
}

std::string EffectiveValue::origin() const {
  return occurrences.empty() ? std::string("default") : occurrences.front()->where();
}

Config Config::build(ParsedConfig parsed, BuildInfo build) {
  Config c;
  c.parsed_ = std::move(parsed);
  c.build_ = std::move(build);
  for (const Directive& top : c.parsed_.root) {
    if (top.name == "http" && top.block && c.http_ == nullptr) c.http_ = &top;
    if (top.name == "events" && top.block && c.events_ == nullptr) c.events_ = &top;
  }
  if (c.http_ == nullptr) return c;
  for (const Directive& d : c.http_->children) {
    if (d.name == "server" && d.block) {
      c.servers_.push_back(build_server(d, c.servers_.size()));
    } else if (d.name == "upstream" && d.block) {
      c.upstreams_.push_back(build_upstream(d));
    }
  }
  return c;
}

const Upstream* Config::find_upstream(std::string_view name) const {
  for (const auto& u : upstreams_) {
    if (u->name == name) return u.get();
  }
  return nullptr;
}

std::vector<const Location*> Config::all_locations() const {
  std::vector<const Location*> out;
  auto walk = [&out](const auto& self, const Location& l) -> void {
    out.push_back(&l);
    for (const auto& c : l.children) self(self, *c);
  };
  for (const auto& s : servers_) {
    for (const auto& l : s->locations) walk(walk, *l);
  }
  return out;
}

}  // namespace ngxwatch::nginx
