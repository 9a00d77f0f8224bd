// Hand-built blocks with known contents must dequantize to exactly the expected numbers. The blocks are packed here
// from the layout as documented for each format (element index -> byte and bit), independently of the library's
// unpacking loops, so a layout bug cannot hide behind a symmetric quantize/dequantize round trip. Scales are chosen
// with few mantissa bits so every expected value is exact in f32 whatever the order of the multiplications.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/quant/block_formats.h"
#include "core/quant/dequantize.h"
#include "core/quant/fp16.h"
#include "core/quant/k_scales.h"

namespace strata {
namespace {

constexpr uint16_t kHalf0_375 = 0x3600;  // 0.375
constexpr uint16_t kHalfM1_25 = 0xBD00;  // -1.25
constexpr uint16_t kHalf0_125 = 0x3000;  // 0.125
constexpr uint16_t kHalf2_5 = 0x4100;    // 2.5

template <typename Block>
std::vector<float> dequantize(GgmlType type, const Block& block, int64_t n) {
  std::vector<float> out(n);
  const absl::Status status = dequantize_row(type, &block, out.data(), n);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

std::vector<int> random_levels(int n, int lo, int hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<int> v(n);
  for (int& x : v) x = dist(rng);
  v[0] = lo;  // both extremes always present
  v[n - 1] = hi;
  return v;
}

TEST(KnownBlocksTest, HalfConstantsAreWhatTheTestAssumes) {
  EXPECT_EQ(fp16_to_f32(kHalf0_375), 0.375f);
  EXPECT_EQ(fp16_to_f32(kHalfM1_25), -1.25f);
  EXPECT_EQ(fp16_to_f32(kHalf0_125), 0.125f);
  EXPECT_EQ(fp16_to_f32(kHalf2_5), 2.5f);
}

TEST(KnownBlocksTest, Q4_0) {
  const std::vector<int> q = random_levels(32, 0, 15, 1);
  BlockQ4_0 b{};
  b.d = kHalfM1_25;
  for (int i = 0; i < 32; ++i) b.qs[i % 16] |= static_cast<uint8_t>(q[i] << (i < 16 ? 0 : 4));
  const std::vector<float> y = dequantize(GgmlType::kQ4_0, b, 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[i], -1.25f * (q[i] - 8)) << i;
}

TEST(KnownBlocksTest, Q4_1) {
  const std::vector<int> q = random_levels(32, 0, 15, 2);
  BlockQ4_1 b{};
  b.d = kHalf0_375;
  b.m = kHalfM1_25;
  for (int i = 0; i < 32; ++i) b.qs[i % 16] |= static_cast<uint8_t>(q[i] << (i < 16 ? 0 : 4));
  const std::vector<float> y = dequantize(GgmlType::kQ4_1, b, 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[i], 0.375f * q[i] - 1.25f) << i;
}

// Fifth bit of element i: bit i of the little-endian 32-bit word qh.
void set_q5_high_bit(uint8_t* qh, int i) { qh[i / 8] |= static_cast<uint8_t>(1 << (i % 8)); }

TEST(KnownBlocksTest, Q5_0) {
  const std::vector<int> q = random_levels(32, 0, 31, 3);
  BlockQ5_0 b{};
  b.d = kHalf0_375;
  for (int i = 0; i < 32; ++i) {
    b.qs[i % 16] |= static_cast<uint8_t>((q[i] & 0xF) << (i < 16 ? 0 : 4));
    if (q[i] & 16) set_q5_high_bit(b.qh, i);
  }
  const std::vector<float> y = dequantize(GgmlType::kQ5_0, b, 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[i], 0.375f * (q[i] - 16)) << i;
}

TEST(KnownBlocksTest, Q5_1) {
  const std::vector<int> q = random_levels(32, 0, 31, 4);
  BlockQ5_1 b{};
  b.d = kHalf0_125;
  b.m = kHalf2_5;
  for (int i = 0; i < 32; ++i) {
    b.qs[i % 16] |= static_cast<uint8_t>((q[i] & 0xF) << (i < 16 ? 0 : 4));
    if (q[i] & 16) set_q5_high_bit(b.qh, i);
  }
  const std::vector<float> y = dequantize(GgmlType::kQ5_1, b, 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[i], 0.125f * q[i] + 2.5f) << i;
}

TEST(KnownBlocksTest, Q5_HighBitIsBitIOfLittleEndianWord) {
  // Only element 9's fifth bit set: byte 1, bit 1.
  BlockQ5_0 b{};
  b.d = 0x3C00;  // 1.0
  b.qh[1] = 0x02;
  const std::vector<float> y = dequantize(GgmlType::kQ5_0, b, 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[i], i == 9 ? 0.0f : -16.0f) << i;
}

TEST(KnownBlocksTest, Q8_0AndQ8_1) {
  const std::vector<int> q = random_levels(32, -128, 127, 5);
  BlockQ8_0 b0{};
  BlockQ8_1 b1{};
  b0.d = b1.d = kHalfM1_25;
  b1.s = kHalf2_5;  // a cache for dot products; must not affect the values
  for (int i = 0; i < 32; ++i) b0.qs[i] = b1.qs[i] = static_cast<int8_t>(q[i]);
  const std::vector<float> y0 = dequantize(GgmlType::kQ8_0, b0, 32);
  const std::vector<float> y1 = dequantize(GgmlType::kQ8_1, b1, 32);
  for (int i = 0; i < 32; ++i) {
    EXPECT_EQ(y0[i], -1.25f * q[i]) << i;
    EXPECT_EQ(y1[i], -1.25f * q[i]) << i;
  }
}

// Q2_K / Q3_K / Q6_K share this placement of 2-bit fields: element i lives in byte 32 * (i / 128) + i % 32 at bit
// offset 2 * ((i % 128) / 32).
void put_2bit(uint8_t* qs, int i, int v) {
  qs[32 * (i / 128) + i % 32] |= static_cast<uint8_t>((v & 3) << (2 * ((i % 128) / 32)));
}

TEST(KnownBlocksTest, Q2_K) {
  const std::vector<int> q = random_levels(256, 0, 3, 6);
  const std::vector<int> sc = random_levels(16, 0, 15, 7);
  const std::vector<int> mn = random_levels(16, 0, 15, 8);
  BlockQ2_K b{};
  b.d = kHalf0_375;
  b.dmin = kHalf0_125;
  for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<uint8_t>(sc[s] | (mn[s] << 4));
  for (int i = 0; i < 256; ++i) put_2bit(b.qs, i, q[i]);
  const std::vector<float> y = dequantize(GgmlType::kQ2_K, b, 256);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[i], 0.375f * sc[i / 16] * q[i] - 0.125f * mn[i / 16]) << i;
}

// Q3_K scales, from the format description: scale j (6 bits, biased by 32) keeps its low 4 bits in byte j % 8
// (low nibble for j < 8, high nibble for j >= 8) and its top 2 bits in byte 8 + j % 4 at bit offset 2 * (j / 4).
void pack_q3_k_scales(const std::vector<int>& biased, uint8_t* scales) {
  for (int j = 0; j < 16; ++j) {
    scales[j % 8] |= static_cast<uint8_t>((biased[j] & 0xF) << (j < 8 ? 0 : 4));
    scales[8 + j % 4] |= static_cast<uint8_t>((biased[j] >> 4) << (2 * (j / 4)));
  }
}

TEST(KnownBlocksTest, Q3_K) {
  const std::vector<int> q = random_levels(256, -4, 3, 9);
  const std::vector<int> biased = random_levels(16, 0, 63, 10);
  BlockQ3_K b{};
  b.d = kHalf0_375;
  pack_q3_k_scales(biased, b.scales);
  for (int i = 0; i < 256; ++i) {
    const int stored = q[i] + 4;  // 0..7: low 2 bits in qs, bit 2 in hmask (set = no -4 offset)
    put_2bit(b.qs, i, stored & 3);
    if (stored & 4) b.hmask[i % 32] |= static_cast<uint8_t>(1 << (i / 32));
  }
  const std::vector<float> y = dequantize(GgmlType::kQ3_K, b, 256);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[i], 0.375f * (biased[i / 16] - 32) * q[i]) << i;
}

TEST(KnownBlocksTest, Q3_KScalesMatchGgmlWordMasks) {
  // ggml unpacks the 12 scale bytes with 32-bit word masks; this re-derives all 16 scales that way from random
  // bytes and compares with get_scale_q3_k.
  std::mt19937 rng(11);
  for (int trial = 0; trial < 1000; ++trial) {
    uint8_t bytes[12];
    for (uint8_t& v : bytes) v = static_cast<uint8_t>(rng());
    uint32_t aux[4];
    std::memcpy(aux, bytes, 12);
    const uint32_t tmp = aux[2];
    const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
    aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
    aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
    aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
    int8_t expected[16];
    std::memcpy(expected, aux, 16);
    for (int j = 0; j < 16; ++j) ASSERT_EQ(get_scale_q3_k(j, bytes), expected[j] - 32) << j;
  }
}

TEST(KnownBlocksTest, Q3_KLiteralScaleBytes) {
  uint8_t bytes[12] = {};
  bytes[5] = 0x70;  // scale 13: low nibble 7 (high nibble of byte 13 - 8 = 5)
  bytes[9] = 0x80;  // scale 13: top bits 2 (byte 8 + 13 % 4 = 9, offset 2 * (13 / 4) = 6)
  EXPECT_EQ(get_scale_q3_k(13, bytes), 0x27 - 32);
  EXPECT_EQ(get_scale_q3_k(5, bytes), -32);  // low nibble of byte 5 is 0, top bits of byte 9 at offset 2 are 0
}

// Q4_K / Q5_K 6-bit scales and mins, from the format description (see k_scales.h).
void pack_k4_scales_by_hand(const std::vector<int>& sc, const std::vector<int>& mn, uint8_t* scales) {
  for (int j = 0; j < 4; ++j) {
    scales[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    scales[j + 4] = static_cast<uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
    scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
  }
}

TEST(KnownBlocksTest, K4ScalePackingLiteralBytes) {
  uint8_t bytes[12] = {};
  bytes[0] = 0xC1;  // scale 0 = 1, top bits of scale 4 = 3
  bytes[4] = 0x42;  // min 0 = 2, top bits of min 4 = 1
  bytes[8] = 0x5A;  // scale 4 low = 0xA, min 4 low = 0x5
  uint8_t s, m;
  get_scale_min_k4(0, bytes, &s, &m);
  EXPECT_EQ(s, 1);
  EXPECT_EQ(m, 2);
  get_scale_min_k4(4, bytes, &s, &m);
  EXPECT_EQ(s, 0x3A);
  EXPECT_EQ(m, 0x15);

  // And through dequantize: sub-block 4 (elements 128..159) with level 3 everywhere, d = 1, dmin = 0.5.
  BlockQ4_K b{};
  b.d = 0x3C00;
  b.dmin = 0x3800;
  std::memcpy(b.scales, bytes, 12);
  std::memset(b.qs, 0x33, sizeof(b.qs));
  const std::vector<float> y = dequantize(GgmlType::kQ4_K, b, 256);
  EXPECT_EQ(y[128], 0x3A * 3 - 0.5f * 0x15);
  EXPECT_EQ(y[0], 1 * 3 - 0.5f * 2);
}

TEST(KnownBlocksTest, K4ScalePackerRoundTrips) {
  const std::vector<int> sc = random_levels(8, 0, 63, 12);
  const std::vector<int> mn = random_levels(8, 0, 63, 13);
  uint8_t by_hand[12] = {}, packed[12] = {};
  pack_k4_scales_by_hand(sc, mn, by_hand);
  uint8_t sc8[8], mn8[8];
  for (int j = 0; j < 8; ++j) {
    sc8[j] = static_cast<uint8_t>(sc[j]);
    mn8[j] = static_cast<uint8_t>(mn[j]);
  }
  pack_scale_min_k4(sc8, mn8, packed);
  EXPECT_EQ(std::memcmp(by_hand, packed, 12), 0);
}

TEST(KnownBlocksTest, Q4_K) {
  const std::vector<int> q = random_levels(256, 0, 15, 14);
  const std::vector<int> sc = random_levels(8, 0, 63, 15);
  const std::vector<int> mn = random_levels(8, 0, 63, 16);
  BlockQ4_K b{};
  b.d = kHalf0_375;
  b.dmin = kHalf0_125;
  pack_k4_scales_by_hand(sc, mn, b.scales);
  // Element i: byte 32 * (i / 64) + i % 32, low nibble for (i / 32) even.
  for (int i = 0; i < 256; ++i) b.qs[32 * (i / 64) + i % 32] |= static_cast<uint8_t>(q[i] << (4 * ((i / 32) % 2)));
  const std::vector<float> y = dequantize(GgmlType::kQ4_K, b, 256);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[i], 0.375f * sc[i / 32] * q[i] - 0.125f * mn[i / 32]) << i;
}

TEST(KnownBlocksTest, Q5_K) {
  const std::vector<int> q = random_levels(256, 0, 31, 17);
  const std::vector<int> sc = random_levels(8, 0, 63, 18);
  const std::vector<int> mn = random_levels(8, 0, 63, 19);
  BlockQ5_K b{};
  b.d = kHalf0_125;
  b.dmin = kHalf0_375;
  pack_k4_scales_by_hand(sc, mn, b.scales);
  for (int i = 0; i < 256; ++i) {
    b.qs[32 * (i / 64) + i % 32] |= static_cast<uint8_t>((q[i] & 0xF) << (4 * ((i / 32) % 2)));
    if (q[i] & 16) b.qh[i % 32] |= static_cast<uint8_t>(1 << (i / 32));  // fifth bit: qh[i % 32], bit i / 32
  }
  const std::vector<float> y = dequantize(GgmlType::kQ5_K, b, 256);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[i], 0.125f * sc[i / 32] * q[i] - 0.375f * mn[i / 32]) << i;
}

