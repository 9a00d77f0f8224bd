#include "core/chat/template.h"

#include <exception>

#include "core/chat/interpreter.h"
#include "core/chat/parser.h"
#include "core/util/status_macros.h"

namespace strata::jinja {

absl::StatusOr<Template> Template::parse(std::string_view source) {
  // The containers may throw std::bad_alloc on absurd input; nothing may escape the library.
  try {
    STRATA_ASSIGN_OR_RETURN(StmtList body, parse_template(source));
    return Template(std::make_shared<const StmtList>(std::move(body)));
  } catch (const std::exception& e) {
    return absl::ResourceExhaustedError(std::string("template parse failed: ") + e.what());
  }
}

absl::StatusOr<std::string> Template::render(const Value& context, const RenderLimits& limits) const {
  try {
    return interpret(*body_, context, limits);
  } catch (const std::exception& e) {
    return absl::ResourceExhaustedError(std::string("template render failed: ") + e.what());
  }
}

}  // namespace strata::jinja
