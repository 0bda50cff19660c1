// What each key does in `top`, independent of curses (the view translates its key
// codes into TopKey): arrows/j/k move, s sort, / filter, p pause, Enter detail,
// d suggestion, q quit. The suggestion (the verified diff) fills the screen: there the
// movement keys scroll it and q/Esc/d go back to the table. Pure, so the key map is
// unit-tested.
#pragma once

#include <string>

#include "top/top_model.h"

namespace ngxwatch {

enum class TopKey {
  kChar,
  kUp,
  kDown,
  kPageUp,
  kPageDown,
  kHome,
  kEnd,
  kEnter,
  kEscape,
  kBackspace
};

struct TopViewState {
  bool quit = false;
  bool paused = false;
  bool detail = false;      // detail pane of the selected row
  bool suggestion = false;  // the suggested diff (key d)
  int scroll = 0;           // first line of the suggestion shown (the view clamps it)
  bool editing_filter = false;
  std::string filter_draft;
};

// `ch` is the character for TopKey::kChar. Returns true when the screen must redraw.
bool apply_key(TopViewState& st, TopModel& model, TopKey key, char ch = 0);

}  // namespace ngxwatch
