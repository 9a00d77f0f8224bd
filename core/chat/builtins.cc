#include "core/chat/builtins.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "core/util/status_macros.h"

namespace strata::jinja {
namespace {

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_alpha(char c) { return is_lower(c) || is_upper(c); }
char to_upper(char c) { return is_lower(c) ? static_cast<char>(c - 'a' + 'A') : c; }
char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

std::string upper(std::string s) {
  for (char& c : s) c = to_upper(c);
  return s;
}
std::string lower(std::string s) {
  for (char& c : s) c = to_lower(c);
  return s;
}
std::string capitalize(const std::string& s) {
  std::string out = lower(s);
  if (!out.empty()) out[0] = to_upper(out[0]);
  return out;
}
// Python's str.title(): a letter is upper-cased when the character before it is not a letter.
std::string python_title(const std::string& s) {
  std::string out = s;
  bool prev_cased = false;
  for (char& c : out) {
    if (is_alpha(c)) {
      c = prev_cased ? to_lower(c) : to_upper(c);
      prev_cased = true;
    } else {
      prev_cased = false;
    }
  }
  return out;
}
// Jinja's title filter: words start after whitespace, '-', '(', '{', '[' or '<'; each word is capitalized.
std::string jinja_title(const std::string& s) {
  std::string out = s;
  bool word_start = true;
  for (char& c : out) {
    bool sep = is_ascii_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
    if (sep) {
      word_start = true;
      continue;
    }
    c = word_start ? to_upper(c) : to_lower(c);
    word_start = false;
  }
  return out;
}

std::string strip(const std::string& s, const Value* chars, bool left, bool right) {
  auto strip_char = [&](char c) {
    if (chars == nullptr || chars->is_none() || chars->is_undefined()) return is_ascii_space(c);
    return chars->is_string() && chars->as_string().find(c) != std::string::npos;
  };
  size_t b = 0, e = s.size();
  if (left) {
    while (b < e && strip_char(s[b])) ++b;
  }
  if (right) {
    while (e > b && strip_char(s[e - 1])) --e;
  }
  return s.substr(b, e - b);
}

// Argument `pos` by position, else by keyword `name`; null when absent.
const Value* arg(const CallArgs& args, size_t pos, const char* name) {
  if (pos < args.positional.size()) return &args.positional[pos];
  for (const auto& [key, value] : args.keyword) {
    if (key == name) return &value;
  }
  return nullptr;
}
bool arg_bool(const CallArgs& args, size_t pos, const char* name, bool def) {
  const Value* v = arg(args, pos, name);
  return v == nullptr ? def : v->truthy();
}

absl::StatusOr<std::string> replace_all(const std::string& s, const std::string& from, const std::string& to,
                                        int64_t count, size_t max_bytes) {
  std::string out;
  int64_t done = 0;
  if (from.empty()) {  // Python inserts `to` around every character
    std::vector<size_t> offsets = utf8_offsets(s);
    for (size_t i = 0; i + 1 < offsets.size(); ++i) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      out.append(s, offsets[i], offsets[i + 1] - offsets[i]);
      if (out.size() > max_bytes) return absl::ResourceExhaustedError("replace: string too large");
    }
    if (count < 0 || done < count) out += to;
    return out;
  }
  size_t pos = 0;
  while (true) {
    size_t hit = (count < 0 || done < count) ? s.find(from, pos) : std::string::npos;
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += to;
    ++done;
    pos = hit + from.size();
    if (out.size() > max_bytes) return absl::ResourceExhaustedError("replace: string too large");
  }
  out.append(s, pos, std::string::npos);
  if (out.size() > max_bytes) return absl::ResourceExhaustedError("replace: string too large");
  return out;
}

ValueList split_string(const std::string& s, const Value* sep, int64_t maxsplit) {
  ValueList out;
  if (sep == nullptr || sep->is_none() || sep->is_undefined()) {
    size_t i = 0;
    while (true) {
      while (i < s.size() && is_ascii_space(s[i])) ++i;
      if (i >= s.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
        size_t e = s.size();
        while (e > i && is_ascii_space(s[e - 1])) --e;
        out.push_back(Value(s.substr(i, e - i)));
        break;
      }
      size_t j = i;
      while (j < s.size() && !is_ascii_space(s[j])) ++j;
      out.push_back(Value(s.substr(i, j - i)));
      i = j;
    }
    return out;
  }
  const std::string& d = sep->as_string();
  size_t pos = 0;
  while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
    size_t hit = s.find(d, pos);
    if (hit == std::string::npos) break;
    out.push_back(Value(s.substr(pos, hit - pos)));
    pos = hit + d.size();
  }
  out.push_back(Value(s.substr(pos)));
  return out;
}

