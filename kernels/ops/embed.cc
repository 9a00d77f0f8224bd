#include <string>

#include "absl/strings/str_cat.h"
#include "core/quant/dequantize.h"
#include "kernels/ops/cpu_ops.h"

namespace strata::cpu {

absl::Status embed(const WeightTensor& table, const int32_t* ids, int64_t m, float scale, float* y) {
  for (int64_t i = 0; i < m; ++i) {
    if (ids[i] < 0 || ids[i] >= table.n_rows) {
      return absl::InvalidArgumentError(
          absl::StrCat("embed: token id ", ids[i], " outside vocabulary of ", table.n_rows));
    }
    const auto* row = static_cast<const uint8_t*>(table.data) + static_cast<size_t>(ids[i]) * table.row_bytes;
    float* out = y + i * table.row_len;
    absl::Status status = dequantize_row(table.type, row, out, table.row_len);
    if (!status.ok()) return status;
    if (scale != 1.0f) {
      for (int64_t j = 0; j < table.row_len; ++j) out[j] *= scale;
    }
  }
  return absl::OkStatus();
}

}  // namespace strata::cpu
