// WorkerConfigs and ForkParents: a worker that no /proc scan saw (forked and retired by
// reloads between two scans) takes its master's configuration from its fork event,
// once that configuration was read after the fork; a worker gone from /proc keeps the
// view it ran with for a while (its last events are still on their way).
#include "host/worker_configs.h"

#include <gtest/gtest.h>

#include "nginx/nginx_config.h"

namespace ngxwatch {
namespace {

std::shared_ptr<const NginxConfigView> view_named(const std::string& server) {
  std::string dump =
      "# configuration file /etc/nginx/nginx.conf:\nevents {}\nhttp { server { listen 80; "
      "server_name " +
      server + "; location / { return 200; } } }\n";
  return std::make_shared<NginxConfigView>(
      std::make_shared<nginx::Config>(nginx::load_from_dump(dump)), "nginx -c x -p y");
}

Event proc(uint8_t action, uint32_t pid, uint32_t parent, uint64_t ts) {
  ngxw_proc_event e{};
  e.hdr = {NGXW_EVENT_VERSION, NGXW_EV_PROC, pid, ts};
  e.parent_tgid = parent;
  e.action = action;
  return e;
}

// One master (100) with one scanned worker (101), its config read at `read_ns`.
std::shared_ptr<ConfigSet> one_master(std::shared_ptr<const NginxConfigView> view,
                                      uint64_t read_ns) {
  auto set = std::make_shared<ConfigSet>();
  set->by_pid[100] = view;
  set->by_pid[101] = view;
  set->snapshot.masters[100] = 100;
  set->snapshot.masters[101] = 100;
  set->read_ns[100] = read_ns;
  return set;
}

TEST(WorkerConfigs, AnUnscannedWorkerTakesItsMastersConfigReadAfterItsFork) {
  auto v = view_named("a.test");
  WorkerConfigs w;
  w.learn(proc(NGXW_PROC_FORK, 200, 100, 5000));  // a reload's worker, never scanned
  w.set(one_master(v, 4000));                     // read before the fork: maybe older
  EXPECT_EQ(w.attribution(200), Attribution::kWait);
  EXPECT_EQ(w.for_pid(200), nullptr);
  w.set(one_master(v, 6000));  // read after it: the worker's
  EXPECT_EQ(w.attribution(200), Attribution::kReady);
  EXPECT_EQ(w.for_pid(200), v.get());
  EXPECT_EQ(w.attribution(300), Attribution::kWait);   // no fork seen, not scanned
  EXPECT_EQ(w.attribution(101), Attribution::kReady);  // scanned
}

TEST(WorkerConfigs, ExecForgetsTheParentAndAnUnreadableMasterIsNotWaitedFor) {
  auto v = view_named("a.test");
  WorkerConfigs w;
  w.learn(proc(NGXW_PROC_FORK, 200, 100, 5000));
  w.learn(proc(NGXW_PROC_EXEC, 200, 0, 5100));  // USR2: the child is a new master now
  w.set(one_master(v, 6000));
  EXPECT_EQ(w.attribution(200), Attribution::kWait);

  w.learn(proc(NGXW_PROC_FORK, 210, 150, 7000));
  auto set = one_master(v, 6000);
  set->unreadable[150] = "permission denied";
  w.set(set);
  EXPECT_EQ(w.attribution(210), Attribution::kUnreadable);
}

// nginx as a daemon: process 90 opens the listening sockets, forks the master (100) and
// exits; the kernel names 90 as the owner of every accepted connection.
TEST(WorkerConfigs, TheProcessThatDaemonizedStandsForItsMaster) {
  auto v = view_named("a.test");
  WorkerConfigs w;
  w.learn(proc(NGXW_PROC_FORK, 100, 90, 1000));
  w.learn(proc(NGXW_PROC_FORK, 101, 100, 2000));
  auto set = std::make_shared<ConfigSet>();  // the master not read yet
  w.set(set);
  EXPECT_EQ(w.attribution(90), Attribution::kWait);
  w.set(one_master(v, 3000));
  EXPECT_EQ(w.attribution(90), Attribution::kReady);
  EXPECT_EQ(w.for_pid(90), v.get());
}

TEST(ForkParents, BoundedOldestFirstAndAReusedPidKeepsItsNewFork) {
  ForkParents f(2);
  f.on_event(proc(NGXW_PROC_FORK, 1, 100, 10));
  f.on_event(proc(NGXW_PROC_FORK, 2, 100, 20));
  f.on_event(proc(NGXW_PROC_FORK, 1, 101, 30));  // pid 1 reused
  EXPECT_EQ(f.size(), 2u);                       // the first fork of 1 is pushed out...
  ASSERT_TRUE(f.of(1));
  EXPECT_EQ(f.of(1)->parent, 101u);  // ...but not the second
  f.on_event(proc(NGXW_PROC_FORK, 3, 100, 40));
  EXPECT_FALSE(f.of(2));
  EXPECT_TRUE(f.of(1) && f.of(3));
  EXPECT_EQ(f.first_child(100), 3u);  // its first child's pid is 101's child now
  EXPECT_EQ(f.first_child(101), 1u);
  // A first child outlives the forks kept (a master forks on every reload).
  for (uint32_t pid = 200; pid < 210; ++pid) f.on_event(proc(NGXW_PROC_FORK, pid, 101, pid));
  EXPECT_EQ(f.first_child(101), 1u);
  f.on_event(proc(NGXW_PROC_EXEC, 101, 0, 300));  // another program now
  EXPECT_EQ(f.first_child(101), 0u);
}

TEST(ConfigRegistry, AWorkerGoneFromProcKeepsItsViewAWhile) {
  auto old_view = view_named("old.test");
  auto previous = one_master(old_view, 1);
  previous->commands[old_view.get()] = {"/usr/sbin/nginx", "/etc/nginx/"};
  ConfigSet next;  // 101 exited; the master lives on
  next.by_pid[100] = old_view;
  next.snapshot.masters[100] = 100;
  ConfigRegistry::keep_exited(*previous, next);
  ASSERT_EQ(next.exited.count(101), 1u);
  EXPECT_EQ(next.for_pid(101), old_view.get());
  EXPECT_EQ(next.attribution(101), Attribution::kReady);
  EXPECT_EQ(next.exited.count(100), 0u);  // alive: not kept as exited
  EXPECT_EQ(next.commands.count(old_view.get()), 1u);

  ConfigSet later;  // long gone by now: forgotten
  later.snapshot.masters[100] = 100;
  next.exited[101].since -= ConfigSet::kExitedKeep + std::chrono::seconds(1);
  ConfigRegistry::keep_exited(next, later);
  EXPECT_EQ(later.exited.count(101), 0u);
  EXPECT_EQ(later.attribution(101), Attribution::kWait);
}

}  // namespace
}  // namespace ngxwatch
