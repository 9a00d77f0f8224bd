// The k-quants (256-element super-blocks). Sub-block scales come from ggml's scale searches (quant_search.h); the
// super-block then stores them as small integers times one f16 scale, and every level is recomputed against the
// scale actually stored, so the rounding of the scales does not add to the error twice. Byte-identical to ggml's
// quantize_row_*_ref.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/quant/fp16.h"
#include "core/quant/k_scales.h"
#include "core/quant/quant_search.h"
#include "core/quant/quantize_blocks.h"

namespace strata {
namespace {

// Packs 2-bit levels: element 128*h + 32*g + l goes to bits 2g..2g+1 of qs[32*h + l] (Q2_K and Q3_K).
void pack_2bit(const uint8_t* levels, uint8_t* qs) {  // levels: [256], each < 4; qs: [64]
  for (int h = 0; h < kQK_K / 128; ++h) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t* L = levels + 128 * h + l;
      qs[32 * h + l] = static_cast<uint8_t>(L[0] | (L[32] << 2) | (L[64] << 4) | (L[96] << 6));
    }
  }
}

// Sub-block (32 elements) scales and mins of Q4_K / Q5_K: make_qkx2_quants per sub-block with weights
// rms(sub-block) + |x| (large values matter more, but not only they), then both sets quantized to 6 bits against
// their maxima. Returns the stored f16 d and dmin through `y_d` / `y_dmin`, the packed scales, and the search's
// levels (kept where a sub-block's stored scale rounds to 0, as ggml keeps them).
void fit_k4_scales(const float* x, int nmax, float rmin, float rdelta, int nstep, uint16_t* y_d, uint16_t* y_dmin,
                   uint8_t* packed, uint8_t* levels) {  // levels: [256]
  float scales[kQK_K / 32], mins[kQK_K / 32];
  uint8_t laux[32];
  float weights[32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < kQK_K / 32; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = make_qkx2_quants(32, nmax, xs, weights, levels + 32 * j, &mins[j], laux, rmin, rdelta, nstep, false);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  uint8_t ls[kQK_K / 32], lm[kQK_K / 32];
  for (int j = 0; j < kQK_K / 32; ++j) {
    // ggml narrows to uint8_t before capping at 63; the values are never negative here.
    ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
    lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
  }
  pack_scale_min_k4(ls, lm, packed);
  *y_d = f32_to_fp16(max_scale / 63.0f);
  *y_dmin = f32_to_fp16(max_min / 63.0f);
}

// Levels in [0, nmax] of Q4_K / Q5_K against the stored scales and mins.
void k4_levels(const float* x, uint16_t y_d, uint16_t y_dmin, const uint8_t* packed, int nmax, uint8_t* levels) {
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t sc, m;
    get_scale_min_k4(j, packed, &sc, &m);
    const float d = fp16_to_f32(y_d) * sc;
    if (d == 0) continue;  // keeps the search's levels: they all dequantize to -dmin * m anyway
    const float dm = fp16_to_f32(y_dmin) * m;
    for (int l = 0; l < 32; ++l) {
      levels[32 * j + l] = static_cast<uint8_t>(std::clamp(nearest_int((x[32 * j + l] + dm) / d), 0, nmax));
    }
  }
}

}  // namespace

