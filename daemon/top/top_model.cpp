#include "top/top_model.h"

#include <algorithm>
#include <cctype>

namespace ngxwatch {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double num(const json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::optional<double> opt_num(const json& j, const char* k) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

// A count from any JSON value: not a number or negative is 0, beyond 2^64 saturates (a
// double's cast past the range is undefined).
uint64_t as_count(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) return static_cast<uint64_t>(std::max<int64_t>(0, v.get<int64_t>()));
  if (!v.is_number_float()) return 0;
  double d = v.get<double>();
  if (!(d > 0)) return 0;
  return d >= 18446744073709551615.0 ? UINT64_MAX : static_cast<uint64_t>(d);
}

uint64_t count(const json& j, const char* k) {
  auto it = j.find(k);
  return it == j.end() ? 0 : as_count(*it);
}

bool flag(const json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

TopRates rates(const json& j) {
  if (!j.is_object()) return {};
  return {num(j, "1s"), num(j, "10s"), num(j, "60s")};
}

std::optional<TopSuggestion> suggestion(const json& j) {
  if (!j.is_object()) return std::nullopt;
  return TopSuggestion{str(j, "title"), str(j, "evidence"), str(j, "diff")};
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string TopRow::key() const {
  return upstream + '\x1f' + server + '\x1f' + location + '\x1f' + phase;
}

std::optional<TopSnapshot> parse_snapshot(const json& j, std::string* error) {
  // Every field is checked for its type: whatever answers on the socket must not make
  // `top` throw.
  if (!j.is_object() || num(j, "version") != 1 || !j.contains("header") || !j.contains("rows") ||
      !j["rows"].is_array() || !j["header"].is_object()) {
    *error = "the daemon's reply is not a version 1 snapshot";
    return std::nullopt;
  }
  TopSnapshot s;
  const json& h = j["header"];
  s.uptime_s = num(j, "uptime_s");
  s.resets = rates(h.value("resets_per_s", json()));
  s.upstream_errors = rates(h.value("upstream_errors_per_s", json()));
  s.client_errors = rates(h.value("client_errors_per_s", json()));
  if (h.contains("totals") && h["totals"].is_object()) {
    s.total_resets = count(h["totals"], "resets");
    s.total_upstream_errors = count(h["totals"], "upstream_errors");
    s.total_client_errors = count(h["totals"], "client_errors");
    s.total_duplicate_risk = count(h["totals"], "duplicate_risk");
  }
  s.active_storms = count(h, "active_storms");
  s.dropped_events = count(j, "dropped_events");
  if (j.contains("kernel") && j["kernel"].is_object()) {
    const json& k = j["kernel"];
    s.capture_backend = str(k, "capture_backend");
    if (k.contains("unavailable") && k["unavailable"].is_array())
      for (const auto& u : k["unavailable"])
        if (u.is_string()) s.unavailable.push_back(u.get<std::string>());
  }
  s.config = str(j, "config");
  if (j.contains("temp_dirs") && j["temp_dirs"].is_array()) {
    double worst = 2;
    for (const auto& t : j["temp_dirs"]) {
      if (!t.is_object()) continue;
      TopTempDir d{str(t, "path"), count(t, "total_bytes"), count(t, "free_bytes"),
                   opt_num(t, "eta_s")};
      double free_ratio =
          d.total_bytes ? static_cast<double>(d.free_bytes) / static_cast<double>(d.total_bytes)
                        : 1;
      if (free_ratio < worst) worst = free_ratio, s.fullest_temp_dir = d;
    }
  }
  s.suggestion = suggestion(j.value("suggestion", json()));
  for (const auto& r : j["rows"]) {
    if (!r.is_object()) continue;
    TopRow row{str(r, "upstream"),
               str(r, "server"),
               str(r, "location"),
               str(r, "phase"),
               rates(r.value("rates", json())),
               0,
               0,
               0,
               0,
               {},
               num(r, "last_age_s"),
               {},
               suggestion(r.value("suggestion", json()))};
    if (r.contains("totals") && r["totals"].is_object()) {
      row.total = count(r["totals"], "events");
      row.resets = count(r["totals"], "resets");
      row.failures = count(r["totals"], "failures");
      row.duplicate_risk = count(r["totals"], "duplicate_risk");
    }
    if (r.contains("history") && r["history"].is_array())
      for (const auto& v : r["history"]) row.history.push_back(as_count(v));
    if (r.contains("latest") && r["latest"].is_array())
      for (const auto& e : r["latest"]) {
        if (!e.is_object()) continue;
        row.latest.push_back(TopEvent{
            str(e, "kind"), num(e, "age_s"), str(e, "request"), str(e, "phase"), str(e, "cause"),
            str(e, "evidence"), str(e, "peer"), str(e, "side"), str(e, "origin"), str(e, "reason"),
            num(e, "request_bytes"), num(e, "connection_age_s"), opt_num(e, "keepalive_idle_s"),
            flag(e, "duplicate_risk")});
      }
    s.rows.push_back(std::move(row));
  }
  return s;
}

const char* sort_name(SortKey k) {
  switch (k) {
    case SortKey::kRate1s:
      return "rate 1s";
    case SortKey::kRate10s:
      return "rate 10s";
    case SortKey::kRate60s:
      return "rate 60s";
    case SortKey::kTotal:
      return "total";
    case SortKey::kName:
      return "name";
  }
  return "?";
}

const TopRow* TopModel::selected() const {
  return selected_ < visible_.size() ? visible_[selected_] : nullptr;
}

void TopModel::update(TopSnapshot s) {
  std::string keep = selected() ? selected()->key() : "";
  snap_ = std::move(s);
  rebuild(keep);
}

void TopModel::set_filter(std::string filter) {
  std::string keep = selected() ? selected()->key() : "";
  filter_ = std::move(filter);
  rebuild(keep);
}

void TopModel::set_sort(SortKey k) {
  std::string keep = selected() ? selected()->key() : "";
  sort_ = k;
  rebuild(keep);
}

void TopModel::cycle_sort() { set_sort(static_cast<SortKey>((static_cast<int>(sort_) + 1) % 5)); }

void TopModel::move(int delta) {
  if (visible_.empty()) return;
  long next = static_cast<long>(selected_) + delta;
  selected_ = static_cast<size_t>(std::clamp(next, 0L, static_cast<long>(visible_.size()) - 1));
}

void TopModel::rebuild(const std::string& keep_key) {
  visible_.clear();
  std::string needle = lower(filter_);
  for (const auto& r : snap_.rows) {
    if (!needle.empty() &&
        lower(r.upstream + " " + r.server + " " + r.location + " " + r.phase).find(needle) ==
            std::string::npos)
      continue;
    visible_.push_back(&r);
  }
  auto metric = [this](const TopRow* r) {
    switch (sort_) {
      case SortKey::kRate1s:
        return r->rates.r1;
      case SortKey::kRate10s:
        return r->rates.r10;
      case SortKey::kRate60s:
        return r->rates.r60;
      default:
        return static_cast<double>(r->total);
    }
  };
  std::stable_sort(visible_.begin(), visible_.end(), [&](const TopRow* a, const TopRow* b) {
    if (sort_ != SortKey::kName) {
      double ma = metric(a), mb = metric(b);
      if (ma != mb) return ma > mb;
      if (a->total != b->total) return a->total > b->total;
    }
    return a->key() < b->key();  // stable order among equals: rows do not jump around
  });
  // The selected row stays selected wherever it moved; if it is gone, stay put.
  size_t before = selected_;
  selected_ = visible_.empty() ? 0 : std::min(before, visible_.size() - 1);
  for (size_t i = 0; i < visible_.size(); ++i)
    if (visible_[i]->key() == keep_key) selected_ = i;
}

}  // namespace ngxwatch
