// A parsed Jinja template (the subset that model chat templates use) and its renderer.
//
// Templates come from model files, so they are untrusted input: rendering is bounded in steps, nesting and output
// size (RenderLimits) and every failure, including the template's own raise_exception(), is an absl::Status.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/chat/ast.h"
#include "core/chat/value.h"

namespace strata::jinja {

struct RenderLimits {
  size_t max_output_bytes = size_t{16} << 20;  // the rendered text, and any single string built on the way
  int64_t max_steps = 2'000'000;               // statements run + loop iterations + calls
  int max_depth = 256;                         // nesting of evaluation (expressions, statements, calls)
  int max_macro_depth = 64;                    // nested macro calls (recursion)
  size_t max_list_size = size_t{1} << 18;      // elements of any list built by the template (range, +, *)
};

class Template {
 public:
  // InvalidArgument naming the line for syntax errors.
  static absl::StatusOr<Template> parse(std::string_view source);

  // Renders with the entries of `context` (a dict) as variables. Besides them the template sees range(),
  // namespace(), dict(), raise_exception(msg) and strftime_now(format). raise_exception yields InvalidArgument with
  // exactly the template's message; other errors name the line; exceeding a limit is ResourceExhausted.
  absl::StatusOr<std::string> render(const Value& context, const RenderLimits& limits = {}) const;

 private:
  explicit Template(std::shared_ptr<const StmtList> body) : body_(std::move(body)) {}
  std::shared_ptr<const StmtList> body_;
};

}  // namespace strata::jinja
