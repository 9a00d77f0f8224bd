// String building that accepts std::string_view. Debian's Abseil 20220623 is built with its own absl::string_view
// (ABSL_OPTION_USE_STD_STRING_VIEW 0), so absl::StrCat rejects std::string_view arguments; this small variant takes
// strings, string views of either kind (e.g. absl::Status::message()), bools and numbers.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>

namespace strata {

template <typename T>
void str_append_one(std::string& out, const T& value) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    out.append(std::string_view(value));
  } else if constexpr (requires { std::string_view(value.data(), value.size()); }) {
    out.append(value.data(), value.size());  // absl::string_view
  } else if constexpr (std::same_as<T, bool>) {
    out.append(value ? "true" : "false");
  } else {
    static_assert(std::is_arithmetic_v<T>, "str_cat takes strings and numbers");
    out.append(std::to_string(value));
  }
}

template <typename... Args>
void str_append(std::string* out, const Args&... args) {
  (str_append_one(*out, args), ...);
}

template <typename... Args>
std::string str_cat(const Args&... args) {
  std::string out;
  str_append(&out, args...);
  return out;
}

}  // namespace strata
