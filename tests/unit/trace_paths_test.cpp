// A trace's file names and the copy nginx -t checks: nothing lands outside the copy,
// and the copy never names the real pid and log files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "advise/config_edit.h"
#include "advise/verify.h"
#include "nginx/unprivileged_spawn.h"

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
  // This test program is neither root-owned-and-safe nor nginx in any case: refused.
  VerifyOptions o;
  o.nginx = "/proc/self/exe";
  VerifyResult r = verify_config({{"/x/nginx.conf", "events {}\n"}}, "/x/nginx.conf", o);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("will not run"), std::string::npos) << r.error;
  EXPECT_NE(ngxwatch::nginx::untrusted_binary_reason("relative/nginx"), "");
}

TEST(TracePaths, RuntimeFilesMoveIntoTheCopy) {
  RuntimeRedirect r = redirect_runtime_files(
      "pid /run/nginx.pid;\nerror_log /var/log/nginx/error.log warn;\n"
      "http { access_log /var/log/a.log main; access_log off; access_log /l/$host.log;\n"
      "  error_log stderr; server { error_log syslog:server=x; } }\n",
      "/tmp/c");
  EXPECT_TRUE(r.pid);
  EXPECT_EQ(r.files, 3);
  EXPECT_EQ(r.text,
            "pid \"/tmp/c/runtime-1\";\nerror_log \"/tmp/c/runtime-2\" warn;\n"
            "http { access_log \"/tmp/c/runtime-3\" main; access_log off; access_log "
            "/l/$host.log;\n  error_log stderr; server { error_log syslog:server=x; } }\n");
  EXPECT_FALSE(redirect_runtime_files("events {}\n", "/tmp/c").pid);
}

}  // namespace
