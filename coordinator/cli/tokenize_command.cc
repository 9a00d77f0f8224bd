// `strata tokenize -m FILE.gguf`: stdin bytes → token ids on one line. Works on vocabulary-only GGUF files.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "coordinator/cli/commands.h"
#include "core/gguf/gguf_file.h"
#include "core/tokenizer/tokenizer.h"

namespace strata::cli {
namespace {

struct TokenizeOptions {
  std::string model_path;
  bool add_special = false;
  bool parse_special = false;
};

int run_tokenize(const TokenizeOptions& options) {
  auto file = GgufFile::open(options.model_path);
  if (!file.ok()) {
    std::fprintf(stderr, "strata tokenize: %s\n", std::string(file.status().message()).c_str());
    return 1;
  }
  auto tokenizer = Tokenizer::from_gguf(**file);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "strata tokenize: %s\n", std::string(tokenizer.status().message()).c_str());
    return 1;
  }
  // Byte for byte: no newline translation, no trimming.
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  const std::vector<int32_t> ids = (*tokenizer)->encode(text, options.add_special, options.parse_special);
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) line += ' ';
    line += std::to_string(ids[i]);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
  return 0;
}

}  // namespace

void register_tokenize_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize", "Read text on stdin (byte for byte) and print its token ids, separated by spaces, on one line");
  cmd->add_option("-m,--model", options->model_path, "GGUF file (a vocabulary-only file is enough)")->required();
  cmd->add_flag("--add-special", options->add_special, "Add BOS/EOS as the model's metadata asks");
  cmd->add_flag("--parse-special", options->parse_special, "Turn special-token text such as <|im_start|> into its id");
  cmd->callback([options, &exit_code] { exit_code = run_tokenize(*options); });
}

}  // namespace strata::cli
