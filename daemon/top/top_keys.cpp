#include "top/top_keys.h"

#include <algorithm>

namespace ngxwatch {

namespace {

bool edit_filter(TopViewState& st, TopModel& model, TopKey key, char ch) {
  switch (key) {
    case TopKey::kEnter:
      model.set_filter(st.filter_draft);
      st.editing_filter = false;
      return true;
    case TopKey::kEscape:
      st.editing_filter = false;
      return true;
    case TopKey::kBackspace:
      if (!st.filter_draft.empty()) st.filter_draft.pop_back();
      return true;
    case TopKey::kChar:
      // Printable ASCII only, bounded: a filter is a label fragment.
      if (ch >= 0x20 && ch < 0x7f && st.filter_draft.size() < 64) st.filter_draft += ch;
      return true;
    default:
      return false;
  }
}

// The suggestion screen: a pager over the diff.
bool page_suggestion(TopViewState& st, TopKey key, char ch) {
  static constexpr int kPage = 10;
  static constexpr int kFar = 1000000;  // the view clamps it to the last page
  switch (key) {
    case TopKey::kUp:
      st.scroll = std::max(0, st.scroll - 1);
      return true;
    case TopKey::kDown:
      st.scroll += 1;
      return true;
    case TopKey::kPageUp:
      st.scroll = std::max(0, st.scroll - kPage);
      return true;
    case TopKey::kPageDown:
      st.scroll += kPage;
      return true;
    case TopKey::kHome:
      st.scroll = 0;
      return true;
    case TopKey::kEnd:
      st.scroll = kFar;
      return true;
    case TopKey::kEscape:
      st.suggestion = false;
      return true;
    case TopKey::kChar:
      if (ch == 'k') return page_suggestion(st, TopKey::kUp, 0);
      if (ch == 'j' || ch == ' ')
        return page_suggestion(st, ch == ' ' ? TopKey::kPageDown : TopKey::kDown, 0);
      if (ch == 'q' || ch == 'Q' || ch == 'd') return page_suggestion(st, TopKey::kEscape, 0);
      return false;
    default:
      return false;
  }
}

}  // namespace

bool apply_key(TopViewState& st, TopModel& model, TopKey key, char ch) {
  if (st.editing_filter) return edit_filter(st, model, key, ch);
  if (st.suggestion) return page_suggestion(st, key, ch);
  switch (key) {
    case TopKey::kUp:
      model.move(-1);
      return true;
    case TopKey::kDown:
      model.move(1);
      return true;
    case TopKey::kPageUp:
      model.move(-10);
      return true;
    case TopKey::kPageDown:
      model.move(10);
      return true;
    case TopKey::kHome:
      model.move(-1000000);
      return true;
    case TopKey::kEnd:
      model.move(1000000);
      return true;
    case TopKey::kEnter:
      st.detail = !st.detail;
      st.suggestion = false;
      return true;
    case TopKey::kEscape:
      // Close what is open; with nothing open, drop the filter.
      if (st.detail || st.suggestion)
        st.detail = st.suggestion = false;
      else
        model.set_filter("");
      return true;
    case TopKey::kBackspace:
      return false;
    case TopKey::kChar:
      break;
  }
  switch (ch) {
    case 'q':
    case 'Q':
      st.quit = true;
      return true;
    case 'k':
      model.move(-1);
      return true;
    case 'j':
      model.move(1);
      return true;
    case 's':
      model.cycle_sort();
      return true;
    case 'p':
      st.paused = !st.paused;
      return true;
    case '/':
      st.editing_filter = true;
      st.filter_draft = model.filter();
      return true;
    case 'd':
      st.suggestion = true;
      st.scroll = 0;
      st.detail = false;
      return true;
    default:
      return false;
  }
}

}  // namespace ngxwatch
