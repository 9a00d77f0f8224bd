#include "coordinator/api/stop_matcher.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace strata {
namespace {

// Feeds `pieces` one by one and returns everything emitted.
std::string run(StopMatcher& m, const std::vector<std::string>& pieces) {
  std::string out;
  for (const std::string& p : pieces) out += m.push(p);
  return out + m.flush();
}

TEST(StopMatcherTest, NoStopsPassesEverythingThrough) {
  StopMatcher m({});
  EXPECT_EQ(m.push("abc"), "abc");
  EXPECT_EQ(m.held_bytes(), 0u);
  EXPECT_FALSE(m.stopped());
}

TEST(StopMatcherTest, StopInsideOnePieceCutsBeforeIt) {
  StopMatcher m({"END"});
  EXPECT_EQ(m.push("hello END world"), "hello ");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.push("more"), "");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopMatcherTest, StopAcrossPiecesIsHeldBackThenDropped) {
  StopMatcher m({"</s>"});
  EXPECT_EQ(m.push("ab<"), "ab");
  EXPECT_EQ(m.held_bytes(), 1u);
  EXPECT_EQ(m.push("/"), "");
  EXPECT_EQ(m.push("s>tail"), "");
  EXPECT_TRUE(m.stopped());
}

TEST(StopMatcherTest, FalseStartIsReleased) {
  StopMatcher m({"</s>"});
  EXPECT_EQ(m.push("a</"), "a");
  EXPECT_EQ(m.push("x"), "</x");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(run(m, {"<", "/"}), "</");  // flushed at the end: never completed
}

TEST(StopMatcherTest, EarliestOfSeveralStopsWins) {
  StopMatcher m({"world", "lo w"});
  EXPECT_EQ(run(m, {"hel", "lo wor", "ld"}), "hel");
  EXPECT_TRUE(m.stopped());
}

TEST(StopMatcherTest, OverlappingPrefixKeepsLongestCandidate) {
  StopMatcher m({"aab"});
  EXPECT_EQ(m.push("xaa"), "x");
  EXPECT_EQ(m.push("a"), "a");  // "aaa": only the last "aa" can still start "aab"
  EXPECT_EQ(m.push("b"), "");
  EXPECT_TRUE(m.stopped());
}

TEST(StopMatcherTest, MultibyteStopNeverSplitsCharacters) {
  StopMatcher m({"世界"});
  EXPECT_EQ(m.push("你好世"), "你好");
  EXPECT_EQ(m.push("纪"), "世纪");
  EXPECT_EQ(run(m, {"世", "界!"}), "");
  EXPECT_TRUE(m.stopped());
}

TEST(StopMatcherTest, EmptyStopStringsAreIgnored) {
  StopMatcher m({"", "x"});
  EXPECT_EQ(m.push("abc"), "abc");
}

}  // namespace
}  // namespace strata
