#include "top/top_view.h"

#include <curses.h>
#include <langinfo.h>

#include <algorithm>
#include <clocale>
#include <cstdlib>
#include <cstring>

#include "top/top_format.h"

namespace ngxwatch {

namespace {

enum Pair : short { kTitle = 1, kActive = 2, kWarn = 3 };

void line(int y, int x, const std::string& s, int width, attr_t attr = A_NORMAL) {
  if (width <= 0) return;
  attron(attr);
  mvaddnstr(y, x, s.c_str(), width);
  attroff(attr);
}

// A full-width bar: the text padded so reverse video spans the line.
void bar(int y, const std::string& s, int width, attr_t attr) {
  line(y, 0, fit(s, width), width, attr);
}

std::vector<std::string> suggestion_lines(const TopModel& m, int width) {
  const TopRow* r = m.selected();
  const std::optional<TopSuggestion>& s =
      r && r->suggestion ? r->suggestion : m.snapshot().suggestion;
  // The daemon has none: nothing measured yet that a config change would fix.
  if (!s) return {"no suggestion: nothing measured so far has a config fix"};
  // Words are wrapped, the diff's lines only cut: they must stay as they apply.
  std::vector<std::string> out;
  auto wrapped = [&](const std::string& text) {
    for (size_t start = 0; start < text.size();) {
      size_t end = std::min(text.size(), start + static_cast<size_t>(std::max(width, 1)));
      if (end < text.size())
        if (size_t space = text.rfind(' ', end); space != std::string::npos && space > start)
          end = space;
      out.push_back(text.substr(start, end - start));
      start = text.find_first_not_of(' ', end);
      if (start == std::string::npos) break;
    }
  };
  wrapped("suggestion: " + s->title);
  if (!s->evidence.empty()) wrapped("evidence: " + s->evidence);
  for (size_t start = 0; start < s->diff.size();) {
    size_t nl = s->diff.find('\n', start);
    if (nl == std::string::npos) nl = s->diff.size();
    out.push_back(s->diff.substr(start, std::min(nl - start, static_cast<size_t>(width))));
    start = nl + 1;
  }
  return out;
}

}  // namespace

TopScreen::TopScreen(std::string socket_path) : socket_(std::move(socket_path)) {
  std::setlocale(LC_ALL, "");
  unicode_ = std::strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
  initscr();
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  set_escdelay(25);
  curs_set(0);
  const char* no_color = std::getenv("NO_COLOR");
  color_ = !(no_color && *no_color) && has_colors();
  if (color_) {
    start_color();
    use_default_colors();
    init_pair(kTitle, COLOR_CYAN, -1);
    init_pair(kActive, COLOR_RED, -1);
    init_pair(kWarn, COLOR_YELLOW, -1);
  }
}

TopScreen::~TopScreen() { endwin(); }

std::optional<TopInput> TopScreen::read(int timeout_ms) {
  timeout(timeout_ms);
  int c = getch();
  if (c == ERR) return std::nullopt;
  TopInput in;
  switch (c) {
    case KEY_RESIZE:
      in.resize = true;
      break;
    case KEY_UP:
      in.key = TopKey::kUp;
      break;
    case KEY_DOWN:
      in.key = TopKey::kDown;
      break;
    case KEY_PPAGE:
      in.key = TopKey::kPageUp;
      break;
    case KEY_NPAGE:
      in.key = TopKey::kPageDown;
      break;
    case KEY_HOME:
      in.key = TopKey::kHome;
      break;
    case KEY_END:
      in.key = TopKey::kEnd;
      break;
    case KEY_ENTER:
    case '\n':
    case '\r':
      in.key = TopKey::kEnter;
      break;
    case 27:
      in.key = TopKey::kEscape;
      break;
    case KEY_BACKSPACE:
    case 127:
    case 8:
      in.key = TopKey::kBackspace;
      break;
    default:
      if (c < 0 || c > 255) return std::nullopt;
      in.ch = static_cast<char>(c);
  }
  return in;
}

void TopScreen::draw_table(const TopModel& m, int top, int rows, int width) {
  TopColumns c = layout_columns(width);
  bar(top, table_head(c), width, A_BOLD | A_UNDERLINE);
  const auto& vis = m.visible();
  int body = rows - 1;
  if (body <= 0) return;
  if (vis.empty()) {
    line(top + 1, 0,
         m.filter().empty() ? "(no resets or upstream failures seen yet)"
                            : "(no row matches the filter)",
         width);
    return;
  }
  // Scroll so the selection stays in view.
  size_t sel = m.selected_index();
  size_t first = sel >= static_cast<size_t>(body) ? sel - static_cast<size_t>(body) + 1 : 0;
  for (int i = 0; i < body && first + static_cast<size_t>(i) < vis.size(); ++i) {
    const TopRow& r = *vis[first + static_cast<size_t>(i)];
    bool selected = first + static_cast<size_t>(i) == sel;
    attr_t attr = selected ? A_REVERSE : A_NORMAL;
    if (color_ && !selected && r.rates.r10 > 0) attr |= COLOR_PAIR(kActive);
    if (!color_ && !selected && r.rates.r10 > 0) attr |= A_BOLD;
    std::string text = table_row(r, c);
    line(top + 1 + i, 0, fit(text, width), width, attr);
    int x = static_cast<int>(text.size()) + 1;
    // Sized in cells already; mvaddnstr would count the UTF-8 bytes of the blocks.
    if (c.spark && x + c.spark <= width) {
      attron(attr);
      mvaddstr(top + 1 + i, x, sparkline(r.history, c.spark, unicode_).c_str());
      attroff(attr);
    }
  }
}

void TopScreen::draw_pane(const std::vector<std::string>& lines, int top, int rows, int width) {
  for (int i = 0; i < rows && i < static_cast<int>(lines.size()); ++i)
    line(top + i, 0, lines[static_cast<size_t>(i)], width);
}

void TopScreen::draw(const TopModel& m, TopViewState& st, const std::string& status) {
  erase();
  int h = LINES, w = COLS;
  if (h < 5 || w < 24) {
    // Too small for a table: one line that still says something useful.
    const auto& s = m.snapshot();
    line(0, 0,
         status.empty()
             ? "rst/s " + format_rate(s.resets.r10) + " err/s " + format_rate(s.upstream_errors.r10)
             : status,
         w);
    wnoutrefresh(stdscr);
    doupdate();
    return;
  }
  // What the user changed comes first: on a narrow screen the socket path is cut.
  std::string title = std::string("ngxwatch top  sort: ") + sort_name(m.sort());
  if (!m.filter().empty()) title += "  filter: " + m.filter();
  if (st.paused) title += "  PAUSED";
  title += "  " + socket_;
  bar(0, title, w, A_REVERSE | (color_ ? COLOR_PAIR(kTitle) : A_NORMAL));
  int y = 1;
  auto head = header_lines(m.snapshot(), w);
  for (size_t i = 0; i < head.size() && y < h - 3; ++i, ++y)
    line(y, 0, head[i], w, i == 0 ? A_BOLD : A_NORMAL);

  int avail = h - y - 1;  // the last line is the status/help line
  std::vector<std::string> pane;
  if (st.detail && m.selected()) pane = detail_lines(*m.selected(), w);
  if (st.suggestion) {
    // The whole diff matters (it is what gets applied): all the space, paged.
    pane = suggestion_lines(m, w);
    int rows = avail - 1;
    st.scroll = std::clamp(st.scroll, 0, std::max(0, static_cast<int>(pane.size()) - rows));
    bar(y,
        "suggestion  line " + std::to_string(st.scroll + 1) + "/" + std::to_string(pane.size()) +
            "  (j/k PgUp/PgDn scroll, q/Esc/d back)",
        w, A_BOLD);
    pane.erase(pane.begin(), pane.begin() + st.scroll);
    draw_pane(pane, y + 1, rows, w);
  } else if (!pane.empty()) {
    // The pane gets what it needs up to half the space; on a short screen it wins.
    int pane_rows = std::min(static_cast<int>(pane.size()) + 1, avail >= 10 ? avail / 2 : avail);
    int table_rows = avail - pane_rows;
    if (table_rows >= 2) draw_table(m, y, table_rows, w);
    int py = y + std::max(0, table_rows);
    bar(py, "detail (Enter to close)", w, A_BOLD);
    draw_pane(pane, py + 1, pane_rows - 1, w);
  } else {
    draw_table(m, y, avail, w);
  }

  std::string foot;
  attr_t foot_attr = A_REVERSE;
  if (st.editing_filter) {
    foot = "filter: " + st.filter_draft + "_   (Enter apply, Esc cancel)";
  } else if (!status.empty()) {
    foot = status;
    // The em dash of the message is UTF-8; a non-UTF-8 terminal gets a plain dash.
    if (!unicode_)
      for (size_t p; (p = foot.find("\u2014")) != std::string::npos;) foot.replace(p, 3, "-");
    if (color_) foot_attr |= COLOR_PAIR(kWarn);
  } else if (st.suggestion) {
    foot = "j/k PgUp/PgDn Home/End scroll  q/Esc/d back";
  } else {
    foot = w >= 80 ? "q quit  j/k move  s sort  / filter  p pause  Enter detail  d suggestion"
                   : "q quit j/k s / p Enter d";
  }
  bar(h - 1, foot, w, foot_attr);
  wnoutrefresh(stdscr);
  doupdate();
}

}  // namespace ngxwatch
