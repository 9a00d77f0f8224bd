#include "core/tokenizer/pre_tokenizer.h"

#include <memory>
#include <string>
#include <vector>

#include "core/gguf/gguf_file.h"
#include "core/gguf/gguf_writer.h"
#include "core/tokenizer/pre_tokenizer_config.h"
#include "core/tokenizer/tokenizer.h"
#include "gtest/gtest.h"

namespace strata {
namespace {

std::vector<std::string> split_with(std::string_view pre, std::string_view text) {
  auto config = find_pre_tokenizer(pre);
  EXPECT_TRUE(config.ok()) << config.status();
  if (!config.ok()) return {};
  auto pre_tokenizer = PreTokenizer::create(config->regexes);
  EXPECT_TRUE(pre_tokenizer.ok()) << pre_tokenizer.status();
  if (!pre_tokenizer.ok()) return {};
  std::string normalized;
  std::vector<TextSpan> spans;
  (*pre_tokenizer)->split(text, &normalized, &spans);
  std::vector<std::string> words;
  for (const TextSpan span : spans) words.push_back(normalized.substr(span.begin, span.end - span.begin));
  return words;
}

using Words = std::vector<std::string>;

TEST(PreTokenizer, Llama3SplitsContractionsNumbersAndNewlines) {
  EXPECT_EQ(split_with("llama3", "Hello world"), (Words{"Hello", " world"}));
  EXPECT_EQ(split_with("llama3", "1234567"), (Words{"123", "456", "7"}));
  EXPECT_EQ(split_with("llama-bpe", "DON'T don't"), (Words{"DON", "'T", " don", "'t"}));
  EXPECT_EQ(split_with("llama3", "a  \n\n b"), (Words{"a", "  \n\n", " b"}));
  EXPECT_EQ(split_with("llama3", "x   y"), (Words{"x", "  ", " y"}));
}

TEST(PreTokenizer, Gpt2ContractionsAreCaseSensitive) {
  EXPECT_EQ(split_with("gpt-2", "don't DON'T"), (Words{"don", "'t", " DON", "'", "T"}));
  EXPECT_EQ(split_with("gpt-2", "a\tb"), (Words{"a", "\t", "b"}));
}

TEST(PreTokenizer, StarcoderFamilySplitsEveryDigit) {
  for (const char* pre : {"starcoder", "smollm", "command-r", "refact"}) {
    EXPECT_EQ(split_with(pre, "x 2024!"), (Words{"x", " ", "2", "0", "2", "4", "!"})) << pre;
  }
}

TEST(PreTokenizer, Qwen2TakesOneDigitAndLeadingPunctuation) {
  EXPECT_EQ(split_with("qwen2", "12 .Hello"), (Words{"1", "2", " .", "Hello"}));
  EXPECT_EQ(split_with("qwen2", "$Hello"), (Words{"$Hello"}));
}

TEST(PreTokenizer, NonAsciiWhitespaceOnlyMatchesAsWhitespace) {
  // U+3000 lies inside deepseek-llm's literal ranges ("　-。" and the CJK "ࠀ-一"), but llama.cpp hands its regex
  // engine U+000B for it: it only joins as \s?, and is cut off again by the CJK regex. Matched literally, the three
  // characters would stay one word.
  EXPECT_EQ(split_with("deepseek-llm", "。\u3000。"), (Words{"。", "\u3000", "。"}));
  // U+00A0 is whitespace for \s: not part of a letter run, and not a space for " ?\p{L}+".
  EXPECT_EQ(split_with("gpt-2", "a\u00A0b"), (Words{"a", "\u00A0", "b"}));
  EXPECT_EQ(split_with("qwen2", "a\u3000b"), (Words{"a", "\u3000b"}));
}

TEST(PreTokenizer, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(split_with("gpt-2", "a\xFF"), (Words{"a", "\xEF\xBF\xBD"}));
}

TEST(PreTokenizer, TranslatesLlamaCppRegexes) {
  EXPECT_EQ(*translate_regex_for_pcre2(R"(\s+(?!\S))"), R"([\t\n\x0B\f\r ]+(?![^\t\n\x0B\f\r ]))");
  EXPECT_EQ(*translate_regex_for_pcre2(R"([^\s\p{L}])"), R"([^\t\n\x0B\f\r \p{L}])");
  EXPECT_FALSE(translate_regex_for_pcre2(R"(\d+)").ok());
  EXPECT_FALSE(translate_regex_for_pcre2(R"(\p{S})").ok());
}

TEST(PreTokenizer, UnknownPreIsAnError) {
  auto config = find_pre_tokenizer("no-such-pre");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find("no-such-pre"), absl::string_view::npos);
  EXPECT_TRUE(find_pre_tokenizer("").ok());  // old conversions: "default"
}

TEST(PreTokenizer, UnknownPreInGgufFailsTokenizerCreation) {
  auto file = GgufFile::open(STRATA_SOURCE_DIR "/../shared/testdata/tokenizer/ggml-vocab-gpt-2.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  GgufWriter writer;
  ASSERT_TRUE(writer.copy_metadata_from(**file).ok());
  writer.set_string("tokenizer.ggml.pre", "made-up-pre");
  auto bytes = writer.serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto modified = GgufFile::parse(bytes->data(), bytes->size());
  ASSERT_TRUE(modified.ok()) << modified.status();
  auto tokenizer = Tokenizer::from_gguf(**modified);
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tokenizer.status().message().find("made-up-pre"), absl::string_view::npos);
}

}  // namespace
}  // namespace strata
