// Sub-block scale unpacking of the k-quants, shared by the reference code and the kernels.
#pragma once

#include <cstdint>

#include "core/quant/host_device.h"

namespace strata {

// Q4_K / Q5_K: 8 sub-blocks, each with a 6-bit scale and a 6-bit min, packed into 12 bytes:
//   bytes 0..3:  scale j (j < 4) in bits 0..5; bits 6..7 hold bits 4..5 of scale j + 4
//   bytes 4..7:  min j   (j < 4) in bits 0..5; bits 6..7 hold bits 4..5 of min j + 4
//   bytes 8..11: low 4 bits of scale j + 4 (bits 0..3) and of min j + 4 (bits 4..7)
STRATA_HOST_DEVICE STRATA_INLINE void get_scale_min_k4(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Inverse of get_scale_min_k4 for 6-bit values (`scales` and `mins` < 64); fills all 12 bytes.
STRATA_HOST_DEVICE STRATA_INLINE void pack_scale_min_k4(const uint8_t* scales, const uint8_t* mins, uint8_t* q) {
  for (int j = 0; j < 4; ++j) {
    q[j] = static_cast<uint8_t>((scales[j] & 63) | ((scales[j + 4] >> 4) << 6));
    q[j + 4] = static_cast<uint8_t>((mins[j] & 63) | ((mins[j + 4] >> 4) << 6));
    q[j + 8] = static_cast<uint8_t>((scales[j + 4] & 0xF) | ((mins[j + 4] & 0xF) << 4));
  }
}

// Q3_K: 16 sub-blocks with 6-bit scales stored biased by 32, packed into 12 bytes:
//   low 4 bits of scale j: byte j (bits 0..3) for j < 8, byte j - 8 (bits 4..7) for j >= 8
//   high 2 bits of scale j: byte 8 + j % 4, bits 2 * (j / 4) .. 2 * (j / 4) + 1
// Returns the signed scale (stored value - 32).
STRATA_HOST_DEVICE STRATA_INLINE int get_scale_q3_k(int j, const uint8_t* q) {
  const int low = j < 8 ? (q[j] & 0xF) : (q[j - 8] >> 4);
  const int high = (q[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | (high << 4)) - 32;
}

}  // namespace strata