void quantize_block(const float* x, BlockQ2_K* y) {
  constexpr float kQ4Scale = 15.0f;
  uint8_t levels[kQK_K], laux[16];
  float weights[16], scales[kQK_K / 16], mins[kQK_K / 16];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < kQK_K / 16; ++j) {
    // |x| weights and absolute-error objective: with only 4 levels, fitting the large values is what counts.
    for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
    scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, levels + 16 * j, &mins[j], laux, -0.5f, 0.1f, 15, true);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  if (max_scale > 0) {
    const float iscale = kQ4Scale / max_scale;
    for (int j = 0; j < kQK_K / 16; ++j) y->scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
    y->d = f32_to_fp16(max_scale / kQ4Scale);
  } else {
    std::memset(y->scales, 0, sizeof(y->scales));
    y->d = f32_to_fp16(0.0f);
  }
  if (max_min > 0) {
    const float iscale = kQ4Scale / max_min;
    for (int j = 0; j < kQK_K / 16; ++j) y->scales[j] |= static_cast<uint8_t>(nearest_int(iscale * mins[j]) << 4);
    y->dmin = f32_to_fp16(max_min / kQ4Scale);
  } else {
    y->dmin = f32_to_fp16(0.0f);
  }
  for (int j = 0; j < kQK_K / 16; ++j) {
    const float d = fp16_to_f32(y->d) * (y->scales[j] & 0xF);
    if (d == 0) continue;
    const float dm = fp16_to_f32(y->dmin) * (y->scales[j] >> 4);
    for (int l = 0; l < 16; ++l) {
      levels[16 * j + l] = static_cast<uint8_t>(std::clamp(nearest_int((x[16 * j + l] + dm) / d), 0, 3));
    }
  }
  pack_2bit(levels, y->qs);
}

