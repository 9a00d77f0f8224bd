// Walks a parsed template and renders it. Internal to strata_chat: use jinja::Template.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "core/chat/ast.h"
#include "core/chat/template.h"
#include "core/chat/value.h"

namespace strata::jinja {

// Renders `body` with the entries of `context` as variables, within `limits`.
absl::StatusOr<std::string> interpret(const StmtList& body, const Value& context, const RenderLimits& limits);

}  // namespace strata::jinja
