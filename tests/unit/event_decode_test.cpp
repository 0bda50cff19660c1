#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "source/event.h"

using namespace ngxwatch;

namespace {

template <typename T>
std::vector<uint8_t> bytes_of(const T& v) {
  std::vector<uint8_t> b(sizeof(T));
  std::memcpy(b.data(), &v, sizeof(T));
  return b;
}

}  // namespace

TEST(EventDecode, AcceptsAWellFormedReset) {
  ngxw_conn_event e{};
  e.hdr.version = NGXW_EVENT_VERSION;
  e.hdr.type = NGXW_EV_RESET;
  e.hdr.ts_ns = 42;
  e.side = NGXW_SIDE_UPSTREAM;
  auto r = decode_event(bytes_of(e));
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_TRUE(std::holds_alternative<ngxw_conn_event>(r.event));
  EXPECT_EQ(std::get<ngxw_conn_event>(r.event).side, NGXW_SIDE_UPSTREAM);
  EXPECT_EQ(event_time_ns(r.event), 42u);
}

TEST(EventDecode, RejectsTruncatedWrongVersionAndUnknownType) {
  ngxw_conn_event e{};
  e.hdr.version = NGXW_EVENT_VERSION;
  e.hdr.type = NGXW_EV_RESET;
  auto b = bytes_of(e);
  b.resize(b.size() - 1);
  EXPECT_FALSE(decode_event(b).ok);
  EXPECT_FALSE(decode_event(std::span<const uint8_t>(b.data(), 3)).ok);

  e.hdr.version = 99;
  auto r = decode_event(bytes_of(e));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("version 99"), std::string::npos);

  e.hdr.version = NGXW_EVENT_VERSION;
  e.hdr.type = 200;
  EXPECT_FALSE(decode_event(bytes_of(e)).ok);
}

TEST(EventDecode, ProcEventOfWrongSizeIsRejected) {
  ngxw_proc_event p{};
  p.hdr.version = NGXW_EVENT_VERSION;
  p.hdr.type = NGXW_EV_PROC;
  EXPECT_TRUE(decode_event(bytes_of(p)).ok);
  ngxw_conn_event big{};
  big.hdr = p.hdr;
  EXPECT_FALSE(decode_event(bytes_of(big)).ok);
}

TEST(EventDecode, DataRecordCarriesOnlyItsCapturedBytes) {
  ngxw_data_event e{};
  e.hdr.version = NGXW_EVENT_VERSION;
  e.hdr.type = NGXW_EV_DATA;
  e.len = 4;
  std::memcpy(e.data, "GET ", 4);
  auto full = bytes_of(e);
  std::vector<uint8_t> b(full.begin(), full.begin() + offsetof(ngxw_data_event, data) + 4);
  auto r = decode_event(b);
  ASSERT_TRUE(r.ok) << r.error;
  const auto& d = std::get<ngxw_data_event>(r.event);
  EXPECT_EQ(d.len, 4u);
  EXPECT_EQ(std::memcmp(d.data, "GET ", 4), 0);
  EXPECT_EQ(d.data[4], 0u);            // not sent: zero
  EXPECT_TRUE(decode_event(full).ok);  // a full record (older traces)

  e.len = 5;  // more than it carries
  auto lying = bytes_of(e);
  lying.resize(offsetof(ngxw_data_event, data) + 4);
  EXPECT_FALSE(decode_event(lying).ok);
  lying.resize(offsetof(ngxw_data_event, data) - 1);  // shorter than its header
  EXPECT_FALSE(decode_event(lying).ok);
}
