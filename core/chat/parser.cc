#include "core/chat/parser.h"

#include <initializer_list>
#include <utility>

#include "core/chat/lexer.h"
#include "core/util/status_macros.h"

namespace strata::jinja {
namespace {

using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  absl::StatusOr<StmtList> parse() {
    std::string stop;
    STRATA_ASSIGN_OR_RETURN(StmtList body, parse_body({}, stop));
    return body;
  }

 private:
  // Keeps nesting bounded: every recursive production takes one of these.
  class DepthGuard {
   public:
    explicit DepthGuard(Parser* p) : p_(p) { ++p_->depth_; }
    ~DepthGuard() { --p_->depth_; }
    bool exceeded() const { return p_->depth_ > kMaxParseDepth; }

   private:
    Parser* p_;
  };

  const Token& cur() const { return tokens_[pos_]; }
  const Token& peek(size_t ahead = 1) const {
    size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }
  void advance() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  bool is_op(const char* op) const { return cur().kind == TokenKind::kOperator && cur().text == op; }
  bool is_name(const char* name) const { return cur().kind == TokenKind::kName && cur().text == name; }
  bool accept_op(const char* op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool accept_name(const char* name) {
    if (!is_name(name)) return false;
    advance();
    return true;
  }

  absl::Status error(const std::string& message) const {
    return absl::InvalidArgumentError("line " + std::to_string(cur().line) + ": " + message);
  }
  std::string describe(const Token& t) const {
    switch (t.kind) {
      case TokenKind::kEnd:
        return "end of template";
      case TokenKind::kStmtClose:
        return "'%}'";
      case TokenKind::kExprClose:
        return "'}}'";
      case TokenKind::kString:
        return "string literal";
      default:
        return "'" + t.text + "'";
    }
  }
  absl::Status expect_op(const char* op) {
    if (accept_op(op)) return absl::OkStatus();
    return error(std::string("expected '") + op + "', got " + describe(cur()));
  }
  absl::StatusOr<std::string> expect_identifier() {
    if (cur().kind != TokenKind::kName) return error("expected a name, got " + describe(cur()));
    std::string name = cur().text;
    advance();
    return name;
  }
  absl::Status expect_stmt_close() {
    if (cur().kind == TokenKind::kStmtClose) {
      advance();
      return absl::OkStatus();
    }
    return error("expected '%}', got " + describe(cur()));
  }

  ExprPtr make_expr(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }
  StmtPtr make_stmt(StmtKind kind, int line) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->line = line;
    return s;
  }

  // Parses statements until `{% name` for a name in `stops` (left after the name; `stop` receives it) or the end.
  absl::StatusOr<StmtList> parse_body(std::initializer_list<const char*> stops, std::string& stop) {
    DepthGuard guard(this);
    if (guard.exceeded()) return error("template nested too deeply");
    StmtList body;
    while (true) {
      const Token& t = cur();
      switch (t.kind) {
        case TokenKind::kEnd:
          if (stops.size() != 0)
            return error(std::string("unexpected end of template, expected '") + *stops.begin() + "'");
          return body;
        case TokenKind::kText: {
          StmtPtr s = make_stmt(StmtKind::kText, t.line);
          s->text = t.text;
          body.push_back(std::move(s));
          advance();
          break;
        }
        case TokenKind::kExprOpen: {
          StmtPtr s = make_stmt(StmtKind::kOutput, t.line);
          advance();
          STRATA_ASSIGN_OR_RETURN(s->expr, parse_tuple());
          if (cur().kind != TokenKind::kExprClose) return error("expected '}}', got " + describe(cur()));
          advance();
          body.push_back(std::move(s));
          break;
        }
        case TokenKind::kStmtOpen: {
          advance();
          if (cur().kind != TokenKind::kName) return error("expected a statement name, got " + describe(cur()));
          for (const char* s : stops) {
            if (cur().text == s) {
              stop = s;
              advance();
              return body;
            }
          }
          STRATA_ASSIGN_OR_RETURN(StmtPtr s, parse_statement());
          if (s) body.push_back(std::move(s));
          break;
        }
        default:
          return error("unexpected " + describe(t));
      }
    }
  }

