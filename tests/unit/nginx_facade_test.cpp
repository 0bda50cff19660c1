#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "host/nginx_tool.h"
#include "nginx/nginx_config.h"
#include "host/master_files.h"

using namespace ngxwatch::nginx;

namespace {

const std::string kData = std::string(NGXWATCH_TESTDATA) + "/nginx";
const char* kNginx = "/usr/sbin/nginx";

}  // namespace

TEST(NginxFacade, LoadFromFileResolvesRelativeToPrefix) {
  Config c = load_from_file("merge/nginx.conf", kData);
  ASSERT_EQ(c.servers().size(), 2u);
  EXPECT_EQ(c.parsed().main_file, kData + "/merge/nginx.conf");
  EXPECT_THROW(load_from_file("merge/nginx.conf", "/nonexistent"), ConfigError);
}

TEST(NginxFacade, RunNginxTAgainstTheRealBinary) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << "nginx not installed";
  char tmpl[] = "/tmp/ngxwatch-facade-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string prefix = tmpl;
  // nginx runs unprivileged: the pid file goes where it may write it.
  ASSERT_EQ(chmod(tmpl, 0777), 0);
  std::vector<std::string> pid = {"pid " + prefix + "/nginx.pid;"};

  // The daemon's dump (the files it read itself) loads as the files do.
  std::string dump = ngxwatch::dump_of(
      ngxwatch::read_master_files("/", {kData + "/parser/nginx.conf", "", ""}, {}));
  Config from_dump = load_from_dump(dump);
  Config from_disk = load_from_file(kData + "/parser/nginx.conf");
  ASSERT_EQ(from_dump.servers().size(), from_disk.servers().size());
  EXPECT_EQ(from_dump.servers()[1]->where(), from_disk.servers()[1]->where());
  EXPECT_EQ(from_dump.effective_http("keepalive_timeout").origin(),
            kData + "/parser/snippets/common.conf:2");

  NginxTResult bad = run_nginx_T(kNginx, kData + "/errors/missing_semicolon.conf", prefix, pid);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.error.find("[emerg]"), std::string::npos) << bad.error;
  EXPECT_NE(bad.error.find("missing_semicolon.conf:3"), std::string::npos) << bad.error;

  NginxTResult missing = run_nginx_T("/nonexistent/nginx", "x.conf");
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.error.find("/nonexistent/nginx"), std::string::npos);
  std::filesystem::remove_all(prefix);
}

TEST(NginxFacade, RunNginxV) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << "nginx not installed";
  BuildInfo b = build_info_of(kNginx);
  EXPECT_FALSE(b.version.empty());
  EXPECT_FALSE(b.client_body_temp_path.empty());
  EXPECT_EQ(b.client_body_temp_path[0], '/');
}
