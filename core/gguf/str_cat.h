// Message building for the GGUF library. Debian's Abseil is built with its own absl::string_view (not
// std::string_view), so absl::StrCat rejects std::string_view arguments; this small variant accepts them.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>

namespace strata::gguf_internal {

template <typename T>
void str_append_one(std::string& out, const T& value) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    out.append(std::string_view(value));
  } else if constexpr (requires { std::string_view(value.data(), value.size()); }) {
    out.append(value.data(), value.size());  // absl::string_view, e.g. absl::Status::message()
  } else if constexpr (std::same_as<T, bool>) {
    out.append(value ? "true" : "false");
  } else {
    static_assert(std::is_arithmetic_v<T>, "str_cat takes strings and numbers");
    out.append(std::to_string(value));
  }
}

template <typename... Args>
std::string str_cat(const Args&... args) {
  std::string out;
  (str_append_one(out, args), ...);
  return out;
}

}  // namespace strata::gguf_internal