  absl::StatusOr<StmtPtr> parse_statement() {
    const std::string keyword = cur().text;
    int line = cur().line;
    advance();
    if (keyword == "if") return parse_if(line);
    if (keyword == "for") return parse_for(line);
    if (keyword == "set") return parse_set(line);
    if (keyword == "macro") return parse_macro(line);
    if (keyword == "call") return parse_call_block(line);
    if (keyword == "filter") return parse_filter_block(line);
    if (keyword == "generation") return parse_scope(line, "endgeneration");
    if (keyword == "break" || keyword == "continue") {
      StmtPtr s = make_stmt(keyword == "break" ? StmtKind::kBreak : StmtKind::kContinue, line);
      STRATA_RETURN_IF_ERROR(expect_stmt_close());
      return s;
    }
    pos_--;  // point the error at the keyword
    return error("unknown or unexpected statement '" + keyword + "'");
  }

  absl::StatusOr<StmtPtr> parse_if(int line) {
    DepthGuard guard(this);  // an elif chain recurses here without passing through parse_body
    if (guard.exceeded()) return error("template nested too deeply");
    StmtPtr s = make_stmt(StmtKind::kIf, line);
    STRATA_ASSIGN_OR_RETURN(s->expr, parse_expression());
    STRATA_RETURN_IF_ERROR(expect_stmt_close());
    std::string stop;
    STRATA_ASSIGN_OR_RETURN(s->body, parse_body({"elif", "else", "endif"}, stop));
    if (stop == "elif") {
      STRATA_ASSIGN_OR_RETURN(StmtPtr elif, parse_if(cur().line));
      s->else_body.push_back(std::move(elif));
      return s;  // the nested if consumed the endif
    }
    if (stop == "else") {
      STRATA_RETURN_IF_ERROR(expect_stmt_close());
      STRATA_ASSIGN_OR_RETURN(s->else_body, parse_body({"endif"}, stop));
    }
    STRATA_RETURN_IF_ERROR(expect_stmt_close());
    return s;
  }

  absl::StatusOr<std::vector<std::string>> parse_targets() {
    std::vector<std::string> targets;
    bool paren = accept_op("(");
    do {
      STRATA_ASSIGN_OR_RETURN(std::string name, expect_identifier());
      targets.push_back(std::move(name));
    } while (accept_op(","));
    if (paren) STRATA_RETURN_IF_ERROR(expect_op(")"));
    return targets;
  }

  absl::StatusOr<StmtPtr> parse_for(int line) {
    StmtPtr s = make_stmt(StmtKind::kFor, line);
    STRATA_ASSIGN_OR_RETURN(s->targets, parse_targets());
    if (!accept_name("in")) return error("expected 'in' in for loop, got " + describe(cur()));
    STRATA_ASSIGN_OR_RETURN(s->expr, parse_tuple(/*with_conditional=*/false));
    if (accept_name("if")) {
      STRATA_ASSIGN_OR_RETURN(s->filter, parse_expression());
    }
    if (is_name("recursive")) return error("recursive for loops are not supported");
    STRATA_RETURN_IF_ERROR(expect_stmt_close());
    std::string stop;
    STRATA_ASSIGN_OR_RETURN(s->body, parse_body({"else", "endfor"}, stop));
    if (stop == "else") {
      STRATA_RETURN_IF_ERROR(expect_stmt_close());
      STRATA_ASSIGN_OR_RETURN(s->else_body, parse_body({"endfor"}, stop));
    }
    STRATA_RETURN_IF_ERROR(expect_stmt_close());
    return s;
  }

