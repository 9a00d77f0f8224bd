// String building for the tokenizer. Debian's Abseil has its own absl::string_view, so absl::StrCat rejects
// std::string_view arguments; this variant takes strings, string views and numbers.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

namespace strata::tokenizer_internal {

template <typename T>
void str_append_one(std::string& out, const T& value) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    out.append(std::string_view(value));
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

}  // namespace strata::tokenizer_internal