// Sort key comparison for sort/dictsort/unique: strings compare case-insensitively unless asked otherwise.
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value(lower(v.as_string()));
  return v;
}

absl::StatusOr<Value> attribute_path(const Value& object, const std::string& path) {
  Value current = object;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    Value key(part);
    int64_t index = 0;
    auto res = std::from_chars(part.data(), part.data() + part.size(), index);
    if (res.ec == std::errc() && res.ptr == part.data() + part.size() && current.is_list()) key = Value(index);
    STRATA_ASSIGN_OR_RETURN(current, get_item(current, key));
    if (dot == std::string::npos) return current;
    start = dot + 1;
  }
}

absl::Status sort_values(ValueList& items, bool case_sensitive, bool reverse, const std::string& attribute) {
  std::vector<std::pair<Value, size_t>> keyed;
  for (size_t i = 0; i < items.size(); ++i) {
    Value k = items[i];
    if (!attribute.empty()) {
      STRATA_ASSIGN_OR_RETURN(k, attribute_path(items[i], attribute));
    }
    keyed.emplace_back(sort_key(k, case_sensitive), i);
  }
  absl::Status error;
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    absl::StatusOr<int> c = values_compare(a.first, b.first);
    if (!c.ok()) {
      error = c.status();
      return false;
    }
    return reverse ? *c > 0 : *c < 0;
  });
  STRATA_RETURN_IF_ERROR(error);
  ValueList out;
  for (auto& [k, i] : keyed) out.push_back(items[i]);
  items = std::move(out);
  return absl::OkStatus();
}

absl::StatusOr<Value> to_int(const Value& v, const Value* def) {
  Value fallback = def != nullptr ? *def : Value(0);
  switch (v.kind()) {
    case ValueKind::kInt:
      return v;
    case ValueKind::kBool:
      return Value(static_cast<int64_t>(v.as_bool()));
    case ValueKind::kFloat: {
      double f = v.as_float();
      if (!std::isfinite(f) || std::fabs(f) >= 9.2e18) return fallback;
      return Value(static_cast<int64_t>(f));
    }
    case ValueKind::kString: {
      std::string s = strip(v.as_string(), nullptr, true, true);
      int64_t i = 0;
      const char* b = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
      auto res = std::from_chars(b, s.data() + s.size(), i);
      if (res.ec == std::errc() && res.ptr == s.data() + s.size() && !s.empty()) return Value(i);
      double f = 0;
      auto fres = std::from_chars(b, s.data() + s.size(), f);
      if (fres.ec == std::errc() && fres.ptr == s.data() + s.size() && std::isfinite(f) && std::fabs(f) < 9.2e18) {
        return Value(static_cast<int64_t>(f));
      }
      return fallback;
    }
    default:
      return fallback;
  }
}

absl::StatusOr<Value> to_float(const Value& v, const Value* def) {
  Value fallback = def != nullptr ? *def : Value(0.0);
  if (v.is_float()) return v;
  if (v.is_int() || v.is_bool()) return Value(v.as_double());
  if (v.is_string()) {
    std::string s = strip(v.as_string(), nullptr, true, true);
    double f = 0;
    const char* b = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
    auto res = std::from_chars(b, s.data() + s.size(), f);
    if (res.ec == std::errc() && res.ptr == s.data() + s.size() && !s.empty()) return Value(f);
  }
  return fallback;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

absl::StatusOr<Value> indent(const std::string& s, const CallArgs& args, size_t max_bytes) {
  const Value* width = arg(args, 0, "width");
  std::string pad;
  if (width == nullptr) {
    pad = "    ";
  } else if (width->is_string()) {
    pad = width->as_string();
  } else if (width->is_int()) {
    if (width->as_int() < 0 || static_cast<uint64_t>(width->as_int()) > 1024) {
      return absl::InvalidArgumentError("indent width must be between 0 and 1024");
    }
    pad = std::string(static_cast<size_t>(width->as_int()), ' ');
  } else {
    return absl::InvalidArgumentError("indent width must be an integer or a string");
  }
  bool first = arg_bool(args, 1, "first", false);
  bool blank = arg_bool(args, 2, "blank", false);
  // As Jinja: split into lines (a trailing newline does not open a new line), pad every line after the first
  // unless it is empty (or always with blank=True), optionally the first too.
  std::vector<std::string> lines;
  size_t start = 0;
  std::string text = s + "\n";
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += '\n';
      if (blank || !lines[i].empty()) out += pad;
    }
    out += lines[i];
    if (out.size() > max_bytes) return absl::ResourceExhaustedError("indent: string too large");
  }
  if (first) out = pad + out;
  return Value(std::move(out));
}

