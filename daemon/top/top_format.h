// Text of `top`: numbers, ages, sparklines, the column layout for a given width, the
// header and table lines. Shared by the ncurses view and `top --once` (plain text), so
// both read the same; pure, so it is unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "top/top_model.h"

namespace ngxwatch {

std::string format_rate(double per_s);  // "0", "0.3", "12", "1.2k"
std::string format_count(uint64_t n);   // "12", "12.3k", "4.5M"
std::string format_age(double s);       // "850ms", "12s", "3m04s", "2h05m"
std::string format_bytes(double b);     // "512B", "64KiB", "3.0MiB"

// `width` cells summarising `history` (oldest first, the newest at the right); each
// cell is the peak of the seconds it covers. ASCII levels " .:-=+*#" or, with
// `unicode`, the eight block elements.
std::string sparkline(const std::vector<uint64_t>& history, int width, bool unicode);

// Which columns fit in a terminal `width` wide: labels get what numbers leave.
struct TopColumns {
  int upstream = 14, location = 14, phase = 11;
  int server = 0;  // shown only when wide
  bool r10 = true, r60 = true, totals = true;
  int spark = 0;  // sparkline cells (0: not shown)
};
TopColumns layout_columns(int width);

std::string fit(const std::string& s, int width);  // cut (with '~') or pad to width

// Table head and one row (the sparkline, if any, is appended by the caller so that a
// terminal can draw it with other characters).
std::string table_head(const TopColumns& c);
std::string table_row(const TopRow& r, const TopColumns& c);

// Header lines: rates, storms, temp dir, drops.
std::vector<std::string> header_lines(const TopSnapshot& s, int width);

// The whole view as plain text (`top --once`): header, head, rows with ASCII sparklines.
std::string plain_table(const TopModel& m, int width);

// Detail of one row: its latest events, then its suggestion.
std::vector<std::string> detail_lines(const TopRow& r, int width);

}  // namespace ngxwatch
