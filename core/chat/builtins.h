// Filters (`x | trim`), tests (`x is string`) and methods (`s.strip()`, `d.items()`) of the Jinja subset. They are
// pure functions of their inputs: nothing here can reach the interpreter's state.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/chat/template.h"
#include "core/chat/value.h"

namespace strata::jinja {

// NotFound for an unknown filter name; other errors are InvalidArgument / ResourceExhausted.
absl::StatusOr<Value> apply_filter(const std::string& name, const Value& input, CallArgs& args,
                                   const RenderLimits& limits);
absl::StatusOr<bool> apply_test(const std::string& name, const Value& input, CallArgs& args);

// Whether `object.name(...)` is a built-in method (string, dict or list methods).
bool has_method(const Value& object, const std::string& name);
absl::StatusOr<Value> call_method(const Value& object, const std::string& name, CallArgs& args,
                                  const RenderLimits& limits);

// Helpers shared by the interpreter and the filters.
// Elements a for loop visits: list items, dict keys, string characters; undefined iterates as empty.
absl::StatusOr<ValueList> iterate(const Value& value);
// Items `value[index]` and `value.name` as Jinja resolves them (missing: undefined).
absl::StatusOr<Value> get_item(const Value& object, const Value& key);
absl::StatusOr<Value> get_attribute(const Value& object, const std::string& name);
// Number of characters (UTF-8 code points) of a string, as Python's len().
size_t utf8_length(std::string_view s);
// Byte offsets of each code point of `s`, plus s.size() at the end.
std::vector<size_t> utf8_offsets(std::string_view s);

}  // namespace strata::jinja