absl::StatusOr<Value> select_items(const Value& input, CallArgs& args, bool by_attribute, bool keep_matching) {
  STRATA_ASSIGN_OR_RETURN(ValueList items, iterate(input));
  size_t next = 0;
  std::string attribute;
  if (by_attribute) {
    if (args.positional.empty() || !args.positional[0].is_string()) {
      return absl::InvalidArgumentError("selectattr/rejectattr need an attribute name");
    }
    attribute = args.positional[0].as_string();
    next = 1;
  }
  std::string test;
  if (next < args.positional.size()) {
    if (!args.positional[next].is_string()) return absl::InvalidArgumentError("the test name must be a string");
    test = args.positional[next].as_string();
    ++next;
  }
  CallArgs test_args;
  test_args.positional.assign(
      args.positional.begin() + static_cast<std::ptrdiff_t>(std::min(next, args.positional.size())),
      args.positional.end());
  ValueList out;
  for (const Value& item : items) {
    Value subject = item;
    if (by_attribute) {
      STRATA_ASSIGN_OR_RETURN(subject, attribute_path(item, attribute));
    }
    bool pass = false;
    if (test.empty()) {
      pass = subject.truthy();
    } else {
      CallArgs copy = test_args;
      STRATA_ASSIGN_OR_RETURN(pass, apply_test(test, subject, copy));
    }
    if (pass == keep_matching) out.push_back(item);
  }
  return Value(std::move(out));
}

absl::StatusOr<Value> map_items(const Value& input, CallArgs& args, const RenderLimits& limits) {
  STRATA_ASSIGN_OR_RETURN(ValueList items, iterate(input));
  ValueList out;
  if (const Value* attribute = arg(args, 1000, "attribute"); attribute != nullptr && args.positional.empty()) {
    if (!attribute->is_string()) return absl::InvalidArgumentError("map attribute must be a string");
    const Value* def = arg(args, 1000, "default");
    for (const Value& item : items) {
      STRATA_ASSIGN_OR_RETURN(Value v, attribute_path(item, attribute->as_string()));
      if (v.is_undefined() && def != nullptr) v = *def;
      out.push_back(std::move(v));
    }
    return Value(std::move(out));
  }
  if (args.positional.empty() || !args.positional[0].is_string()) {
    return absl::InvalidArgumentError("map needs a filter name or attribute=");
  }
  std::string filter = args.positional[0].as_string();
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keyword = args.keyword;
  for (const Value& item : items) {
    CallArgs copy = rest;
    STRATA_ASSIGN_OR_RETURN(Value v, apply_filter(filter, item, copy, limits));
    out.push_back(std::move(v));
  }
  return Value(std::move(out));
}

}  // namespace

std::vector<size_t> utf8_offsets(std::string_view s) {
  std::vector<size_t> offsets;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 || offsets.empty()) offsets.push_back(i);
  }
  offsets.push_back(s.size());
  return offsets;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 || i == 0) ++n;
  }
  return n;
}

absl::StatusOr<ValueList> iterate(const Value& value) {
  switch (value.kind()) {
    case ValueKind::kUndefined:
      return ValueList{};
    case ValueKind::kList:
      return value.as_list();
    case ValueKind::kDict: {
      ValueList keys;
      for (const auto& entry : value.as_dict()->entries()) keys.push_back(Value(entry.first));
      return keys;
    }
    case ValueKind::kString: {
      ValueList chars;
      const std::string& s = value.as_string();
      std::vector<size_t> offsets = utf8_offsets(s);
      for (size_t i = 0; i + 1 < offsets.size(); ++i)
        chars.push_back(Value(s.substr(offsets[i], offsets[i + 1] - offsets[i])));
      return chars;
    }
    default:
      return absl::InvalidArgumentError("'" + std::string(value.type_name()) + "' object is not iterable");
  }
}

