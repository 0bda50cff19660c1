#include "nginx/server_selector.h"

#include "nginx/ip_text.h"

#include <string>
#include <vector>

namespace ngxwatch::nginx {

namespace {

bool is_wildcard(const std::string& host) {
  return host == "*" || host == "0.0.0.0" || host == "::" || host == "[::]";
}

std::string normalize_host(std::string_view host) {
  std::string h;
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    h = std::string(host.substr(0, close == host.npos ? host.size() : close + 1));
  } else {
    h = std::string(host.substr(0, host.find(':')));
  }
  for (char& c : h) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  while (!h.empty() && h.back() == '.') h.pop_back();
  return h;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Length of the wildcard's fixed part when `name` ("*.a.b" / ".a.b" / "www.a.*")
// matches `host`, else 0.
size_t wildcard_len(const std::string& name, const std::string& host, bool leading) {
  if (leading) {
    if (name.size() > 2 && name.compare(0, 2, "*.") == 0) {
      std::string_view suffix = std::string_view(name).substr(1);  // ".a.b"
      return host.size() > suffix.size() && ends_with(host, suffix) ? suffix.size() : 0;
    }
    if (name.size() > 1 && name[0] == '.') {
      std::string_view bare = std::string_view(name).substr(1);
      if (host == bare) return name.size();
      return host.size() > name.size() && ends_with(host, name) ? name.size() : 0;
    }
    return 0;
  }
  if (name.size() > 2 && name.compare(name.size() - 2, 2, ".*") == 0) {
    std::string_view prefix = std::string_view(name).substr(0, name.size() - 1);  // "www.a."
    return host.size() > prefix.size() && host.compare(0, prefix.size(), prefix) == 0
               ? prefix.size()
               : 0;
  }
  return 0;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return s;
}

}  // namespace

const Server* select_server(const Config& config, std::string_view local_ip, uint16_t local_port,
                            std::string_view host_header) {
  std::string ip = canonical_ip(local_ip);
  std::vector<const Server*> exact, wildcard;
  const Server* exact_default = nullptr;
  const Server* wildcard_default = nullptr;
  for (const auto& s : config.servers()) {
    bool in_exact = false, in_wild = false;
    for (const ListenAddress& l : s->listens) {
      if (l.port != local_port) continue;
      if (is_wildcard(l.host)) {
        in_wild = true;
        if (l.default_server && wildcard_default == nullptr) wildcard_default = s.get();
      } else if (canonical_ip(l.host) == ip) {
        in_exact = true;
        if (l.default_server && exact_default == nullptr) exact_default = s.get();
      }
    }
    if (in_exact) exact.push_back(s.get());
    if (in_wild) wildcard.push_back(s.get());
  }
  const std::vector<const Server*>& candidates = exact.empty() ? wildcard : exact;
  const Server* fallback = exact.empty() ? wildcard_default : exact_default;
  if (candidates.empty()) return nullptr;
  if (fallback == nullptr) fallback = candidates.front();

  std::string host = normalize_host(host_header);
  if (host.empty()) return fallback;

  for (const Server* s : candidates) {
    for (const ServerName& n : s->names) {
      if (!n.regex && lower(n.name) == host) return s;
    }
  }
  for (bool leading : {true, false}) {
    const Server* best = nullptr;
    size_t best_len = 0;
    for (const Server* s : candidates) {
      for (const ServerName& n : s->names) {
        if (n.regex) continue;
        size_t len = wildcard_len(lower(n.name), host, leading);
        if (len > best_len) {
          best = s;
          best_len = len;
        }
      }
    }
    if (best != nullptr) return best;
  }
  for (const Server* s : candidates) {
    for (const ServerName& n : s->names) {
      if (n.regex && n.regex->matches(host)) return s;
    }
  }
  return fallback;
}

}  // namespace ngxwatch::nginx
