// Parses a Jinja template (the subset chat templates use) into a statement tree.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "core/chat/ast.h"

namespace strata::jinja {

// Nesting of statements and expressions is bounded (kMaxParseDepth) so a hostile template cannot overflow the
// stack while parsing or, later, while evaluating. Errors are InvalidArgument naming the line.
inline constexpr int kMaxParseDepth = 128;

absl::StatusOr<StmtList> parse_template(std::string_view source);

}  // namespace strata::jinja
