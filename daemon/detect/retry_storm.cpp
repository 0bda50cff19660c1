#include "detect/retry_storm.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace ngxwatch {

namespace {

constexpr double kNs = 1e9;
constexpr uint64_t kJudgeEveryNs = 50000000;      // 50 ms
constexpr uint64_t kJudgeRetryEveryNs = 5000000;  // 5 ms

// What a client experiences as "it failed, try again": server errors, no answer at all,
// and 429 (rate limiting is often what a storm meets first).
bool failed(const RequestObservation& r) {
  return r.status == 0 || r.status >= 500 || r.status == 429;
}

std::string fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

}  // namespace

void RetryStormDetector::on_request(const RequestObservation& r) {
  auto key = std::make_pair(r.place.server, r.place.location);
  Loc& loc = locs_[key];
  loc.place = r.place;

  std::string who = r.client + '\0' + r.method + '\0' + r.path;
  auto prev = failed_.find(who);
  bool retry = prev != failed_.end() && r.ts_ns >= prev->second &&
               r.ts_ns - prev->second <= static_cast<uint64_t>(o_.repeat_window_s * kNs);
  bool fail = failed(r);
  if (fail) {
    if (failed_.size() >= o_.max_tracked && prev == failed_.end()) failed_.clear();  // bound
    failed_[who] = r.ts_ns;
  } else if (prev != failed_.end()) {
    failed_.erase(prev);  // it succeeded: a later repeat is a new request
  }

  // Requests are reported when they finish; keep the window ordered by start time.
  Sample s{r.ts_ns, fail, retry, !r.idempotent, r.client, std::max<uint32_t>(r.weight, 1)};
  auto pos = loc.recent.end();
  while (pos != loc.recent.begin() && std::prev(pos)->ts > s.ts) --pos;
  loc.recent.insert(pos, s);
  loc.history.emplace_back(r.ts_ns, s.weight);
  if (loc.storm && retry) {
    ++state_[key].storm_requests;
    if (s.non_idempotent) loc.storm->severity = "critical";
  }
  // Judging scans the whole recent window, so judging every request is quadratic in
  // the request rate (it took 65% of `analyze` on a 1M-event trace): a location is
  // judged at most every 50 ms of event time (a retry before onset, 5 ms), and
  // tick() judges every location anyway.
  uint64_t every = retry && !loc.storm ? kJudgeRetryEveryNs : kJudgeEveryNs;
  if (r.ts_ns >= loc.last_judge_ns + every) {
    judge(loc, r.ts_ns);
    loc.last_judge_ns = r.ts_ns;
  }
}

void RetryStormDetector::tick(uint64_t now_ns) {
  for (auto& [key, loc] : locs_) judge(loc, now_ns);
  // Forget failures too old to make a later request a retry.
  uint64_t horizon = static_cast<uint64_t>(o_.repeat_window_s * kNs);
  for (auto it = failed_.begin(); it != failed_.end();)
    it = now_ns > it->second + horizon ? failed_.erase(it) : std::next(it);
}

void RetryStormDetector::trim(Loc& loc, uint64_t now_ns) {
  uint64_t recent = static_cast<uint64_t>(o_.recent_window_s * kNs);
  uint64_t base = static_cast<uint64_t>(o_.baseline_window_s * kNs);
  while (!loc.recent.empty() && loc.recent.front().ts + recent < now_ns) loc.recent.pop_front();
  while (!loc.history.empty() && loc.history.front().first + base < now_ns) loc.history.pop_front();
}

void RetryStormDetector::judge(Loc& loc, uint64_t now_ns) {
  trim(loc, now_ns);
  auto key = std::make_pair(loc.place.server, loc.place.location);
  size_t n = 0, fails = 0, retries = 0;
  bool non_idempotent = false;
  for (const auto& s : loc.recent) {
    n += s.weight;
    fails += s.failed;
    if (s.retry) {
      ++retries;
      non_idempotent = non_idempotent || s.non_idempotent;
    }
  }
  // Distinct clients cost a set of strings: only when a storm is on or could start.
  std::set<std::string> clients;
  if (loc.storm || retries >= o_.min_retries)
    for (const auto& s : loc.recent)
      if (s.retry) clients.insert(s.client);
  double rate = static_cast<double>(n) / o_.recent_window_s;
  double ratio = n ? static_cast<double>(fails) / static_cast<double>(n) : 0;
  // The baseline is the location's own rate before the recent window.
  uint64_t recent_start = now_ns - std::min<uint64_t>(now_ns, o_.recent_window_s * kNs);
  size_t older = 0;
  for (const auto& [t, w] : loc.history)
    if (t < recent_start) older += w;
  double baseline = static_cast<double>(older) / (o_.baseline_window_s - o_.recent_window_s);

  if (!loc.storm) {
    bool storm = retries >= o_.min_retries && clients.size() >= o_.min_clients &&
                 ratio >= o_.min_failure_ratio && rate >= o_.min_rate &&
                 rate >= o_.baseline_factor * baseline;
    if (!storm) return;
    Finding f;
    f.kind = "retry_storm";
    f.place = loc.place;
    // Onset: the first retry of the window that tipped it.
    for (const auto& s : loc.recent)
      if (s.retry) {
        f.onset_ns = s.ts;
        break;
      }
    f.severity = non_idempotent ? "critical" : "warning";
    loc.storm = f;
    loc.peak_rate = 0;
    auto& st = state_[key];
    st.active = true;
    st.storm_requests += retries;
  }
  // Hysteresis: the storm ends when retries fall to a quarter of the onset threshold
  // or most requests succeed again.
  if (retries * 4 < o_.min_retries || ratio < o_.min_failure_ratio / 2) {
    loc.storm->active = false;
    loc.storm->evidence +=
        fmt("; ended after %.1f s", static_cast<double>(now_ns - loc.storm->onset_ns) / kNs);
    ended_.push_back(*loc.storm);
    if (ended_.size() > 32) ended_.pop_front();
    loc.storm.reset();
    state_[key].active = false;
    return;
  }
  loc.peak_rate = std::max(loc.peak_rate, rate);
  if (non_idempotent) loc.storm->severity = "critical";
  auto& num = loc.storm->numbers;
  num["peak_rate"] = loc.peak_rate;
  // The baseline and clients of the window that tipped it: later windows are all storm.
  num.try_emplace("baseline_rate", baseline);
  num["clients"] = std::max(num["clients"], static_cast<double>(clients.size()));
  num["failing_ratio"] = std::max(num["failing_ratio"], ratio);
  if (non_idempotent) num["non_idempotent"] = 1;
  loc.storm->evidence = fmt("%.0f retries of failed requests in %.0f s",
                            static_cast<double>(retries), o_.recent_window_s) +
                        fmt(" from %.0f clients; %.1f req/s (peak %.1f)",
                            static_cast<double>(clients.size()), rate, loc.peak_rate) +
                        fmt(" vs baseline %.2f req/s; %.0f%% failing", baseline, ratio * 100) +
                        (loc.storm->severity == "critical"
                             ? "; non-idempotent requests retried (duplicate-processing risk)"
                             : "");
}

std::vector<Finding> RetryStormDetector::findings() const {
  std::vector<Finding> out(ended_.begin(), ended_.end());
  for (const auto& [key, loc] : locs_)
    if (loc.storm) out.push_back(*loc.storm);
  return out;
}

}  // namespace ngxwatch
