// PendingEvents: events of a process whose master's config is not read yet wait for
// it, in order per process, bounded by count and time; what leaves without its config
// is counted by reason.
#include "correlate/pending_events.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace ngxwatch {
namespace {

struct Table : AttributionSource {
  std::map<uint32_t, Attribution> states;
  Attribution attribution(uint32_t pid) const override {
    auto it = states.find(pid);
    return it == states.end() ? Attribution::kWait : it->second;
  }
};

Event conn(uint32_t tgid, uint64_t sock) {
  ngxw_conn_event e{};
  e.hdr.type = NGXW_EV_CONN_OPEN;
  e.hdr.tgid = tgid;
  e.sock_id = sock;
  return e;
}

uint64_t sock_of(const Event& e) { return std::get<ngxw_conn_event>(e).sock_id; }

TEST(PendingEvents, HoldsAProcessUntilItsConfigIsKnownInOrder) {
  std::vector<uint64_t> got;
  PendingEvents p([&](const Event& e) { got.push_back(sock_of(e)); });
  Table t;
  t.states[10] = Attribution::kReady;
  p.set_source(&t);
  p.on_event(conn(10, 1), 0);  // known: through at once
  p.on_event(conn(20, 2), 0);  // a new worker: waits
  p.on_event(conn(10, 3), 0);
  p.on_event(conn(20, 4), 0);
  EXPECT_EQ(got, (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(p.waiting(), 2u);
  t.states[20] = Attribution::kReady;  // its master's config was read
  p.set_source(&t);
  EXPECT_EQ(got, (std::vector<uint64_t>{1, 3, 2, 4}));
  EXPECT_EQ(p.stats().held, 2u);
  EXPECT_EQ(p.stats().timed_out + p.stats().overflowed + p.stats().unreadable, 0u);
}

TEST(PendingEvents, UnreadableGoesOnCountedAndNoSourceWaits) {
  std::vector<uint64_t> got;
  PendingEvents p([&](const Event& e) { got.push_back(sock_of(e)); });
  p.on_event(conn(30, 1), 0);  // nothing known yet (before the first scan): waits
  EXPECT_TRUE(got.empty());
  Table t;
  t.states[30] = Attribution::kUnreadable;
  p.set_source(&t);
  p.on_event(conn(30, 2), 0);
  EXPECT_EQ(got, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(p.stats().unreadable, 2u);
  p.on_event(conn(0, 3), 0);  // no process: never waits
  EXPECT_EQ(got.back(), 3u);
}

TEST(PendingEvents, BoundedByTimeAndCount) {
  std::vector<uint64_t> got;
  PendingEvents p([&](const Event& e) { got.push_back(sock_of(e)); }, {3, 1000});
  Table t;
  p.set_source(&t);
  for (uint64_t s = 1; s <= 4; ++s) p.on_event(conn(40, s), s * 100);
  EXPECT_EQ(got, (std::vector<uint64_t>{1}));  // the oldest pushed out by the fourth
  EXPECT_EQ(p.stats().overflowed, 1u);
  p.tick(1250);  // 2 and 3 waited 1000 ns or more by now, 4 did not
  EXPECT_EQ(got, (std::vector<uint64_t>{1, 2}));
  p.tick(1400);
  EXPECT_EQ(got, (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(p.stats().timed_out, 3u);
  EXPECT_EQ(p.stats().waiting, 0u);
}

// The kernel reuses a freed struct sock at once: a known worker's new connection on a
// socket whose earlier life (a worker not known yet) still waits must not overtake it;
// the rest of that known worker's events need not wait.
TEST(PendingEvents, ASocketsEventsKeepTheirOrderAcrossProcesses) {
  std::vector<std::pair<uint32_t, uint64_t>> got;  // (pid, sock) in delivery order
  auto record = [&](const Event& e) { got.emplace_back(event_pid(e), event_sock(e)); };
  PendingEvents p(record, {100, 1000});
  Table t;
  t.states[10] = Attribution::kReady;
  p.set_source(&t);
  p.on_event(conn(20, 7), 0);   // sock 7, first life: worker 20, not known yet
  p.on_event(conn(10, 7), 10);  // sock 7 again, a known worker: waits behind it
  p.on_event(conn(10, 8), 20);  // worker 10's other socket: goes at once
  p.on_event(conn(30, 9), 30);  // unrelated, unknown
  using Got = std::vector<std::pair<uint32_t, uint64_t>>;
  EXPECT_EQ(got, (Got{{10, 8}}));
  p.tick(1005);  // 20's event waited out its time; 10's on sock 7 goes after it
  EXPECT_EQ(got, (Got{{10, 8}, {20, 7}, {10, 7}}));
  EXPECT_EQ(p.waiting(), 1u);

  got.clear();
  PendingEvents q(record);
  q.set_source(&t);
  q.on_event(conn(20, 7), 0);
  q.on_event(conn(10, 7), 0);
  t.states[30] = Attribution::kReady;  // a config read that is not 20's: nothing moves on 7
  q.set_source(&t);
  EXPECT_TRUE(got.empty());
  t.states[20] = Attribution::kReady;
  q.set_source(&t);
  EXPECT_EQ(got, (Got{{20, 7}, {10, 7}}));
}

// An accepted connection's open event carries the listening socket's owner (nginx's
// first process, gone since it daemonized): it waits for no process, only behind its
// socket; and what an overflow frees goes at the next tick.
TEST(PendingEvents, AnAcceptedConnectionsOpenWaitsForNoProcessAndOverflowFreesItsSocket) {
  std::vector<uint64_t> got;
  PendingEvents p([&](const Event& e) { got.push_back(event_sock(e)); }, {2, 1'000'000'000});
  Table t;
  t.states[10] = Attribution::kReady;
  p.set_source(&t);
  Event accepted = conn(90, 5);  // owner 90: never known
  std::get<ngxw_conn_event>(accepted).side = NGXW_SIDE_CLIENT;
  p.on_event(accepted, 0);
  EXPECT_EQ(got, (std::vector<uint64_t>{5}));

  p.on_event(conn(20, 6), 0);  // unknown worker on sock 6
  p.on_event(conn(10, 6), 0);  // known, behind it
  p.on_event(conn(20, 7), 0);  // full: the oldest (20 on 6) is pushed out
  EXPECT_EQ(got, (std::vector<uint64_t>{5, 6}));
  EXPECT_EQ(p.stats().overflowed, 1u);
  p.tick(1);  // 10's event on sock 6 is no longer behind anything
  EXPECT_EQ(got, (std::vector<uint64_t>{5, 6, 6}));
  EXPECT_EQ(p.waiting(), 1u);
}

}  // namespace
}  // namespace ngxwatch