absl::StatusOr<Value> get_attribute(const Value& object, const std::string& name) {
  if (object.is_undefined()) {
    return absl::InvalidArgumentError(object.undefined_hint().empty() ? "value is undefined" : object.undefined_hint());
  }
  if (object.is_dict()) {
    if (const Value* v = object.as_dict()->find(name)) return *v;
  }
  return Value::undefined("'" + std::string(object.type_name()) + " object' has no attribute '" + name + "'");
}

absl::StatusOr<Value> get_item(const Value& object, const Value& key) {
  if (object.is_undefined()) {
    return absl::InvalidArgumentError(object.undefined_hint().empty() ? "value is undefined" : object.undefined_hint());
  }
  if (key.is_string()) {
    if (object.is_dict()) {
      if (const Value* v = object.as_dict()->find(key.as_string())) return *v;
      return Value::undefined("'dict object' has no attribute '" + key.as_string() + "'");
    }
    return get_attribute(object, key.as_string());
  }
  if (key.is_int() || key.is_bool()) {
    int64_t i = key.is_int() ? key.as_int() : static_cast<int64_t>(key.as_bool());
    auto missing = [&]() {
      return Value::undefined("'" + std::string(object.type_name()) + " object' has no element " + std::to_string(i));
    };
    if (object.is_list()) {
      int64_t n = static_cast<int64_t>(object.as_list().size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return missing();
      return object.as_list()[static_cast<size_t>(i)];
    }
    if (object.is_string()) {
      std::vector<size_t> offsets = utf8_offsets(object.as_string());
      int64_t n = static_cast<int64_t>(offsets.size()) - 1;
      if (i < 0) i += n;
      if (i < 0 || i >= n) return missing();
      size_t b = offsets[static_cast<size_t>(i)];
      return Value(object.as_string().substr(b, offsets[static_cast<size_t>(i) + 1] - b));
    }
    return missing();
  }
  return Value::undefined("'" + std::string(object.type_name()) + " object' has no item of type '" +
                          std::string(key.type_name()) + "'");
}

absl::StatusOr<bool> apply_test(const std::string& name, const Value& v, CallArgs& args) {
  const Value* other = arg(args, 0, "value");
  auto need_other = [&]() -> absl::Status {
    if (other == nullptr) return absl::InvalidArgumentError("test '" + name + "' needs an argument");
    return absl::OkStatus();
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "number") return v.is_number() || v.is_bool();  // Python's Number includes bool
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict() && !v.as_dict()->is_namespace;
  if (name == "iterable") return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
  if (name == "sequence") return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
  if (name == "callable") return v.is_function();
  if (name == "escaped") return false;
  if (name == "lower") return v.is_string() && lower(v.as_string()) == v.as_string();
  if (name == "upper") return v.is_string() && upper(v.as_string()) == v.as_string();
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (!v.is_int()) return absl::InvalidArgumentError("test '" + name + "' needs an integer");
    int64_t d = 2;
    if (name == "divisibleby") {
      STRATA_RETURN_IF_ERROR(need_other());
      if (!other->is_int() || other->as_int() == 0)
        return absl::InvalidArgumentError("divisibleby needs a non-zero integer");
      d = other->as_int();
      return v.as_int() % d == 0;
    }
    return (v.as_int() % 2 == 0) == (name == "even");
  }
  if (name == "eq" || name == "equalto" || name == "==" || name == "sameas") {
    STRATA_RETURN_IF_ERROR(need_other());
    if (name == "sameas" && v.kind() != other->kind()) return false;
    return values_equal(v, *other);
  }
  if (name == "ne" || name == "!=") {
    STRATA_RETURN_IF_ERROR(need_other());
    return !values_equal(v, *other);
  }
  if (name == "lt" || name == "lessthan" || name == "<" || name == "le" || name == "<=" || name == "gt" ||
      name == "greaterthan" || name == ">" || name == "ge" || name == ">=") {
    STRATA_RETURN_IF_ERROR(need_other());
    STRATA_ASSIGN_OR_RETURN(int c, values_compare(v, *other));
    if (name == "lt" || name == "lessthan" || name == "<") return c < 0;
    if (name == "le" || name == "<=") return c <= 0;
    if (name == "gt" || name == "greaterthan" || name == ">") return c > 0;
    return c >= 0;
  }
  if (name == "in") {
    STRATA_RETURN_IF_ERROR(need_other());
    if (other->is_string()) return v.is_string() && other->as_string().find(v.as_string()) != std::string::npos;
    if (other->is_dict()) return v.is_string() && other->as_dict()->find(v.as_string()) != nullptr;
    STRATA_ASSIGN_OR_RETURN(ValueList items, iterate(*other));
    for (const Value& item : items) {
      if (values_equal(item, v)) return true;
    }
    return false;
  }
  return absl::NotFoundError("unknown test '" + name + "'");
}

