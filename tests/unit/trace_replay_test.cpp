// The offline replay's name resolution: a trace's configurations are untrusted and from
// another host, so their host names reach DNS only through a bounded, caching resolver
// (found by fuzz_trace_file, which took seconds per input waiting on DNS).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "correlate/trace_replay.h"
#include "export/summary.h"
#include "ngxwatch/events.h"

namespace ngxwatch {
namespace {

using Names = std::vector<std::string>;

TEST(BoundedResolver, NamesAreResolvedOnceAndOnlyUpToTheBound) {
  std::map<std::string, int> asked;
  nginx::HostResolver dns = [&](const std::string& host) {
    ++asked[host];
    return Names{"10.0.0." + std::to_string(asked.size())};
  };
  nginx::HostResolver r = bounded_resolver(dns, 2);
  EXPECT_EQ(r("a.example"), Names{"10.0.0.1"});
  EXPECT_EQ(r("a.example"), Names{"10.0.0.1"});  // cached
  EXPECT_EQ(r("10.9.9.9"), Names{"10.9.9.9"});   // literals never reach DNS
  EXPECT_EQ(r("localhost"), (Names{"127.0.0.1", "::1"}));
  EXPECT_EQ(r("b.example"), Names{"10.0.0.2"});
  EXPECT_TRUE(r("c.example").empty());  // past the bound: not asked
  EXPECT_TRUE(r("d.example").empty());
  EXPECT_EQ(asked, (std::map<std::string, int>{{"a.example", 1}, {"b.example", 1}}));
}

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  uint8_t b[4];
  std::memcpy(b, &v, 4);
  out.insert(out.end(), b, b + 4);
}

TEST(TraceReplay, TheTracesHostNamesGoThroughTheReplaysResolver) {
  std::string dump =
      "# configuration file /etc/nginx/nginx.conf:\n"
      "events {}\nhttp {\n"
      "  upstream app { server backend.internal:8080; server 10.0.0.1:8080; }\n"
      "  server { listen 80; location / { proxy_pass http://app; } }\n"
      "  server { listen 81; location / { proxy_pass http://other.internal:9000; } }\n"
      "}\n";
  std::vector<uint8_t> trace = {'N', 'G', 'X', 'W', 'T', 'R', 'C', '2'};
  put_u32(trace, NGXW_EVENT_VERSION);
  put_u32(trace, 1);  // one master
  put_u32(trace, 7);
  put_u32(trace, static_cast<uint32_t>(dump.size()));
  trace.insert(trace.end(), dump.begin(), dump.end());
  put_u32(trace, 0);  // no process map
  put_u32(trace, 4);  // one (malformed) record: the configs load at the first record
  put_u32(trace, 0);
  Names asked;
  ReplayHooks hooks;
  hooks.resolve = [&](const std::string& host) {
    asked.push_back(host);
    return Names{};
  };
  Summary sink;
  ReplayResult r = replay_from(
      [&](TraceHeader& h, const RecordFn& fn) { return read_trace_bytes(trace, "t.trace", h, fn); },
      sink, hooks);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.bad_records, 1u);
  std::sort(asked.begin(), asked.end());
  EXPECT_EQ(asked, (Names{"10.0.0.1", "backend.internal", "other.internal"}));
}

}  // namespace
}  // namespace ngxwatch
