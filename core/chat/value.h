// The dynamic value of the Jinja subset: what variables, literals and filter results hold while a template renders.
//
// Lists and dicts are shared, immutable once built (the templates run sandboxed, as Hugging Face's
// ImmutableSandboxedEnvironment does), so copying a Value is cheap. The one mutable container is a namespace(),
// whose attributes `{% set ns.x = ... %}` may assign; that is what lets a loop body pass state out of the loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace strata::jinja {

class Value;

// Arguments of a call, a filter or a test: positional first, then keyword arguments in source order.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

using Function = std::function<absl::StatusOr<Value>(CallArgs& args)>;

// Jinja's Undefined: what a missing variable, key or attribute evaluates to. `hint` names what was missing, for the
// error raised when something needs a real value (an attribute of it, arithmetic with it).
struct Undefined {
  std::string hint;
};

struct None {};

using ValueList = std::vector<Value>;

// A dict keeping insertion order, as Python's does (tojson and items() show keys in the order they were given).
class ValueDict {
 public:
  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value value);
  size_t size() const { return entries_.size(); }
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  void clear();

  bool is_namespace = false;  // created by namespace(): the only dict whose attributes a template may assign

 private:
  std::vector<std::pair<std::string, Value>> entries_;
  absl::flat_hash_map<std::string, size_t> index_;
};

enum class ValueKind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kFunction };

class Value {
 public:
  Value() : data_(Undefined{}) {}
  Value(Undefined u) : data_(std::move(u)) {}       // NOLINT: implicit on purpose, values are built from C++ literals
  Value(None) : data_(None{}) {}                    // NOLINT
  Value(bool b) : data_(b) {}                       // NOLINT
  Value(int64_t i) : data_(i) {}                    // NOLINT
  Value(int i) : data_(static_cast<int64_t>(i)) {}  // NOLINT
  Value(double f) : data_(f) {}                     // NOLINT
  Value(std::string s) : data_(std::move(s)) {}     // NOLINT
  Value(const char* s) : data_(std::string(s)) {}   // NOLINT
  Value(ValueList list) : data_(std::make_shared<const ValueList>(std::move(list))) {}  // NOLINT
  Value(std::shared_ptr<ValueDict> dict) : data_(std::move(dict)) {}                    // NOLINT
  Value(Function fn) : data_(std::make_shared<const Function>(std::move(fn))) {}        // NOLINT

  static Value undefined(std::string hint) { return Value(Undefined{std::move(hint)}); }

  ValueKind kind() const { return static_cast<ValueKind>(data_.index()); }
  bool is_undefined() const { return kind() == ValueKind::kUndefined; }
  bool is_none() const { return kind() == ValueKind::kNone; }
  bool is_bool() const { return kind() == ValueKind::kBool; }
  bool is_int() const { return kind() == ValueKind::kInt; }
  bool is_float() const { return kind() == ValueKind::kFloat; }
  bool is_number() const { return is_int() || is_float(); }  // ints and floats; booleans are their own kind
  bool is_string() const { return kind() == ValueKind::kString; }
  bool is_list() const { return kind() == ValueKind::kList; }
  bool is_dict() const { return kind() == ValueKind::kDict; }
  bool is_function() const { return kind() == ValueKind::kFunction; }

  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return std::get<int64_t>(data_); }
  double as_float() const { return std::get<double>(data_); }
  // Numeric value of an int, float or bool (Python treats bools as ints in arithmetic and comparison).
  double as_double() const;
  const std::string& as_string() const { return std::get<std::string>(data_); }
  const ValueList& as_list() const { return *std::get<std::shared_ptr<const ValueList>>(data_); }
  const std::shared_ptr<ValueDict>& as_dict() const { return std::get<std::shared_ptr<ValueDict>>(data_); }
  const Function& as_function() const { return *std::get<std::shared_ptr<const Function>>(data_); }
  const std::string& undefined_hint() const { return std::get<Undefined>(data_).hint; }

  // Python truthiness: empty containers, zero, none and undefined are false.
  bool truthy() const;
  // Python-style type name for error messages ("str", "list", "dict", ...).
  std::string_view type_name() const;

 private:
  std::variant<Undefined, None, bool, int64_t, double, std::string, std::shared_ptr<const ValueList>,
               std::shared_ptr<ValueDict>, std::shared_ptr<const Function>>
      data_;
};

// How `{{ x }}` and the `string` filter show a value: strings as they are, undefined as nothing, none as "None",
// booleans as "True"/"False", floats as Python's repr, lists and dicts as Python's repr.
std::string value_to_string(const Value& value);
// Python repr (strings quoted); used inside list and dict reprs.
std::string value_repr(const Value& value);
// Python's repr of a float: the shortest string that reads back to the same double.
std::string float_repr(double f);

// Equality as Python's == (1 == 1.0, deep comparison of containers, undefined equals only undefined).
bool values_equal(const Value& a, const Value& b);
// Ordering for numbers and strings; an error for anything else, as Python raises TypeError.
absl::StatusOr<int> values_compare(const Value& a, const Value& b);

// Serializes as Hugging Face's tojson does (json.dumps with ensure_ascii=False): ", " and ": " separators without
// indent, "," and ": " with it; keys in insertion order, or sorted with `sort_keys`. `max_bytes` bounds the output.
absl::StatusOr<std::string> value_to_json(const Value& value, int indent, bool sort_keys, size_t max_bytes);

// Converts request JSON into a Value (objects keep the order the json type gives them). Depth is bounded so a
// deeply nested request cannot exhaust the stack.
absl::StatusOr<Value> value_from_json(const nlohmann::json& json);
absl::StatusOr<Value> value_from_json(const nlohmann::ordered_json& json);

// Builds a fresh dict value.
Value make_dict(std::vector<std::pair<std::string, Value>> entries = {});

}  // namespace strata::jinja
