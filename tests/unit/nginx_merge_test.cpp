#include <gtest/gtest.h>

#include "nginx/config_parser.h"
#include "nginx/defaults.h"
#include "nginx/nginx_config.h"

using namespace ngxwatch::nginx;

namespace {

const std::string kConf = std::string(NGXWATCH_TESTDATA) + "/nginx/merge/nginx.conf";

std::string at(int line) { return kConf + ":" + std::to_string(line); }

const Location* location(const Config& c, const std::string& as_written) {
  for (const Location* l : c.all_locations()) {
    if (l->as_written == as_written) return l;
  }
  return nullptr;
}

class NginxMerge : public ::testing::Test {
 protected:
  void SetUp() override {
    build_.client_body_temp_path = "/var/lib/nginx/body";
    build_.proxy_temp_path = "/var/lib/nginx/proxy";
    config_ = std::make_unique<Config>(load_from_file(kConf, "", build_));
    root_ = location(*config_, "/");
    upload_ = location(*config_, "/upload/");
    big_ = location(*config_, "/upload/big/");
    plain_ = location(*config_, "/plain/");
    ASSERT_TRUE(root_ && upload_ && big_ && plain_);
  }
  BuildInfo build_;
  std::unique_ptr<Config> config_;
  const Location *root_ = nullptr, *upload_ = nullptr, *big_ = nullptr, *plain_ = nullptr;
};

}  // namespace

TEST_F(NginxMerge, ModelShape) {
  ASSERT_EQ(config_->servers().size(), 2u);
  const Server& s = *config_->servers()[0];
  ASSERT_EQ(s.listens.size(), 1u);
  EXPECT_EQ(s.listens[0].port, 80);
  EXPECT_EQ(s.listens[0].host, "*");
  ASSERT_EQ(s.locations.size(), 2u);
  ASSERT_EQ(upload_->children.size(), 1u);
  EXPECT_EQ(big_->parent, upload_);
  EXPECT_EQ(big_->server, &s);
  EXPECT_EQ(upload_->where(), at(26));
  ASSERT_EQ(config_->upstreams().size(), 1u);
  const Upstream& app = *config_->upstreams()[0];
  EXPECT_EQ(app.name, "app");
  EXPECT_EQ(app.where(), at(11));
  ASSERT_EQ(app.servers.size(), 2u);
  EXPECT_EQ(app.servers[0].host, "127.0.0.1");
  EXPECT_EQ(app.servers[0].port, 8001);
  EXPECT_EQ(app.servers[0].params, std::vector<std::string>{"max_fails=3"});
  EXPECT_EQ(app.servers[1].host, "localhost");
  EXPECT_EQ(app.servers[1].params, std::vector<std::string>{"backup"});
  EXPECT_EQ(app.servers[1].directive->where(), at(13));
}

TEST_F(NginxMerge, ScalarsInheritUnlessRedefined) {
  EffectiveValue v = config_->effective(*root_, "proxy_read_timeout");
  EXPECT_EQ(v.value(), "45s");  // server overrides http
  EXPECT_EQ(v.origin(), at(20));
  EXPECT_EQ(config_->effective(*big_, "proxy_read_timeout").value(), "300s");
  EXPECT_EQ(config_->effective(*big_, "proxy_read_timeout").origin(), at(32));
  // nested location inherits from its parent location, not just from the server
  EXPECT_EQ(config_->effective(*big_, "client_max_body_size").value(), "200m");
  EXPECT_EQ(config_->effective(*big_, "client_max_body_size").origin(), at(27));
  EXPECT_EQ(config_->effective(*big_, "proxy_request_buffering").value(), "off");
  EXPECT_EQ(config_->effective(*root_, "client_max_body_size").value(), "10m");
  EXPECT_EQ(config_->effective(*root_, "client_max_body_size").origin(), at(4));
  // the second server does not see the first server's settings
  EXPECT_EQ(config_->effective(*plain_, "proxy_read_timeout").value(), "30s");
  EXPECT_EQ(config_->effective(*plain_, "proxy_read_timeout").origin(), at(3));
}

TEST_F(NginxMerge, ArraysInheritOnlyWhenTheLevelHasNone) {
  EffectiveValue root_headers = config_->effective(*root_, "proxy_set_header");
  // the server defines one proxy_set_header, so both http ones are gone
  EXPECT_EQ(root_headers.values(), std::vector<std::string>{"X-Server server"});
  EXPECT_EQ(root_headers.origin(), at(21));
  EffectiveValue plain_headers = config_->effective(*plain_, "proxy_set_header");
  EXPECT_EQ(plain_headers.values(), (std::vector<std::string>{"X-Http http", "X-Http2 http2"}));
  EXPECT_EQ(config_->effective(*upload_, "add_header").values(),
            std::vector<std::string>{"X-Upload yes"});
  EXPECT_EQ(config_->effective(*big_, "add_header").values(),
            std::vector<std::string>{"X-Upload yes"});
  EXPECT_EQ(config_->effective(*root_, "add_header").values(),
            std::vector<std::string>{"X-Level http"});
  // allow and deny share one list: the location's deny hides the http allow
  EXPECT_TRUE(config_->effective(*upload_, "allow").occurrences.empty());
  EXPECT_EQ(config_->effective(*upload_, "deny").value(), "all");
  EXPECT_EQ(config_->effective(*root_, "allow").value(), "10.0.0.0/8");
}

TEST_F(NginxMerge, NonInheritedDirectives) {
  EXPECT_EQ(config_->effective(*root_, "proxy_pass").value(), "http://app");
  EXPECT_EQ(config_->effective(*big_, "proxy_pass").value(), "http://app/big/");
  // /upload/ itself has no proxy_pass, and the nested one does not leak upwards
  EXPECT_FALSE(config_->effective(*upload_, "proxy_pass").defined());
  EXPECT_FALSE(config_->effective(*plain_, "proxy_pass").defined());
}

