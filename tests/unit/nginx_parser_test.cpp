#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "nginx/build_info.h"
#include "nginx/config_lexer.h"
#include "nginx/config_parser.h"
#include "nginx/units.h"

using namespace ngxwatch::nginx;

namespace {

const std::string kData = std::string(NGXWATCH_TESTDATA) + "/nginx";

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const Directive* find(const std::vector<Directive>& level, const std::string& name, int nth = 0) {
  for (const Directive& d : level) {
    if (d.name == name && nth-- == 0) return &d;
  }
  return nullptr;
}

ParsedConfig parse_mem(const std::string& text, std::map<std::string, std::string> files = {}) {
  MemoryResolver mem(std::move(files));
  return parse_text(text, "/etc/nginx/nginx.conf", mem);
}

std::string error_of(const std::string& text, std::map<std::string, std::string> files = {}) {
  try {
    parse_mem(text, std::move(files));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

std::string file_error(const std::string& rel) {
  try {
    parse_file(kData + "/" + rel);
  } catch (const ConfigError& e) {
    std::string what = e.what();
    // report paths relative to the data dir so the expectations read well
    size_t at = what.find(kData);
    while (at != std::string::npos) {
      what.replace(at, kData.size(), "DATA");
      at = what.find(kData);
    }
    return what;
  }
  return "no error";
}

}  // namespace

TEST(NginxParser, TreeWithIncludesGlobsAndLines) {
  ParsedConfig cfg = parse_file(kData + "/parser/nginx.conf");
  const Directive* http = find(cfg.root, "http");
  ASSERT_NE(http, nullptr);
  EXPECT_EQ(http->line, 6);
  // include snippets/common.conf is spliced in place, keeping its own file and line
  const Directive* sendfile = find(http->children, "sendfile");
  ASSERT_NE(sendfile, nullptr);
  EXPECT_EQ(sendfile->file, kData + "/parser/snippets/common.conf");
  EXPECT_EQ(sendfile->line, 1);
  EXPECT_EQ(http->children.front().name, "sendfile");  // include was the first directive
  // conf.d/*.conf in glob order: a.conf (upstream) then b.conf (server); .txt ignored
  const Directive* up = find(http->children, "upstream");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->args, std::vector<std::string>{"backend_a"});
  EXPECT_EQ(up->file, kData + "/parser/conf.d/a.conf");
  const Directive* second_server = find(http->children, "server", 1);
  ASSERT_NE(second_server, nullptr);
  EXPECT_EQ(second_server->file, kData + "/parser/conf.d/b.conf");
  EXPECT_EQ(http->children.back().name, "server");
  ASSERT_EQ(cfg.files.size(), 4u);
  EXPECT_EQ(cfg.files[0].path, kData + "/parser/nginx.conf");
  EXPECT_EQ(cfg.conf_prefix, kData + "/parser");
}

TEST(NginxParser, QuotingEscapesAndComments) {
  ParsedConfig cfg = parse_file(kData + "/parser/nginx.conf");
  const Directive* http = find(cfg.root, "http");
  const Directive* events = find(cfg.root, "events");
  ASSERT_NE(events, nullptr);
  ASSERT_EQ(events->children.size(), 1u);  // the trailing comment is not a directive
  EXPECT_EQ(events->children[0].args, std::vector<std::string>{"1024"});
  const Directive* log_format = find(http->children, "log_format");
  ASSERT_NE(log_format, nullptr);
  ASSERT_EQ(log_format->args.size(), 2u);
  EXPECT_EQ(log_format->args[1], "$remote_addr \"$request\" ${status}x");
  const Directive* server = find(http->children, "server");
  const Directive* set = find(server->children, "set");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->args[1], "a\"b\\c");
  const Directive* loc = find(server->children, "location");
  const Directive* add_header = find(loc->children, "add_header");
  EXPECT_EQ(add_header->args[1], "a#b");  // '#' inside a word is not a comment
  const Directive* ret = find(loc->children, "return");
  EXPECT_EQ(ret->args[1], "multi\nline");
  EXPECT_EQ(ret->line, 30);
}

TEST(NginxParser, IfMapAndTypesBlocks) {
  ParsedConfig cfg = parse_file(kData + "/parser/nginx.conf");
  const Directive* http = find(cfg.root, "http");
  const Directive* server = find(http->children, "server");
  const Directive* if1 = find(server->children, "if");
  ASSERT_NE(if1, nullptr);
  EXPECT_TRUE(if1->block);
  EXPECT_EQ(if1->args, (std::vector<std::string>{"($request_method", "=", "POST)"}));
  const Directive* if2 = find(server->children, "if", 1);
  EXPECT_EQ(if2->args, (std::vector<std::string>{"($http_x", "=", "y", ")"}));
  const Directive* types = find(http->children, "types");
  ASSERT_EQ(types->children.size(), 2u);
  EXPECT_EQ(types->children[0].name, "text/html");
  EXPECT_EQ(types->children[0].args, (std::vector<std::string>{"html", "htm"}));
  const Directive* map = find(http->children, "map");
  ASSERT_EQ(map->children.size(), 3u);
  EXPECT_EQ(map->children[1].name, "");
  EXPECT_EQ(map->children[1].args, std::vector<std::string>{"close"});
  EXPECT_EQ(map->children[2].name, "~^a b");
  EXPECT_EQ(map->children[2].args, std::vector<std::string>{"quoted # not a comment"});
}

