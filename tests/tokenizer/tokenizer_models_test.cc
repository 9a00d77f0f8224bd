// The tokenizers of the two real models in models/: round trips, BOS handling, special-token parsing, streaming.
#include <memory>
#include <string>
#include <vector>

#include "core/gguf/gguf_file.h"
#include "core/tokenizer/incremental_decoder.h"
#include "core/tokenizer/tokenizer.h"
#include "gtest/gtest.h"

namespace strata {
namespace {

constexpr char kSmolLm[] = STRATA_SOURCE_DIR "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
constexpr char kGemma[] = STRATA_SOURCE_DIR "/models/gemma-3-270m-q4_k_m.gguf";

const char kMultilingual[] =
    "Hello, world! The quick brown fox jumps over the lazy dog.\n"
    "Accents: café, naïve, Zürich, São Paulo, façade, Ærøskøbing.\n"
    "CJK: 你好，世界！日本語のテキスト。한국어 문장입니다.\n"
    "Emoji: 🦙🚀👩‍👩‍👧 ✨ 😀\n"
    "Cyrillic: Съешь же ещё этих мягких французских булок, да выпей чаю.\n"
    "Code:\n\tint main() {\n\t\treturn x != 0 ? a[i] : b->c;  // done\n\t}\n"
    "Numbers: 3.14159, 1,000,000 and 42nd; spaces   and\ttabs\r\n";

class ModelTokenizerTest : public ::testing::Test {
 protected:
  static std::unique_ptr<GgufFile> open(const char* path) {
    auto file = GgufFile::open(path);
    EXPECT_TRUE(file.ok()) << path << ": " << file.status();
    return file.ok() ? std::move(*file) : nullptr;
  }
  static std::unique_ptr<Tokenizer> load(const GgufFile& file) {
    auto tokenizer = Tokenizer::from_gguf(file);
    EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
    return tokenizer.ok() ? std::move(*tokenizer) : nullptr;
  }
};

TEST_F(ModelTokenizerTest, SmolLmIsByteLevelBpeWithSmolLmPreTokenizer) {
  auto file = open(kSmolLm);
  ASSERT_NE(file, nullptr);
  auto tokenizer = load(*file);
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(tokenizer->model_name(), "gpt2");
  EXPECT_EQ(tokenizer->pre_name(), "smollm");
  EXPECT_EQ(tokenizer->n_vocab(), 49152);
  EXPECT_EQ(tokenizer->bos_id(), 1);
  EXPECT_EQ(tokenizer->eos_id(), 2);
  EXPECT_FALSE(tokenizer->add_bos());
  EXPECT_TRUE(tokenizer->is_eog(2));  // <|im_end|>
  EXPECT_TRUE(tokenizer->is_eog(0));  // <|endoftext|>
  EXPECT_FALSE(tokenizer->is_eog(1));
}

TEST_F(ModelTokenizerTest, GemmaIsSentencePiece) {
  auto file = open(kGemma);
  ASSERT_NE(file, nullptr);
  auto tokenizer = load(*file);
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(tokenizer->model_name(), "llama");
  EXPECT_EQ(tokenizer->n_vocab(), 262144);
  EXPECT_EQ(tokenizer->bos_id(), 2);
  EXPECT_EQ(tokenizer->eos_id(), 1);
  EXPECT_TRUE(tokenizer->add_bos());
  EXPECT_TRUE(tokenizer->is_eog(1));
  EXPECT_EQ(tokenizer->eot_id(), tokenizer->vocab().find("<end_of_turn>"));
  EXPECT_TRUE(tokenizer->is_eog(tokenizer->eot_id()));
}

TEST_F(ModelTokenizerTest, MultilingualTextRoundTrips) {
  for (const char* path : {kSmolLm, kGemma}) {
    auto file = open(path);
    ASSERT_NE(file, nullptr);
    auto tokenizer = load(*file);
    ASSERT_NE(tokenizer, nullptr);
    const std::vector<int32_t> ids = tokenizer->encode(kMultilingual, /*add_special=*/false, /*parse_special=*/false);
    EXPECT_GT(ids.size(), 50u) << path;
    EXPECT_EQ(tokenizer->decode(ids), kMultilingual) << path;

    // Piece by piece gives the same bytes.
    std::string joined;
    for (int32_t id : ids) joined += tokenizer->token_to_piece(id, /*render_special=*/false);
    EXPECT_EQ(joined, kMultilingual) << path;
  }
}

TEST_F(ModelTokenizerTest, AddSpecialFollowsMetadata) {
  auto gemma_file = open(kGemma);
  ASSERT_NE(gemma_file, nullptr);
  auto gemma = load(*gemma_file);
  ASSERT_NE(gemma, nullptr);
  const std::vector<int32_t> plain = gemma->encode("Hello", false, false);
  const std::vector<int32_t> with_bos = gemma->encode("Hello", true, false);
  ASSERT_EQ(with_bos.size(), plain.size() + 1);
  EXPECT_EQ(with_bos.front(), 2);
  EXPECT_EQ(std::vector<int32_t>(with_bos.begin() + 1, with_bos.end()), plain);
  EXPECT_EQ(gemma->encode("", true, false), std::vector<int32_t>{2});
  EXPECT_TRUE(gemma->encode("", false, false).empty());
  EXPECT_EQ(gemma->decode(with_bos, /*remove_special=*/true), "Hello");

  auto smol_file = open(kSmolLm);
  ASSERT_NE(smol_file, nullptr);
  auto smol = load(*smol_file);
  ASSERT_NE(smol, nullptr);
  EXPECT_EQ(smol->encode("Hello", true, false), smol->encode("Hello", false, false));  // add_bos_token = false
}

TEST_F(ModelTokenizerTest, SpecialTokensParsedOnlyWhenAsked) {
  auto file = open(kSmolLm);
  ASSERT_NE(file, nullptr);
  auto tokenizer = load(*file);
  ASSERT_NE(tokenizer, nullptr);
  const std::string chat = "<|im_start|>user\nHi<|im_end|>\n";
  const std::vector<int32_t> parsed = tokenizer->encode(chat, false, /*parse_special=*/true);
  ASSERT_GE(parsed.size(), 4u);
  EXPECT_EQ(parsed.front(), 1);                               // <|im_start|>
  EXPECT_EQ(std::count(parsed.begin(), parsed.end(), 2), 1);  // <|im_end|>
  EXPECT_EQ(tokenizer->decode(parsed, false, /*render_special=*/true), chat);
  EXPECT_EQ(tokenizer->decode(parsed, false, /*render_special=*/false), "user\nHi\n");

  const std::vector<int32_t> literal = tokenizer->encode(chat, false, /*parse_special=*/false);
  EXPECT_EQ(std::count(literal.begin(), literal.end(), 1), 0);
  EXPECT_EQ(std::count(literal.begin(), literal.end(), 2), 0);
  EXPECT_EQ(tokenizer->decode(literal), chat);
}

TEST_F(ModelTokenizerTest, GemmaControlAndUserDefinedTokens) {
  auto file = open(kGemma);
  ASSERT_NE(file, nullptr);
  auto tokenizer = load(*file);
  ASSERT_NE(tokenizer, nullptr);
  const int32_t start_of_turn = tokenizer->vocab().find("<start_of_turn>");
  ASSERT_GE(start_of_turn, 0);
  const std::vector<int32_t> parsed = tokenizer->encode("<start_of_turn>user\nHi", false, true);
  EXPECT_EQ(parsed.front(), start_of_turn);
  const std::vector<int32_t> literal = tokenizer->encode("<start_of_turn>user\nHi", false, false);
  EXPECT_EQ(std::count(literal.begin(), literal.end(), start_of_turn), 0);
  // "\n" is a user-defined token in Gemma's vocabulary: cut out even without parse_special.
  const int32_t newline = tokenizer->vocab().find("\n");
  ASSERT_GE(newline, 0);
  EXPECT_EQ(std::count(literal.begin(), literal.end(), newline), 1);
  EXPECT_EQ(tokenizer->token_to_piece(start_of_turn, false), "");
  EXPECT_EQ(tokenizer->token_to_piece(start_of_turn, true), "<start_of_turn>");
}

TEST_F(ModelTokenizerTest, IncrementalDecoderEmitsSplitEmojiOnce) {
  const std::string emoji = "\xF0\x9F\x98\x80";  // U+1F600, four bytes
  for (const char* path : {kSmolLm, kGemma}) {
    auto file = open(path);
    ASSERT_NE(file, nullptr);
    auto tokenizer = load(*file);
    ASSERT_NE(tokenizer, nullptr);
    IncrementalDecoder decoder(*tokenizer);
    std::string out;
    EXPECT_EQ(decoder.push(tokenizer->encode("A", false, false).back()), "A") << path;
    for (size_t i = 0; i < emoji.size(); ++i) {
      const int32_t byte_token = tokenizer->vocab().byte_to_token(static_cast<uint8_t>(emoji[i]));
      ASSERT_GE(byte_token, 0) << path;
      const std::string piece = decoder.push(byte_token);
      if (i + 1 < emoji.size()) {
        EXPECT_EQ(piece, "") << path << " byte " << i;
      } else {
        EXPECT_EQ(piece, emoji) << path;
      }
    }
    EXPECT_EQ(decoder.flush(), "") << path;
  }
}

}  // namespace
}  // namespace strata
