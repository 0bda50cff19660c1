// The (other) fold keeps the busiest N by recent rate, not the first N seen.
#include <gtest/gtest.h>

#include "export/label_fold.h"

namespace ngxwatch {
namespace {

TEST(LabelFold, KeepsTheFirstValuesWhileThereIsRoom) {
  LabelFold f(2);
  EXPECT_EQ(f.label("/a/"), "/a/");
  EXPECT_EQ(f.label("/b/"), "/b/");
  EXPECT_EQ(f.label("/c/"), "(other)");
  EXPECT_EQ(f.label(""), "");  // no location is not a location
  EXPECT_EQ(f.kept_count(), 2u);
}

TEST(LabelFold, ABusierValueDisplacesTheQuietestKeptOne) {
  LabelFold f(2, /*window=*/100);
  f.label("/quiet/");
  f.label("/steady/");
  for (int i = 0; i < 50; ++i) f.label("/steady/");
  // The first seen, then quiet: a busy newcomer takes its label once clearly busier.
  std::string last;
  for (int i = 0; i < 10; ++i) last = f.label("/busy/");
  EXPECT_EQ(last, "/busy/");
  EXPECT_TRUE(f.kept("/busy/"));
  EXPECT_TRUE(f.kept("/steady/"));
  EXPECT_FALSE(f.kept("/quiet/"));
  EXPECT_EQ(f.label("/quiet/"), "(other)");
  EXPECT_EQ(f.kept_count(), 2u);
}

TEST(LabelFold, RecentRateCountsNotTheAllTimeTotal) {
  LabelFold f(1, /*window=*/10);
  for (int i = 0; i < 40; ++i) f.label("/old/");  // busy long ago
  // Halving every 10 observations forgets /old/'s past: /new/ wins within a few windows.
  int folded = 0;
  for (int i = 0; i < 40 && f.label("/new/") == "(other)"; ++i) ++folded;
  EXPECT_GT(folded, 0);
  EXPECT_LT(folded, 40);
  EXPECT_TRUE(f.kept("/new/"));
  EXPECT_FALSE(f.kept("/old/"));
}

TEST(LabelFold, CloseValuesDoNotSwapBackAndForth) {
  LabelFold f(1, /*window=*/1000);
  f.label("/a/");
  int swaps = 0;
  bool b_kept = false;
  for (int i = 0; i < 200; ++i) {
    f.label(i % 2 ? "/a/" : "/b/");
    if (f.kept("/b/") != b_kept) ++swaps, b_kept = !b_kept;
  }
  EXPECT_EQ(swaps, 0);  // equal rates: the kept one stays
}

}  // namespace
}  // namespace ngxwatch
