// One test per label decoder (correlate/label_decoder.h).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstring>

#include "correlate/label_decoder.h"

namespace ngxwatch {
namespace {

RawResetLabels raw(unsigned side, unsigned origin, const char* ip = "10.0.0.1",
                   uint16_t port = 8080) {
  RawResetLabels r{side, origin, {}};
  r.peer.family = AF_INET;
  r.peer.port = port;
  inet_pton(AF_INET, ip, r.peer.addr);
  return r;
}

TEST(LabelDecoder, Side) {
  EXPECT_STREQ(side_decoder().name(), "side");
  EXPECT_EQ(side_decoder().decode(raw(NGXW_SIDE_UPSTREAM, 0)), "upstream");
  EXPECT_EQ(side_decoder().decode(raw(NGXW_SIDE_CLIENT, 0)), "client");
  EXPECT_EQ(side_decoder().decode(raw(77, 0)), "unknown");
}

TEST(LabelDecoder, Origin) {
  EXPECT_STREQ(origin_decoder().name(), "origin");
  EXPECT_EQ(origin_decoder().decode(raw(0, NGXW_ORIGIN_PEER)), "peer");
  EXPECT_EQ(origin_decoder().decode(raw(0, NGXW_ORIGIN_NGINX)), "nginx");
  EXPECT_EQ(origin_decoder().decode(raw(0, 77)), "");
}

TEST(LabelDecoder, PeerOnlyOnTheUpstreamSide) {
  EXPECT_STREQ(peer_decoder().name(), "peer");
  EXPECT_EQ(peer_decoder().decode(raw(NGXW_SIDE_UPSTREAM, 0, "10.0.0.1", 8080)), "10.0.0.1:8080");
  EXPECT_EQ(peer_decoder().decode(raw(NGXW_SIDE_CLIENT, 0, "192.0.2.7", 51515)), "")
      << "client addresses must never become labels";
}

TEST(LabelDecoder, KernelKeyAndEventGiveTheSameRawLabels) {
  ngxw_reset_key k{};
  k.side = NGXW_SIDE_UPSTREAM;
  k.origin = NGXW_ORIGIN_NGINX;
  RawResetLabels want = raw(k.side, k.origin, "127.0.0.2", 9001);
  k.family = want.peer.family;
  k.port = want.peer.port;
  std::memcpy(k.addr, want.peer.addr, sizeof(k.addr));
  ngxw_conn_event e{};
  e.side = k.side;
  e.origin = k.origin;
  e.remote = want.peer;
  for (const RawResetLabels& got : {raw_labels(k), raw_labels(e)}) {
    EXPECT_EQ(got.side, want.side);
    EXPECT_EQ(got.origin, want.origin);
    EXPECT_EQ(peer_decoder().decode(got), "127.0.0.2:9001");
  }
}

}  // namespace
}  // namespace ngxwatch