TEST(KnownBlocksTest, Q6_K) {
  const std::vector<int> q = random_levels(256, -32, 31, 20);
  const std::vector<int> sc = random_levels(16, -128, 127, 21);
  BlockQ6_K b{};
  b.d = kHalf0_125;
  for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<int8_t>(sc[s]);
  for (int i = 0; i < 256; ++i) {
    const int stored = q[i] + 32;
    const int h = i / 128, r = i % 128;
    // Low 4 bits: ql[64h + r % 64], nibble r / 64. Top 2 bits: qh[32h + r % 32] at bit offset 2 * (r / 32).
    b.ql[64 * h + r % 64] |= static_cast<uint8_t>((stored & 0xF) << (4 * (r / 64)));
    b.qh[32 * h + r % 32] |= static_cast<uint8_t>((stored >> 4) << (2 * (r / 32)));
  }
  const std::vector<float> y = dequantize(GgmlType::kQ6_K, b, 256);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[i], 0.125f * sc[i / 16] * q[i]) << i;
}

TEST(KnownBlocksTest, Q8_K) {
  const std::vector<int> q = random_levels(256, -128, 127, 22);
  BlockQ8_K b{};
  b.d = -0.0625f;
  for (int i = 0; i < 256; ++i) b.qs[i] = static_cast<int8_t>(q[i]);
  const std::vector<float> y = dequantize(GgmlType::kQ8_K, b, 256);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[i], -0.0625f * q[i]) << i;
}

