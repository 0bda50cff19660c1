#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>

#include "common/net_format.h"
#include "correlate/reset_labels.h"

using namespace ngxwatch;

namespace {

ngxw_endpoint v4(const char* ip, uint16_t port) {
  ngxw_endpoint ep{};
  ep.family = AF_INET;
  ep.port = port;
  inet_pton(AF_INET, ip, ep.addr);
  return ep;
}

ngxw_endpoint v6(const char* ip, uint16_t port) {
  ngxw_endpoint ep{};
  ep.family = AF_INET6;
  ep.port = port;
  inet_pton(AF_INET6, ip, ep.addr);
  return ep;
}

}  // namespace

TEST(NetFormat, Endpoints) {
  EXPECT_EQ(format_endpoint(v4("127.0.0.1", 8080)), "127.0.0.1:8080");
  EXPECT_EQ(format_endpoint(v6("::1", 443)), "[::1]:443");
  EXPECT_EQ(format_endpoint(v6("::ffff:10.1.2.3", 80)), "10.1.2.3:80");
  EXPECT_EQ(format_endpoint(ngxw_endpoint{}), "");
}

TEST(NetFormat, TcpStateNames) {
  EXPECT_STREQ(tcp_state_name(1), "ESTABLISHED");
  EXPECT_STREQ(tcp_state_name(7), "CLOSE");
  EXPECT_STREQ(tcp_state_name(200), "UNKNOWN");
}

TEST(ResetLabels, UpstreamCarriesPeerClientNever) {
  ngxw_conn_event e{};
  e.side = NGXW_SIDE_UPSTREAM;
  e.origin = NGXW_ORIGIN_PEER;
  e.remote = v4("127.0.0.2", 9001);
  auto l = reset_labels(e);
  EXPECT_EQ(l.side, "upstream");
  EXPECT_EQ(l.origin, "peer");
  EXPECT_EQ(l.peer, "127.0.0.2:9001");

  e.side = NGXW_SIDE_CLIENT;
  e.origin = NGXW_ORIGIN_NGINX;
  e.remote = v4("192.0.2.7", 51515);
  l = reset_labels(e);
  EXPECT_EQ(l.side, "client");
  EXPECT_EQ(l.origin, "nginx");
  EXPECT_EQ(l.peer, "") << "client addresses must never become labels";
}

TEST(ResetLabels, KernelKeyMatchesEventLabels) {
  ngxw_reset_key k{};
  k.side = NGXW_SIDE_UPSTREAM;
  k.origin = NGXW_ORIGIN_PEER;
  auto ep = v4("127.0.0.2", 9001);
  k.family = ep.family;
  k.port = ep.port;
  std::memcpy(k.addr, ep.addr, 16);
  ngxw_conn_event e{};
  e.side = k.side;
  e.origin = k.origin;
  e.remote = ep;
  EXPECT_EQ(reset_labels(k).as_map(), reset_labels(e).as_map());
}
