#include <gtest/gtest.h>

#include "nginx/config_parser.h"
#include "nginx/location_matcher.h"
#include "nginx/server_selector.h"
#include "nginx/uri_normalize.h"

using namespace ngxwatch::nginx;

namespace {

Config build(const std::string& text) {
  MemoryResolver none({});
  return Config::build(parse_text(text, "/t.conf", none));
}

// What nginx would answer for `target` in the first server: the location as
// written, "(none)", "(invalid)" or "(redirect) LOCATION".
std::string pick(const Config& c, const std::string& target) {
  RequestMatch m = match_request(*c.servers().front(), target);
  if (!m.valid) return "(invalid)";
  if (m.match.location == nullptr) return "(none)";
  if (m.match.auto_redirect) return "(redirect) " + m.match.location->as_written;
  return m.match.location->as_written;
}

const char* kServer = R"(
http { server {
  location = / {}
  location / {}
  location = /exact {}
  location /exact {}
  location /static/ {}
  location ^~ /static/raw/ {}
  location ~ \.php$ {}
  location ~* \.(jpg|png)$ {}
  location /api/ {
    location /api/v1/ {}
    location ~ \.json$ {}
    location ^~ /api/stop/ {}
  }
  location /outer/ {
    location ^~ /outer/stop/ {}
    location ~ \.cgi$ {}
  }
  location ~ ^/re/ {
    location ~ \.txt$ {}
  }
  location /app/ { proxy_pass http://127.0.0.1:9000; }
  location @fallback {}
  location /Case/ {}
} }
)";

}  // namespace

TEST(NginxMatcher, ExactPrefixAndRegexOrder) {
  Config c = build(kServer);
  EXPECT_EQ(pick(c, "/"), "= /");
  EXPECT_EQ(pick(c, "/x"), "/");
  EXPECT_EQ(pick(c, "/exact"), "= /exact");
  EXPECT_EQ(pick(c, "/exactly"), "/exact");
  EXPECT_EQ(pick(c, "/static/a"), "/static/");
  // a plain prefix still lets regexes win
  EXPECT_EQ(pick(c, "/static/a.php"), "~ \\.php$");
  // ^~ stops the regex search
  EXPECT_EQ(pick(c, "/static/raw/a.php"), "^~ /static/raw/");
  // first regex in config order wins, ~* ignores case, ~ does not
  EXPECT_EQ(pick(c, "/x.PNG"), "~* \\.(jpg|png)$");
  EXPECT_EQ(pick(c, "/x.PHP"), "/");
  // prefixes are case-sensitive
  EXPECT_EQ(pick(c, "/case/x"), "/");
  EXPECT_EQ(pick(c, "/Case/x"), "/Case/");
}

TEST(NginxMatcher, NestedLocations) {
  Config c = build(kServer);
  EXPECT_EQ(pick(c, "/api/x"), "/api/");
  EXPECT_EQ(pick(c, "/api/v1/x"), "/api/v1/");
  // the nested regex is tried before the outer one
  EXPECT_EQ(pick(c, "/api/v1/x.json"), "~ \\.json$");
  EXPECT_EQ(pick(c, "/api/x.php"), "~ \\.php$");
  // a nested ^~ only skips the regexes nested beside it: the outer level checks the
  // outer prefix's own ^~ flag, so outer regexes still run (verified against nginx).
  EXPECT_EQ(pick(c, "/api/stop/x.json"), "^~ /api/stop/");
  EXPECT_EQ(pick(c, "/outer/stop/x.cgi"), "^~ /outer/stop/");
  EXPECT_EQ(pick(c, "/outer/stop/x.php"), "~ \\.php$");
  EXPECT_EQ(pick(c, "/outer/x.cgi"), "~ \\.cgi$");
  // regexes nested in a regex location refine its match
  EXPECT_EQ(pick(c, "/re/a.txt"), "~ \\.txt$");
  EXPECT_EQ(pick(c, "/re/a"), "~ ^/re/");
}

TEST(NginxMatcher, NamedNeverMatchesAndRedirects) {
  Config c = build(kServer);
  EXPECT_EQ(pick(c, "/@fallback"), "/");
  EXPECT_EQ(pick(c, "@fallback"), "(invalid)");
  EXPECT_EQ(pick(c, "/app"), "(redirect) /app/");
  EXPECT_EQ(pick(c, "/app/"), "/app/");
  Config none = build("http { server { location /only/ {} } }");
  EXPECT_EQ(pick(none, "/other"), "(none)");
  EXPECT_EQ(pick(none, "/only"), "(none)");  // no *_pass, so no automatic redirect
}

