#include "kernels/cpu/row_lane_pack.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/quant/block_formats.h"

namespace strata::cpu {
namespace {

// `regs` registers at out from 4-byte runs of each row's bytes at src(r) (XOR `flip`): register j lane r = 4j..4j+3.
template <typename Src>
void put_registers(Src src, int regs, uint8_t flip, uint8_t* out) {
  for (int r = 0; r < 16; ++r) {
    const uint8_t* row = src(r);
    for (int j = 0; j < regs; ++j) {
      for (int e = 0; e < 4; ++e) out[64 * j + 4 * r + e] = static_cast<uint8_t>(row[4 * j + e] ^ flip);
    }
  }
}

// The 16 rows' fp16 field get(r) at out, row r at 2r.
template <typename Get>
void put_halves(Get get, uint8_t* out) {
  for (int r = 0; r < 16; ++r) {
    const uint16_t h = get(r);
    std::memcpy(out + 2 * r, &h, 2);
  }
}

// Calls pack(block, out) for every (super-)block i of the group: block(r) is row r's i-th block (rows past `rows`
// repeat the last one), out the group's 16 x sizeof(Block) bytes of it.
template <typename Block, typename Pack>
void for_each_block(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst, Pack pack) {
  for (int64_t i = 0; i < n_blocks; ++i) {
    auto block = [&](int r) -> const Block& {
      return reinterpret_cast<const Block*>(w + std::min(r, rows - 1) * w_stride)[i];
    };
    pack(block, dst + i * 16 * static_cast<int64_t>(sizeof(Block)));
  }
}

// The 32-block formats: d, (m,) (one register of qh,) then `regs` registers of the quants (XOR `flip`).
template <typename Block>
void pack_legacy(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, int regs, uint8_t flip, uint8_t* dst) {
  for_each_block<Block>(w, w_stride, rows, n_blocks, dst, [&](auto block, uint8_t* out) {
    put_halves([&](int r) { return block(r).d; }, out);
    out += 32;
    if constexpr (requires(const Block& b) { b.m; }) {
      put_halves([&](int r) { return block(r).m; }, out);
      out += 32;
    }
    if constexpr (requires(const Block& b) { b.qh; }) {
      put_registers([&](int r) { return block(r).qh; }, 1, 0, out);
      out += 64;
    }
    put_registers([&](int r) { return reinterpret_cast<const uint8_t*>(block(r).qs); }, regs, flip, out);
  });
}

// Q4_K and Q5_K: d, dmin, the scale words, (Q5_K) the qh registers, then the qs registers of each quarter.
template <typename Block>
void pack_k45(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {
  for_each_block<Block>(w, w_stride, rows, n_blocks, dst, [](auto block, uint8_t* out) {
    put_halves([&](int r) { return block(r).d; }, out);
    put_halves([&](int r) { return block(r).dmin; }, out + 32);
    put_registers([&](int r) { return block(r).scales; }, 3, 0, out + 64);
    uint8_t* qs_out = out + 256;
    if constexpr (std::is_same_v<Block, BlockQ5_K>) {
      put_registers([&](int r) { return block(r).qh; }, 8, 0, out + 256);
      qs_out += 512;
    }
    for (int j = 0; j < 4; ++j) put_registers([&](int r) { return block(r).qs + 32 * j; }, 8, 0, qs_out + 512 * j);
  });
}

// Q6_K's quarter hs (half hs / 4, quarter hs % 4) of one row into its 6 stored registers: the 8 registers of 6-bit
// values w0..w7 (element 4k + byte in register k), per group of 4 stored as b_i = w_i | (bits 2i, 2i + 1 of w3) << 6.
void put_q6_k_row(const BlockQ6_K& b, int r, uint8_t* out) {
  // The row's 256 quants as 6-bit values (ggml's layout: per half h, element 32s + l takes its low 4 bits from
  // ql[64h + l + 32 (s & 1)], low nibble for s < 2 and high for s >= 2, and bits 2s, 2s + 1 of qh[32h + l]).
  uint8_t q6[256];
  for (int h = 0; h < 2; ++h) {
    for (int s = 0; s < 4; ++s) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t ql = b.ql[64 * h + l + 32 * (s & 1)];
        const int low = s < 2 ? ql & 0x0F : ql >> 4;
        const int high = (b.qh[32 * h + l] >> (2 * s)) & 3;
        q6[128 * h + 32 * s + l] = static_cast<uint8_t>(low | high << 4);
      }
    }
  }
  for (int hs = 0; hs < 8; ++hs) {
    uint8_t* quarter = out + 288 + 384 * hs;
    const uint8_t* e = q6 + 32 * hs;
    for (int g = 0; g < 2; ++g) {
      for (int i = 0; i < 3; ++i) {
        for (int byte = 0; byte < 4; ++byte) {
          const uint8_t wi = e[4 * (4 * g + i) + byte], w3 = e[4 * (4 * g + 3) + byte];
          quarter[64 * (3 * g + i) + 4 * r + byte] = static_cast<uint8_t>(wi | ((w3 >> (2 * i)) & 3) << 6);
        }
      }
    }
  }
}

}  // namespace

