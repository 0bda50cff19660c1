// Text-level config edits and the unified diff: minimal changes, comments and
// indentation kept, and a diff that patch(1) applies to give exactly the edited text.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "advise/config_edit.h"

namespace ngxwatch::advise {
namespace {

const char* kConf =
    "http {\n"
    "    # the app\n"
    "    upstream app {\n"
    "        server 10.0.0.1:8080;   # primary\n"
    "        keepalive 8;\n"
    "    }\n"
    "    upstream one { server 10.0.0.2; }\n"
    "    server {\n"
    "\tlocation /a/ { proxy_read_timeout 1s; proxy_pass http://app; }  # tight\n"
    "        location /b/ {\n"
    "            proxy_set_header Host $host;\n"
    "            proxy_pass http://app;\n"
    "        }\n"
    "        location /empty/ {\n"
    "        }\n"
    "    }\n"
    "}";  // no newline at the end

EditResult apply1(const Edit& e) { return apply_edits({{"/n.conf", kConf}}, {e}); }

std::string line_of(const std::string& text, int n) {
  std::istringstream in(text);
  std::string l;
  for (int i = 0; i < n && std::getline(in, l); ++i) {
  }
  return l;
}

TEST(ConfigEdit, SetReplacesOnlyTheArgumentsOnALineWithSeveralDirectives) {
  EditResult r = apply1({Edit::Kind::kSet, "/n.conf", 9, "proxy_read_timeout", {"1s"}, "", "30s"});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(line_of(r.files["/n.conf"], 9),
            "\tlocation /a/ { proxy_read_timeout 30s; proxy_pass http://app; }  # tight");
  EXPECT_EQ(unified_diff("n.conf", kConf, r.files["/n.conf"]),
            "--- a/n.conf\n+++ b/n.conf\n@@ -6,7 +6,7 @@\n"
            "     }\n     upstream one { server 10.0.0.2; }\n     server {\n"
            "-\tlocation /a/ { proxy_read_timeout 1s; proxy_pass http://app; }  # tight\n"
            "+\tlocation /a/ { proxy_read_timeout 30s; proxy_pass http://app; }  # tight\n"
            "         location /b/ {\n             proxy_set_header Host $host;\n"
            "             proxy_pass http://app;\n");
}

TEST(ConfigEdit, InsertIntoMultiLineBlockCopiesSiblingIndentation) {
  EditResult r =
      apply1({Edit::Kind::kInsert, "/n.conf", 3, "upstream", {"app"}, "keepalive_timeout", "4s"});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(line_of(r.files["/n.conf"], 3), "    upstream app {");
  EXPECT_EQ(line_of(r.files["/n.conf"], 4), "        keepalive_timeout 4s;");
  EXPECT_EQ(line_of(r.files["/n.conf"], 5), "        server 10.0.0.1:8080;   # primary");
}

TEST(ConfigEdit, InsertIntoOneLineAndEmptyBlocks) {
  EditResult r = apply_edits(
      {{"/n.conf", kConf}},
      {{Edit::Kind::kInsert, "/n.conf", 7, "upstream", {"one"}, "keepalive", "16"},
       {Edit::Kind::kInsert, "/n.conf", 14, "location", {"/empty/"}, "proxy_http_version", "1.1"}});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(line_of(r.files["/n.conf"], 7), "    upstream one { keepalive 16; server 10.0.0.2; }");
  EXPECT_EQ(line_of(r.files["/n.conf"], 15), "            proxy_http_version 1.1;");
  EXPECT_EQ(line_of(r.files["/n.conf"], 16), "        }");
}

TEST(ConfigEdit, InsertAfterAListDirective) {
  EditResult r = apply1({Edit::Kind::kInsertAfter,
                         "/n.conf",
                         11,
                         "proxy_set_header",
                         {"Host", "$host"},
                         "proxy_set_header",
                         "Connection \"\""});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(line_of(r.files["/n.conf"], 12), "            proxy_set_header Connection \"\";");
}

TEST(ConfigEdit, RefusesAnEditWhoseDirectiveIsNotThere) {
  EditResult r = apply1({Edit::Kind::kSet, "/n.conf", 10, "proxy_read_timeout", {"1s"}, "", "3s"});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("/n.conf:10"), std::string::npos) << r.error;
  r = apply1({Edit::Kind::kSet, "/other.conf", 1, "x", {}, "", "1"});
  EXPECT_FALSE(r.ok);
}

// Found by fuzz_config_edit: a quoted argument holding a newline (or any control
// byte) made the error two lines.
TEST(ConfigEdit, RefusalIsOneLineWhateverTheArgumentsHold) {
  EditResult r =
      apply1({Edit::Kind::kSet, "/n.conf", 10, "add_header", {"X-A", "a\nb\x01"}, "", "3s"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "cannot find directive \"add_header X-A a\\x0ab\\x01\" at /n.conf:10");
}

TEST(ConfigEdit, IncludesAreRedirectedIntoTheCopy) {
  EXPECT_EQ(rewrite_includes("include /etc/nginx/conf.d/*.conf; # /etc/nginx/x\n"
                             "root /etc/nginx/html; include \"/etc/nginx/m.types\";\n",
                             "/etc/nginx", "/tmp/c"),
            "include /tmp/c/conf.d/*.conf; # /etc/nginx/x\n"
            "root /etc/nginx/html; include \"/tmp/c/m.types\";\n");
}

// `kConf` patched with `diff` by patch(1); "" when patch fails.
std::string patched(const std::string& diff) {
  char tmpl[] = "/tmp/ngxwatch-diff-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return "";
  std::string dir = tmpl;
  std::ofstream(dir + "/n.conf", std::ios::binary) << kConf;
  std::ofstream(dir + "/fix.patch", std::ios::binary) << diff;
  int rc = std::system(("cd " + dir + " && patch -s -p1 < fix.patch").c_str());
  std::ifstream in(dir + "/n.conf", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  return rc == 0 ? text : "";
}

// The diff must be what patch(1) expects: applied to the original, it gives the edit.
TEST(ConfigEdit, UnifiedDiffAppliesWithPatch) {
  if (std::system("command -v patch >/dev/null 2>&1") != 0) GTEST_SKIP() << "no patch(1)";
  EditResult r = apply_edits(
      {{"/n.conf", kConf}},
      {{Edit::Kind::kSet, "/n.conf", 9, "proxy_read_timeout", {"1s"}, "", "30s"},
       {Edit::Kind::kInsert, "/n.conf", 3, "upstream", {"app"}, "keepalive_timeout", "4s"},
       {Edit::Kind::kInsert,
        "/n.conf",
        14,
        "location",
        {"/empty/"},
        "client_max_body_size",
        "64m"}});
  ASSERT_TRUE(r.ok) << r.error;
  // One hunk per change with 1 line of context; with 3 the last reaches the final
  // line, which has no newline.
  for (int context : {1, 3}) {
    std::string diff = unified_diff("n.conf", kConf, r.files["/n.conf"], context);
    EXPECT_EQ(diff.find("\\ No newline at end of file") != std::string::npos, context == 3);
    EXPECT_EQ(patched(diff), r.files["/n.conf"]) << diff;
  }
}

TEST(ConfigEdit, WordsEndWhereNginxEndsThem) {
  // nginx ends a word at blanks, ';' and '{' only: `a}b` is one argument, and the
  // directive after it on the line is still found.
  const std::string conf = "http {\n    add_header X-A a}b; keepalive_timeout 5s;\n}\n";
  Edit set_header{Edit::Kind::kSet, "/n.conf", 2, "add_header", {"X-A", "a}b"}, "", "X-A c"};
  EditResult r = apply_edits({{"/n.conf", conf}}, {set_header});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.files["/n.conf"], "http {\n    add_header X-A c; keepalive_timeout 5s;\n}\n");
  Edit set_timeout{Edit::Kind::kSet, "/n.conf", 2, "keepalive_timeout", {"5s"}, "", "10s"};
  r = apply_edits({{"/n.conf", conf}}, {set_timeout});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.files["/n.conf"], "http {\n    add_header X-A a}b; keepalive_timeout 10s;\n}\n");
}

}  // namespace
}  // namespace ngxwatch::advise
