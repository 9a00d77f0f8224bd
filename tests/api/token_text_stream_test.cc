#include "coordinator/api/token_text_stream.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/gguf/gguf_file.h"
#include "core/tokenizer/tokenizer.h"

namespace strata {
namespace {

class TokenTextStreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto file = GgufFile::open(std::string(STRATA_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf");
    ASSERT_TRUE(file.ok()) << file.status();  // a missing model is a failure, never a skip
    auto tok = Tokenizer::from_gguf(**file);
    ASSERT_TRUE(tok.ok()) << tok.status();
    file_ = std::move(*file).release();
    tokenizer_ = std::move(*tok).release();
  }
  static GenerationEvent event(int32_t token) {
    GenerationEvent e;
    e.token = token;
    e.logprob = -0.5f;
    return e;
  }
  // Streams `text`'s tokens through a TokenTextStream; returns the released text and tokens.
  static TextDelta stream(const std::string& text, std::vector<std::string> stops, bool* stopped = nullptr) {
    TokenTextStream s(*tokenizer_, std::move(stops));
    TextDelta all;
    auto take = [&](TextDelta d) {
      all.text += d.text;
      for (auto& t : d.tokens) all.tokens.push_back(t);
    };
    for (int32_t id : tokenizer_->encode(text, false, false)) {
      take(s.push(event(id)));
      if (s.stopped()) break;
    }
    take(s.finish());
    if (stopped) *stopped = s.stopped();
    return all;
  }
  static inline GgufFile* file_ = nullptr;
  static inline Tokenizer* tokenizer_ = nullptr;
};

TEST_F(TokenTextStreamTest, WithoutStopsEveryTokenAndAllTextComeOut) {
  const std::string text = "Hello world, this is a test. Ünïcödé ✓ 世界";
  const TextDelta d = stream(text, {});
  EXPECT_EQ(d.text, text);
  EXPECT_EQ(d.tokens.size(), tokenizer_->encode(text, false, false).size());
  // Offsets point at each token's text and never go backwards.
  for (size_t i = 1; i < d.tokens.size(); ++i) EXPECT_LE(d.tokens[i - 1].text_offset, d.tokens[i].text_offset);
}

TEST_F(TokenTextStreamTest, StopStringIsCutAndItsTokensDropped) {
  bool stopped = false;
  const TextDelta d = stream("Hello world, this is a test.", {" is a"}, &stopped);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(d.text, "Hello world, this");
  for (const GeneratedToken& t : d.tokens) EXPECT_LT(t.text_offset, static_cast<int64_t>(d.text.size()));
  std::string joined;
  for (const GeneratedToken& t : d.tokens) joined += tokenizer_->token_to_piece(t.token, false);
  EXPECT_EQ(joined, "Hello world, this");
}

TEST_F(TokenTextStreamTest, StopStringInsideAToken) {
  bool stopped = false;
  const TextDelta d = stream("Hello world", {"orl"}, &stopped);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(d.text, "Hello w");
  ASSERT_FALSE(d.tokens.empty());  // " world" started before the stop string, so it is reported
}

TEST_F(TokenTextStreamTest, UnmatchedPrefixAtTheEndIsFlushed) {
  const TextDelta d = stream("Hello wor", {"world"});
  EXPECT_EQ(d.text, "Hello wor");
}

}  // namespace
}  // namespace strata
