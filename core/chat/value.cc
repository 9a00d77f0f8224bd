#include "core/chat/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/util/status_macros.h"

namespace strata::jinja {

const Value* ValueDict::find(std::string_view key) const {
  auto it = index_.find(absl::string_view(key.data(), key.size()));
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

void ValueDict::set(const std::string& key, Value value) {
  auto [it, inserted] = index_.try_emplace(key, entries_.size());
  if (inserted) {
    entries_.emplace_back(key, std::move(value));
  } else {
    entries_[it->second].second = std::move(value);
  }
}

void ValueDict::clear() {
  entries_.clear();
  index_.clear();
}

Value make_dict(std::vector<std::pair<std::string, Value>> entries) {
  auto dict = std::make_shared<ValueDict>();
  for (auto& [key, value] : entries) dict->set(key, std::move(value));
  return Value(std::move(dict));
}

double Value::as_double() const {
  switch (kind()) {
    case ValueKind::kInt:
      return static_cast<double>(as_int());
    case ValueKind::kFloat:
      return as_float();
    case ValueKind::kBool:
      return as_bool() ? 1.0 : 0.0;
    default:
      return 0.0;
  }
}

bool Value::truthy() const {
  switch (kind()) {
    case ValueKind::kUndefined:
    case ValueKind::kNone:
      return false;
    case ValueKind::kBool:
      return as_bool();
    case ValueKind::kInt:
      return as_int() != 0;
    case ValueKind::kFloat:
      return as_float() != 0.0;
    case ValueKind::kString:
      return !as_string().empty();
    case ValueKind::kList:
      return !as_list().empty();
    case ValueKind::kDict:
      return as_dict()->size() != 0;
    case ValueKind::kFunction:
      return true;
  }
  return false;
}

std::string_view Value::type_name() const {
  switch (kind()) {
    case ValueKind::kUndefined:
      return "undefined";
    case ValueKind::kNone:
      return "NoneType";
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kInt:
      return "int";
    case ValueKind::kFloat:
      return "float";
    case ValueKind::kString:
      return "str";
    case ValueKind::kList:
      return "list";
    case ValueKind::kDict:
      return as_dict()->is_namespace ? "Namespace" : "dict";
    case ValueKind::kFunction:
      return "function";
  }
  return "?";
}

std::string float_repr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  // Shortest round-trip digits in scientific form, then laid out as Python's repr does: positional notation for
  // exponents in [-4, 16), scientific otherwise, and always a ".0" on integral positional values.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e_pos = sci.find('e');
  std::string mantissa = sci.substr(0, e_pos);
  int exponent = std::stoi(sci.substr(e_pos + 1));
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  std::string out;
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out = "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    } else if (static_cast<size_t>(exponent) + 1 >= digits.size()) {
      out = digits + std::string(static_cast<size_t>(exponent) + 1 - digits.size(), '0') + ".0";
    } else {
      out =
          digits.substr(0, static_cast<size_t>(exponent) + 1) + "." + digits.substr(static_cast<size_t>(exponent) + 1);
    }
  } else {
    out = mantissa;
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    out += exp_buf;
  }
  return negative ? "-" + out : out;
}

namespace {

std::string string_repr(const std::string& s) {
  // Python picks single quotes unless the string holds a single quote and no double quote.
  char quote = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c == static_cast<unsigned char>(quote)) {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += quote;
  return out;
}

}  // namespace

