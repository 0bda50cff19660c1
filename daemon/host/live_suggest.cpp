#include "host/live_suggest.h"

#include <chrono>
#include <set>

#include "advise/config_choice.h"
#include "host/unprivileged_spawn.h"

namespace ngxwatch::advise {

namespace {

// The snapshot carries every row's suggestion twice a second: the full evidence is in
// `suggest`, the row gets its start.
constexpr size_t kShortEvidence = 400;

std::string shorten(const std::string& text) {
  if (text.size() <= kShortEvidence) return text;
  size_t cut = text.rfind(' ', kShortEvidence);
  return text.substr(0, cut == std::string::npos ? kShortEvidence : cut) + " ...";
}

SuggestionInfo info_of(const CheckedSuggestion& c) {
  return SuggestionInfo{c.suggestion.title, shorten(c.suggestion.evidence), c.diff};
}

// Of the items `matches` accepts, the first with a diff, else the first.
template <class Pred>
std::optional<SuggestionInfo> pick(const SuggestReport& r, Pred matches) {
  const CheckedSuggestion* first = nullptr;
  for (const CheckedSuggestion& c : r.items) {
    if (!matches(c.suggestion)) continue;
    if (!c.diff.empty()) return info_of(c);
    if (first == nullptr) first = &c;
  }
  if (first == nullptr) return std::nullopt;
  return info_of(*first);
}

}  // namespace

void SharedMeasurements::on_reset(const ResetObservation& r) {
  std::lock_guard lock(mu_);
  by_nginx_[r.place.nginx].on_reset(r);
}
void SharedMeasurements::on_failure(const FailureObservation& f) {
  std::lock_guard lock(mu_);
  by_nginx_[f.place.nginx].on_failure(f);
}
void SharedMeasurements::on_client_visible(const ClientStatusObservation& s) {
  std::lock_guard lock(mu_);
  by_nginx_[s.place.nginx].on_client_visible(s);
}
void SharedMeasurements::on_retry_absorbed(const Place& place) {
  std::lock_guard lock(mu_);
  by_nginx_[place.nginx].on_retry_absorbed(place);
}
void SharedMeasurements::on_request(const RequestObservation& r) {
  std::lock_guard lock(mu_);
  by_nginx_[r.place.nginx].on_request(r);
}

MeasurementsByNginx SharedMeasurements::copy() const {
  std::lock_guard lock(mu_);
  return by_nginx_;
}

LiveReport suggest_live(const MeasurementsByNginx& by_nginx, const ConfigSet& configs,
                        const VerifyOptions& fallback) {
  // Several pids share a master's view: each configuration is a candidate once, in
  // pid order (a tie goes to the same master every time, as in the trace replay).
  std::vector<const NginxConfigView*> candidates;
  std::set<const NginxConfigView*> seen;
  for (const auto& [pid, view] : configs.by_pid)
    if (view && seen.insert(view.get()).second) candidates.push_back(view.get());
  if (configs.only && seen.insert(configs.only.get()).second)
    candidates.push_back(configs.only.get());
  std::string from;  // which master's configuration the evidence is judged against
  if (candidates.empty() && !configs.retired.empty()) {
    // nginx is down (or restarting): its last configuration, kept for a while.
    const RetiredConfig& last = configs.retired.front();
    candidates.push_back(last.view.get());
    auto ago = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                last.exited);
    from = "nginx is not running: judged against the configuration of nginx master " +
           std::to_string(last.pid) + " (" + last.identity + "), which exited " +
           std::to_string(ago.count()) + " s ago";
  }
  if (candidates.empty())
    return LiveReport{"no nginx master's configuration is loaded (is nginx running?)", {}};
  const NginxConfigView* chosen = candidates[most_measured(by_nginx, candidates)];
  // Judged on its own master's measurements only: another instance with the same
  // server and location names has its own.
  const Measurements& m = measurements_of(by_nginx, *chosen);
  if (from.empty()) {
    auto it = configs.origins.find(chosen);
    if (it != configs.origins.end()) from = "judged against the configuration of " + it->second;
  }
  if (suggest(m, chosen->config()).empty()) return LiveReport{};
  // The copy is checked by the binary and prefix the master itself runs with.
  VerifyOptions verify = fallback;
  if (auto it = configs.commands.find(chosen); it != configs.commands.end()) {
    // The master's binary by its own name, if that names a safe nginx on this host (a
    // master in another mount namespace may name a file that is not there, or another).
    if (nginx::untrusted_binary_reason(it->second.first).empty()) verify.nginx = it->second.first;
    verify.prefix = it->second.second;
  }
  LiveReport out{"", run_suggest(m, chosen->config(), verify)};
  if (!from.empty()) out.report.notes.insert(out.report.notes.begin(), from);
  for (const NginxConfigView* other : candidates) {
    auto origin = configs.origins.find(other);
    if (other == chosen || origin == configs.origins.end() ||
        measurements_of(by_nginx, *other).locations().empty())
      continue;
    out.report.notes.push_back("the measurements of " + origin->second +
                               " are kept apart and not judged here");
  }
  return out;
}

LiveSuggest::LiveSuggest(Compute compute, Clock clock, uint64_t ttl_ms)
    : compute_(std::move(compute)), clock_(std::move(clock)), ttl_ms_(ttl_ms) {
  refresher_ = std::thread([this] { refresh_loop(); });
}

void LiveSuggest::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

bool LiveSuggest::fresh(uint64_t now) const { return cached_ && now - made_ms_ < ttl_ms_; }

std::shared_ptr<const LiveReport> LiveSuggest::report() const {
  std::lock_guard computing(compute_mu_);
  {
    std::lock_guard lock(mu_);
    if (fresh(clock_())) return cached_;
  }
  uint64_t started = clock_();
  LiveReport made;
  try {
    made = compute_();
  } catch (const std::exception& e) {
    made.error = std::string("cannot make suggestions: ") + e.what();
  }
  auto shared = std::make_shared<const LiveReport>(std::move(made));
  std::lock_guard lock(mu_);
  cached_ = shared;
  made_ms_ = started;
  return shared;
}

std::shared_ptr<const LiveReport> LiveSuggest::latest() const {
  std::lock_guard lock(mu_);
  if (!fresh(clock_()) && !stopping_) {
    wanted_ = true;
    wake_.notify_one();
  }
  return cached_;
}

void LiveSuggest::refresh_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return wanted_ || stopping_; });
    if (stopping_) return;
    wanted_ = false;
    lock.unlock();
    report();
    lock.lock();
  }
}

nlohmann::json LiveSuggest::reply() const {
  auto r = report();
  if (!r->error.empty()) return {{"error", r->error}};
  return suggest_json(r->report);
}

std::optional<SuggestionInfo> LiveSuggest::suggestion_for(const Place& place,
                                                          const std::string&) const {
  auto r = latest();
  if (!r) return std::nullopt;
  auto at_location = pick(r->report, [&](const Suggestion& s) {
    return !s.location.empty() && s.server == place.server && s.location == place.location;
  });
  if (at_location) return at_location;
  return pick(r->report, [&](const Suggestion& s) {
    return s.location.empty() && !s.upstream.empty() && s.upstream == place.upstream;
  });
}

std::optional<SuggestionInfo> LiveSuggest::top_suggestion() const {
  auto r = latest();
  if (!r) return std::nullopt;
  return pick(r->report, [](const Suggestion&) { return true; });
}

}  // namespace ngxwatch::advise