TEST(NginxParser, VariableBracesDoNotOpenBlocks) {
  ParsedConfig cfg = parse_mem("set $a ${b}c;\nreturn 200 x}y;\n");
  ASSERT_EQ(cfg.root.size(), 2u);
  EXPECT_EQ(cfg.root[0].args[1], "${b}c");
  EXPECT_EQ(cfg.root[1].args[1], "x}y");  // '}' inside a word is literal, as in nginx
}

TEST(NginxParser, ErrorsCarryFileAndLine) {
  EXPECT_EQ(file_error("errors/unterminated.conf"),
            "DATA/errors/unterminated.conf:5: unexpected end of file, expecting \"}\"");
  EXPECT_EQ(file_error("errors/missing_semicolon.conf"),
            "DATA/errors/missing_semicolon.conf:3: unexpected \"}\"");
  EXPECT_EQ(file_error("errors/missing_include.conf"),
            "DATA/errors/missing_include.conf:3: open() \"DATA/errors/does/not/exist.conf\" "
            "failed (2: No such file or directory)");
  EXPECT_EQ(file_error("errors/unreadable_include.conf"),
            "DATA/errors/unreadable_include.conf:2: read() \"DATA/errors/is_a_dir\" failed (21: "
            "Is a directory)");
  // the error is reported in the included file, where the stray '}' is
  EXPECT_EQ(file_error("errors/nested_error_main.conf"),
            "DATA/errors/nested_error_inc.conf:4: unexpected \"}\"");
  EXPECT_EQ(file_error("errors/no_such_main.conf").find("DATA/errors/no_such_main.conf: open()"),
            0u);
}

TEST(NginxParser, GlobMatchingNothingIsNotAnError) {
  ParsedConfig cfg = parse_file(kData + "/errors/glob_no_match.conf");
  ASSERT_EQ(cfg.root.size(), 1u);
  EXPECT_EQ(cfg.root[0].children.size(), 1u);
  EXPECT_EQ(cfg.root[0].children[0].name, "sendfile");
}

TEST(NginxParser, TokenErrors) {
  EXPECT_EQ(error_of("a;\n;"), "/etc/nginx/nginx.conf:2: unexpected \";\"");
  EXPECT_EQ(error_of("{"), "/etc/nginx/nginx.conf:1: unexpected \"{\"");
  EXPECT_EQ(error_of("}"), "/etc/nginx/nginx.conf:1: unexpected \"}\"");
  EXPECT_EQ(error_of("a \"b\"c;"), "/etc/nginx/nginx.conf:1: unexpected \"c\"");
  EXPECT_EQ(error_of("a \"b;\n\n"),
            "/etc/nginx/nginx.conf:3: unexpected end of file, expecting \";\" or \"}\"");
  EXPECT_EQ(error_of("a b"),
            "/etc/nginx/nginx.conf:1: unexpected end of file, expecting \";\" or \"}\"");
  EXPECT_EQ(error_of("include a b;"),
            "/etc/nginx/nginx.conf:1: invalid number of arguments in \"include\" directive");
  // error text stays on one line even when the input has control bytes in it
  EXPECT_EQ(error_of("a \"b\"\x01;"), "/etc/nginx/nginx.conf:1: unexpected \"\\x01\"");
}

TEST(NginxParser, IncludeLoopAndDepthAreBounded) {
  std::string loop =
      error_of("include self.conf;", {{"/etc/nginx/self.conf", "include self.conf;"}});
  EXPECT_NE(loop.find("includes nested too deeply"), std::string::npos) << loop;
  EXPECT_EQ(loop.find("/etc/nginx/self.conf:1:"), 0u) << loop;
  std::string nested;
  for (int i = 0; i < 100; ++i) nested += "a {";
  EXPECT_NE(error_of(nested).find("blocks nested too deeply"), std::string::npos);
}

TEST(NginxParser, MemoryIncludesUseFnmatchGlobs) {
  ParsedConfig cfg =
      parse_mem("include sites/*.conf;", {{"/etc/nginx/sites/b.conf", "b 1;"},
                                          {"/etc/nginx/sites/a.conf", "a 1;"},
                                          {"/etc/nginx/sites/sub/c.conf", "c 1;"},
                                          {"/etc/nginx/sites/a.conf.bak", "bak 1;"}});
  ASSERT_EQ(cfg.root.size(), 2u);
  EXPECT_EQ(cfg.root[0].name, "a");
  EXPECT_EQ(cfg.root[1].name, "b");
}