  absl::StatusOr<StmtPtr> parse_set(int line) {
    StmtPtr s = make_stmt(StmtKind::kSet, line);
    STRATA_ASSIGN_OR_RETURN(std::string first, expect_identifier());
    s->targets.push_back(first);
    if (accept_op(".")) {
      STRATA_ASSIGN_OR_RETURN(s->name, expect_identifier());
    } else {
      while (accept_op(",")) {
        STRATA_ASSIGN_OR_RETURN(std::string name, expect_identifier());
        s->targets.push_back(std::move(name));
      }
    }
    if (accept_op("=")) {
      STRATA_ASSIGN_OR_RETURN(s->expr, parse_tuple());
      STRATA_RETURN_IF_ERROR(expect_stmt_close());
      return s;
    }
    if (s->targets.size() != 1 || !s->name.empty()) return error("expected '=' in set");
    s->kind = StmtKind::kSetBlock;
    if (accept_op("|")) {
      STRATA_ASSIGN_OR_RETURN(s->filter, parse_filters(nullptr));
    }
    STRATA_RETURN_IF_ERROR(expect_stmt_close());
    std::string stop;
    STRATA_ASSIGN_OR_RETURN(s->body, parse_body({"endset"}, stop));
    STRATA_RETURN_IF_ERROR(expect_stmt_close());
    return s;
  }

  // `(a, b=default, ...)` of a macro or call block.
  absl::Status parse_params(Stmt& s) {
    STRATA_RETURN_IF_ERROR(expect_op("("));
    while (!is_op(")")) {
      STRATA_ASSIGN_OR_RETURN(std::string name, expect_identifier());
      s.targets.push_back(std::move(name));
      ExprPtr def;
      if (accept_op("=")) {
        STRATA_ASSIGN_OR_RETURN(def, parse_expression());
      }
      s.defaults.push_back(std::move(def));
      if (!accept_op(",")) break;
    }
    return expect_op(")");
  }

  absl::StatusOr<StmtPtr> parse_macro(int line) {
    StmtPtr s = make_stmt(StmtKind::kMacro, line);
    STRATA_ASSIGN_OR_RETURN(s->name, expect_identifier());
    STRATA_RETURN_IF_ERROR(parse_params(*s));
    STRATA_RETURN_IF_ERROR(expect_stmt_close());
    std::string stop;
    STRATA_ASSIGN_OR_RETURN(s->body, parse_body({"endmacro"}, stop));
    if (cur().kind == TokenKind::kName) advance();  // `{% endmacro name %}`
    STRATA_RETURN_IF_ERROR(expect_stmt_close());
    return s;
  }

  absl::StatusOr<StmtPtr> parse_call_block(int line) {
    StmtPtr s = make_stmt(StmtKind::kCallBlock, line);
    if (is_op("(")) STRATA_RETURN_IF_ERROR(parse_params(*s));
    STRATA_ASSIGN_OR_RETURN(s->expr, parse_expression());
    if (s->expr->kind != ExprKind::kCall) return error("a call block needs a call expression");
    STRATA_RETURN_IF_ERROR(expect_stmt_close());
    std::string stop;
    STRATA_ASSIGN_OR_RETURN(s->body, parse_body({"endcall"}, stop));
    STRATA_RETURN_IF_ERROR(expect_stmt_close());
    return s;
  }

  absl::StatusOr<StmtPtr> parse_filter_block(int line) {
    StmtPtr s = make_stmt(StmtKind::kFilterBlock, line);
    STRATA_ASSIGN_OR_RETURN(s->filter, parse_filters(nullptr));
    STRATA_RETURN_IF_ERROR(expect_stmt_close());
    std::string stop;
    STRATA_ASSIGN_OR_RETURN(s->body, parse_body({"endfilter"}, stop));
    STRATA_RETURN_IF_ERROR(expect_stmt_close());
    return s;
  }

