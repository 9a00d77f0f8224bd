// llama.cpp's tokenizer test vectors (shared/testdata/tokenizer): every input must encode to exactly the ids
// llama.cpp produced, without BOS/EOS and without special-token parsing.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/gguf/gguf_file.h"
#include "core/tokenizer/tokenizer.h"
#include "gtest/gtest.h"

namespace strata {
namespace {

const std::string kDataDir = STRATA_SOURCE_DIR "/../shared/testdata/tokenizer/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::vector<std::string> split_inputs(const std::string& content) {
  static const std::string kSeparator = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  size_t start = 0;
  for (size_t at = content.find(kSeparator); at != std::string::npos; at = content.find(kSeparator, start)) {
    inputs.push_back(content.substr(start, at - start));
    start = at + kSeparator.size();
  }
  return inputs;
}

std::vector<std::vector<int32_t>> parse_outputs(const std::string& content) {
  std::vector<std::vector<int32_t>> lines;
  std::istringstream in(content);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ids(line);
    std::vector<int32_t> parsed;
    int64_t id = 0;
    while (ids >> id) parsed.push_back(static_cast<int32_t>(id));
    lines.push_back(parsed);
  }
  return lines;
}

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out;
}

std::string join(const std::vector<int32_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out.push_back(' ');
    out.append(std::to_string(ids[i]));
  }
  return out;
}

class VocabVectorsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabVectorsTest, MatchesLlamaCpp) {
  const std::string base = kDataDir + "ggml-vocab-" + GetParam() + ".gguf";
  auto file = GgufFile::open(base);
  ASSERT_TRUE(file.ok()) << file.status();
  auto tokenizer = Tokenizer::from_gguf(**file);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();

  const std::vector<std::string> inputs = split_inputs(read_file(base + ".inp"));
  const std::vector<std::vector<int32_t>> expected = parse_outputs(read_file(base + ".out"));
  ASSERT_FALSE(inputs.empty());
  ASSERT_EQ(inputs.size(), expected.size());
  int failures = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<int32_t> ids = (*tokenizer)->encode(inputs[i], /*add_special=*/false, /*parse_special=*/false);
    if (ids != expected[i]) {
      ++failures;
      ADD_FAILURE() << "case " << i << " input '" << escape(inputs[i]) << "'\n  expected: " << join(expected[i])
                    << "\n  actual:   " << join(ids);
    }
  }
  EXPECT_EQ(failures, 0);
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, VocabVectorsTest,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "deepseek-llm", "falcon"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace strata
