#include "core/quant/dequantize.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/quant/dequantize_k.h"
#include "core/quant/dequantize_legacy.h"
#include "core/quant/fp16.h"
#include "core/quant/quant_traits.h"
#include "core/quant/type_errors.h"

namespace strata {
namespace {

// Blocks are copied out before decoding: tensor data in a GGUF mapping is only guaranteed 1-byte aligned for
// odd-sized blocks (Q4_0 is 18 bytes), so reading them in place through a struct pointer would be misaligned.
template <typename Block>
void dequantize_blocks(const uint8_t* src, float* dst, int64_t n_blocks, int64_t block_size) {
  for (int64_t i = 0; i < n_blocks; ++i) {
    Block block;
    std::memcpy(&block, src + i * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
    dequantize_block(block, dst + i * block_size);
  }
}

template <GgmlType T>
void dequantize_typed(const uint8_t* src, float* dst, int64_t n) {
  using Traits = QuantTraits<T>;
  if constexpr (T == GgmlType::kF32) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
  } else if constexpr (T == GgmlType::kF16 || T == GgmlType::kBF16) {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t bits;
      std::memcpy(&bits, src + 2 * i, sizeof(bits));
      dst[i] = T == GgmlType::kF16 ? fp16_to_f32(bits) : bf16_to_f32(bits);
    }
  } else {
    dequantize_blocks<typename Traits::Block>(src, dst, n / Traits::kBlockSize, Traits::kBlockSize);
  }
}

}  // namespace

bool can_dequantize(GgmlType type) {
  return visit_quant_type(type, [](auto) {});
}

absl::Status dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  absl::Status status;
  const bool known = visit_quant_type(type, [&](auto traits) {
    using Traits = decltype(traits);
    status = check_row_length("dequantize", type, n, Traits::kBlockSize);
    if (status.ok()) dequantize_typed<Traits::kGgmlType>(static_cast<const uint8_t*>(src), dst, n);
  });
  if (!known) return absl::UnimplementedError(absl::StrCat("dequantize: no reference for ", quant_type_label(type)));
  return status;
}

}  // namespace strata