  absl::StatusOr<StmtPtr> parse_scope(int line, const char* end) {
    StmtPtr s = make_stmt(StmtKind::kScope, line);
    STRATA_RETURN_IF_ERROR(expect_stmt_close());
    std::string stop;
    STRATA_ASSIGN_OR_RETURN(s->body, parse_body({end}, stop));
    STRATA_RETURN_IF_ERROR(expect_stmt_close());
    return s;
  }

  // expression (',' expression)* — a bare tuple becomes a list.
  absl::StatusOr<ExprPtr> parse_tuple(bool with_conditional = true) {
    int line = cur().line;
    STRATA_ASSIGN_OR_RETURN(ExprPtr first, parse_expression(with_conditional));
    if (!is_op(",")) return first;
    ExprPtr list = make_expr(ExprKind::kList, line);
    list->args.push_back(std::move(first));
    while (accept_op(",")) {
      if (cur().kind == TokenKind::kStmtClose || cur().kind == TokenKind::kExprClose || is_name("if")) break;
      STRATA_ASSIGN_OR_RETURN(ExprPtr next, parse_expression(with_conditional));
      list->args.push_back(std::move(next));
    }
    return list;
  }

  absl::StatusOr<ExprPtr> parse_expression(bool with_conditional = true) {
    DepthGuard guard(this);
    if (guard.exceeded()) return error("expression nested too deeply");
    STRATA_ASSIGN_OR_RETURN(ExprPtr e, parse_or());
    while (with_conditional && is_name("if")) {
      ExprPtr c = make_expr(ExprKind::kConditional, cur().line);
      advance();
      c->args.push_back(std::move(e));
      STRATA_ASSIGN_OR_RETURN(ExprPtr cond, parse_or());
      c->args.push_back(std::move(cond));
      ExprPtr otherwise;
      if (accept_name("else")) {
        STRATA_ASSIGN_OR_RETURN(otherwise, parse_expression());
      }
      c->args.push_back(std::move(otherwise));
      e = std::move(c);
    }
    return e;
  }

  ExprPtr binary(const std::string& op, ExprPtr left, ExprPtr right, int line) {
    ExprPtr e = make_expr(ExprKind::kBinary, line);
    e->name = op;
    e->args.push_back(std::move(left));
    e->args.push_back(std::move(right));
    return e;
  }

  absl::StatusOr<ExprPtr> parse_or() {
    STRATA_ASSIGN_OR_RETURN(ExprPtr left, parse_and());
    while (is_name("or")) {
      int line = cur().line;
      advance();
      STRATA_ASSIGN_OR_RETURN(ExprPtr right, parse_and());
      left = binary("or", std::move(left), std::move(right), line);
    }
    return left;
  }

  absl::StatusOr<ExprPtr> parse_and() {
    STRATA_ASSIGN_OR_RETURN(ExprPtr left, parse_not());
    while (is_name("and")) {
      int line = cur().line;
      advance();
      STRATA_ASSIGN_OR_RETURN(ExprPtr right, parse_not());
      left = binary("and", std::move(left), std::move(right), line);
    }
    return left;
  }

  absl::StatusOr<ExprPtr> parse_not() {
    DepthGuard guard(this);
    if (guard.exceeded()) return error("expression nested too deeply");
    if (is_name("not")) {
      ExprPtr e = make_expr(ExprKind::kUnary, cur().line);
      advance();
      e->name = "not";
      STRATA_ASSIGN_OR_RETURN(ExprPtr operand, parse_not());
      e->args.push_back(std::move(operand));
      return e;
    }
    return parse_compare();
  }