namespace {

// A namespace can contain itself; past this depth a container prints as "..." (Python prints [...] for cycles).
constexpr int kMaxReprDepth = 64;

std::string to_string_impl(const Value& value, int depth);

std::string repr_impl(const Value& value, int depth) {
  if (value.is_string()) return string_repr(value.as_string());
  return to_string_impl(value, depth);
}

std::string to_string_impl(const Value& value, int depth) {
  switch (value.kind()) {
    case ValueKind::kUndefined:
      return "";
    case ValueKind::kNone:
      return "None";
    case ValueKind::kBool:
      return value.as_bool() ? "True" : "False";
    case ValueKind::kInt:
      return std::to_string(value.as_int());
    case ValueKind::kFloat:
      return float_repr(value.as_float());
    case ValueKind::kString:
      return value.as_string();
    case ValueKind::kList: {
      if (depth > kMaxReprDepth) return "[...]";
      std::string out = "[";
      const ValueList& list = value.as_list();
      for (size_t i = 0; i < list.size(); ++i) {
        if (i > 0) out += ", ";
        out += repr_impl(list[i], depth + 1);
      }
      return out + "]";
    }
    case ValueKind::kDict: {
      if (depth > kMaxReprDepth) return "{...}";
      std::string out = value.as_dict()->is_namespace ? "<Namespace {" : "{";
      bool first = true;
      for (const auto& [key, item] : value.as_dict()->entries()) {
        if (!first) out += ", ";
        first = false;
        out += string_repr(key) + ": " + repr_impl(item, depth + 1);
      }
      return out + (value.as_dict()->is_namespace ? "}>" : "}");
    }
    case ValueKind::kFunction:
      return "<function>";
  }
  return "";
}

}  // namespace

std::string value_repr(const Value& value) { return repr_impl(value, 0); }
std::string value_to_string(const Value& value) { return to_string_impl(value, 0); }

namespace {

bool equal_impl(const Value& a, const Value& b, int depth) {
  if (depth > kMaxReprDepth) return false;  // only a self-containing namespace gets this deep
  bool a_num = a.is_number() || a.is_bool();
  bool b_num = b.is_number() || b.is_bool();
  if (a_num && b_num) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    auto as_i = [](const Value& v) { return v.is_bool() ? static_cast<int64_t>(v.as_bool()) : v.as_int(); };
    return as_i(a) == as_i(b);
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::kUndefined:
    case ValueKind::kNone:
      return true;
    case ValueKind::kString:
      return a.as_string() == b.as_string();
    case ValueKind::kList: {
      const ValueList& x = a.as_list();
      const ValueList& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!equal_impl(x[i], y[i], depth + 1)) return false;
      }
      return true;
    }
    case ValueKind::kDict: {
      if (a.as_dict() == b.as_dict()) return true;
      if (a.as_dict()->size() != b.as_dict()->size()) return false;
      for (const auto& [key, item] : a.as_dict()->entries()) {
        const Value* other = b.as_dict()->find(key);
        if (other == nullptr || !equal_impl(item, *other, depth + 1)) return false;
      }
      return true;
    }
    case ValueKind::kFunction:
      return &a.as_function() == &b.as_function();
    default:
      return false;
  }
}

}  // namespace

bool values_equal(const Value& a, const Value& b) { return equal_impl(a, b, 0); }

