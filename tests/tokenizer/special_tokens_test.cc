#include "core/tokenizer/special_tokens.h"

#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/vocab.h"
#include "gtest/gtest.h"

namespace strata {
namespace {

// A small SentencePiece vocabulary: <unk> <s> </s>, byte tokens, a few pieces and special tokens.
TokenizerSpec small_spec(const std::string& general_name = "") {
  TokenizerSpec spec;
  spec.model = "llama";
  spec.general_name = general_name;
  const auto add = [&](const std::string& text, GgufTokenType type, float score = 0.0f) {
    spec.tokens.push_back(text);
    spec.token_types.push_back(static_cast<int32_t>(type));
    spec.scores.push_back(score);
  };
  add("<unk>", GgufTokenType::kUnknown);
  add("<s>", GgufTokenType::kControl);
  add("</s>", GgufTokenType::kControl);
  static const char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) add(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">", GgufTokenType::kByte);
  add("\xE2\x96\x81", GgufTokenType::kNormal, -1.0f);  // ▁
  for (char c = 'a'; c <= 'e'; ++c) add(std::string(1, c), GgufTokenType::kNormal, -2.0f);
  add("ab", GgufTokenType::kNormal, -1.5f);
  add("\xE2\x96\x81"
      "a",
      GgufTokenType::kNormal, -1.2f);  // ▁a
  add("<ctl>", GgufTokenType::kControl);
  add("bcde", GgufTokenType::kUserDefined);
  add("ab", GgufTokenType::kNormal);  // replaced below: duplicate texts are rejected
  spec.tokens.back() = "<u>";
  spec.token_types.back() = static_cast<int32_t>(GgufTokenType::kUserDefined);
  return spec;
}

std::vector<std::string> describe(const Vocab& vocab, std::string_view text, const std::vector<Fragment>& fragments) {
  std::vector<std::string> out;
  for (const Fragment& f : fragments) {
    out.push_back(f.is_token() ? "[" + vocab.token(f.token).text + "]"
                               : std::string(text.substr(f.begin, f.end - f.begin)));
  }
  return out;
}

using Parts = std::vector<std::string>;

TEST(SpecialTokens, LongerTokensTakePrecedenceEverywhere) {
  auto vocab = Vocab::create(small_spec());
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  SpecialTokenMatcher matcher(**vocab);
  std::vector<Fragment> fragments;
  // "bcde" (4 bytes) is cut out before "<u>"; then "<u>"; plain text stays.
  const std::string text = "abcde<u>x";
  matcher.partition(text, /*parse_special=*/false, &fragments);
  EXPECT_EQ(describe(**vocab, text, fragments), (Parts{"a", "[bcde]", "[<u>]", "x"}));
}

TEST(SpecialTokens, ControlTokensNeedParseSpecial) {
  auto vocab = Vocab::create(small_spec());
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  SpecialTokenMatcher matcher(**vocab);
  std::vector<Fragment> fragments;
  const std::string text = "a<ctl>b<s>";
  matcher.partition(text, false, &fragments);
  EXPECT_EQ(describe(**vocab, text, fragments), (Parts{"a<ctl>b<s>"}));
  matcher.partition(text, true, &fragments);
  EXPECT_EQ(describe(**vocab, text, fragments), (Parts{"a", "[<ctl>]", "b", "[<s>]"}));
}

TEST(SpecialTokens, Phi3StripsWhitespaceAfterSpecialTokens) {
  // llama.cpp marks every special token rstrip for models named phi-3/phi3, except <unk>, <s>, <|endoftext|>.
  auto vocab = Vocab::create(small_spec("Phi3"));
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  SpecialTokenMatcher matcher(**vocab);
  std::vector<Fragment> fragments;
  const std::string text = "a <ctl>  b </s>\n";
  matcher.partition(text, true, &fragments);
  EXPECT_EQ(describe(**vocab, text, fragments), (Parts{"a ", "[<ctl>]", "b ", "[</s>]"}));
  const std::string kept = "<s> b";
  matcher.partition(kept, true, &fragments);
  EXPECT_EQ(describe(**vocab, kept, fragments), (Parts{"[<s>]", " b"}));
}

TEST(SpecialTokens, SpmSpacePrefixOnlyAtStartAndAfterSpecialTokens) {
  auto tokenizer = Tokenizer::from_spec(small_spec());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const Vocab& vocab = (*tokenizer)->vocab();
  const int32_t space_a = vocab.find(
      "\xE2\x96\x81"
      "a");
  const int32_t ctl = vocab.find("<ctl>");
  // "a" at the start gets the dummy prefix ("▁a"); after <ctl> again; "ab" in the middle does not.
  EXPECT_EQ((*tokenizer)->encode("a<ctl>a", false, true), (std::vector<int32_t>{space_a, ctl, space_a}));
  EXPECT_EQ((*tokenizer)->encode("a", true, false), (std::vector<int32_t>{1, space_a}));
  // A character without a token falls back to its bytes.
  const std::vector<int32_t> ids = (*tokenizer)->encode("z", false, false);
  EXPECT_EQ(ids, (std::vector<int32_t>{vocab.find("\xE2\x96\x81"), vocab.byte_to_token('z')}));
  EXPECT_EQ((*tokenizer)->decode(ids), "z");
}

TEST(SpecialTokens, DuplicateTokenTextIsRejected) {
  TokenizerSpec spec = small_spec();
  spec.tokens.back() = "ab";
  auto vocab = Vocab::create(spec);
  EXPECT_FALSE(vocab.ok());
}

}  // namespace
}  // namespace strata
