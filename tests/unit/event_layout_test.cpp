// Pins the kernel<->user event layout: a change here must be a deliberate version bump.
#include <gtest/gtest.h>

#include <cstddef>

#include "ngxwatch/events.h"

TEST(EventLayout, VersionIsPinned) { EXPECT_EQ(NGXW_EVENT_VERSION, 2); }

TEST(EventLayout, HeaderAndEndpoint) {
  EXPECT_EQ(sizeof(ngxw_event_header), 16u);
  EXPECT_EQ(offsetof(ngxw_event_header, type), 2u);
  EXPECT_EQ(offsetof(ngxw_event_header, tgid), 4u);
  EXPECT_EQ(offsetof(ngxw_event_header, ts_ns), 8u);
  EXPECT_EQ(sizeof(ngxw_endpoint), 20u);
  EXPECT_EQ(sizeof(ngxw_conn_stats), 96u);
  EXPECT_EQ(offsetof(ngxw_conn_stats, requests), 88u);
}

TEST(EventLayout, ConnEvent) {
  EXPECT_EQ(offsetof(ngxw_conn_event, sock_id), 16u);
  EXPECT_EQ(offsetof(ngxw_conn_event, local), 24u);
  EXPECT_EQ(offsetof(ngxw_conn_event, remote), 44u);
  EXPECT_EQ(offsetof(ngxw_conn_event, netns), 64u);
  EXPECT_EQ(offsetof(ngxw_conn_event, side), 68u);
  EXPECT_EQ(offsetof(ngxw_conn_event, reason), 72u);
  EXPECT_EQ(offsetof(ngxw_conn_event, stats), 80u);
  EXPECT_EQ(sizeof(ngxw_conn_event), 176u);
}

TEST(EventLayout, ProcAndDataEvents) {
  EXPECT_EQ(offsetof(ngxw_proc_event, parent_tgid), 16u);
  EXPECT_EQ(offsetof(ngxw_proc_event, comm), 24u);
  EXPECT_EQ(sizeof(ngxw_proc_event), 40u);
  EXPECT_EQ(offsetof(ngxw_data_event, link_sock_id), 24u);
  EXPECT_EQ(offsetof(ngxw_data_event, local), 32u);
  EXPECT_EQ(offsetof(ngxw_data_event, remote), 52u);
  EXPECT_EQ(offsetof(ngxw_data_event, side), 72u);
  EXPECT_EQ(offsetof(ngxw_data_event, len), 74u);
  EXPECT_EQ(offsetof(ngxw_data_event, total), 76u);
  EXPECT_EQ(offsetof(ngxw_data_event, request), 80u);
  EXPECT_EQ(offsetof(ngxw_data_event, idle_ns), 88u);
  EXPECT_EQ(offsetof(ngxw_data_event, data), 96u);
  EXPECT_EQ(NGXW_CAPTURE_BYTES, 512);
  EXPECT_EQ(sizeof(ngxw_data_event), 96u + NGXW_CAPTURE_BYTES);
}

TEST(EventLayout, MapKeys) {
  EXPECT_EQ(sizeof(ngxw_reset_key), 24u);
  EXPECT_EQ(sizeof(ngxw_listen_key), 24u);
  EXPECT_EQ(sizeof(ngxw_tuple_key), 44u);
  EXPECT_EQ(sizeof(ngxw_seed), 8u);
  EXPECT_EQ(sizeof(ngxw_proc_info), 24u);
  EXPECT_EQ(offsetof(ngxw_proc_info, cur_client), 8u);
  EXPECT_EQ(offsetof(ngxw_proc_info, cur_upstream), 16u);
  EXPECT_EQ(sizeof(ngxw_temp_event), 16u + 24u + NGXW_TEMP_NAME_LEN);
  EXPECT_EQ(offsetof(ngxw_temp_event, ret), 32u);
  EXPECT_EQ(offsetof(ngxw_temp_event, name), 40u);
}
