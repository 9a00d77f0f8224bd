// Decoders from GGUF weight blocks to the GEMM panel layout (gemm_panels.h). Element order follows the reference
// dequantization (core/quant/dequantize_*.h) exactly; only the representation changes.
#include <cstring>

#include "core/quant/block_formats.h"
#include "core/quant/fp16.h"
#include "core/quant/k_scales.h"
#include "kernels/cpu/gemm_panels.h"

namespace strata::cpu {
namespace {

// One decoded row being written: q[e], scale16[g], offset16[g] for element e and group g = e / 16.
struct RowOut {
  int8_t* q;
  float* scale16;
  float* offset16;
};

void decode_q4_0(const void* src, int64_t nb, RowOut o) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < nb; ++i, o.q += 32, o.scale16 += 2, o.offset16 += 2) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < 16; ++j) {
      o.q[j] = static_cast<int8_t>((b[i].qs[j] & 0xF) - 8);
      o.q[j + 16] = static_cast<int8_t>((b[i].qs[j] >> 4) - 8);
    }
    o.scale16[0] = o.scale16[1] = d;
    o.offset16[0] = o.offset16[1] = 0.0f;
  }
}

void decode_q4_1(const void* src, int64_t nb, RowOut o) {
  const auto* b = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < nb; ++i, o.q += 32, o.scale16 += 2, o.offset16 += 2) {
    for (int j = 0; j < 16; ++j) {
      o.q[j] = static_cast<int8_t>(b[i].qs[j] & 0xF);
      o.q[j + 16] = static_cast<int8_t>(b[i].qs[j] >> 4);
    }
    o.scale16[0] = o.scale16[1] = fp16_to_f32(b[i].d);
    o.offset16[0] = o.offset16[1] = fp16_to_f32(b[i].m);
  }
}

template <typename Block, int kZero>
void decode_q5(const void* src, int64_t nb, RowOut o) {
  const auto* b = static_cast<const Block*>(src);
  for (int64_t i = 0; i < nb; ++i, o.q += 32, o.scale16 += 2, o.offset16 += 2) {
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    for (int j = 0; j < 16; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10;
      const int h1 = (qh >> (j + 12)) & 0x10;
      o.q[j] = static_cast<int8_t>(((b[i].qs[j] & 0xF) | h0) - kZero);
      o.q[j + 16] = static_cast<int8_t>(((b[i].qs[j] >> 4) | h1) - kZero);
    }
    o.scale16[0] = o.scale16[1] = fp16_to_f32(b[i].d);
    float m = 0.0f;
    if constexpr (kZero == 0) m = fp16_to_f32(b[i].m);
    o.offset16[0] = o.offset16[1] = m;
  }
}

void decode_q8_0(const void* src, int64_t nb, RowOut o) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < nb; ++i, o.q += 32, o.scale16 += 2, o.offset16 += 2) {
    std::memcpy(o.q, b[i].qs, 32);
    o.scale16[0] = o.scale16[1] = fp16_to_f32(b[i].d);
    o.offset16[0] = o.offset16[1] = 0.0f;
  }
}

void decode_q2_k(const void* src, int64_t nb, RowOut o) {
  const auto* b = static_cast<const BlockQ2_K*>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_f32(b[i].d);
    const float dmin = fp16_to_f32(b[i].dmin);
    const uint8_t* q = b[i].qs;
    int g = 0;
    for (int n = 0; n < kQK_K; n += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int half = 0; half < 2; ++half, ++g, o.q += 16) {
          const uint8_t sc = b[i].scales[g];
          o.scale16[g] = d * (sc & 0xF);
          o.offset16[g] = -dmin * (sc >> 4);
          for (int l = 0; l < 16; ++l) o.q[l] = static_cast<int8_t>((q[l + 16 * half] >> shift) & 3);
        }
      }
    }
    o.scale16 += 16;
    o.offset16 += 16;
  }
}

void decode_q3_k(const void* src, int64_t nb, RowOut o) {
  const auto* b = static_cast<const BlockQ3_K*>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_f32(b[i].d);
    const uint8_t* q = b[i].qs;
    uint8_t m = 1;
    int g = 0;
    for (int n = 0; n < kQK_K; n += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
        for (int half = 0; half < 2; ++half, ++g, o.q += 16) {
          o.scale16[g] = d * get_scale_q3_k(g, b[i].scales);
          o.offset16[g] = 0.0f;
          for (int l = 0; l < 16; ++l) {
            const int e = l + 16 * half;
            o.q[l] = static_cast<int8_t>(((q[e] >> shift) & 3) - ((b[i].hmask[e] & m) ? 0 : 4));
          }
        }
      }
    }
    o.scale16 += 16;
    o.offset16 += 16;
  }
}