absl::StatusOr<Value> apply_filter(const std::string& name, const Value& v, CallArgs& args,
                                   const RenderLimits& limits) {
  const size_t max_bytes = limits.max_output_bytes;
  if (name == "safe") return v;
  if (name == "string") return Value(value_to_string(v));
  if (name == "default" || name == "d") {
    const Value* def = arg(args, 0, "default_value");
    bool boolean = arg_bool(args, 1, "boolean", false);
    if (v.is_undefined() || (boolean && !v.truthy())) return def != nullptr ? *def : Value("");
    return v;
  }
  if (name == "trim") {
    return Value(strip(value_to_string(v), arg(args, 0, "chars"), true, true));
  }
  if (name == "upper") return Value(upper(value_to_string(v)));
  if (name == "lower") return Value(lower(value_to_string(v)));
  if (name == "capitalize") return Value(capitalize(value_to_string(v)));
  if (name == "title") return Value(jinja_title(value_to_string(v)));
  if (name == "escape" || name == "e") return Value(html_escape(value_to_string(v)));
  if (name == "length" || name == "count") {
    if (v.is_string()) return Value(static_cast<int64_t>(utf8_length(v.as_string())));
    if (v.is_list()) return Value(static_cast<int64_t>(v.as_list().size()));
    if (v.is_dict()) return Value(static_cast<int64_t>(v.as_dict()->size()));
    if (v.is_undefined()) return Value(0);
    return absl::InvalidArgumentError("object of type '" + std::string(v.type_name()) + "' has no len()");
  }
  if (name == "tojson") {
    const Value* indent_arg = arg(args, 0, "indent");
    int indent_width = -1;
    if (indent_arg != nullptr && !indent_arg->is_none()) {
      if (!indent_arg->is_int() || indent_arg->as_int() < 0 || indent_arg->as_int() > 64) {
        return absl::InvalidArgumentError("tojson indent must be an integer between 0 and 64");
      }
      indent_width = static_cast<int>(indent_arg->as_int());
    }
    STRATA_ASSIGN_OR_RETURN(std::string json,
                            value_to_json(v, indent_width, arg_bool(args, 1000, "sort_keys", false), max_bytes));
    return Value(std::move(json));
  }
  if (name == "replace") {
    const Value* from = arg(args, 0, "old");
    const Value* to = arg(args, 1, "new");
    const Value* count = arg(args, 2, "count");
    if (from == nullptr || to == nullptr || !from->is_string()) {
      return absl::InvalidArgumentError("replace needs two string arguments");
    }
    STRATA_ASSIGN_OR_RETURN(std::string s,
                            replace_all(value_to_string(v), from->as_string(), value_to_string(*to),
                                        count != nullptr && count->is_int() ? count->as_int() : -1, max_bytes));
    return Value(std::move(s));
  }
  if (name == "join") {
    const Value* sep = arg(args, 0, "d");
    const Value* attribute = arg(args, 1, "attribute");
    STRATA_ASSIGN_OR_RETURN(ValueList items, iterate(v));
    std::string d = sep != nullptr ? value_to_string(*sep) : "";
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += d;
      Value item = items[i];
      if (attribute != nullptr && attribute->is_string()) {
        STRATA_ASSIGN_OR_RETURN(item, attribute_path(item, attribute->as_string()));
      }
      out += value_to_string(item);
      if (out.size() > max_bytes) return absl::ResourceExhaustedError("join: string too large");
    }
    return Value(std::move(out));
  }
  if (name == "first" || name == "last") {
    STRATA_ASSIGN_OR_RETURN(ValueList items, iterate(v));
    if (items.empty()) return Value::undefined("'" + name + "' of an empty sequence");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "reverse") {
    if (v.is_string()) {
      std::vector<size_t> offsets = utf8_offsets(v.as_string());
      std::string out;
      for (size_t i = offsets.size() - 1; i > 0; --i)
        out.append(v.as_string(), offsets[i - 1], offsets[i] - offsets[i - 1]);
      return Value(std::move(out));
    }
    STRATA_ASSIGN_OR_RETURN(ValueList items, iterate(v));
    std::reverse(items.begin(), items.end());
    return Value(std::move(items));
  }
  if (name == "list") {
    STRATA_ASSIGN_OR_RETURN(ValueList items, iterate(v));
    return Value(std::move(items));
  }
  if (name == "items") {
    if (v.is_undefined()) return Value(ValueList{});
    if (!v.is_dict()) return absl::InvalidArgumentError("items expects a mapping");
    ValueList out;
    for (const auto& [key, item] : v.as_dict()->entries()) out.push_back(Value(ValueList{Value(key), item}));
    return Value(std::move(out));
  }
  if (name == "dictsort") {
    if (!v.is_dict()) return absl::InvalidArgumentError("dictsort expects a mapping");
    bool case_sensitive = arg_bool(args, 0, "case_sensitive", false);
    const Value* by = arg(args, 1, "by");
    bool by_value = by != nullptr && by->is_string() && by->as_string() == "value";
    bool reverse = arg_bool(args, 2, "reverse", false);
    ValueList pairs;
    for (const auto& [key, item] : v.as_dict()->entries()) pairs.push_back(Value(ValueList{Value(key), item}));
    STRATA_RETURN_IF_ERROR(sort_values(pairs, case_sensitive, reverse, by_value ? "1" : "0"));
    return Value(std::move(pairs));
  }
  if (name == "sort") {
    STRATA_ASSIGN_OR_RETURN(ValueList items, iterate(v));
    const Value* attribute = arg(args, 2, "attribute");
    STRATA_RETURN_IF_ERROR(sort_values(items, arg_bool(args, 1, "case_sensitive", false),
                                       arg_bool(args, 0, "reverse", false),
                                       attribute != nullptr && attribute->is_string() ? attribute->as_string() : ""));
    return Value(std::move(items));
  }
  if (name == "unique") {
    STRATA_ASSIGN_OR_RETURN(ValueList items, iterate(v));
    bool case_sensitive = arg_bool(args, 0, "case_sensitive", false);
    const Value* attribute = arg(args, 1, "attribute");
    ValueList out, seen;
    for (const Value& item : items) {
      Value k = item;
      if (attribute != nullptr && attribute->is_string()) {
        STRATA_ASSIGN_OR_RETURN(k, attribute_path(item, attribute->as_string()));
      }
      k = sort_key(k, case_sensitive);
      bool dup = false;
      for (const Value& s : seen) dup = dup || values_equal(s, k);
      if (dup) continue;
      seen.push_back(k);
      out.push_back(item);
    }
    return Value(std::move(out));
  }
  if (name == "selectattr" || name == "rejectattr") return select_items(v, args, true, name == "selectattr");
  if (name == "select" || name == "reject") return select_items(v, args, false, name == "select");
  if (name == "map") return map_items(v, args, limits);
  if (name == "attr") {
    const Value* attribute = arg(args, 0, "name");
    if (attribute == nullptr || !attribute->is_string()) return absl::InvalidArgumentError("attr needs a name");
    return get_attribute(v, attribute->as_string());
  }
  if (name == "int") return to_int(v, arg(args, 0, "default"));
  if (name == "float") return to_float(v, arg(args, 0, "default"));
  if (name == "abs") {
    if (v.is_int()) {
      if (v.as_int() == INT64_MIN) return absl::InvalidArgumentError("integer overflow");
      return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    }
    if (v.is_float()) return Value(std::fabs(v.as_float()));
    if (v.is_bool()) return Value(static_cast<int64_t>(v.as_bool()));
    return absl::InvalidArgumentError("bad operand type for abs(): '" + std::string(v.type_name()) + "'");
  }
  if (name == "round") {
    if (!v.is_number() && !v.is_bool()) return absl::InvalidArgumentError("round expects a number");
    const Value* precision = arg(args, 0, "precision");
    const Value* method = arg(args, 1, "method");
    int64_t p = precision != nullptr && precision->is_int() ? std::clamp<int64_t>(precision->as_int(), -300, 300) : 0;
    std::string m = method != nullptr && method->is_string() ? method->as_string() : "common";
    double scale = std::pow(10.0, static_cast<double>(p));
    double x = v.as_double() * scale;
    if (m == "ceil") {
      x = std::ceil(x);
    } else if (m == "floor") {
      x = std::floor(x);
    } else if (m == "common") {
      x = std::nearbyint(x);  // Python's round(): ties to even
    } else {
      return absl::InvalidArgumentError("round method must be 'common', 'ceil' or 'floor'");
    }
    return Value(x / scale);
  }
  if (name == "sum") {
    STRATA_ASSIGN_OR_RETURN(ValueList items, iterate(v));
    const Value* attribute = arg(args, 0, "attribute");
    const Value* start = arg(args, 1, "start");
    Value total = start != nullptr ? *start : Value(0);
    for (const Value& item : items) {
      Value x = item;
      if (attribute != nullptr && attribute->is_string()) {
        STRATA_ASSIGN_OR_RETURN(x, attribute_path(item, attribute->as_string()));
      }
      if (!(x.is_number() || x.is_bool()) || !(total.is_number() || total.is_bool())) {
        return absl::InvalidArgumentError("sum expects numbers");
      }
      if (total.is_float() || x.is_float()) {
        total = Value(total.as_double() + x.as_double());
      } else {
        int64_t r = 0;
        int64_t a = total.is_int() ? total.as_int() : total.as_bool(), b = x.is_int() ? x.as_int() : x.as_bool();
        if (__builtin_add_overflow(a, b, &r)) return absl::InvalidArgumentError("integer overflow");
        total = Value(r);
      }
    }
    return total;
  }
  if (name == "min" || name == "max") {
    STRATA_ASSIGN_OR_RETURN(ValueList items, iterate(v));
    if (items.empty()) return Value::undefined("'" + name + "' of an empty sequence");
    STRATA_RETURN_IF_ERROR(sort_values(items, arg_bool(args, 0, "case_sensitive", false), false, ""));
    return name == "min" ? items.front() : items.back();
  }
  if (name == "indent") return indent(value_to_string(v), args, max_bytes);
  if (name == "wordcount") return Value(static_cast<int64_t>(split_string(value_to_string(v), nullptr, -1).size()));
  return absl::NotFoundError("unknown filter '" + name + "'");
}

