// Reading a master's configuration through its root: nothing leaves the root, nothing
// but regular files within the cap is read, and a FIFO cannot block the reader.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "nginx/binary_info.h"
#include "nginx/config_error.h"
#include "host/master_files.h"

using namespace ngxwatch;
namespace fs = std::filesystem;
using namespace std::string_literals;

namespace {

class TempRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ngxwatch-root-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(root_ + path).parent_path());
    std::ofstream(root_ + path) << text;
  }
  std::string error_of(const MasterArgs& args) {
    try {
      read_master_files(root_, args, nginx::parse_nginx_V(""));
    } catch (const nginx::ConfigError& e) {
      return e.what();
    }
    return "";
  }
  std::string root_;
};

TEST_F(TempRoot, ReadsTheMastersOwnPathsInsideTheRoot) {
  write("/etc/nginx/nginx.conf", "events {}\nhttp { include conf.d/*.conf; }\n");
  write("/etc/nginx/conf.d/b.conf", "server { listen 81; }\n");
  write("/etc/nginx/conf.d/a.conf", "server { listen 80; }\n");
  write("/etc/nginx/conf.d/skip.txt", "garbage\n");
  nginx::ParsedConfig p = read_master_files(root_, {"/etc/nginx/nginx.conf", "", ""}, {});
  ASSERT_EQ(p.files.size(), 3u);
  EXPECT_EQ(p.files[0].path, "/etc/nginx/nginx.conf");  // the master's name, not root_'s
  EXPECT_EQ(p.files[1].path, "/etc/nginx/conf.d/a.conf");
  EXPECT_EQ(p.files[2].path, "/etc/nginx/conf.d/b.conf");
  // The dump reads back to the same files, names and text (the trace snapshot).
  auto back = nginx::split_nginx_T(dump_of(p));
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[2].path, p.files[2].path);
  EXPECT_EQ(back[2].text, p.files[2].text);
}

TEST_F(TempRoot, RelativeConfIsTakenFromThePrefix) {
  write("/srv/ngx/conf/main.conf", "events {}\n");
  nginx::ParsedConfig p = read_master_files(root_, {"conf/main.conf", "/srv/ngx", ""}, {});
  EXPECT_EQ(p.main_file, "/srv/ngx/conf/main.conf");
}

TEST_F(TempRoot, DotDotAndAbsoluteSymlinksStayInTheRoot) {
  // The host's /etc/hostname exists; inside the root it does not.
  ASSERT_TRUE(fs::exists("/etc/hostname"));
  write("/etc/nginx/nginx.conf", "include ../../../../../../etc/hostname;\n");
  EXPECT_NE(error_of({"/etc/nginx/nginx.conf", "", ""}).find("No such file"), std::string::npos);
  write("/etc/nginx/nginx.conf", "include /etc/nginx/link;\n");
  fs::create_symlink("/etc/hostname", root_ + "/etc/nginx/link");
  EXPECT_NE(error_of({"/etc/nginx/nginx.conf", "", ""}).find("No such file"), std::string::npos);
  // The same link resolves to the root's own file once that exists.
  write("/etc/hostname", "events {}\n");
  EXPECT_EQ(error_of({"/etc/nginx/nginx.conf", "", ""}), "");
}

TEST_F(TempRoot, FifoIsRefusedWithoutBlocking) {
  write("/etc/nginx/nginx.conf", "events {}\ninclude /etc/nginx/fifo;\n");
  ASSERT_EQ(::mkfifo((root_ + "/etc/nginx/fifo").c_str(), 0644), 0);
  std::string e = error_of({"/etc/nginx/nginx.conf", "", ""});
  EXPECT_NE(e.find("/etc/nginx/nginx.conf:2"), std::string::npos) << e;
  EXPECT_NE(e.find("\"/etc/nginx/fifo\" is not a regular file"), std::string::npos) << e;
}

