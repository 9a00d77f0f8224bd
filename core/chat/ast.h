// Syntax tree of a parsed template: expressions and statements, each carrying its source line for error messages.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/chat/value.h"

namespace strata::jinja {

enum class ExprKind {
  kLiteral,      // literal
  kName,         // name
  kList,         // args: the elements
  kDict,         // args: key0, value0, key1, value1, ...
  kAttribute,    // args[0].name
  kIndex,        // args[0][args[1]]
  kSlice,        // args[0][args[1]:args[2]:args[3]], absent bounds are null
  kCall,         // args[0](args[1..]), arg_names parallel to args[1..] ("" for positional)
  kFilter,       // args[0] | name(args[1..]); args[0] is null in a {% filter %} block head
  kTest,         // args[0] is [not] name(args[1..])
  kUnary,        // name ("not", "-", "+") applied to args[0]
  kBinary,       // args[0] name args[1]: arithmetic, "~", "and", "or", "in", "not in"
  kCompare,      // args[0] ops[0] args[1] ops[1] args[2] ... (chained, as Python)
  kConditional,  // args[0] if args[1] else args[2] (args[2] null: undefined)
};

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  int line = 0;
  std::string name;
  Value literal;
  std::vector<std::unique_ptr<Expr>> args;
  std::vector<std::string> arg_names;
  std::vector<std::string> ops;
  bool negated = false;  // kTest: `is not`
};

enum class StmtKind {
  kText,         // text
  kOutput,       // {{ expr }}
  kIf,           // if expr: body, else: else_body (an elif is an kIf alone in else_body)
  kFor,          // for targets in expr [if filter]: body, else: else_body
  kSet,          // set targets = expr, or set targets[0].attribute = expr
  kSetBlock,     // set targets[0]: body rendered, then passed through filter when present
  kMacro,        // macro name(targets with defaults): body
  kCallBlock,    // call[(targets)] expr (a call expression): body is the caller
  kFilterBlock,  // filter <filter chain>: body rendered and filtered
  kScope,        // body in place ({% generation %} blocks and similar wrappers)
  kBreak,
  kContinue,
};

struct Stmt {
  StmtKind kind = StmtKind::kText;
  int line = 0;
  std::string text;  // kText
  std::string name;  // kMacro name; kSet attribute name when assigning to a namespace
  std::unique_ptr<Expr> expr;
  std::unique_ptr<Expr> filter;  // kFor inline condition; kSetBlock / kFilterBlock filter chain
  std::vector<std::string> targets;
  std::vector<std::unique_ptr<Expr>> defaults;  // kMacro / kCallBlock parameters' defaults, null when none
  std::vector<std::unique_ptr<Stmt>> body;
  std::vector<std::unique_ptr<Stmt>> else_body;
};

using StmtList = std::vector<std::unique_ptr<Stmt>>;

}  // namespace strata::jinja