TEST_F(NginxMerge, DefaultsWhenNothingIsSet) {
  EffectiveValue v = config_->effective(*root_, "proxy_send_timeout");
  EXPECT_TRUE(v.is_default());
  EXPECT_EQ(v.value(), "60s");
  EXPECT_EQ(v.origin(), "default");
  EXPECT_EQ(config_->effective(*root_, "proxy_http_version").value(), "1.0");
  EXPECT_EQ(config_->effective(*root_, "proxy_next_upstream").value(), "error timeout");
  EXPECT_EQ(config_->effective(*root_, "client_body_buffer_size").value(), "16k");
  EXPECT_EQ(config_->effective(*root_, "client_body_temp_path").value(), "/var/lib/nginx/body");
  EXPECT_EQ(config_->effective(*root_, "proxy_temp_path").value(), "/var/lib/nginx/proxy");
  EXPECT_FALSE(config_->effective(*root_, "no_such_directive").defined());
  EXPECT_EQ(config_->effective_events("worker_connections").value(), "4096");
  EXPECT_EQ(config_->effective_main("worker_processes").value(), "1");
  EXPECT_TRUE(config_->effective_main("worker_processes").is_default());
}

TEST_F(NginxMerge, UpstreamKeepaliveIsNotTheHttpOne) {
  const Upstream& app = *config_->upstreams()[0];
  EXPECT_EQ(config_->effective(app, "keepalive").value(), "16");
  EXPECT_EQ(config_->effective(app, "keepalive_timeout").value(), "4s");
  EXPECT_EQ(config_->effective(app, "keepalive_timeout").origin(), at(15));
  EffectiveValue requests = config_->effective(app, "keepalive_requests");
  EXPECT_TRUE(requests.is_default());
  EXPECT_EQ(requests.value(), "1000");
  // http-level keepalive_timeout (client side) is 10s here
  EXPECT_EQ(config_->effective_http("keepalive_timeout").value(), "10s");
  EXPECT_EQ(*default_value(DirectiveContext::kUpstream, "keepalive_timeout"), "60s");
  EXPECT_EQ(*default_value(DirectiveContext::kHttp, "keepalive_timeout"), "75s");
}

TEST(NginxModel, LocationModifiersAndPlacementErrors) {
  MemoryResolver none({});
  auto build = [&none](const std::string& text) {
    return Config::build(parse_text(text, "/t.conf", none));
  };
  Config c = build(
      "http { server { location =/a {} location ^~/b {} location ~*\\.x$ {} location ~ y {} "
      "location @n {} location /p/ { location /p/q {} } } }");
  std::vector<std::string> written;
  for (const Location* l : c.all_locations()) written.push_back(l->as_written);
  EXPECT_EQ(written,
            (std::vector<std::string>{"=/a", "^~/b", "~*\\.x$", "~ y", "@n", "/p/", "/p/q"}));
  EXPECT_EQ(c.all_locations()[0]->modifier, LocationModifier::kExact);
  EXPECT_EQ(c.all_locations()[0]->name, "/a");
  EXPECT_EQ(c.all_locations()[2]->modifier, LocationModifier::kRegexCaseless);
  EXPECT_EQ(c.all_locations()[4]->modifier, LocationModifier::kNamed);

  auto error = [&build](const std::string& text) -> std::string {
    try {
      build(text);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error("http {\nserver {\nlocation /a/ {\nlocation /b/ {}\n}\n}\n}"),
            "/t.conf:4: location \"/b/\" is outside location \"/a/\"");
  EXPECT_EQ(error("http { server { location = /a { location /a/b {} } } }"),
            "/t.conf:1: location \"/a/b\" cannot be inside the exact location \"/a\"");
  EXPECT_EQ(error("http { server { location /a { location @x {} } } }"),
            "/t.conf:1: named location \"@x\" can be on server level only");
  EXPECT_EQ(error("http { server { location !! /a {} } }"),
            "/t.conf:1: invalid location modifier \"!!\"");
  EXPECT_NE(error("http { server {\n location ~ ( {} } }").find("/t.conf:2: pcre2_compile()"),
            std::string::npos);
  EXPECT_EQ(error("http { server { listen 127.0.0.1:99999; } }"),
            "/t.conf:1: invalid port in \"127.0.0.1:99999\" of the \"listen\" directive");
}

TEST(NginxModel, ListenForms) {
  MemoryResolver none({});
  Config c = Config::build(
      parse_text("http { server { listen 8080; listen 127.0.0.1; listen [::1]:81 default_server; "
                 "listen unix:/run/x.sock; } server { } }",
                 "/t.conf", none));
  const auto& l = c.servers()[0]->listens;
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l[0].host, "*");
  EXPECT_EQ(l[0].port, 8080);
  EXPECT_EQ(l[1].host, "127.0.0.1");
  EXPECT_EQ(l[1].port, 80);
  EXPECT_EQ(l[2].host, "::1");
  EXPECT_EQ(l[2].port, 81);
  EXPECT_TRUE(l[2].default_server);
  EXPECT_FALSE(l[0].default_server);
  EXPECT_EQ(l[3].host, "unix:/run/x.sock");
  // a server without listen listens on *:80
  ASSERT_EQ(c.servers()[1]->listens.size(), 1u);
  EXPECT_EQ(c.servers()[1]->listens[0].port, 80);
  EXPECT_EQ(c.servers()[1]->listens[0].directive, nullptr);
}
