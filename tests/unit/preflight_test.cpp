#include <gtest/gtest.h>

#include "export/listen_check.h"
#include "source/preflight.h"

using namespace ngxwatch;

TEST(Preflight, MissingBtfIsOneLineNamingThePath) {
  std::string e = check_kernel_btf("/nonexistent/vmlinux");
  EXPECT_NE(e.find("/nonexistent/vmlinux"), std::string::npos);
  EXPECT_NE(e.find("CONFIG_DEBUG_INFO_BTF"), std::string::npos);
  EXPECT_EQ(e.find('\n'), std::string::npos);
  EXPECT_EQ(check_kernel_btf("/"), "");
}

TEST(ListenCheck, RejectsMalformedAndBusyAddresses) {
  EXPECT_NE(check_listen_address("nonsense").find("expected HOST:PORT"), std::string::npos);
  EXPECT_NE(check_listen_address("127.0.0.1:").find("expected HOST:PORT"), std::string::npos);
  EXPECT_NE(check_listen_address("no-such-host.invalid:80"), "");
  EXPECT_EQ(check_listen_address("127.0.0.1:0"), "");
  EXPECT_EQ(check_listen_address("[::1]:0").find("expected"), std::string::npos);
}
