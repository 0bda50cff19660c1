#include "top/top_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ngxwatch {

namespace {

std::string printf_string(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string right(const std::string& s, int width) {
  if (static_cast<int>(s.size()) >= width) return s;
  return std::string(static_cast<size_t>(width) - s.size(), ' ') + s;
}

std::string cut(std::string s, int width) {
  if (width <= 0) return "";
  if (static_cast<int>(s.size()) > width) s.resize(static_cast<size_t>(width));
  return s;
}

// The block elements of U+2581..U+2588, in UTF-8.
const char* const kBlocks[] = {" ",      "\u2581", "\u2582", "\u2583", "\u2584",
                               "\u2585", "\u2586", "\u2587", "\u2588"};
const char kAscii[] = " .:-=+*#@";

}  // namespace

std::string format_rate(double v) {
  if (v <= 0) return "0";
  if (v < 10) return printf_string("%.1f", v);
  if (v < 1000) return printf_string("%.0f", v);
  if (v < 1e6) return printf_string("%.1fk", v / 1e3);
  return printf_string("%.1fM", v / 1e6);
}

std::string format_count(uint64_t n) {
  if (n < 10000) return std::to_string(n);
  if (n < 1000000) return printf_string("%.1fk", static_cast<double>(n) / 1e3);
  return printf_string("%.1fM", static_cast<double>(n) / 1e6);
}

std::string format_age(double s) {
  if (s < 0) s = 0;
  if (s < 1) return printf_string("%.0fms", s * 1000);
  if (s < 60) return printf_string("%.0fs", std::floor(s));
  // Ages come from the daemon's reply: bounded (a century) so that the cast is defined.
  auto t = static_cast<long>(std::min(s, 3600.0 * 24 * 36525));
  char buf[32];
  if (t < 3600)
    std::snprintf(buf, sizeof(buf), "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof(buf), "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  return buf;
}

std::string format_bytes(double b) {
  if (b < 1024) return printf_string("%.0fB", b);
  if (b < 1024 * 1024) return printf_string("%.0fKiB", b / 1024);
  if (b < 1024.0 * 1024 * 1024) return printf_string("%.1fMiB", b / (1024 * 1024));
  return printf_string("%.1fGiB", b / (1024.0 * 1024 * 1024));
}

std::string sparkline(const std::vector<uint64_t>& history, int width, bool unicode) {
  if (width <= 0) return "";
  std::vector<uint64_t> cells(static_cast<size_t>(width), 0);
  size_t n = history.size();
  // Right-aligned: the newest second is the last cell; each cell takes the peak of
  // ceil(n / width) seconds so that a one-second burst stays visible.
  size_t per =
      std::max<size_t>(1, (n + static_cast<size_t>(width) - 1) / static_cast<size_t>(width));
  for (size_t i = 0; i < n; ++i) {
    size_t from_end = (n - 1 - i) / per;
    if (from_end >= cells.size()) continue;
    uint64_t& c = cells[cells.size() - 1 - from_end];
    c = std::max(c, history[i]);
  }
  uint64_t peak = *std::max_element(cells.begin(), cells.end());
  std::string out;
  for (uint64_t c : cells) {
    int level =
        peak == 0 || c == 0 ? 0 : 1 + static_cast<int>((c - 1) * 7 / std::max<uint64_t>(1, peak));
    level = std::clamp(level, 0, 8);
    if (c > 0 && c == peak) level = 8;
    if (unicode)
      out += kBlocks[level];
    else
      out += kAscii[level];
  }
  return out;
}

TopColumns layout_columns(int width) {
  TopColumns c;
  if (width < 58) c.r60 = c.totals = false;
  if (width < 46) c.r10 = false;
  c.spark = width >= 140 ? 60 : width >= 120 ? 30 : width >= 76 ? 12 : 0;
  int numbers = 6 + (c.r10 ? 6 : 0) + (c.r60 ? 6 : 0) + (c.totals ? 7 : 0);
  int labels = std::max(12, width - numbers - (c.spark ? c.spark + 1 : 0));
  c.server = width >= 120 ? labels / 4 : 0;
  c.phase = std::clamp(labels / 5, 6, 13);
  int rest = labels - c.phase - c.server;
  c.upstream = std::max(4, rest * 9 / 20);
  c.location = std::max(4, rest - c.upstream);
  return c;
}

std::string fit(const std::string& s, int width) {
  if (width <= 0) return "";
  if (static_cast<int>(s.size()) > width) return s.substr(0, static_cast<size_t>(width - 1)) + "~";
  return s + std::string(static_cast<size_t>(width) - s.size(), ' ');
}

namespace {

// A label column: the text cut to leave one blank before the next column.
std::string cell(const std::string& s, int width) { return fit(s, width - 1) + " "; }

}  // namespace

std::string table_head(const TopColumns& c) {
  std::string s = cell("UPSTREAM", c.upstream);
  if (c.server) s += cell("SERVER", c.server);
  s += cell("LOCATION", c.location) + cell("PHASE", c.phase) + right("1s/s", 6);
  if (c.r10) s += right("10s/s", 6);
  if (c.r60) s += right("60s/s", 6);
  if (c.totals) s += right("EVENTS", 7);
  if (c.spark) s += " " + fit("LAST 60s", c.spark);
  return s;
}

std::string table_row(const TopRow& r, const TopColumns& c) {
  std::string up = r.upstream.empty() ? "-" : r.upstream;
  std::string s = cell(up, c.upstream);
  if (c.server) s += cell(r.server, c.server);
  s += cell(r.location.empty() ? "-" : r.location, c.location) +
       cell(r.phase.empty() ? "-" : r.phase, c.phase) + right(format_rate(r.rates.r1), 6);
  if (c.r10) s += right(format_rate(r.rates.r10), 6);
  if (c.r60) s += right(format_rate(r.rates.r60), 6);
  if (c.totals) s += right(format_count(r.total), 7);
  return s;
}

std::vector<std::string> header_lines(const TopSnapshot& s, int width) {
  std::string rates = "resets/s " + format_rate(s.resets.r10) + "   upstream errors/s " +
                      format_rate(s.upstream_errors.r10) + "   client errors/s " +
                      format_rate(s.client_errors.r10) + "   (10s avg)";
  if (static_cast<int>(rates.size()) > width)
    rates = "rst/s " + format_rate(s.resets.r10) + " up-err/s " +
            format_rate(s.upstream_errors.r10) + " cli-err/s " + format_rate(s.client_errors.r10);
  std::string temp = "temp: ";
  if (!s.fullest_temp_dir) {
    temp += "-";
  } else {
    const auto& t = *s.fullest_temp_dir;
    double used = t.total_bytes ? 100.0 * static_cast<double>(t.total_bytes - t.free_bytes) /
                                      static_cast<double>(t.total_bytes)
                                : 0;
    temp += t.path + " " + printf_string("%.0f%%", used) +
            (t.eta_s ? " full in " + format_age(*t.eta_s) : " not filling");
  }
  std::string capture =
      "capture " + (s.capture_backend.empty() ? std::string("OFF") : s.capture_backend) + "   ";
  std::string state = capture + "storms " + std::to_string(s.active_storms) + "   " + temp +
                      "   dropped " + format_count(s.dropped_events) + "   totals rst " +
                      format_count(s.total_resets) + " up-err " +
                      format_count(s.total_upstream_errors) + " cli-err " +
                      format_count(s.total_client_errors);
  // The count that matters to whoever owns the backend: requests that may have run twice.
  if (s.total_duplicate_risk)
    state = "may have run twice " + format_count(s.total_duplicate_risk) + "   " + state;
  std::vector<std::string> lines = {cut(rates, width), cut(state, width)};
  if (!s.config.empty()) lines.push_back(cut("config: " + s.config, width));
  // A feature this kernel could not run changes what the rows can say: say it up front.
  for (const std::string& u : s.unavailable) lines.push_back(cut("unavailable: " + u, width));
  return lines;
}

std::string plain_table(const TopModel& m, int width) {
  std::string out;
  for (const auto& l : header_lines(m.snapshot(), width)) out += l + "\n";
  TopColumns c = layout_columns(width);
  out += "\n" + table_head(c) + "\n";
  if (m.visible().empty()) out += "(no resets or upstream failures seen yet)\n";
  for (const TopRow* r : m.visible()) {
    out += table_row(*r, c);
    if (c.spark) out += " " + sparkline(r->history, c.spark, false);
    out += "\n";
  }
  return out;
}

std::vector<std::string> detail_lines(const TopRow& r, int width) {
  std::vector<std::string> out;
  out.push_back(cut("upstream " + (r.upstream.empty() ? std::string("-") : r.upstream) +
                        "  server " + r.server + "  location " + r.location + "  phase " + r.phase,
                    width));
  out.push_back(cut(format_count(r.total) + " events (" + format_count(r.resets) + " resets, " +
                        format_count(r.failures) + " failures), last " + format_age(r.last_age_s) +
                        " ago",
                    width));
  if (r.duplicate_risk)
    out.push_back(cut(format_count(r.duplicate_risk) +
                          " POST/PUT/PATCH fully sent before the failure: the backend may have "
                          "processed them although the client got an error (and will retry)",
                      width));
  for (const auto& e : r.latest) {
    std::string l =
        right(format_age(e.age_s), 6) + " " + fit(e.kind, 8) + e.request + "  " + e.phase;
    // Bytes and connection age are measured on resets; a failure carries its evidence.
    if (e.kind == "reset")
      l += "  sent " + format_bytes(e.request_bytes) + "  conn age " +
           format_age(e.connection_age_s);
    if (e.keepalive_idle_s) l += "  idle " + format_age(*e.keepalive_idle_s);
    if (!e.peer.empty()) l += "  peer " + e.peer;
    if (!e.origin.empty()) l += "  by " + e.origin;
    out.push_back(cut(l, width));
    if (!e.cause.empty() || !e.evidence.empty())
      out.push_back(cut("         " + e.cause + (e.evidence.empty() ? "" : ": " + e.evidence) +
                            (e.duplicate_risk ? "  [may have run twice]" : ""),
                        width));
  }
  out.push_back(
      cut("suggestion: " + (r.suggestion ? r.suggestion->title : std::string("none")), width));
  return out;
}

}  // namespace ngxwatch
