// ngxwatch lint: the corpus under tests/data/lint (each NAME.conf against the
// "rule_id file:line" list in NAME.expected), plus messages, options and output formats.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "advise/lint_catalog.h"
#include "advise/lint_input.h"
#include "advise/lint_output.h"
#include "advise/lint_rules.h"
#include "host/root_filesystem.h"
#include "advise/upload_location.h"
#include "nginx/config_parser.h"
#include "nginx/nginx_config.h"

using namespace ngxwatch::advise;
namespace fs = std::filesystem;

namespace {

const std::string kDir = std::string(NGXWATCH_TESTDATA) + "/lint";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The corpus runs against a fake host: only /srv/spool is on its own filesystem, nginx
// was built with temp paths there, and the prefix is /srv.
LintOptions corpus_options() {
  LintOptions o;
  o.prefix = "/srv";
  o.on_root_filesystem = [](const std::string& p) { return p.rfind("/srv/spool", 0) != 0; };
  return o;
}

ngxwatch::nginx::BuildInfo corpus_build() {
  ngxwatch::nginx::BuildInfo b = ngxwatch::nginx::parse_nginx_V("");
  b.client_body_temp_path = "/srv/spool/default-body";
  b.proxy_temp_path = "/srv/spool/default-proxy";
  return b;
}

ngxwatch::nginx::BuildInfo debian_build() {
  return ngxwatch::nginx::parse_nginx_V(
      slurp(std::string(NGXWATCH_TESTDATA) + "/nginx/nginx_V_debian.txt"));
}

// "rule_id file:line" with file relative to the corpus directory.
std::vector<std::string> keys(const std::vector<LintFinding>& findings) {
  std::vector<std::string> out;
  for (const LintFinding& f : findings) {
    std::string file = f.file.rfind(kDir + "/", 0) == 0 ? f.file.substr(kDir.size() + 1) : f.file;
    out.push_back(f.rule_id + " " + file + ":" + std::to_string(f.line));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> expected_keys(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(slurp(path));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> corpus_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kDir)) {
    if (e.path().extension() == ".conf") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

LintResult lint_corpus(const std::string& name, LintInputKind kind = LintInputKind::kAuto) {
  return lint_path(kDir + "/" + name + ".conf", kind, corpus_build(), corpus_options());
}

const LintFinding* find(const std::vector<LintFinding>& fs, std::string_view rule) {
  for (const LintFinding& f : fs) {
    if (f.rule_id == rule) return &f;
  }
  return nullptr;
}

class LintCorpus : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(LintCorpus, MatchesExpectedFindings) {
  const std::string expected_path = kDir + "/" + GetParam() + ".expected";
  ASSERT_TRUE(fs::exists(expected_path)) << "every corpus config needs " << expected_path;
  LintResult r = lint_corpus(GetParam());
  EXPECT_EQ(keys(r.findings), expected_keys(expected_path));
  bool has_config_error = find(r.findings, kRuleConfigError) != nullptr;
  EXPECT_EQ(r.config_error, has_config_error);
  if (has_config_error) {
    EXPECT_EQ(r.findings.size(), 1u);
  }
  for (const LintFinding& f : r.findings) {
    EXPECT_GT(f.line, 0) << f.rule_id;
    EXPECT_FALSE(f.message.empty());
    EXPECT_FALSE(f.fix.empty());
    const LintRuleInfo* info = find_lint_rule(f.rule_id);
    ASSERT_NE(info, nullptr) << f.rule_id;
    EXPECT_EQ(f.severity, info->severity);
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, LintCorpus, ::testing::ValuesIn(corpus_names()),
                         [](const auto& info) { return info.param; });

TEST(Lint, CorpusCoversEveryRule) {
  std::set<std::string> seen;
  for (const std::string& name : corpus_names()) {
    for (const std::string& k : expected_keys(kDir + "/" + name + ".expected")) {
      seen.insert(k.substr(0, k.find(' ')));
    }
  }
  for (const LintRuleInfo& r : lint_rule_catalog()) {
    EXPECT_TRUE(seen.count(std::string(r.id))) << r.id << " has no corpus case";
  }
}

TEST(Lint, MessagesStateValueAndOrigin) {
  LintResult body = lint_corpus("body_size_default");
  const LintFinding* f = find(body.findings, kRuleBodySizeDefault);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("location /api/"), std::string::npos) << f->message;
  EXPECT_NE(f->message.find("client_max_body_size 1m (default)"), std::string::npos) << f->message;

  LintResult timeouts = lint_corpus("upload_timeout");
  const LintFinding* first = find(timeouts.findings, kRuleUploadTimeout);
  ASSERT_NE(first, nullptr);
  const LintFinding& uploads = *first;  // location /uploads/, line 13
  EXPECT_EQ(uploads.line, 13);
  EXPECT_NE(uploads.message.find("proxy_send_timeout 60s (default)"), std::string::npos)
      << uploads.message;
  EXPECT_NE(
      uploads.message.find("proxy_read_timeout 90s (from " + kDir + "/upload_timeout.conf:12)"),
      std::string::npos)
      << uploads.message;
  EXPECT_NE(uploads.fix.find("proxy_send_timeout 300s;"), std::string::npos) << uploads.fix;

  LintResult dropped = lint_corpus("connection_dropped");
  ASSERT_FALSE(dropped.findings.empty());
  EXPECT_NE(dropped.findings[0].message.find("connection_dropped.conf:7"), std::string::npos)
      << dropped.findings[0].message;
}

TEST(Lint, DefaultTempPathsComeFromNginxV) {
  LintOptions o = corpus_options();
  LintResult r = lint_path(kDir + "/temp_path_root.conf", LintInputKind::kFile, debian_build(), o);
  std::vector<std::string> k = keys(r.findings);
  // Debian's compiled-in proxy temp path (/var/lib/nginx/proxy) is on the fake root:
  // reported at the http block, where the directive would go.
  EXPECT_EQ(k, (std::vector<std::string>{"temp-path-on-root temp_path_root.conf:16",
                                         "temp-path-on-root temp_path_root.conf:3",
                                         "temp-path-on-root temp_path_root.conf:5"}));
  const LintFinding* def = nullptr;
  for (const LintFinding& f : r.findings) {
    if (f.line == 3) def = &f;
  }
  ASSERT_NE(def, nullptr);
  EXPECT_NE(def->message.find("proxy_temp_path /var/lib/nginx/proxy (default)"), std::string::npos)
      << def->message;
}

TEST(Lint, DisabledRulesAreSkipped) {
  LintOptions o = corpus_options();
  o.disabled_rules = {std::string(kRuleKeepaliveUnused)};
  LintResult r = lint_path(kDir + "/keepalive.conf", LintInputKind::kFile, corpus_build(), o);
  EXPECT_EQ(keys(r.findings), std::vector<std::string>{"upstream-no-keepalive keepalive.conf:6"});
}

TEST(Lint, UnreadableMainFileIsAFinding) {
  LintResult r = lint_path(kDir + "/no-such-file.conf", LintInputKind::kAuto, corpus_build(),
                           corpus_options());
  ASSERT_TRUE(r.config_error);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].rule_id, kRuleConfigError);
  EXPECT_EQ(r.findings[0].line, 0);
  EXPECT_NE(r.findings[0].message.find("No such file"), std::string::npos);
}

// An `nginx -T` dump of a corpus config must lint to the same findings, with the
// dump's file names and lines.
TEST(Lint, DumpGivesSameFindingsAsFiles) {
  const std::vector<std::string> files = {
      kDir + "/includes.conf", kDir + "/inc/includes_upstreams.conf",
      kDir + "/inc/conf.d/10-site.conf", kDir + "/inc/conf.d/20-site.conf"};
  std::string dump = "nginx: the configuration file x syntax is ok\n";
  for (const std::string& f : files) dump += "# configuration file " + f + ":\n" + slurp(f) + "\n";
  EXPECT_TRUE(looks_like_nginx_T(dump));
  EXPECT_FALSE(looks_like_nginx_T(slurp(files[0])));
  fs::path tmp = fs::temp_directory_path() / ("ngxwatch-lint-dump-" + std::to_string(::getpid()));
  std::ofstream(tmp) << dump;
  LintResult from_dump = lint_path(tmp, LintInputKind::kAuto, corpus_build(), corpus_options());
  LintResult forced = lint_path(tmp, LintInputKind::kDump, corpus_build(), corpus_options());
  fs::remove(tmp);
  std::vector<std::string> want = expected_keys(kDir + "/includes.expected");
  EXPECT_EQ(keys(from_dump.findings), want);
  EXPECT_EQ(keys(forced.findings), want);
}

TEST(Lint, UploadLocationClassification) {
  ngxwatch::nginx::MemoryResolver mem({});
  auto config = ngxwatch::nginx::Config::build(ngxwatch::nginx::parse_text(
      "events {} http { server {"
      " location /api/upload-avatar { proxy_pass http://a; }"
      " location /api/profiles { proxy_pass http://a; }"
      " location /big { client_max_body_size 2m; proxy_pass http://a; }"
      " location /unlimited { client_max_body_size 0; proxy_pass http://a; }"
      " location /stream { proxy_request_buffering off; proxy_pass http://a; }"
      " location /uploads-static { root /x; }"
      " location /upload-ro { limit_except GET HEAD { deny all; } proxy_pass http://a; }"
      "} }",
      "/t/nginx.conf", mem));
  std::map<std::string, bool> got;
  for (const auto* loc : config.all_locations()) {
    got[loc->name] = !upload_reason(config, *loc, 1u << 20).empty();
  }
  EXPECT_TRUE(got["/api/upload-avatar"]);
  EXPECT_FALSE(got["/api/profiles"]);
  EXPECT_TRUE(got["/big"]);
  EXPECT_TRUE(got["/unlimited"]);
  EXPECT_TRUE(got["/stream"]);
  EXPECT_FALSE(got["/uploads-static"]);  // not proxied
  EXPECT_FALSE(got["/upload-ro"]);       // GET/HEAD only
}

TEST(Lint, RootFilesystemCheckWalksUpToAnExistingParent) {
  EXPECT_TRUE(on_root_filesystem("/"));
  EXPECT_TRUE(on_root_filesystem("/no/such/dir/anywhere"));
  struct stat root {
  }, shm{};
  ASSERT_EQ(::stat("/", &root), 0);
  if (::stat("/dev/shm", &shm) == 0 && shm.st_dev != root.st_dev) {
    EXPECT_FALSE(on_root_filesystem("/dev/shm/ngxwatch-not-created/body"));
  }
}

TEST(LintOutput, TextSummarisesAndShowsFixes) {
  EXPECT_EQ(format_lint_text({}), "no findings\n");
  LintResult r = lint_corpus("keepalive");
  std::string text = format_lint_text(r.findings);
  EXPECT_NE(text.find(kDir + "/keepalive.conf:6: warning [upstream-no-keepalive] "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("    fix: "), std::string::npos);
  EXPECT_NE(text.find("4 finding(s): 3 error, 1 warning, 0 info"), std::string::npos) << text;
}

TEST(LintOutput, JsonHasEveryField) {
  LintResult r = lint_corpus("keepalive");
  auto doc = nlohmann::json::parse(format_lint_json(r.findings, "in.conf"));
  EXPECT_EQ(doc["tool"], "ngxwatch");
  EXPECT_EQ(doc["input"], "in.conf");
  ASSERT_EQ(doc["findings"].size(), 4u);
  const auto& f = doc["findings"][0];
  for (const char* key : {"rule_id", "severity", "file", "line", "message", "fix"}) {
    EXPECT_TRUE(f.contains(key)) << key;
  }
  EXPECT_EQ(f["line"].get<int>(), 6);
  EXPECT_EQ(doc["summary"]["error"], 3);
  EXPECT_EQ(doc["summary"]["warning"], 1);
  EXPECT_EQ(doc["summary"]["total"], 4);
}

TEST(LintOutput, SarifStructure) {
  std::vector<LintFinding> findings = lint_corpus("rate_limit").findings;  // info findings
  LintFinding missing;
  missing.rule_id = std::string(kRuleConfigError);
  missing.severity = Severity::kError;
  missing.file = "conf/my site.conf";
  missing.line = 0;
  missing.message = "open() failed";
  findings.push_back(missing);
  auto doc = nlohmann::json::parse(format_lint_sarif(findings));
  EXPECT_EQ(doc["version"], "2.1.0");
  EXPECT_TRUE(doc.contains("$schema"));
  const auto& run = doc["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "ngxwatch");
  const auto& rules = run["tool"]["driver"]["rules"];
  EXPECT_EQ(rules.size(), lint_rule_catalog().size());
  std::set<std::string> ids;
  for (const auto& rule : rules) {
    ids.insert(rule["id"].get<std::string>());
    EXPECT_TRUE(rule["shortDescription"].contains("text"));
    EXPECT_TRUE(rule["help"].contains("text"));
  }
  ASSERT_EQ(run["results"].size(), findings.size());
  for (size_t i = 0; i < findings.size(); ++i) {
    const auto& res = run["results"][i];
    EXPECT_TRUE(ids.count(res["ruleId"].get<std::string>()));
    EXPECT_EQ(rules[res["ruleIndex"].get<size_t>()]["id"], res["ruleId"]);
    EXPECT_GE(res["locations"][0]["physicalLocation"]["region"]["startLine"].get<int>(), 1);
  }
  EXPECT_EQ(run["results"][0]["level"], "note");  // info -> note
  EXPECT_EQ(run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "file://" + kDir + "/rate_limit.conf");
  const auto& last = run["results"][findings.size() - 1];
  EXPECT_EQ(last["level"], "error");
  EXPECT_EQ(last["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "conf/my%20site.conf");
}
