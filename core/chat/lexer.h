// Splits a Jinja template into text and tag tokens, applying whitespace control as Hugging Face's
// apply_chat_template configures Jinja: trim_blocks (drop the newline after a block or comment tag), lstrip_blocks
// (drop the spaces before a block or comment tag that starts a line), `-` on a tag side to strip all whitespace on
// that side, `+` to opt out of lstrip/trim, and the template's single trailing newline dropped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace strata::jinja {

enum class TokenKind {
  kText,       // literal template text (already whitespace-controlled)
  kExprOpen,   // {{
  kExprClose,  // }}
  kStmtOpen,   // {%
  kStmtClose,  // %}
  kName,       // identifier or keyword
  kString,     // string literal, `text` holds the unescaped value
  kInt,        // `int_value`
  kFloat,      // `float_value`
  kOperator,   // punctuation and operators: ( ) [ ] { } , . : | + - * / // % ** ~ = == != < <= > >=
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1;
};

struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Tokenizes `source`. Errors (InvalidArgument, naming the line) for unterminated tags, strings or comments and
// characters that cannot start a token.
absl::StatusOr<std::vector<Token>> tokenize(std::string_view source, const LexerOptions& options = {});

}  // namespace strata::jinja
