// A trace's file names and the copy nginx -t checks: nothing lands outside the copy,
// and the copy never names the real pid and log files.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "advise/config_edit.h"
#include "host/verify.h"
#include "host/unprivileged_spawn.h"

using namespace ngxwatch::advise;

namespace {

TEST(TracePaths, OnlyPlainAbsoluteNamesAreLaidOut) {
  EXPECT_EQ(unsafe_name_reason("/etc/nginx/nginx.conf"), "");
  EXPECT_EQ(unsafe_name_reason("/etc/nginx/..conf"), "");  // a name, not a component
  EXPECT_NE(unsafe_name_reason("etc/nginx.conf"), "");
  EXPECT_NE(unsafe_name_reason("/etc/nginx/../../tmp/x"), "");
  EXPECT_NE(unsafe_name_reason("/etc/nginx/./x"), "");
  EXPECT_NE(unsafe_name_reason("/etc//x"), "");
  EXPECT_NE(unsafe_name_reason("/etc/x/"), "");
  EXPECT_NE(unsafe_name_reason(std::string("/etc/a\0b", 8)), "");
  EXPECT_NE(unsafe_name_reason(""), "");
}

TEST(TracePaths, EscapingEntryIsRejectedByNameAndNothingIsWritten) {
  std::string target = "/tmp/ngxwatch-escape-" + std::to_string(::getpid());
  std::filesystem::remove(target);
  FileSet files = {{"/etc/nginx/nginx.conf", "events {}\n"},
                   {"/etc/nginx/../../.." + target, "pwned\n"}};
  VerifyOptions o;
  o.nginx = "/usr/sbin/nginx";
  VerifyResult r = verify_config(files, "/etc/nginx/nginx.conf", o);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("\"/etc/nginx/../../.." + target + "\""), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("not copied"), std::string::npos) << r.error;
  EXPECT_FALSE(std::filesystem::exists(target));
}

TEST(TracePaths, UntrustedBinaryIsNotRun) {
  using ngxwatch::nginx::untrusted_binary_reason;
  // Root-owned and safe, but not nginx.
  VerifyOptions o;
  o.nginx = "/bin/true";
  VerifyResult r = verify_config({{"/x/nginx.conf", "events {}\n"}}, "/x/nginx.conf", o);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("not an nginx binary"), std::string::npos) << r.error;
  EXPECT_NE(untrusted_binary_reason("relative/nginx"), "");
  // nginx itself, but a copy owned by someone else, or writable by others: refused.
  if (::access("/usr/sbin/nginx", X_OK) == 0) {
    EXPECT_EQ(untrusted_binary_reason("/usr/sbin/nginx"), "");
    std::string copy = "/tmp/ngxwatch-nginx-copy-" + std::to_string(::getpid());
    std::filesystem::copy_file("/usr/sbin/nginx", copy);
    ASSERT_EQ(::chown(copy.c_str(), 65534, 65534), 0);
    EXPECT_NE(untrusted_binary_reason(copy).find("not owned by root"), std::string::npos);
    ASSERT_EQ(::chown(copy.c_str(), 0, 0), 0);
    ASSERT_EQ(::chmod(copy.c_str(), 0777), 0);
    EXPECT_NE(untrusted_binary_reason(copy).find("writable by group or others"), std::string::npos);
    std::filesystem::remove(copy);
  }
}

TEST(TracePaths, RuntimeFilesMoveIntoTheCopy) {
  RuntimeRedirect r = redirect_runtime_files(
      "pid /run/nginx.pid;\nerror_log /var/log/nginx/error.log warn;\n"
      "http { access_log /var/log/a.log main; access_log off; access_log /l/$host.log;\n"
      "  error_log stderr; server { error_log syslog:server=x; } }\n",
      "/tmp/c");
  EXPECT_TRUE(r.pid);
  EXPECT_EQ(r.files, 6);
  EXPECT_EQ(r.text,
            "pid \"/tmp/c/runtime-1\";\nerror_log \"/tmp/c/runtime-2\" warn;\n"
            "http { access_log \"/tmp/c/runtime-3\"; client_body_temp_path \"/tmp/c/runtime-4\"; "
            "proxy_temp_path \"/tmp/c/runtime-5\"; access_log \"/tmp/c/runtime-6\" main; "
            "access_log off; access_log "
            "/l/$host.log;\n  error_log stderr; server { error_log syslog:server=x; } }\n");
  // A temp path the config sets at http level is moved, not doubled.
  RuntimeRedirect t = redirect_runtime_files(
      "http {\n proxy_temp_path /var/p 1 2;\n server { client_body_temp_path /b; } }", "/d");
  EXPECT_EQ(t.text,
            "http { access_log \"/d/runtime-1\"; client_body_temp_path \"/d/runtime-2\";\n "
            "proxy_temp_path \"/d/runtime-3\" 1 2;\n server { client_body_temp_path "
            "\"/d/runtime-4\"; } }");
  EXPECT_FALSE(redirect_runtime_files("events {}\n", "/tmp/c").pid);
  // A '}' inside a word is part of it (nginx ends a word at blanks, ';' and '{' only):
  // the whole word is replaced, the copy still parses (found by fuzz_config_edit).
  EXPECT_EQ(redirect_runtime_files("pid  uptp};\n", "/c").text, "pid  \"/c/runtime-1\";\n");
}

}  // namespace

namespace {

// nginx -t of the copy runs as nobody: a file only root may read is out of its reach.
TEST(TracePaths, NginxCheckRunsUnprivileged) {
  if (::geteuid() != 0 || ::access("/usr/sbin/nginx", X_OK) != 0)
    GTEST_SKIP() << "needs root and /usr/sbin/nginx";
  char tmpl[] = "/tmp/ngxwatch-secret-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string secret = std::string(tmpl) + "/secret.conf";
  { std::ofstream(secret) << "worker_processes 1;\n"; }
  ASSERT_EQ(::chmod(secret.c_str(), 0600), 0);
  ASSERT_EQ(::chmod(tmpl, 0755), 0);
  FileSet files = {{"/x/nginx.conf", "include " + secret + ";\nevents {}\n"}};
  VerifyOptions o;
  o.nginx = "/usr/sbin/nginx";
  VerifyResult r = verify_config(files, "/x/nginx.conf", o);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("Permission denied"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find(secret), std::string::npos) << r.error;
  // The same check passes without the secret: the failure above is the uid's.
  files["/x/nginx.conf"] = "events {}\n";
  VerifyResult fine = verify_config(files, "/x/nginx.conf", o);
  EXPECT_TRUE(fine.ok) << fine.error;
  std::filesystem::remove_all(tmpl);
}

}  // namespace
