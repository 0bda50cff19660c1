// The ncurses screen of `top`. Each refresh erases and redraws the whole frame into
// the virtual screen and pushes it with one wnoutrefresh/doupdate, so the terminal
// only receives the cells that changed: no flicker. Resizes arrive as KEY_RESIZE and
// simply cause a redraw at the new size; small terminals get fewer columns, then
// fewer panes, then one line. NO_COLOR (non-empty) turns colour off.
#pragma once

#include <optional>
#include <string>

#include "top/top_keys.h"
#include "top/top_model.h"

namespace ngxwatch {

struct TopInput {
  bool resize = false;
  TopKey key = TopKey::kChar;
  char ch = 0;
};

class TopScreen {
 public:
  explicit TopScreen(std::string socket_path);
  ~TopScreen();
  TopScreen(const TopScreen&) = delete;
  TopScreen& operator=(const TopScreen&) = delete;

  // A key or a resize within timeout_ms; nullopt when nothing happened.
  std::optional<TopInput> read(int timeout_ms);
  // `status`: "" when the last fetch worked, else the line that says why not.
  // Clamps st.scroll to the suggestion's last page.
  void draw(const TopModel& m, TopViewState& st, const std::string& status);

 private:
  void draw_table(const TopModel& m, int top, int rows, int width);
  void draw_pane(const std::vector<std::string>& lines, int top, int rows, int width);
  std::string socket_;
  bool color_ = false;
  bool unicode_ = false;
};

}  // namespace ngxwatch