  absl::StatusOr<ExprPtr> parse_compare() {
    int line = cur().line;
    STRATA_ASSIGN_OR_RETURN(ExprPtr first, parse_math1());
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().kind == TokenKind::kOperator && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                                 cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().kind == TokenKind::kName && peek().text == "in") {
        op = "not in";
        advance();
        advance();
      } else {
        break;
      }
      if (!cmp) {
        cmp = make_expr(ExprKind::kCompare, line);
        cmp->args.push_back(std::move(first));
      }
      STRATA_ASSIGN_OR_RETURN(ExprPtr right, parse_math1());
      cmp->ops.push_back(op);
      cmp->args.push_back(std::move(right));
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  absl::StatusOr<ExprPtr> parse_math1() {
    STRATA_ASSIGN_OR_RETURN(ExprPtr left, parse_concat());
    while (is_op("+") || is_op("-")) {
      std::string op = cur().text;
      int line = cur().line;
      advance();
      STRATA_ASSIGN_OR_RETURN(ExprPtr right, parse_concat());
      left = binary(op, std::move(left), std::move(right), line);
    }
    return left;
  }

  absl::StatusOr<ExprPtr> parse_concat() {
    STRATA_ASSIGN_OR_RETURN(ExprPtr left, parse_math2());
    while (is_op("~")) {
      int line = cur().line;
      advance();
      STRATA_ASSIGN_OR_RETURN(ExprPtr right, parse_math2());
      left = binary("~", std::move(left), std::move(right), line);
    }
    return left;
  }

  absl::StatusOr<ExprPtr> parse_math2() {
    STRATA_ASSIGN_OR_RETURN(ExprPtr left, parse_pow());
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = cur().text;
      int line = cur().line;
      advance();
      STRATA_ASSIGN_OR_RETURN(ExprPtr right, parse_pow());
      left = binary(op, std::move(left), std::move(right), line);
    }
    return left;
  }

  absl::StatusOr<ExprPtr> parse_pow() {
    STRATA_ASSIGN_OR_RETURN(ExprPtr left, parse_unary(true));
    while (is_op("**")) {
      int line = cur().line;
      advance();
      STRATA_ASSIGN_OR_RETURN(ExprPtr right, parse_unary(true));
      left = binary("**", std::move(left), std::move(right), line);
    }
    return left;
  }