void quantize_block(const float* x, BlockQ3_K* y) {
  int8_t levels[kQK_K];
  float scales[kQK_K / 16];
  float max_scale = 0, amax = 0;
  for (int j = 0; j < kQK_K / 16; ++j) {
    scales[j] = make_q3_quants(16, 4, x + 16 * j, levels + 16 * j, true);
    if (std::fabs(scales[j]) > amax) {
      amax = std::fabs(scales[j]);
      max_scale = scales[j];
    }
  }
  std::memset(y->scales, 0, sizeof(y->scales));
  if (max_scale != 0) {
    // Sub-block scales become 6-bit signed integers in [-32, 31]; the largest maps to -32.
    const float iscale = -32.0f / max_scale;
    for (int j = 0; j < kQK_K / 16; ++j) {
      // ggml narrows to int8_t before clamping; |iscale * scale| <= 32 so nothing is lost.
      const int l = std::clamp<int>(static_cast<int8_t>(nearest_int(iscale * scales[j])), -32, 31) + 32;
      if (j < 8) {
        y->scales[j] = static_cast<uint8_t>(l & 0xF);
      } else {
        y->scales[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
      }
      y->scales[8 + j % 4] |= static_cast<uint8_t>((l >> 4) << (2 * (j / 4)));
    }
    y->d = f32_to_fp16(1 / iscale);
  } else {
    y->d = f32_to_fp16(0.0f);
  }
  for (int j = 0; j < kQK_K / 16; ++j) {
    const float d = fp16_to_f32(y->d) * static_cast<float>(get_scale_q3_k(j, y->scales));
    if (d == 0) continue;
    for (int l = 0; l < 16; ++l) {
      levels[16 * j + l] = static_cast<int8_t>(std::clamp(nearest_int(x[16 * j + l] / d), -4, 3) + 4);
    }
  }
  // Third bit of element i -> bit i / 32 of hmask[i % 32]; the remaining 2 bits packed as Q2_K.
  std::memset(y->hmask, 0, sizeof(y->hmask));
  uint8_t low[kQK_K];
  for (int i = 0; i < kQK_K; ++i) {
    int l = levels[i];
    if (l > 3) {
      y->hmask[i % 32] |= static_cast<uint8_t>(1 << (i / 32));
      l -= 4;
    }
    low[i] = static_cast<uint8_t>(l);
  }
  pack_2bit(low, y->qs);
}

void quantize_block(const float* x, BlockQ4_K* y) {
  uint8_t levels[kQK_K];
  fit_k4_scales(x, 15, -1.0f, 0.1f, 20, &y->d, &y->dmin, y->scales, levels);
  k4_levels(x, y->d, y->dmin, y->scales, 15, levels);
  for (int c = 0; c < kQK_K / 64; ++c) {
    for (int l = 0; l < 32; ++l) {
      y->qs[32 * c + l] = static_cast<uint8_t>(levels[64 * c + l] | (levels[64 * c + 32 + l] << 4));
    }
  }
}

void quantize_block(const float* x, BlockQ5_K* y) {
  uint8_t levels[kQK_K];
  fit_k4_scales(x, 31, -0.5f, 0.1f, 15, &y->d, &y->dmin, y->scales, levels);
  k4_levels(x, y->d, y->dmin, y->scales, 31, levels);
  std::memset(y->qh, 0, sizeof(y->qh));
  for (int c = 0; c < kQK_K / 64; ++c) {
    for (int l = 0; l < 32; ++l) {
      const int lo = levels[64 * c + l];
      const int hi = levels[64 * c + 32 + l];
      y->qs[32 * c + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
      // Fifth bit of sub-block s (= 2c or 2c + 1) -> bit s of qh[l].
      y->qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
    }
  }
}

void quantize_block(const float* x, BlockQ6_K* y) {
  int8_t levels[kQK_K];
  float scales[kQK_K / 16];
  float max_scale = 0, max_abs_scale = 0;
  for (int j = 0; j < kQK_K / 16; ++j) {
    scales[j] = make_qx_quants(16, 32, x + 16 * j, levels + 16 * j, 1, nullptr);
    if (std::fabs(scales[j]) > max_abs_scale) {
      max_abs_scale = std::fabs(scales[j]);
      max_scale = scales[j];
    }
  }
  if (max_abs_scale < kGroupMaxEps) {
    std::memset(y, 0, sizeof(*y));
    return;
  }
  // Sub-block scales become int8 with the largest at -128 (capped at 127 on the other side).
  const float iscale = -128.0f / max_scale;
  y->d = f32_to_fp16(1 / iscale);
  for (int j = 0; j < kQK_K / 16; ++j) {
    y->scales[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[j])));
  }
  for (int j = 0; j < kQK_K / 16; ++j) {
    const float d = fp16_to_f32(y->d) * y->scales[j];
    if (d == 0) continue;
    for (int l = 0; l < 16; ++l) {
      levels[16 * j + l] = static_cast<int8_t>(std::clamp(nearest_int(x[16 * j + l] / d), -32, 31) + 32);
    }
  }
  // Element 128*h + 32*g + l: low nibble -> nibble g / 2 of ql[64*h + 32*(g % 2) + l], top 2 bits -> bits 2g..2g+1
  // of qh[32*h + l].
  for (int h = 0; h < kQK_K / 128; ++h) {
    for (int l = 0; l < 32; ++l) {
      const int8_t* L = levels + 128 * h + l;
      y->ql[64 * h + l] = static_cast<uint8_t>((L[0] & 0xF) | ((L[64] & 0xF) << 4));
      y->ql[64 * h + 32 + l] = static_cast<uint8_t>((L[32] & 0xF) | ((L[96] & 0xF) << 4));
      y->qh[32 * h + l] =
          static_cast<uint8_t>((L[0] >> 4) | ((L[32] >> 4) << 2) | ((L[64] >> 4) << 4) | ((L[96] >> 4) << 6));
    }
  }
}

void quantize_block(const float* x, BlockQ8_K* y) {
  float max = 0, amax = 0;
  for (int i = 0; i < kQK_K; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax == 0) {
    std::memset(y, 0, sizeof(*y));
    return;
  }
  // The signed maximum maps to -127 exactly (capped at 127 on the other side), as ggml.
  const float iscale = -127.0f / max;
  for (int i = 0; i < kQK_K; ++i) y->qs[i] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[i])));
  for (int j = 0; j < kQK_K / 16; ++j) {
    int sum = 0;
    for (int l = 0; l < 16; ++l) sum += y->qs[16 * j + l];
    y->bsums[j] = static_cast<int16_t>(sum);
  }
  y->d = 1 / iscale;
}

}  // namespace strata