bool has_method(const Value& object, const std::string& name) {
  static const char* kStringMethods[] = {"strip",   "lstrip",  "rstrip",     "split",   "startswith", "endswith",
                                         "upper",   "lower",   "replace",    "title",   "capitalize", "find",
                                         "count",   "join",    "isdigit",    "isalpha", "isspace",    "isalnum",
                                         "islower", "isupper", "splitlines", "rsplit"};
  static const char* kDictMethods[] = {"items", "keys", "values", "get"};
  if (object.is_string()) {
    for (const char* m : kStringMethods) {
      if (name == m) return true;
    }
  } else if (object.is_dict() && !object.as_dict()->is_namespace) {
    for (const char* m : kDictMethods) {
      if (name == m) return true;
    }
  }
  return false;
}

absl::StatusOr<Value> call_method(const Value& object, const std::string& name, CallArgs& args,
                                  const RenderLimits& limits) {
  if (object.is_dict()) {
    const ValueDict& dict = *object.as_dict();
    if (name == "get") {
      const Value* key = arg(args, 0, "key");
      const Value* def = arg(args, 1, "default");
      if (key == nullptr) return absl::InvalidArgumentError("get() needs a key");
      const Value* found = key->is_string() ? dict.find(key->as_string()) : nullptr;
      if (found != nullptr) return *found;
      return def != nullptr ? *def : Value(None{});
    }
    ValueList out;
    for (const auto& [key, item] : dict.entries()) {
      if (name == "items") {
        out.push_back(Value(ValueList{Value(key), item}));
      } else if (name == "keys") {
        out.push_back(Value(key));
      } else {
        out.push_back(item);
      }
    }
    return Value(std::move(out));
  }
  const std::string& s = object.as_string();
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    return Value(strip(s, arg(args, 0, "chars"), name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    const Value* sep = arg(args, 0, "sep");
    const Value* maxsplit = arg(args, 1, "maxsplit");
    if (sep != nullptr && !sep->is_none() && (!sep->is_string() || sep->as_string().empty())) {
      return absl::InvalidArgumentError("split() separator must be a non-empty string");
    }
    int64_t n = maxsplit != nullptr && maxsplit->is_int() ? maxsplit->as_int() : -1;
    if (name == "rsplit" && n >= 0) return absl::InvalidArgumentError("rsplit() with maxsplit is not supported");
    return Value(split_string(s, sep, n));
  }
  if (name == "splitlines") {
    ValueList out;
    size_t start = 0;
    while (start < s.size()) {
      size_t nl = s.find('\n', start);
      if (nl == std::string::npos) nl = s.size();
      out.push_back(Value(s.substr(start, nl - start)));
      start = nl + 1;
    }
    return Value(std::move(out));
  }
  if (name == "startswith" || name == "endswith") {
    const Value* x = arg(args, 0, "prefix");
    if (x == nullptr) return absl::InvalidArgumentError(name + "() needs an argument");
    ValueList candidates = x->is_list() ? x->as_list() : ValueList{*x};
    for (const Value& c : candidates) {
      if (!c.is_string()) return absl::InvalidArgumentError(name + "() arguments must be strings");
      const std::string& p = c.as_string();
      bool hit = name == "startswith" ? s.compare(0, p.size(), p) == 0
                                      : (s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0);
      if (hit) return Value(true);
    }
    return Value(false);
  }
  if (name == "upper") return Value(upper(s));
  if (name == "lower") return Value(lower(s));
  if (name == "title") return Value(python_title(s));
  if (name == "capitalize") return Value(capitalize(s));
  if (name == "replace") {
    const Value* from = arg(args, 0, "old");
    const Value* to = arg(args, 1, "new");
    const Value* count = arg(args, 2, "count");
    if (from == nullptr || to == nullptr || !from->is_string() || !to->is_string()) {
      return absl::InvalidArgumentError("replace() needs two strings");
    }
    STRATA_ASSIGN_OR_RETURN(std::string out, replace_all(s, from->as_string(), to->as_string(),
                                                         count != nullptr && count->is_int() ? count->as_int() : -1,
                                                         limits.max_output_bytes));
    return Value(std::move(out));
  }
  if (name == "find" || name == "count") {
    const Value* sub = arg(args, 0, "sub");
    if (sub == nullptr || !sub->is_string()) return absl::InvalidArgumentError(name + "() needs a string");
    const std::string& x = sub->as_string();
    if (name == "find") {
      size_t hit = s.find(x);
      return Value(hit == std::string::npos ? int64_t{-1} : static_cast<int64_t>(utf8_length(s.substr(0, hit))));
    }
    if (x.empty()) return Value(static_cast<int64_t>(utf8_length(s) + 1));
    int64_t n = 0;
    for (size_t pos = s.find(x); pos != std::string::npos; pos = s.find(x, pos + x.size())) ++n;
    return Value(n);
  }
  if (name == "join") {
    const Value* items_arg = arg(args, 0, "iterable");
    if (items_arg == nullptr) return absl::InvalidArgumentError("join() needs an iterable");
    STRATA_ASSIGN_OR_RETURN(ValueList items, iterate(*items_arg));
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) return absl::InvalidArgumentError("join() items must be strings");
      if (i > 0) out += s;
      out += items[i].as_string();
      if (out.size() > limits.max_output_bytes) return absl::ResourceExhaustedError("join: string too large");
    }
    return Value(std::move(out));
  }
  auto all = [&](auto pred) {
    if (s.empty()) return false;
    for (char c : s) {
      if (!pred(c)) return false;
    }
    return true;
  };
  if (name == "isdigit") return Value(all([](char c) { return c >= '0' && c <= '9'; }));
  if (name == "isalpha") return Value(all([](char c) { return is_alpha(c); }));
  if (name == "isalnum") return Value(all([](char c) { return is_alpha(c) || (c >= '0' && c <= '9'); }));
  if (name == "isspace") return Value(all([](char c) { return is_ascii_space(c); }));
  if (name == "islower") return Value(lower(s) == s && upper(s) != s);
  if (name == "isupper") return Value(upper(s) == s && lower(s) != s);
  return absl::NotFoundError("unknown method '" + name + "'");
}

}  // namespace strata::jinja
