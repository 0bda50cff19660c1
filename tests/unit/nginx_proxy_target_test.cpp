#include <gtest/gtest.h>

#include <algorithm>

#include "nginx/config_parser.h"
#include "nginx/proxy_target.h"

using namespace ngxwatch::nginx;

namespace {

Config build(const std::string& text) {
  MemoryResolver none({});
  return Config::build(parse_text(text, "/t.conf", none));
}

const char* kConf = R"(http {
  upstream app { server 10.0.0.1:8080; server backend.internal:9000 weight=2; server localhost; }
  upstream other { server 10.0.0.1:8080; }
  server {
    location / { proxy_pass http://app; }
    location /api/ { proxy_pass http://app/v2/; }
    location = /health { proxy_pass http://127.0.0.1:8081/status; }
    location /secure/ { proxy_pass https://secure.example; }
    location /v6/ { proxy_pass http://[::1]:7000/; }
    location /dyn/ { proxy_pass http://$host; }
    location /APP/ { proxy_pass http://App:1234; }
    location ~ \.php$ { proxy_pass http://127.0.0.1:9001; }
    location /static/ { root /srv; }
    location @fallback { proxy_pass http://app; }
  }
})";

const Location* loc(const Config& c, const std::string& as_written) {
  for (const Location* l : c.all_locations()) {
    if (l->as_written == as_written) return l;
  }
  return nullptr;
}

std::vector<std::string> names(const std::vector<PeerTarget>& targets) {
  std::vector<std::string> out;
  for (const PeerTarget& t : targets) out.push_back(t.name);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> candidates(const Config& c, const std::string& uri,
                                    const std::string& target = "") {
  std::vector<std::string> out;
  for (const UriCandidate& u : locations_for_upstream_uri(c, uri, target)) {
    out.push_back(u.location->as_written + " <- " + u.client_uri + (u.verified ? "" : " (?)"));
  }
  return out;
}

}  // namespace

TEST(NginxProxyTarget, ParsesTargets) {
  Config c = build(kConf);
  auto t = proxy_target(c, *loc(c, "/"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->upstream, c.find_upstream("app"));
  EXPECT_EQ(t->name(), "app");
  EXPECT_FALSE(t->has_uri);

  t = proxy_target(c, *loc(c, "/api/"));
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->has_uri);
  EXPECT_EQ(t->uri, "/v2/");
  EXPECT_EQ(t->name(), "app");

  t = proxy_target(c, *loc(c, "= /health"));
  EXPECT_EQ(t->upstream, nullptr);
  EXPECT_EQ(t->name(), "127.0.0.1:8081");
  EXPECT_EQ(t->uri, "/status");
  EXPECT_EQ(t->directive->where(), "/t.conf:7");

  t = proxy_target(c, *loc(c, "/secure/"));
  EXPECT_EQ(t->scheme, "https");
  EXPECT_EQ(t->port, 443);
  EXPECT_EQ(t->name(), "secure.example:443");

  t = proxy_target(c, *loc(c, "/v6/"));
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->name(), "[::1]:7000");
  EXPECT_EQ(t->uri, "/");

  EXPECT_TRUE(proxy_target(c, *loc(c, "/dyn/"))->has_variables);
  // upstream names are case-insensitive and a written port does not unbind them
  EXPECT_EQ(proxy_target(c, *loc(c, "/APP/"))->upstream, c.find_upstream("app"));
  EXPECT_EQ(proxy_target(c, *loc(c, "/static/")), std::nullopt);
}

TEST(NginxProxyTarget, InvertsUpstreamUris) {
  Config c = build(kConf);
  // with a URI part the location prefix was replaced by it; the same request could
  // also be a client's "/v2/users" passed through "location /" unchanged
  EXPECT_EQ(candidates(c, "/v2/users?id=1", "app"),
            (std::vector<std::string>{"/ <- /v2/users", "/api/ <- /api/users",
                                      "@fallback <- /v2/users (?)"}));
  // without one the client URI went through unchanged (and the matcher confirms
  // which location it lands in: /api/users lands in /api/, not /)
  EXPECT_EQ(candidates(c, "/api/users", "app"),
            (std::vector<std::string>{"@fallback <- /api/users (?)"}));
  EXPECT_EQ(candidates(c, "/other/page", "app"),
            (std::vector<std::string>{"/ <- /other/page", "@fallback <- /other/page (?)"}));
  EXPECT_EQ(candidates(c, "/status", "127.0.0.1:8081"),
            std::vector<std::string>{"= /health <- /health"});
  EXPECT_TRUE(candidates(c, "/status/x", "127.0.0.1:8081").empty());
  EXPECT_EQ(candidates(c, "/x/index.php", "127.0.0.1:9001"),
            std::vector<std::string>{"~ \\.php$ <- /x/index.php"});
  EXPECT_EQ(candidates(c, "/a%20b", "[::1]:7000"), std::vector<std::string>{"/v6/ <- /v6/a b"});
  EXPECT_TRUE(candidates(c, "/..", "").empty());
}

TEST(NginxProxyTarget, PeerIndexFindsGroupsAndImplicitTargets) {
  Config c = build(kConf);
  HostResolver fake = [](const std::string& host) -> std::vector<std::string> {
    if (host == "backend.internal") return {"10.0.0.2", "fd00::2"};
    if (host == "secure.example") return {"192.0.2.7"};
    return resolve_host(host);  // literals and localhost, no DNS
  };
  PeerIndex peers(c, fake);
  EXPECT_EQ(names(peers.lookup("10.0.0.1:8080")), (std::vector<std::string>{"app", "other"}));
  EXPECT_EQ(names(peers.lookup("10.0.0.2:9000")), std::vector<std::string>{"app"});
  EXPECT_EQ(names(peers.lookup("[fd00::2]:9000")), std::vector<std::string>{"app"});
  EXPECT_EQ(names(peers.lookup("127.0.0.1:80")), std::vector<std::string>{"app"});
  EXPECT_EQ(names(peers.lookup("[::1]:80")), std::vector<std::string>{"app"});
  EXPECT_EQ(names(peers.lookup("[::ffff:10.0.0.1]:8080")),
            (std::vector<std::string>{"app", "other"}));
  EXPECT_EQ(names(peers.lookup("127.0.0.1:8081")), std::vector<std::string>{"127.0.0.1:8081"});
  EXPECT_EQ(names(peers.lookup("192.0.2.7:443")), std::vector<std::string>{"secure.example:443"});
  EXPECT_EQ(names(peers.lookup("[::1]:7000")), std::vector<std::string>{"[::1]:7000"});
  EXPECT_EQ(peers.lookup("127.0.0.1:80")[0].upstream, c.find_upstream("app"));
  EXPECT_TRUE(peers.lookup("10.0.0.1:8081").empty());
  EXPECT_TRUE(peers.lookup("garbage").empty());
}

TEST(NginxProxyTarget, ResolveHost) {
  EXPECT_EQ(resolve_host("localhost"), (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(resolve_host("10.1.2.3"), std::vector<std::string>{"10.1.2.3"});
  EXPECT_EQ(resolve_host("0:0::1"), std::vector<std::string>{"::1"});
  EXPECT_TRUE(resolve_host("no-such-host.invalid").empty());
}

TEST(NginxProxyTarget, ResolveLiteralNeverAsksDns) {
  EXPECT_EQ(resolve_literal("localhost"), (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(resolve_literal("10.1.2.3"), std::vector<std::string>{"10.1.2.3"});
  EXPECT_EQ(resolve_literal("0:0::1"), std::vector<std::string>{"::1"});
  EXPECT_TRUE(resolve_literal("example.com").empty());  // a name DNS would know
}