TEST(KnownBlocksTest, PlainTypes) {
  const uint16_t halves[4] = {0x3C00, 0xC000, 0x0001, 0x7BFF};  // 1, -2, 2^-24, 65504
  std::vector<float> y(4);
  ASSERT_TRUE(dequantize_row(GgmlType::kF16, halves, y.data(), 4).ok());
  EXPECT_EQ(y, (std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24), 65504.0f}));
  const uint16_t bf[3] = {0x3F80, 0xC040, 0x4049};  // 1, -3, 3.140625
  ASSERT_TRUE(dequantize_row(GgmlType::kBF16, bf, y.data(), 3).ok());
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -3.0f);
  EXPECT_EQ(y[2], 3.140625f);
  const float f[2] = {0.1f, -7.5f};
  ASSERT_TRUE(dequantize_row(GgmlType::kF32, f, y.data(), 2).ok());
  EXPECT_EQ(y[0], 0.1f);
  EXPECT_EQ(y[1], -7.5f);
}

TEST(KnownBlocksTest, UnalignedSourceIsFine) {
  // GGUF tensor data of 18-byte blocks is not 2-byte aligned in general; dequantize_row must not care.
  const std::vector<int> q = random_levels(32, 0, 15, 23);
  BlockQ4_0 b{};
  b.d = kHalf0_375;
  for (int i = 0; i < 32; ++i) b.qs[i % 16] |= static_cast<uint8_t>(q[i] << (i < 16 ? 0 : 4));
  std::vector<uint8_t> buffer(sizeof(b) + 1);
  std::memcpy(buffer.data() + 1, &b, sizeof(b));
  std::vector<float> y(32);
  ASSERT_TRUE(dequantize_row(GgmlType::kQ4_0, buffer.data() + 1, y.data(), 32).ok());
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[i], 0.375f * (q[i] - 8)) << i;
}

}  // namespace
}  // namespace strata