absl::StatusOr<int> values_compare(const Value& a, const Value& b) {
  bool a_num = a.is_number() || a.is_bool();
  bool b_num = b.is_number() || b.is_bool();
  if (a_num && b_num) {
    if (a.is_int() && b.is_int()) return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
    double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list()) {
    const ValueList& x = a.as_list();
    const ValueList& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (values_equal(x[i], y[i])) continue;
      return values_compare(x[i], y[i]);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  return absl::InvalidArgumentError("cannot compare '" + std::string(a.type_name()) + "' with '" +
                                    std::string(b.type_name()) + "'");
}

namespace {

constexpr int kMaxJsonDepth = 128;

void json_escape(const std::string& s, std::string& out) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

absl::Status to_json(const Value& value, int indent, bool sort_keys, size_t max_bytes, int depth, std::string& out) {
  if (depth > kMaxJsonDepth) return absl::InvalidArgumentError("tojson: value nested too deeply");
  if (out.size() > max_bytes) return absl::ResourceExhaustedError("tojson: output too large");
  auto newline = [&](int level) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(level), ' ');
  };
  const char* item_sep = indent < 0 ? ", " : ",";
  switch (value.kind()) {
    case ValueKind::kUndefined:
      return absl::InvalidArgumentError("tojson: cannot serialize an undefined value (" + value.undefined_hint() + ")");
    case ValueKind::kFunction:
      return absl::InvalidArgumentError("tojson: cannot serialize a function");
    case ValueKind::kNone:
      out += "null";
      return absl::OkStatus();
    case ValueKind::kBool:
      out += value.as_bool() ? "true" : "false";
      return absl::OkStatus();
    case ValueKind::kInt:
      out += std::to_string(value.as_int());
      return absl::OkStatus();
    case ValueKind::kFloat: {
      double f = value.as_float();
      out += std::isnan(f) ? "NaN" : std::isinf(f) ? (f > 0 ? "Infinity" : "-Infinity") : float_repr(f);
      return absl::OkStatus();
    }
    case ValueKind::kString:
      json_escape(value.as_string(), out);
      return absl::OkStatus();
    case ValueKind::kList: {
      const ValueList& list = value.as_list();
      if (list.empty()) {
        out += "[]";
        return absl::OkStatus();
      }
      out += '[';
      for (size_t i = 0; i < list.size(); ++i) {
        if (i > 0) out += item_sep;
        newline(depth + 1);
        STRATA_RETURN_IF_ERROR(to_json(list[i], indent, sort_keys, max_bytes, depth + 1, out));
      }
      newline(depth);
      out += ']';
      return absl::OkStatus();
    }
    case ValueKind::kDict: {
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& entry : value.as_dict()->entries()) entries.push_back(&entry);
      if (entries.empty()) {
        out += "{}";
        return absl::OkStatus();
      }
      if (sort_keys) {
        std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
      }
      out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i > 0) out += item_sep;
        newline(depth + 1);
        json_escape(entries[i]->first, out);
        out += ": ";
        STRATA_RETURN_IF_ERROR(to_json(entries[i]->second, indent, sort_keys, max_bytes, depth + 1, out));
      }
      newline(depth);
      out += '}';
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

template <typename Json>
absl::StatusOr<Value> from_json(const Json& json, int depth) {
  if (depth > kMaxJsonDepth) return absl::InvalidArgumentError("chat messages nested too deeply");
  switch (json.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return Value(None{});
    case nlohmann::json::value_t::boolean:
      return Value(json.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(json.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = json.template get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<int64_t>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value(json.template get<double>());
    case nlohmann::json::value_t::string:
      return Value(json.template get<std::string>());
    case nlohmann::json::value_t::binary:
      return absl::InvalidArgumentError("binary JSON values are not supported in chat messages");
    case nlohmann::json::value_t::array: {
      ValueList list;
      list.reserve(json.size());
      for (const auto& item : json) {
        STRATA_ASSIGN_OR_RETURN(Value v, from_json(item, depth + 1));
        list.push_back(std::move(v));
      }
      return Value(std::move(list));
    }
    case nlohmann::json::value_t::object: {
      auto dict = std::make_shared<ValueDict>();
      for (auto it = json.begin(); it != json.end(); ++it) {
        STRATA_ASSIGN_OR_RETURN(Value v, from_json(it.value(), depth + 1));
        dict->set(it.key(), std::move(v));
      }
      return Value(std::move(dict));
    }
  }
  return Value(None{});
}

}  // namespace

absl::StatusOr<std::string> value_to_json(const Value& value, int indent, bool sort_keys, size_t max_bytes) {
  std::string out;
  STRATA_RETURN_IF_ERROR(to_json(value, indent, sort_keys, max_bytes, 0, out));
  if (out.size() > max_bytes) return absl::ResourceExhaustedError("tojson: output too large");
  return out;
}

absl::StatusOr<Value> value_from_json(const nlohmann::json& json) { return from_json(json, 0); }
absl::StatusOr<Value> value_from_json(const nlohmann::ordered_json& json) { return from_json(json, 0); }

}  // namespace strata::jinja
