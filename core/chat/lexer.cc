#include "core/chat/lexer.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace strata::jinja {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Jinja normalizes every line ending to "\n" before lexing (and so before any string literal is read).
std::string normalize_newlines(std::string_view source, bool keep_trailing_newline) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  Lexer(std::string source, const LexerOptions& options) : src_(std::move(source)), options_(options) {}

  absl::StatusOr<std::vector<Token>> run() {
    enum class Left { kNone, kStripAll, kTrimNewline };
    Left left = Left::kNone;
    size_t pos = 0;
    while (true) {
      size_t tag = find_tag(pos);
      size_t text_end = tag == std::string::npos ? src_.size() : tag;
      std::string_view raw(src_.data() + pos, text_end - pos);
      size_t begin = 0, end = raw.size();
      if (left == Left::kStripAll) {
        while (begin < end && is_space(raw[begin])) ++begin;
      } else if (left == Left::kTrimNewline && !raw.empty() && raw[0] == '\n') {
        begin = 1;
      }
      if (tag != std::string::npos) {
        char kind = src_[tag + 1];
        char mod = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
        if (mod == '-') {
          while (end > begin && is_space(raw[end - 1])) --end;
        } else if (mod != '+' && kind != '{' && options_.lstrip_blocks) {
          // Only the spaces between the start of the line and the tag go, and only when nothing else is there.
          size_t nl = raw.rfind('\n');
          bool line_start = nl != std::string_view::npos || pos == 0 || src_[pos - 1] == '\n';
          size_t from = nl == std::string_view::npos ? 0 : nl + 1;
          bool blank = true;
          for (size_t i = from; i < raw.size(); ++i) blank = blank && is_space(raw[i]);
          if (line_start && blank) end = std::max(begin, from);
        }
      }
      if (end > begin) push(TokenKind::kText, std::string(raw.substr(begin, end - begin)), pos + begin);
      if (tag == std::string::npos) break;

      char kind = src_[tag + 1];
      if (kind == '#') {
        size_t close = src_.find("#}", tag + 2);
        if (close == std::string::npos) return error(tag, "unterminated comment");
        bool strip = close > tag + 2 && src_[close - 1] == '-';
        left = strip ? Left::kStripAll : (options_.trim_blocks ? Left::kTrimNewline : Left::kNone);
        pos = close + 2;
        continue;
      }
      bool is_expr = kind == '{';
      push(is_expr ? TokenKind::kExprOpen : TokenKind::kStmtOpen, "", tag);
      size_t p = tag + 2;
      if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
      int depth = 0;  // open brackets: a `}}` inside a dict literal does not close the tag
      while (true) {
        while (p < src_.size() && is_space(src_[p])) ++p;
        if (p >= src_.size()) return error(tag, is_expr ? "unterminated '{{'" : "unterminated '{%'");
        if (depth == 0) {
          const char* close = is_expr ? "}}" : "%}";
          char c = src_[p];
          bool modified = (c == '-' || (c == '+' && !is_expr)) && src_.compare(p + 1, 2, close) == 0;
          if (modified || src_.compare(p, 2, close) == 0) {
            push(is_expr ? TokenKind::kExprClose : TokenKind::kStmtClose, "", p);
            if (modified && c == '-') {
              left = Left::kStripAll;
            } else if (is_expr || (modified && c == '+')) {
              left = Left::kNone;
            } else {
              left = options_.trim_blocks ? Left::kTrimNewline : Left::kNone;
            }
            pos = p + (modified ? 3 : 2);
            break;
          }
        }
        absl::StatusOr<size_t> next = lex_token(p, depth);
        if (!next.ok()) return next.status();
        p = *next;
      }
    }
    push(TokenKind::kEnd, "", src_.size());
    return std::move(tokens_);
  }

 private:
  size_t find_tag(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  int line_at(size_t pos) {
    // Tokens come in source order, so the line count only ever moves forward.
    for (; line_pos_ < pos && line_pos_ < src_.size(); ++line_pos_) {
      if (src_[line_pos_] == '\n') ++line_;
    }
    return line_;
  }

  void push(TokenKind kind, std::string text, size_t pos) {
    Token token;
    token.kind = kind;
    token.text = std::move(text);
    token.line = line_at(pos);
    tokens_.push_back(std::move(token));
  }

  absl::Status error(size_t pos, const std::string& message) {
    return absl::InvalidArgumentError("line " + std::to_string(line_at(pos)) + ": " + message);
  }

  absl::StatusOr<size_t> lex_token(size_t p, int& depth) {
    char c = src_[p];
    if (is_name_start(c)) {
      size_t e = p;
      while (e < src_.size() && is_name_char(src_[e])) ++e;
      push(TokenKind::kName, src_.substr(p, e - p), p);
      return e;
    }
    if (is_digit(c)) return lex_number(p);
    if (c == '\'' || c == '"') return lex_string(p);
    static constexpr const char* kTwoChar[] = {"**", "//", "==", "!=", "<=", ">="};
    for (const char* op : kTwoChar) {
      if (src_.compare(p, 2, op) == 0) {
        push(TokenKind::kOperator, op, p);
        return p + 2;
      }
    }
    if (std::strchr("()[]{},.:|+-*/%~=<>", c) != nullptr && c != '\0') {
      if (c == '(' || c == '[' || c == '{') ++depth;
      if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
      push(TokenKind::kOperator, std::string(1, c), p);
      return p + 1;
    }
    return error(p, std::string("unexpected character '") + c + "'");
  }

  absl::StatusOr<size_t> lex_number(size_t p) {
    size_t e = p;
    while (e < src_.size() && is_digit(src_[e])) ++e;
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' && is_digit(src_[e + 1])) {
      is_float = true;
      ++e;
      while (e < src_.size() && is_digit(src_[e])) ++e;
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t x = e + 1;
      if (x < src_.size() && (src_[x] == '+' || src_[x] == '-')) ++x;
      if (x < src_.size() && is_digit(src_[x])) {
        is_float = true;
        e = x;
        while (e < src_.size() && is_digit(src_[e])) ++e;
      }
    }
    Token token;
    token.line = line_at(p);
    token.text = src_.substr(p, e - p);
    if (is_float) {
      token.kind = TokenKind::kFloat;
      auto res = std::from_chars(token.text.data(), token.text.data() + token.text.size(), token.float_value);
      if (res.ec != std::errc()) return error(p, "invalid number '" + token.text + "'");
    } else {
      token.kind = TokenKind::kInt;
      auto res = std::from_chars(token.text.data(), token.text.data() + token.text.size(), token.int_value);
      if (res.ec != std::errc()) return error(p, "integer literal out of range '" + token.text + "'");
    }
    tokens_.push_back(std::move(token));
    return e;
  }

  // Reads a quoted literal, decoding escapes the way Python's unicode-escape codec does (Jinja's rule); an unknown
  // escape keeps its backslash.
  absl::StatusOr<size_t> lex_string(size_t p) {
    char quote = src_[p];
    std::string value;
    size_t i = p + 1;
    while (true) {
      if (i >= src_.size()) return error(p, "unterminated string literal");
      char c = src_[i];
      if (c == quote) break;
      if (c != '\\' || i + 1 >= src_.size()) {
        value += c;
        ++i;
        continue;
      }
      char e = src_[i + 1];
      i += 2;
      switch (e) {
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        case 'r':
          value += '\r';
          break;
        case '\\':
          value += '\\';
          break;
        case '\'':
          value += '\'';
          break;
        case '"':
          value += '"';
          break;
        case 'a':
          value += '\a';
          break;
        case 'b':
          value += '\b';
          break;
        case 'f':
          value += '\f';
          break;
        case 'v':
          value += '\v';
          break;
        case '\n':
          break;  // backslash-newline continues the line
        case 'x':
        case 'u':
        case 'U': {
          size_t n = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
          uint32_t cp = 0;
          for (size_t k = 0; k < n; ++k) {
            int h = i + k < src_.size() ? hex_value(src_[i + k]) : -1;
            if (h < 0) return error(p, std::string("truncated \\") + e + " escape in string literal");
            cp = cp * 16 + static_cast<uint32_t>(h);
          }
          i += n;
          append_utf8(cp, value);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && i < src_.size() && src_[i] >= '0' && src_[i] <= '7'; ++k, ++i) {
              cp = cp * 8 + static_cast<uint32_t>(src_[i] - '0');
            }
            append_utf8(cp, value);
          } else {
            value += '\\';
            value += e;
          }
      }
    }
    push(TokenKind::kString, std::move(value), p);
    return i + 1;
  }

  std::string src_;
  LexerOptions options_;
  std::vector<Token> tokens_;
  size_t line_pos_ = 0;
  int line_ = 1;
};

}  // namespace

absl::StatusOr<std::vector<Token>> tokenize(std::string_view source, const LexerOptions& options) {
  return Lexer(normalize_newlines(source, options.keep_trailing_newline), options).run();
}

}  // namespace strata::jinja
