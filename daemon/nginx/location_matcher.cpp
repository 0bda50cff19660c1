#include "nginx/location_matcher.h"

#include "nginx/uri_normalize.h"

namespace ngxwatch::nginx {

namespace {

using Level = std::vector<std::unique_ptr<Location>>;

// Outcomes of a lookup at one level, mirroring nginx's NGX_OK / NGX_DONE /
// NGX_AGAIN / NGX_DECLINED so the recursion reads like the original algorithm.
enum class Rc { kFinal, kRedirect, kPrefix, kNone };

struct Found {
  Rc rc = Rc::kNone;
  const Location* location = nullptr;
};

bool is_static(const Location& l) {
  return l.modifier == LocationModifier::kPrefix ||
         l.modifier == LocationModifier::kPrefixNoRegex || l.modifier == LocationModifier::kExact;
}

bool is_prefix(const Location& l) {
  return l.modifier == LocationModifier::kPrefix || l.modifier == LocationModifier::kPrefixNoRegex;
}

// The static part: exact match, a prefix equal to the URI, an auto-redirect for
// URI + "/", then the longest prefix — the order nginx's location tree yields.
Found find_static(const Level& level, std::string_view uri) {
  const Location* longest = nullptr;
  const Location* equal_prefix = nullptr;
  const Location* redirect = nullptr;
  for (const auto& lp : level) {
    const Location& l = *lp;
    if (!is_static(l)) continue;
    if (l.modifier == LocationModifier::kExact && l.name == uri) return {Rc::kFinal, &l};
    if (l.auto_redirect && l.name.size() == uri.size() + 1 &&
        l.name.compare(0, uri.size(), uri) == 0) {
      redirect = &l;
    }
    if (!is_prefix(l) || uri.substr(0, l.name.size()) != l.name) continue;
    if (l.name.size() == uri.size()) equal_prefix = &l;
    if (longest == nullptr || l.name.size() > longest->name.size()) longest = &l;
  }
  if (equal_prefix != nullptr) return {Rc::kPrefix, equal_prefix};
  if (redirect != nullptr) return {Rc::kRedirect, redirect};
  if (longest != nullptr) return {Rc::kPrefix, longest};
  return {};
}

Found find_in(const Level& level, std::string_view uri) {
  Found result = find_static(level, uri);
  if (result.rc == Rc::kFinal || result.rc == Rc::kRedirect) return result;
  bool noregex = false;
  if (result.rc == Rc::kPrefix) {
    noregex = result.location->modifier == LocationModifier::kPrefixNoRegex;
    Found nested = find_in(result.location->children, uri);
    if (nested.rc == Rc::kFinal || nested.rc == Rc::kRedirect) return nested;
    if (nested.rc == Rc::kPrefix) result = nested;
  }
  if (noregex) return result;
  for (const auto& lp : level) {
    if (!lp->is_regex() || !lp->regex->matches(uri)) continue;
    Found nested = find_in(lp->children, uri);
    // Whatever the nested lookup selected is used, but as a plain match: nginx
    // returns NGX_OK after a regex match even if the nested lookup said "redirect".
    return {Rc::kFinal, nested.location != nullptr ? nested.location : lp.get()};
  }
  return result;
}

}  // namespace

LocationMatch find_location(const Server& server, std::string_view uri) {
  Found f = find_in(server.locations, uri);
  LocationMatch m;
  m.location = f.location;
  m.auto_redirect = f.rc == Rc::kRedirect;
  return m;
}

RequestMatch match_request(const Server& server, std::string_view target) {
  RequestMatch r;
  std::optional<std::string> uri = normalize_uri(target);
  if (!uri) return r;
  r.valid = true;
  r.uri = std::move(*uri);
  r.match = find_location(server, r.uri);
  return r;
}

}  // namespace ngxwatch::nginx
