#include "core/tokenizer/incremental_decoder.h"

#include <string>

#include "gtest/gtest.h"

namespace strata {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

std::string settle(std::string* pending, const std::string& add, bool final = false) {
  pending->append(add);
  std::string out;
  take_complete_utf8(pending, final, &out);
  return out;
}

TEST(TakeCompleteUtf8, HoldsBackIncompleteCharacters) {
  std::string pending;
  EXPECT_EQ(settle(&pending, "a\xF0"), "a");
  EXPECT_EQ(settle(&pending, "\x9F"), "");
  EXPECT_EQ(settle(&pending, "\x98"), "");
  EXPECT_EQ(settle(&pending, "\x80z"), "\xF0\x9F\x98\x80z");
  EXPECT_TRUE(pending.empty());
}

TEST(TakeCompleteUtf8, InvalidBytesBecomeReplacementCharacters) {
  std::string pending;
  EXPECT_EQ(settle(&pending, "\xFF"), kFffd);
  EXPECT_EQ(settle(&pending, "\x80"), kFffd);  // stray continuation byte
  EXPECT_EQ(settle(&pending,
                   "\xE2\x82"
                   "A"),
            kFffd + "A");                                              // truncated sequence, then ASCII
  EXPECT_EQ(settle(&pending, "\xC0\x80"), kFffd + kFffd);              // overlong: no valid prefix
  EXPECT_EQ(settle(&pending, "\xED\xA0\x80"), kFffd + kFffd + kFffd);  // surrogate
  EXPECT_EQ(settle(&pending, "\xF4\x90"), kFffd + kFffd);              // past U+10FFFF
}

TEST(TakeCompleteUtf8, FlushReplacesWhatCanNoLongerComplete) {
  std::string pending;
  EXPECT_EQ(settle(&pending, "ok\xF0\x9F"), "ok");
  EXPECT_EQ(settle(&pending, "", /*final=*/true), kFffd);
  EXPECT_TRUE(pending.empty());
}

}  // namespace
}  // namespace strata