TEST(NginxMatcher, MatchesTheNormalizedUri) {
  Config c = build(kServer);
  EXPECT_EQ(pick(c, "/%65xact"), "= /exact");
  EXPECT_EQ(pick(c, "//exact"), "= /exact");
  EXPECT_EQ(pick(c, "/a/../exact?x=/api/"), "= /exact");
  EXPECT_EQ(pick(c, "/exact#frag"), "= /exact");
  EXPECT_EQ(pick(c, "/static/raw/..%2Fa.php"), "~ \\.php$");
  EXPECT_EQ(pick(c, "/%3F.php"), "~ \\.php$");  // decoded '?' is data, not a query
  EXPECT_EQ(pick(c, "/.."), "(invalid)");
  EXPECT_EQ(pick(c, "/%00"), "(invalid)");
}

TEST(NginxUriNormalize, LikeParseComplexUri) {
  auto n = [](const std::string& s) { return normalize_uri(s).value_or("(400)"); };
  EXPECT_EQ(n("/"), "/");
  EXPECT_EQ(n("/a//b///c"), "/a/b/c");
  EXPECT_EQ(n("/a/./b/."), "/a/b/");
  EXPECT_EQ(n("/a/b/../c"), "/a/c");
  EXPECT_EQ(n("/a/b/.."), "/a/");
  EXPECT_EQ(n("/a/.../b"), "/a/.../b");
  EXPECT_EQ(n("/a/..b"), "/a/..b");
  EXPECT_EQ(n("/a/%2e%2E/b"), "/b");
  EXPECT_EQ(n("/a%2F%2Fb"), "/a/b");
  EXPECT_EQ(n("/a%2fb/%2e%2e"), "/a/");
  EXPECT_EQ(n("/%25%23%3f"), "/%#?");
  EXPECT_EQ(n("/a%20b+c"), "/a b+c");
  EXPECT_EQ(n("/a?b=/../"), "/a");
  EXPECT_EQ(n("/a/.?x"), "/a/");
  EXPECT_EQ(n("/a/b/..#x"), "/a/");
  EXPECT_EQ(n("/.."), "(400)");
  EXPECT_EQ(n("/a/../.."), "(400)");
  EXPECT_EQ(n("/%"), "(400)");
  EXPECT_EQ(n("/%4"), "(400)");
  EXPECT_EQ(n("/%zz"), "(400)");
  EXPECT_EQ(n("/%00"), "(400)");
  EXPECT_EQ(n("a/b"), "(400)");
  EXPECT_EQ(n(""), "(400)");
  EXPECT_EQ(n("/a b"), "(400)");
  EXPECT_EQ(normalize_uri("/a//b", false).value_or(""), "/a//b");
}

TEST(NginxServerSelect, ListenThenNameThenDefault) {
  Config c = build(R"(http {
    server { listen 80; server_name first.example; }
    server { listen 80 default_server; server_name www.example.com example.com; }
    server { listen 80; server_name *.example.com; }
    server { listen 80; server_name *.api.example.com; }
    server { listen 80; server_name mail.*; }
    server { listen 80; server_name ~^(?<user>[a-z]+)\.users\.net$; }
    server { listen 127.0.0.1:80; server_name local; }
    server { listen 127.0.0.1:80; server_name other; }
    server { listen 8080; server_name .wild.org; }
  })");
  auto idx = [&c](const std::string& ip, uint16_t port, const std::string& host) -> int {
    const Server* s = select_server(c, ip, port, host);
    return s == nullptr ? -1 : static_cast<int>(s->index);
  };
  EXPECT_EQ(idx("10.0.0.1", 80, "example.com"), 1);
  EXPECT_EQ(idx("10.0.0.1", 80, "WWW.Example.COM.:80"), 1);
  EXPECT_EQ(idx("10.0.0.1", 80, "a.example.com"), 2);
  EXPECT_EQ(idx("10.0.0.1", 80, "x.api.example.com"), 3);  // longest leading wildcard
  EXPECT_EQ(idx("10.0.0.1", 80, "mail.example.com"), 2);   // leading wildcard before trailing
  EXPECT_EQ(idx("10.0.0.1", 80, "mail.test"), 4);
  EXPECT_EQ(idx("10.0.0.1", 80, "bob.users.net"), 5);
  EXPECT_EQ(idx("10.0.0.1", 80, "unknown"), 1);  // default_server
  EXPECT_EQ(idx("10.0.0.1", 80, ""), 1);
  // a specific address listen hides the wildcard servers of that port
  EXPECT_EQ(idx("127.0.0.1", 80, "example.com"), 6);
  EXPECT_EQ(idx("127.0.0.1", 80, "other"), 7);
  EXPECT_EQ(idx("10.0.0.1", 8080, "wild.org"), 8);
  EXPECT_EQ(idx("10.0.0.1", 8080, "a.wild.org"), 8);
  EXPECT_EQ(idx("10.0.0.1", 9999, "example.com"), -1);
}