TEST(NginxParser, NginxTDumpKeepsFilesAndLines) {
  std::string dump = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n" +
                     slurp(kData + "/parser_nginx_T.txt");
  std::vector<SourceFile> files = split_nginx_T(dump);
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[0].path, "/etc/nginx/nginx.conf");
  EXPECT_EQ(files[0].text, slurp(kData + "/parser/nginx.conf"));
  EXPECT_EQ(files[1].text, slurp(kData + "/parser/snippets/common.conf"));

  ParsedConfig cfg = parse_nginx_T(dump);
  const Directive* http = find(cfg.root, "http");
  ASSERT_NE(http, nullptr);
  const Directive* keepalive = find(http->children, "keepalive_timeout");
  EXPECT_EQ(keepalive->where(), "/etc/nginx/snippets/common.conf:2");
  const Directive* server = find(http->children, "server", 1);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->where(), "/etc/nginx/conf.d/b.conf:1");
  const Directive* ret =
      find(find(find(http->children, "server")->children, "location")->children, "return");
  EXPECT_EQ(ret->where(), "/etc/nginx/nginx.conf:30");
  EXPECT_THROW(parse_nginx_T("no dump here\n"), ConfigError);
}

TEST(NginxParser, NginxTMissingIncludeIsAnError) {
  std::string dump = "# configuration file /etc/nginx/nginx.conf:\nhttp {\n include x.conf;\n}\n\n";
  try {
    parse_nginx_T(dump);
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "/etc/nginx/nginx.conf");
    EXPECT_EQ(e.line(), 2);
  }
}

TEST(NginxUnits, Time) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parse_time("60s"), milliseconds(60000));
  EXPECT_EQ(parse_time("60"), milliseconds(60000));
  EXPECT_EQ(parse_time("1m30s"), milliseconds(90000));
  EXPECT_EQ(parse_time("500ms"), milliseconds(500));
  EXPECT_EQ(parse_time("1h"), milliseconds(3600000));
  EXPECT_EQ(parse_time("2d"), milliseconds(2 * 86400000LL));
  EXPECT_EQ(parse_time("1s500ms"), milliseconds(1500));
  EXPECT_EQ(parse_time("0"), milliseconds(0));
  EXPECT_FALSE(parse_time(""));
  EXPECT_FALSE(parse_time("s"));
  EXPECT_FALSE(parse_time("10x"));
  EXPECT_FALSE(parse_time("30s1m"));  // units must decrease
  EXPECT_FALSE(parse_time("-1s"));
  EXPECT_FALSE(parse_time("99999999999999999999y"));
}

TEST(NginxUnits, Size) {
  EXPECT_EQ(parse_size("1m"), 1048576u);
  EXPECT_EQ(parse_size("1M"), 1048576u);
  EXPECT_EQ(parse_size("10k"), 10240u);
  EXPECT_EQ(parse_size("1g"), 1073741824u);
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_FALSE(parse_size(""));
  EXPECT_FALSE(parse_size("m"));
  EXPECT_FALSE(parse_size("1.5m"));
  EXPECT_FALSE(parse_size("1t"));
  EXPECT_FALSE(parse_size("99999999999999g"));
}

TEST(NginxBuildInfo, ParsesDebianNginxV) {
  BuildInfo b = parse_nginx_V(slurp(kData + "/nginx_V_debian.txt"));
  EXPECT_EQ(b.version, "1.22.1");
  EXPECT_EQ(b.prefix, "/usr/share/nginx");
  EXPECT_EQ(b.conf_path, "/etc/nginx/nginx.conf");
  EXPECT_EQ(b.client_body_temp_path, "/var/lib/nginx/body");
  EXPECT_EQ(b.proxy_temp_path, "/var/lib/nginx/proxy");
  // the quoted --with-cc-opt value stays one argument
  EXPECT_EQ(b.configure_args.at(0).rfind("--with-cc-opt=-g -O2", 0), 0u);
}

TEST(NginxBuildInfo, DefaultsFollowThePrefix) {
  BuildInfo b = parse_nginx_V(
      "nginx version: nginx/1.25.3\nconfigure arguments: --prefix=/opt/ngx/ "
      "--http-proxy-temp-path=tmp/proxy\n");
  EXPECT_EQ(b.version, "1.25.3");
  EXPECT_EQ(b.prefix, "/opt/ngx");
  EXPECT_EQ(b.client_body_temp_path, "/opt/ngx/client_body_temp");
  EXPECT_EQ(b.proxy_temp_path, "/opt/ngx/tmp/proxy");
  EXPECT_EQ(b.conf_path, "/opt/ngx/conf/nginx.conf");
  BuildInfo none = parse_nginx_V("");
  EXPECT_EQ(none.client_body_temp_path, "/usr/local/nginx/client_body_temp");
  EXPECT_EQ(none.proxy_temp_path, "/usr/local/nginx/proxy_temp");
}

TEST(NginxLexer, UnescapeMatchesNginx) {
  EXPECT_EQ(unescape_token(R"(a\"b\'c\\d\te\nf\x)"), "a\"b'c\\d\te\nf\\x");
}