template <bool kHighBit>
void decode_q45_k(const void* src, int64_t nb, RowOut o) {
  for (int64_t i = 0; i < nb; ++i) {
    uint16_t d_bits, dmin_bits;
    const uint8_t* scales;
    const uint8_t* qs;
    const uint8_t* qh = nullptr;
    if constexpr (kHighBit) {
      const auto& b = static_cast<const BlockQ5_K*>(src)[i];
      d_bits = b.d, dmin_bits = b.dmin, scales = b.scales, qs = b.qs, qh = b.qh;
    } else {
      const auto& b = static_cast<const BlockQ4_K*>(src)[i];
      d_bits = b.d, dmin_bits = b.dmin, scales = b.scales, qs = b.qs;
    }
    const float d = fp16_to_f32(d_bits);
    const float dmin = fp16_to_f32(dmin_bits);
    for (int j = 0; j < 4; ++j, qs += 32, o.q += 64) {
      uint8_t sc0, m0, sc1, m1;
      get_scale_min_k4(2 * j, scales, &sc0, &m0);
      get_scale_min_k4(2 * j + 1, scales, &sc1, &m1);
      for (int l = 0; l < 32; ++l) {
        int lo = qs[l] & 0xF, hi = qs[l] >> 4;
        if constexpr (kHighBit) {
          lo |= ((qh[l] >> (2 * j)) & 1) << 4;
          hi |= ((qh[l] >> (2 * j + 1)) & 1) << 4;
        }
        o.q[l] = static_cast<int8_t>(lo);
        o.q[l + 32] = static_cast<int8_t>(hi);
      }
      const int g = 4 * j;
      o.scale16[g] = o.scale16[g + 1] = d * sc0;
      o.scale16[g + 2] = o.scale16[g + 3] = d * sc1;
      o.offset16[g] = o.offset16[g + 1] = -dmin * m0;
      o.offset16[g + 2] = o.offset16[g + 3] = -dmin * m1;
    }
    o.scale16 += 16;
    o.offset16 += 16;
  }
}

void decode_q6_k(const void* src, int64_t nb, RowOut o) {
  const auto* b = static_cast<const BlockQ6_K*>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_f32(b[i].d);
    const uint8_t* ql = b[i].ql;
    const uint8_t* qh = b[i].qh;
    const int8_t* sc = b[i].scales;
    for (int n = 0; n < kQK_K; n += 128, ql += 64, qh += 32, sc += 8, o.q += 128) {
      for (int l = 0; l < 32; ++l) {
        o.q[l] = static_cast<int8_t>(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        o.q[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        o.q[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        o.q[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
      // Groups of 16 in element order: q1 uses sc[0], sc[1]; q2 sc[2], sc[3]; q3 sc[4], sc[5]; q4 sc[6], sc[7].
      for (int g = 0; g < 8; ++g) {
        o.scale16[g] = d * sc[g];
        o.offset16[g] = 0.0f;
      }
      o.scale16 += 8;
      o.offset16 += 8;
    }
  }
}

using DecodeFn = void (*)(const void* src, int64_t n_blocks, RowOut out);

struct Decoder {
  DecodeFn fn;
  int block_size;
};

Decoder decoder_for(GgmlType type) {
  switch (type) {
    case GgmlType::kQ4_0:
      return {decode_q4_0, kQK4_0};
    case GgmlType::kQ4_1:
      return {decode_q4_1, kQK4_1};
    case GgmlType::kQ5_0:
      return {decode_q5<BlockQ5_0, 16>, kQK5_0};
    case GgmlType::kQ5_1:
      return {decode_q5<BlockQ5_1, 0>, kQK5_1};
    case GgmlType::kQ8_0:
      return {decode_q8_0, kQK8_0};
    case GgmlType::kQ2_K:
      return {decode_q2_k, kQK_K};
    case GgmlType::kQ3_K:
      return {decode_q3_k, kQK_K};
    case GgmlType::kQ4_K:
      return {decode_q45_k<false>, kQK_K};
    case GgmlType::kQ5_K:
      return {decode_q45_k<true>, kQK_K};
    case GgmlType::kQ6_K:
      return {decode_q6_k, kQK_K};
    default:
      return {nullptr, 0};
  }
}

}  // namespace

bool has_weight_decoder(GgmlType type) { return decoder_for(type).fn != nullptr; }

WeightPanel decode_weight_panel(GgmlType type, const uint8_t* w, int64_t row_bytes, int rows, int64_t k, int bias,
                                void* buf) {
  const Decoder dec = decoder_for(type);
  auto* q = static_cast<int8_t*>(buf);
  auto* lane_scale = reinterpret_cast<float*>(q + rows * k);
  auto* lane_corr = reinterpret_cast<int32_t*>(lane_scale + rows * (k / 4));
  auto* group_offset = reinterpret_cast<float*>(lane_corr + rows * (k / 4));
  // Per-16 scales are decoded to the tail of the row's lane_scale range and then spread to the lanes in place,
  // front to back: lane 4g..4g+3 is written after scale16[g] has been read, and 4g >= 3k/16 + g never overtakes.
  for (int r = 0; r < rows; ++r) {
    float* lanes = lane_scale + r * (k / 4);
    float* scale16 = lanes + (k / 4 - k / 16);
    float* offset16 = group_offset + r * (k / 16);
    dec.fn(w + r * row_bytes, k / dec.block_size, RowOut{q + r * k, scale16, offset16});
    for (int64_t g = 0; g < k / 16; ++g) {
      const float s = scale16[g];
      lanes[4 * g] = s;
      lanes[4 * g + 1] = s;
      lanes[4 * g + 2] = s;
      lanes[4 * g + 3] = s;
    }
    const int8_t* qr = q + r * k;
    int32_t* corr = lane_corr + r * (k / 4);
    for (int64_t l = 0; l < k / 4; ++l) corr[l] = -bias * (qr[4 * l] + qr[4 * l + 1] + qr[4 * l + 2] + qr[4 * l + 3]);
  }
  return WeightPanel{k, q, lane_scale, lane_corr, group_offset};
}

}  // namespace strata::cpu