TEST_F(TempRoot, DeviceAndHugeFilesAreRefused) {
  // A link to the host's /dev/zero resolves to the root's, which does not exist.
  write("/etc/nginx/nginx.conf", "include /etc/nginx/zero;\n");
  fs::create_symlink("/dev/zero", root_ + "/etc/nginx/zero");
  EXPECT_NE(error_of({"/etc/nginx/nginx.conf", "", ""}).find("No such file"), std::string::npos);
  fs::create_directories(root_ + "/dev");
  ASSERT_EQ(::mknod((root_ + "/dev/zero").c_str(), S_IFCHR | 0666, makedev(1, 5)), 0);
  EXPECT_NE(error_of({"/etc/nginx/nginx.conf", "", ""}).find("not a regular file"),
            std::string::npos);
  write("/etc/nginx/nginx.conf", "include /etc/nginx/huge;\n");
  { std::ofstream(root_ + "/etc/nginx/huge"); }
  fs::resize_file(root_ + "/etc/nginx/huge", RootResolver::kMaxFileBytes + 1);
  EXPECT_NE(error_of({"/etc/nginx/nginx.conf", "", ""}).find("is larger than"), std::string::npos);
}

TEST_F(TempRoot, MissingRootIsOneLine) {
  std::string e;
  try {
    read_master_files(root_ + "/absent", {"/etc/nginx/nginx.conf", "", ""}, {});
  } catch (const nginx::ConfigError& err) {
    e = err.what();
  }
  EXPECT_NE(e.find("absent"), std::string::npos) << e;
}

std::string fake_elf(const std::string& strings) {
  return "\x7f"
         "ELF\x02\x01\x01"s +
         std::string(100, '\0') + strings;
}

TEST(BinaryInfo, ReadsConfigureArgumentsFromTheBytes) {
  std::string s = fake_elf("nginx version: nginx/1.25.3\n\0"s +
                           "x\0configure arguments: --prefix=/opt/n "
                           "--conf-path=/opt/n/etc/n.conf\n\0"s);
  nginx::BinaryInfo b = nginx::binary_info_from_bytes(s, "test");
  ASSERT_TRUE(b.is_nginx) << b.why;
  EXPECT_EQ(b.build.version, "1.25.3");
  EXPECT_EQ(b.build.prefix, "/opt/n");
  EXPECT_EQ(b.build.conf_path, "/opt/n/etc/n.conf");
  EXPECT_EQ(b.build.proxy_temp_path, "/opt/n/proxy_temp");
}

TEST(BinaryInfo, ScriptsAndLookalikesAreNotNginx) {
  std::string strings = "nginx version: nginx/1\n\0configure arguments:\n\0"s;
  EXPECT_FALSE(nginx::binary_info_from_bytes("#!/bin/sh\n" + strings, "s").is_nginx);
  // Markers inside a longer string (a message mentioning them) do not count.
  std::string inside = "say nginx version: x\0say configure arguments: y\0"s;
  nginx::BinaryInfo b = nginx::binary_info_from_bytes(fake_elf(inside), "/x/nginx");
  EXPECT_FALSE(b.is_nginx);
  EXPECT_NE(b.why.find("/x/nginx is not an nginx binary"), std::string::npos) << b.why;
  // An ELF without the strings.
  EXPECT_FALSE(nginx::read_binary_info("/bin/true").is_nginx);
  EXPECT_NE(nginx::read_binary_info("/bin/true").why.find("not an nginx binary"),
            std::string::npos);
}

TEST(BinaryInfo, StringCutByTheChunkBoundaryIsFound) {
  std::string pad((1u << 20) - 120, 'a');
  std::string s =
      fake_elf(pad + "\0nginx version: nginx/1.2.3\n\0"s + "configure arguments: --prefix=/p\n\0"s);
  EXPECT_TRUE(nginx::binary_info_from_bytes(s, "t").is_nginx);
}

}  // namespace
