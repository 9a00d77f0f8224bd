#include "core/quant/type_errors.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace strata {

std::string quant_type_label(GgmlType type) {
  if (const GgmlTypeInfo* info = ggml_type_info(type)) return std::string(info->name);
  return absl::StrCat("type ", static_cast<uint32_t>(type));
}

absl::Status check_row_length(const char* what, GgmlType type, int64_t n, int64_t block_size) {
  if (n < 0 || n % block_size != 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, " ", quant_type_label(type), ": row length ", n,
                                                   " is not a non-negative multiple of the block size ", block_size));
  }
  return absl::OkStatus();
}

}  // namespace strata