  // As Jinja: a sign binds to the postfix expression after it, and filters apply to the signed value (-x|abs).
  absl::StatusOr<ExprPtr> parse_unary(bool with_filter) {
    DepthGuard guard(this);
    if (guard.exceeded()) return error("expression nested too deeply");
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      e = make_expr(ExprKind::kUnary, cur().line);
      e->name = cur().text;
      advance();
      STRATA_ASSIGN_OR_RETURN(ExprPtr operand, parse_unary(false));
      e->args.push_back(std::move(operand));
    } else {
      STRATA_ASSIGN_OR_RETURN(e, parse_primary());
    }
    STRATA_ASSIGN_OR_RETURN(e, parse_postfix(std::move(e)));
    if (with_filter) {
      while (is_op("|") || is_name("is")) {
        if (accept_op("|")) {
          STRATA_ASSIGN_OR_RETURN(e, parse_filters(std::move(e)));
        } else {
          STRATA_ASSIGN_OR_RETURN(e, parse_test(std::move(e)));
        }
      }
    }
    return e;
  }

  absl::StatusOr<ExprPtr> parse_primary() {
    const Token& t = cur();
    int line = t.line;
    switch (t.kind) {
      case TokenKind::kName: {
        ExprPtr e = make_expr(ExprKind::kLiteral, line);
        const std::string& n = t.text;
        if (n == "true" || n == "True") {
          e->literal = Value(true);
        } else if (n == "false" || n == "False") {
          e->literal = Value(false);
        } else if (n == "none" || n == "None") {
          e->literal = Value(None{});
        } else {
          e->kind = ExprKind::kName;
          e->name = n;
        }
        advance();
        return e;
      }
      case TokenKind::kString: {
        std::string s = t.text;
        advance();
        while (cur().kind == TokenKind::kString) {  // adjacent literals concatenate, as in Python
          s += cur().text;
          advance();
        }
        ExprPtr e = make_expr(ExprKind::kLiteral, line);
        e->literal = Value(std::move(s));
        return e;
      }
      case TokenKind::kInt: {
        ExprPtr e = make_expr(ExprKind::kLiteral, line);
        e->literal = Value(t.int_value);
        advance();
        return e;
      }
      case TokenKind::kFloat: {
        ExprPtr e = make_expr(ExprKind::kLiteral, line);
        e->literal = Value(t.float_value);
        advance();
        return e;
      }
      case TokenKind::kOperator:
        if (accept_op("(")) {
          if (accept_op(")")) return make_expr(ExprKind::kList, line);  // empty tuple
          STRATA_ASSIGN_OR_RETURN(ExprPtr e, parse_tuple());
          STRATA_RETURN_IF_ERROR(expect_op(")"));
          return e;
        }
        if (accept_op("[")) {
          ExprPtr list = make_expr(ExprKind::kList, line);
          while (!is_op("]")) {
            STRATA_ASSIGN_OR_RETURN(ExprPtr item, parse_expression());
            list->args.push_back(std::move(item));
            if (!accept_op(",")) break;
          }
          STRATA_RETURN_IF_ERROR(expect_op("]"));
          return list;
        }
        if (accept_op("{")) {
          ExprPtr dict = make_expr(ExprKind::kDict, line);
          while (!is_op("}")) {
            STRATA_ASSIGN_OR_RETURN(ExprPtr key, parse_expression());
            STRATA_RETURN_IF_ERROR(expect_op(":"));
            STRATA_ASSIGN_OR_RETURN(ExprPtr value, parse_expression());
            dict->args.push_back(std::move(key));
            dict->args.push_back(std::move(value));
            if (!accept_op(",")) break;
          }
          STRATA_RETURN_IF_ERROR(expect_op("}"));
          return dict;
        }
        break;
      default:
        break;
    }
    return error("unexpected " + describe(t) + " in expression");
  }

  absl::StatusOr<ExprPtr> parse_postfix(ExprPtr e) {
    while (true) {
      int line = cur().line;
      if (accept_op(".")) {
        if (cur().kind == TokenKind::kInt) {  // x.0 is x[0]
          ExprPtr idx = make_expr(ExprKind::kIndex, line);
          ExprPtr lit = make_expr(ExprKind::kLiteral, line);
          lit->literal = Value(cur().int_value);
          advance();
          idx->args.push_back(std::move(e));
          idx->args.push_back(std::move(lit));
          e = std::move(idx);
          continue;
        }
        ExprPtr attr = make_expr(ExprKind::kAttribute, line);
        STRATA_ASSIGN_OR_RETURN(attr->name, expect_identifier());
        attr->args.push_back(std::move(e));
        e = std::move(attr);
      } else if (accept_op("[")) {
        STRATA_ASSIGN_OR_RETURN(e, parse_subscript(std::move(e), line));
      } else if (is_op("(")) {
        ExprPtr call = make_expr(ExprKind::kCall, line);
        call->args.push_back(std::move(e));
        STRATA_RETURN_IF_ERROR(parse_call_args(*call));
        e = std::move(call);
      } else {
        return e;
      }
    }
  }

  absl::StatusOr<ExprPtr> parse_subscript(ExprPtr target, int line) {
    ExprPtr parts[3];
    bool is_slice = false;
    if (!is_op(":")) {
      STRATA_ASSIGN_OR_RETURN(parts[0], parse_expression());
    }
    if (accept_op(":")) {
      is_slice = true;
      if (!is_op(":") && !is_op("]")) {
        STRATA_ASSIGN_OR_RETURN(parts[1], parse_expression());
      }
      if (accept_op(":") && !is_op("]")) {
        STRATA_ASSIGN_OR_RETURN(parts[2], parse_expression());
      }
    }
    STRATA_RETURN_IF_ERROR(expect_op("]"));
    if (!is_slice && !parts[0]) return error("empty subscript");
    ExprPtr e = make_expr(is_slice ? ExprKind::kSlice : ExprKind::kIndex, line);
    e->args.push_back(std::move(target));
    e->args.push_back(std::move(parts[0]));
    if (is_slice) {
      e->args.push_back(std::move(parts[1]));
      e->args.push_back(std::move(parts[2]));
    }
    return e;
  }

  // `(a, b, key=value)`: positional then keyword arguments appended to e.args, names to e.arg_names.
  absl::Status parse_call_args(Expr& e) {
    STRATA_RETURN_IF_ERROR(expect_op("("));
    while (!is_op(")")) {
      std::string name;
      if (cur().kind == TokenKind::kName && peek().kind == TokenKind::kOperator && peek().text == "=") {
        name = cur().text;
        advance();
        advance();
      } else if (!e.arg_names.empty() && !e.arg_names.back().empty()) {
        return error("positional argument follows keyword argument");
      }
      STRATA_ASSIGN_OR_RETURN(ExprPtr arg, parse_expression());
      e.args.push_back(std::move(arg));
      e.arg_names.push_back(std::move(name));
      if (!accept_op(",")) break;
    }
    return expect_op(")");
  }

  // name[(args)] (| name[(args)])* applied to `operand` (the leading '|' already taken).
  absl::StatusOr<ExprPtr> parse_filters(ExprPtr operand) {
    while (true) {
      ExprPtr f = make_expr(ExprKind::kFilter, cur().line);
      STRATA_ASSIGN_OR_RETURN(f->name, expect_identifier());
      f->args.push_back(std::move(operand));
      if (is_op("(")) STRATA_RETURN_IF_ERROR(parse_call_args(*f));
      operand = std::move(f);
      if (!accept_op("|")) return operand;
    }
  }

  absl::StatusOr<ExprPtr> parse_test(ExprPtr operand) {
    ExprPtr t = make_expr(ExprKind::kTest, cur().line);
    advance();  // 'is'
    t->negated = accept_name("not");
    if (cur().kind == TokenKind::kName) {
      t->name = cur().text;
      advance();
    } else if (cur().kind == TokenKind::kOperator && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                                      cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
      t->name = cur().text;
      advance();
    } else {
      return error("expected a test name after 'is', got " + describe(cur()));
    }
    if (t->name == "none" || t->name == "None") t->name = "none";
    if (t->name == "true" || t->name == "True") t->name = "true";
    if (t->name == "false" || t->name == "False") t->name = "false";
    t->args.push_back(std::move(operand));
    if (is_op("(")) {
      STRATA_RETURN_IF_ERROR(parse_call_args(*t));
    } else if (starts_bare_test_argument()) {
      // Jinja accepts one argument without parentheses: `x is divisibleby 3`, `x is sameas false`.
      STRATA_ASSIGN_OR_RETURN(ExprPtr arg, parse_primary());
      STRATA_ASSIGN_OR_RETURN(arg, parse_postfix(std::move(arg)));
      t->args.push_back(std::move(arg));
      t->arg_names.push_back("");
    }
    return t;
  }

  bool starts_bare_test_argument() const {
    const Token& t = cur();
    if (t.kind == TokenKind::kString || t.kind == TokenKind::kInt || t.kind == TokenKind::kFloat) return true;
    if (t.kind == TokenKind::kOperator) return t.text == "[" || t.text == "{";
    if (t.kind != TokenKind::kName) return false;
    for (const char* kw : {"else", "or", "and", "if", "is", "in", "not", "recursive"}) {
      if (t.text == kw) return false;
    }
    return true;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

absl::StatusOr<StmtList> parse_template(std::string_view source) {
  STRATA_ASSIGN_OR_RETURN(std::vector<Token> tokens, tokenize(source));
  return Parser(std::move(tokens)).parse();
}

}  // namespace strata::jinja
