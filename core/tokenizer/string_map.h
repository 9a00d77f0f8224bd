// Hash maps keyed by strings and looked up by std::string_view without a copy. Debian's Abseil has its own
// absl::string_view, so its default string hashing does not accept std::string_view keys.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace strata {

struct StringViewHash {
  using is_transparent = void;
  // absl hashes its own string_view natively; for std::string_view it would fall back to the slower std::hash.
  size_t operator()(std::string_view s) const { return absl::Hash<absl::string_view>{}({s.data(), s.size()}); }
};

struct StringViewEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

template <typename Value>
using StringMap = absl::flat_hash_map<std::string, Value, StringViewHash, StringViewEq>;

template <typename Value>
using StringViewMap = absl::flat_hash_map<std::string_view, Value, StringViewHash, StringViewEq>;

}  // namespace strata
