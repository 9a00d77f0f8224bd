#include "kernels/cpu/row_lane_pack.h"

#include <algorithm>
#include <cstring>

#include "core/quant/block_formats.h"

namespace strata::cpu {
namespace {

// One block of 16 rows: d, then `regs` registers of 4 bytes per row taken from the block's quants (XOR `flip`).
template <typename Block>
void pack_block(const uint8_t* w, int64_t w_stride, int rows, int64_t i, int regs, uint8_t flip, uint8_t* out) {
  for (int r = 0; r < 16; ++r) {
    const auto& b = reinterpret_cast<const Block*>(w + std::min(r, rows - 1) * w_stride)[i];
    std::memcpy(out + 2 * r, &b.d, 2);
    for (int j = 0; j < regs; ++j) {
      for (int e = 0; e < 4; ++e) out[32 + 64 * j + 4 * r + e] = static_cast<uint8_t>(b.qs[4 * j + e] ^ flip);
    }
  }
}

}  // namespace

void pack_row_lanes_q4_0(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {
  for (int64_t i = 0; i < n_blocks; ++i) {
    pack_block<BlockQ4_0>(w, w_stride, rows, i, 4, 0x00, dst + i * 16 * static_cast<int64_t>(sizeof(BlockQ4_0)));
  }
}

void pack_row_lanes_q8_0(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {
  for (int64_t i = 0; i < n_blocks; ++i) {
    pack_block<BlockQ8_0>(w, w_stride, rows, i, 8, 0x80, dst + i * 16 * static_cast<int64_t>(sizeof(BlockQ8_0)));
  }
}

}  // namespace strata::cpu