void pack_row_lanes_q4_0(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {
  pack_legacy<BlockQ4_0>(w, w_stride, rows, n_blocks, 4, 0x00, dst);
}
void pack_row_lanes_q4_1(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {
  pack_legacy<BlockQ4_1>(w, w_stride, rows, n_blocks, 4, 0x00, dst);
}
void pack_row_lanes_q5_0(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {
  pack_legacy<BlockQ5_0>(w, w_stride, rows, n_blocks, 4, 0x00, dst);
}
void pack_row_lanes_q5_1(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {
  pack_legacy<BlockQ5_1>(w, w_stride, rows, n_blocks, 4, 0x00, dst);
}
void pack_row_lanes_q8_0(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {
  pack_legacy<BlockQ8_0>(w, w_stride, rows, n_blocks, 8, 0x80, dst);
}

void pack_row_lanes_q2_k(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {
  for_each_block<BlockQ2_K>(w, w_stride, rows, n_blocks, dst, [](auto block, uint8_t* out) {
    put_halves([&](int r) { return block(r).d; }, out);
    put_halves([&](int r) { return block(r).dmin; }, out + 32);
    put_registers([&](int r) { return block(r).scales; }, 4, 0, out + 64);
    for (int h = 0; h < 2; ++h) put_registers([&](int r) { return block(r).qs + 32 * h; }, 8, 0, out + 320 + 512 * h);
  });
}

void pack_row_lanes_q3_k(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {
  for_each_block<BlockQ3_K>(w, w_stride, rows, n_blocks, dst, [](auto block, uint8_t* out) {
    put_halves([&](int r) { return block(r).d; }, out);
    put_registers([&](int r) { return block(r).scales; }, 3, 0, out + 32);
    put_registers([&](int r) { return block(r).hmask; }, 8, 0, out + 224);
    for (int h = 0; h < 2; ++h) put_registers([&](int r) { return block(r).qs + 32 * h; }, 8, 0, out + 736 + 512 * h);
  });
}

void pack_row_lanes_q4_k(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {
  pack_k45<BlockQ4_K>(w, w_stride, rows, n_blocks, dst);
}

void pack_row_lanes_q5_k(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {
  pack_k45<BlockQ5_K>(w, w_stride, rows, n_blocks, dst);
}

void pack_row_lanes_q6_k(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {
  for_each_block<BlockQ6_K>(w, w_stride, rows, n_blocks, dst, [](auto block, uint8_t* out) {
    put_halves([&](int r) { return block(r).d; }, out);
    put_registers([&](int r) { return reinterpret_cast<const uint8_t*>(block(r).scales); }, 4, 0, out + 32);
    for (int r = 0; r < 16; ++r) put_q6_k_row(block(r), r, out);
  });
}

}  // namespace strata::cpu
