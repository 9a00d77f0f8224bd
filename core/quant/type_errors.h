// Shared argument checks of the row-level quant entry points.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "core/gguf/ggml_type.h"

namespace strata {

// "Q4_K" for a known type, "type 42" otherwise: error messages must name what the file asked for.
std::string quant_type_label(GgmlType type);

// InvalidArgument unless 0 <= n and n % block_size == 0; `what` names the operation ("dequantize").
absl::Status check_row_length(const char* what, GgmlType type, int64_t n, int64_t block_size);

}  // namespace strata
