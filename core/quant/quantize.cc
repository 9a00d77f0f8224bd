#include "core/quant/quantize.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/quant/fp16.h"
#include "core/quant/quant_traits.h"
#include "core/quant/quantize_blocks.h"
#include "core/quant/type_errors.h"

namespace strata {
namespace {

// Each block is built in a local and copied out: `dst` need not be aligned for the block struct.
template <typename Block>
void quantize_blocks(const float* src, uint8_t* dst, int64_t n_blocks, int64_t block_size) {
  for (int64_t i = 0; i < n_blocks; ++i) {
    Block block;
    quantize_block(src + i * block_size, &block);
    std::memcpy(dst + i * static_cast<int64_t>(sizeof(Block)), &block, sizeof(Block));
  }
}

template <GgmlType T>
void quantize_typed(const float* src, uint8_t* dst, int64_t n) {
  using Traits = QuantTraits<T>;
  if constexpr (T == GgmlType::kF32) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
  } else if constexpr (T == GgmlType::kF16 || T == GgmlType::kBF16) {
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t bits = T == GgmlType::kF16 ? f32_to_fp16(src[i]) : f32_to_bf16(src[i]);
      std::memcpy(dst + 2 * i, &bits, sizeof(bits));
    }
  } else {
    quantize_blocks<typename Traits::Block>(src, dst, n / Traits::kBlockSize, Traits::kBlockSize);
  }
}

}  // namespace

bool can_quantize(GgmlType type) {
  return visit_quant_type(type, [](auto) {});
}

absl::Status quantize_row(GgmlType type, const float* src, void* dst, int64_t n) {
  absl::Status status;
  const bool known = visit_quant_type(type, [&](auto traits) {
    using Traits = decltype(traits);
    status = check_row_length("quantize", type, n, Traits::kBlockSize);
    if (status.ok()) quantize_typed<Traits::kGgmlType>(src, static_cast<uint8_t*>(dst), n);
  });
  if (!known) return absl::UnimplementedError(absl::StrCat("quantize: no reference for ", quant_type_label(type)));
  return status;
}

size_t row_size(GgmlType type, int64_t n) {
  const QuantBlockShape shape = quant_block_shape(type);
  if (shape.block_size == 0 || n < 0 || n % shape.block_size != 0) return 0;
  return static_cast<size_t>(n / shape.block_size) * shape.block_bytes;
}

}  // namespace strata
