// AVX-512 (F/BW/VL/DQ) + VNNI kernels (compiled with those flags only; see kernels/CMakeLists.txt). The 256-bit
// quantized tiles of kernels_x86_dot.h pick up VNNI here (where no wide kernel replaces them); the 32-block formats
// and the k-quants (row-lane tiles, with a packed layout each) and the float tiles are 512-bit.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "core/quant/block_formats.h"
#include "kernels/cpu/dot_tile_dispatch.h"
#include "kernels/cpu/isa_kernels.h"
#include "kernels/cpu/legacy_format.h"

namespace strata::cpu::avx512 {

// Per-ISA copies of the shared helpers and 256-bit kernels (see x86_simd.h for why they are not shared).
#include "kernels/cpu/x86_simd.h"
// The kernels use the helpers above: keep this order.
#define STRATA_X86_HAVE_WIDE_LEGACY 1
#define STRATA_X86_HAVE_WIDE_Q2_K 1
#define STRATA_X86_HAVE_WIDE_Q3_K 1
#define STRATA_X86_HAVE_WIDE_Q4_K 1
#define STRATA_X86_HAVE_WIDE_Q5_K 1
#define STRATA_X86_HAVE_WIDE_Q6_K 1
#include "kernels/cpu/kernels_x86_dot.h"

namespace {

using namespace detail;

inline __mmask16 tail_mask16(int64_t left) { return static_cast<__mmask16>((1u << left) - 1u); }

// Bytes [off, off + 16) of 16 weight rows -> register k: bytes 4k..4k+3 of row L in 32-bit lane L. Loaded as rows
// q, q + 4, q + 8, q + 12 by 128-bit lane into register q, a 4 x 4 dword transpose within each 128-bit lane leaves
// the rows in lane order.
inline void load_transposed(const uint8_t* const row[16], int64_t off, __m512i g[4]) {
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) {
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row[q] + off)));
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(row[q + 4] + off)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(row[q + 8] + off)), 2);
    g[q] = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(row[q + 12] + off)), 3);
  }
  const __m512i t0 = _mm512_unpacklo_epi32(g[0], g[1]), t1 = _mm512_unpackhi_epi32(g[0], g[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(g[2], g[3]), t3 = _mm512_unpackhi_epi32(g[2], g[3]);
  g[0] = _mm512_unpacklo_epi64(t0, t2);
  g[1] = _mm512_unpackhi_epi64(t0, t2);
  g[2] = _mm512_unpacklo_epi64(t1, t3);
  g[3] = _mm512_unpackhi_epi64(t1, t3);
}

// The 16 weight rows of a tile (rows past `rows` repeat the last one, so their lanes compute something harmless and
// are never stored), as pointers and as int32 gather offsets (15 * w_stride fits for any k below 10^8).
struct LaneRows {
  const uint8_t* row[16];
  __m512i index;
  LaneRows(const DotTile& t, int rows) {
    alignas(64) int32_t offset[16];
#pragma GCC unroll 16
    for (int r = 0; r < 16; ++r) {
      const int64_t off = std::min(r, rows - 1) * t.w_stride;
      row[r] = t.w + off;
      offset[r] = static_cast<int32_t>(off);
    }
    index = _mm512_load_si512(offset);
  }
};

// The 32-block formats against Q8_0 / Q8_1 in row-lane tiles: one weight row per 32-bit lane, 16 rows in a zmm. A
// block's 16 rows are transposed to 4-byte groups (register k holds elements 4k..4k+3 of every row), so one vpdpbusd
// against an activation group broadcast from memory adds 4 products to all 16 rows: a block costs 8 of them per
// activation row, with no horizontal sums and one scale multiply for 16 outputs. Lane-sliced tiles (a block's
// elements across the lanes, one output per register) spent most of their time on per-output scale permutes and
// conversions instead and ran GEMM at half this speed; here the transposition is paid once per block and reused by
// all 8 activation rows of the tile. Per block and output lane, exactly in int32,
//   s = -zero * sum(y) + q . y,  then  acc = fma(float(s), dx * dy, acc)  [and acc = fma(m, s_y, acc) for _1]
// lane by lane (s_y: the partner's fp16 d * sum(y), as ggml), so an output's float operations are the same for every
// tile shape, row count and path; lanes of absent rows repeat the last row and are not stored. Weights enter the
// u8 x s8 dot unsigned: Q4 nibbles q, Q5 q | h << 4, Q8_0 as w + 128 (xor 0x80); the zero point (8, 16, 128; none
// for the _1 formats) times sum(y) is the dot's starting value.
template <Legacy kFormat>
struct LaneLegacy {
  static constexpr bool kQ8 = LegacyFormat<kFormat>::kQ8;
  static constexpr bool kFive = LegacyFormat<kFormat>::kFive;
  static constexpr bool kHasMin = LegacyFormat<kFormat>::kHasMin;
  static constexpr int kZero = kQ8 ? 128 : (kFormat == Legacy::kQ4_0 ? 8 : (kFormat == Legacy::kQ5_0 ? 16 : 0));
  using Block = typename LegacyFormat<kFormat>::Block;
  using Partner = typename LegacyFormat<kFormat>::Partner;
  static constexpr int64_t kQsOffset = offsetof(Block, qs);
  static constexpr int64_t kPartnerQsOffset = offsetof(Partner, qs);
  static constexpr int kPrefetchStep = 64 / sizeof(Block);
  // The packed GEMV reads up to 4 groups side by side (block, dispatch_lanes).
  static constexpr int kMaxStreams = 4;

  // A block of 16 rows before decoding: fp16 d (and m) of each row, the rows' qh words (Q5), and the transposed
  // quant bytes (register k: elements 4k..4k+3 of each row; Q4/Q5 nibbles still packed, Q8_0 already unsigned).
  struct Raw {
    __m256i d, m;
    __m512i qh;
    __m512i qs[8];
  };
  static constexpr int kQsRegs = kQ8 ? 8 : 4;
  // Packed layout (pack_weight_rows): per block of 16 rows, Raw's fields in order, 16 x sizeof(Block) bytes.
  static constexpr int64_t kBlockBytes = sizeof(Block);
  static constexpr int64_t kPackedQhOffset = kHasMin ? 64 : 32;
  static constexpr int64_t kPackedQsOffset = kPackedQhOffset + (kFive ? 64 : 0);
  static_assert(kPackedQsOffset + 64 * kQsRegs == 16 * kBlockBytes);

  // From the GGUF rows: the block at byte `off` of each row.
  static void gather(const LaneRows& lr, const uint8_t* w, int64_t off, Raw& r) {
    // The 16 rows' fp16 d (and m) from one dword per row.
    const __m512i dm = _mm512_i32gather_epi32(lr.index, w + off, 1);
    r.d = _mm512_cvtepi32_epi16(dm);
    if constexpr (kHasMin) r.m = _mm512_cvtepi32_epi16(_mm512_srli_epi32(dm, 16));
    if constexpr (kFive) r.qh = _mm512_i32gather_epi32(lr.index, w + off + offsetof(Block, qh), 1);
    load_transposed(lr.row, off + kQsOffset, r.qs);
    if constexpr (kQ8) {
      load_transposed(lr.row, off + kQsOffset + 16, r.qs + 4);
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) r.qs[k] = _mm512_xor_si512(r.qs[k], _mm512_set1_epi8(static_cast<char>(0x80)));
    }
  }

  static void load_packed(const uint8_t* p, Raw& r) {
    r.d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    if constexpr (kHasMin) r.m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    if constexpr (kFive) r.qh = _mm512_loadu_si512(p + kPackedQhOffset);
#pragma GCC unroll 8
    for (int k = 0; k < kQsRegs; ++k) r.qs[k] = _mm512_loadu_si512(p + kPackedQsOffset + 64 * k);
  }

  static void pack_block(const LaneRows& lr, const uint8_t* w, int64_t off, uint8_t* p) {
    Raw r;
    gather(lr, w, off, r);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), r.d);
    if constexpr (kHasMin) _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + 32), r.m);
    if constexpr (kFive) _mm512_storeu_si512(p + kPackedQhOffset, r.qh);
    for (int k = 0; k < kQsRegs; ++k) _mm512_storeu_si512(p + kPackedQsOffset + 64 * k, r.qs[k]);
  }

  // The block's scales as floats and its quants as 8 registers of unsigned values.
  // kHigh16 (Q4 only): the high nibbles stay in place (x & 0xF0, 16 times their value), saving a shift per register;
  // the caller divides their dot by 16, exactly.
  template <bool kHigh16>
  static void decode(Raw& r, __m512& dx, __m512& mx, __m512i wq[8]) {
    dx = _mm512_cvtph_ps(r.d);
    if constexpr (kHasMin) mx = _mm512_cvtph_ps(r.m);
    if constexpr (kQ8) {
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) wq[k] = r.qs[k];
    } else {
      // Byte b of a block's qs holds element b (low nibble) and element b + 16 (high nibble).
      const __m512i low4 = _mm512_set1_epi8(0x0F);
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        wq[k + 4] =
            kHigh16 ? _mm512_andnot_si512(low4, r.qs[k]) : _mm512_and_si512(_mm512_srli_epi16(r.qs[k], 4), low4);
        wq[k] = _mm512_and_si512(r.qs[k], low4);
      }
      if constexpr (kFive) {
        // Element e's fifth bit is bit e of the row's qh word: for register k, byte k / 2 of the word (nibble
        // k % 2) is copied to the lane's 4 bytes, and byte b tests its own bit.
#pragma GCC unroll 4
        for (int h = 0; h < 4; ++h) {
          const __m512i bytes = _mm512_shuffle_epi8(r.qh, _mm512_set4_epi32((12 + h) * 0x01010101, (8 + h) * 0x01010101,
                                                                            (4 + h) * 0x01010101, h * 0x01010101));
#pragma GCC unroll 2
          for (int nib = 0; nib < 2; ++nib) {
            const __mmask64 bit = _mm512_test_epi8_mask(bytes, _mm512_set1_epi32(0x08040201 << (4 * nib)));
            wq[2 * h + nib] = _mm512_mask_add_epi8(wq[2 * h + nib], bit, wq[2 * h + nib], _mm512_set1_epi8(16));
          }
        }
      }
    }
  }

  static constexpr int64_t kBlockElements = 32;

  // Adds block i of the tile to acc (see run_lanes); kPacked: t.w is a packed group of 16 rows (pack_block per
  // block), read as one sequential stream, one of S side by side in the GEMV.
  // w: the tile's weights (t.w, or with S > 1 this stream's group); the activations are t's, shared by the streams.
  template <bool kPacked, int C, int S>
  [[gnu::always_inline]] static void block(const DotTile& t, const uint8_t* w, const LaneRows& lr, int64_t i,
                                           __m512 acc[C]) {
    // GEMV-sized tiles split each dot in two chains and (Q4) take the cheaper nibble split; wider ones amortize the
    // shift over their columns and would pay the extra add per column instead. Every variant gives the same
    // integers, so the same bits.
    constexpr bool kSplit = C <= 2;
    constexpr bool kHigh16 = kSplit && !kQ8 && !kFive;
    Raw raw;
    if constexpr (kPacked) {
      const uint8_t* p = w + i * 16 * kBlockBytes;
      if constexpr (S > 1) {
        // Streams exist only in the GEMV: the distances run_tiles sets in t, known here at compile time, so the
        // loop of 4 streams computes no prefetch address and tests no distance per block.
        prefetch_fixed<kPackedStreamsPrefetchBytes / S, kPackedPrefetchL1Bytes, 16 * kBlockBytes>(p);
      } else {
        prefetch_ahead(t, p, 16 * kBlockBytes);
      }
      load_packed(p, raw);
    } else {
      const int64_t off = i * kBlockBytes;
      // GEMV: each row's stream, one row tile ahead. One prefetch per row every kPrefetchStep blocks (steps of at
      // most 64 bytes still touch every line): 16 per block would take a third of the load slots. Prefetching the
      // next tile in address order instead arrives too late for its first blocks (1-thread Q4_0: 9.3 vs 10.3 GB/s).
      if (i % kPrefetchStep == 0) {
#pragma GCC unroll 16
        for (int r = 0; r < 16; ++r) prefetch_ahead(t, lr.row[r] + off, 1);
      }
      gather(lr, w, off, raw);
    }
    __m512 dx, mx;
    __m512i wq[8];
    decode<kHigh16>(raw, dx, mx, wq);
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      const uint8_t* yq = t.a + c * t.a_stride + i * static_cast<int64_t>(sizeof(Partner)) + kPartnerQsOffset;
      auto group = [&](int k) {
        int32_t g;
        std::memcpy(&g, yq + 4 * k, 4);
        return _mm512_set1_epi32(g);
      };
      // The zero point times the activation block's sum starts the dot (kZero is a power of two).
      const int32_t y_sum = t.a_sum[c * t.a_sums_stride + i];
      __m512i s = _mm512_set1_epi32(kZero == 0 ? 0 : -(y_sum * kZero));
      if constexpr (kSplit) {
        // Two chains of 4: GEMV has no other columns to overlap the dot latency with. With kHigh16 every term of
        // `high` is a multiple of 16, so the shift is exact.
        __m512i high = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
          s = _mm512_dpbusd_epi32(s, wq[k], group(k));
          high = _mm512_dpbusd_epi32(high, wq[k + 4], group(k + 4));
        }
        s = _mm512_add_epi32(s, kHigh16 ? _mm512_srai_epi32(high, 4) : high);
      } else {
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) s = _mm512_dpbusd_epi32(s, wq[k], group(k));
      }
      const __m512 dy = _mm512_set1_ps(t.a_d[c * t.a_sums_stride + i]);
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dx, dy), acc[c]);
      if constexpr (kHasMin) acc[c] = _mm512_fmadd_ps(mx, _mm512_set1_ps(t.a_s[c * t.a_sums_stride + i]), acc[c]);
    }
  }
};

// A row-lane tile: kernel K's blocks in order for `rows` rows (one packed group, or gathered from the GGUF rows)
// against C activation rows. S > 1 (packed GEMV, DotTile::streams): S full groups, block i of each in turn; each
// output's arithmetic is the same as with S = 1.
template <class K, bool kPacked, int C, int S>
void run_lanes(const DotTile& t, int rows) {
  static_assert(S == 1 || kPacked);
  static_assert(S <= K::kMaxStreams);
  const LaneRows lr(t, rows);
  // Each stream's weights; all streams share t's activations (the same rows for every stream).
  const uint8_t* w[S];
  __m512 acc[S][C];
#pragma GCC unroll 4
  for (int s = 0; s < S; ++s) {
    w[s] = t.w + s * t.stream_w_stride;
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) acc[s][c] = _mm512_setzero_ps();
  }
  const int64_t nb = t.n / K::kBlockElements;
  for (int64_t i = 0; i < nb; ++i) {
    if constexpr (requires { K::kInterleavesStreams; }) {
      K::template block_streams<kPacked, C, S>(t, w, lr, i, acc);
    } else {
#pragma GCC unroll 4
      for (int s = 0; s < S; ++s) K::template block<kPacked, C, S>(t, w[s], lr, i, acc[s]);
    }
  }
  const __mmask16 store = tail_mask16(rows);
#pragma GCC unroll 4
  for (int s = 0; s < S; ++s)
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      float* y = t.y + s * t.stream_y_stride + c * t.ldy;
      if (t.stream_y && rows == 16 && (reinterpret_cast<uintptr_t>(y) & 63) == 0) {
        _mm512_stream_ps(y, acc[s][c]);  // a whole line, non-temporal (DotTile::stream_y)
      } else {
        _mm512_mask_storeu_ps(y, store, acc[s][c]);
      }
    }
}

// Row-lane kernels take any row count up to 16 at run time; only the column count is a template parameter, and in
// the packed GEMV (at most kGemvCols columns) the stream count, 1 up to K::kMaxStreams (2 or 4).
inline constexpr int kGemvCols = 4;

// The packed GEMV's run_lanes reading S streams, by column count.
template <class K, int S>
constexpr auto kStreamLanes = []<size_t... I>(std::index_sequence<I...>) {
  return std::array<void (*)(const DotTile&, int), kGemvCols>{&run_lanes<K, true, I + 1, S>...};
}
(std::make_index_sequence<kGemvCols>());

template <class K, bool kPacked>
void dispatch_lanes(const DotTile& t, int rows, int cols) {
  static_assert(kTileRows == 16 && kTileRowsK == 16);
  using Fn = void (*)(const DotTile&, int);
  if constexpr (kPacked && K::kMaxStreams >= 2) {
    if (t.streams == 2 && cols <= kGemvCols) return kStreamLanes<K, 2>[cols - 1](t, rows);
  }
  if constexpr (kPacked && K::kMaxStreams >= 4) {
    if (t.streams == 4 && cols <= kGemvCols) return kStreamLanes<K, 4>[cols - 1](t, rows);
  }
  static constexpr std::array<Fn, kTileCols> kTable = []<size_t... I>(std::index_sequence<I...>) {
    return std::array<Fn, kTileCols>{&run_lanes<K, kPacked, I + 1, 1>...};
  }
  (std::make_index_sequence<kTileCols>());
  kTable[cols - 1](t, rows);
}

template <class K>
void pack_lanes(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {
  DotTile t;
  t.w = w;
  t.w_stride = w_stride;
  const LaneRows lr(t, rows);
  for (int64_t i = 0; i < n_blocks; ++i) K::pack_block(lr, w, i * K::kBlockBytes, dst + i * 16 * K::kBlockBytes);
}

// Super-block i's header of a row-lane k-quant kernel K: loaded from the packed group (prefetching only the
// header's lines: the quant parts prefetch theirs as they are reached, since a burst of a whole super-block's
// prefetches would fill the line-fill buffers and stall the demand loads behind them) or gathered from the 16 rows.
// w: the tile's weights (t.w, or in the GEMV's streams this stream's group).
template <class K, bool kPacked>
void fetch_header(const DotTile& t, const uint8_t* w, const LaneRows& lr, int64_t i, typename K::Header& h) {
  const int64_t off = i * K::kBlockBytes;
  if constexpr (kPacked) {
    const uint8_t* packed = w + 16 * off;
    prefetch_ahead(t, packed, K::kPackedHeaderBytes);
    K::load_header(packed, h);
  } else {
#pragma GCC unroll 16
    for (int r = 0; r < 16; ++r) prefetch_ahead(t, lr.row[r] + off, K::kBlockBytes);
    K::gather_header(lr, w, off, h);
  }
}

// Eight registers stored one after another at p (a packed layout's runs of transposed bytes).
inline void load8(const uint8_t* p, __m512i r[8]) {
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) r[k] = _mm512_loadu_si512(p + 64 * k);
}
inline void store8(uint8_t* p, const __m512i r[8]) {
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) _mm512_storeu_si512(p + 64 * k, r[k]);
}

// Q4_K and Q5_K against Q8_K in row-lane tiles (see LaneLegacy): per super-block and output lane, exactly in int32,
//   sumi = sum_j sc[j] * (q . y over sub-block j),  summ = sum_j m[j] * (sum of y over sub-block j)
// then acc = fma(float(sumi), d * yd, acc) and acc = fnmadd(float(summ), dmin * yd, acc). The packed 6-bit scales
// and mins of 16 rows are transposed like the quants and unpacked in all lanes at once (the ggml bit layout works on
// 32-bit words, so unpack_k4_scales' steps apply lane by lane); the mins dot takes int16 pairs in one vpmaddwd.
// Q5_K (kFive) adds each quant's fifth bit from the block's qh: for quarter j, element l's low nibble takes bit 2j
// of qh[l] and its high nibble bit 2j + 1.
template <bool kFive>
struct LaneQ45K {
  using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
  static constexpr int64_t kBlockBytes = sizeof(Block);
  // A super-block of 16 rows before decoding: fp16 d and dmin of each row, the transposed packed-scale words 0..2
  // and (Q5_K) the transposed qh bytes (8 registers); then, per 32-byte quarter j, the transposed quant bytes (8
  // registers). Packed layout: the same in order, 32 + 32 + 192 (+ 512) header bytes and 4 x 512 quant bytes =
  // 16 x sizeof(Block).
  struct Header {
    __m256i d, dmin;
    __m512i pw[3];
    __m512i qh[kFive ? 8 : 1];
  };
  static constexpr int64_t kPackedQsOffset = kFive ? 768 : 256;
  static constexpr int64_t kPackedHeaderBytes = kPackedQsOffset;
  static_assert(kPackedQsOffset + 4 * 512 == 16 * kBlockBytes);

  static void gather_header(const LaneRows& lr, const uint8_t* w, int64_t off, Header& h) {
    const __m512i dm = _mm512_i32gather_epi32(lr.index, w + off, 1);
    h.d = _mm512_cvtepi32_epi16(dm);
    h.dmin = _mm512_cvtepi32_epi16(_mm512_srli_epi32(dm, 16));
    __m512i pw[4];  // the fourth holds quant bytes
    load_transposed(lr.row, off + offsetof(Block, scales), pw);
    for (int q = 0; q < 3; ++q) h.pw[q] = pw[q];
    if constexpr (kFive) {
      load_transposed(lr.row, off + offsetof(BlockQ5_K, qh), h.qh);
      load_transposed(lr.row, off + offsetof(BlockQ5_K, qh) + 16, h.qh + 4);
    }
  }
  static void gather_quants(const LaneRows& lr, int64_t off, int j, __m512i q[8]) {
    load_transposed(lr.row, off + offsetof(Block, qs) + 32 * j, q);
    load_transposed(lr.row, off + offsetof(Block, qs) + 32 * j + 16, q + 4);
  }
  static void load_header(const uint8_t* p, Header& h) {
    h.d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    h.dmin = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    for (int q = 0; q < 3; ++q) h.pw[q] = _mm512_loadu_si512(p + 64 + 64 * q);
    if constexpr (kFive) load8(p + 256, h.qh);
  }
  static void pack_block(const LaneRows& lr, const uint8_t* w, int64_t off, uint8_t* p) {
    Header h;
    gather_header(lr, w, off, h);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), h.d);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + 32), h.dmin);
    for (int q = 0; q < 3; ++q) _mm512_storeu_si512(p + 64 + 64 * q, h.pw[q]);
    if constexpr (kFive) store8(p + 256, h.qh);
    for (int j = 0; j < 4; ++j) {
      __m512i q[8];
      gather_quants(lr, off, j, q);
      store8(p + kPackedQsOffset + 512 * j, q);
    }
  }

  static constexpr int64_t kBlockElements = kQK_K;
  // run_lanes hands all S streams to block_streams, which interleaves them by half quarters (256 bytes each): whole
  // super-blocks (2.3 KiB) side by side leave each stream idle too long for its prefetches to keep up.
  static constexpr bool kInterleavesStreams = true;
  // Two streams; 4 lose (quant_matmul.cc). Their prefetches take t's distance at run time: compiled in, as in
  // LaneLegacy, Q4_K_M decode ran 2.2 % slower (4 interleaved rounds).
  static constexpr int kMaxStreams = 2;

  // Adds super-block i of each stream's weights w[s] to its acc (see run_lanes).
  template <bool kPacked, int C, int S>
  [[gnu::always_inline]] static void block_streams(const DotTile& t, const uint8_t* const w[S], const LaneRows& lr,
                                                   int64_t i, __m512 (*acc)[C]) {
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m512i byte_pairs = _mm512_set1_epi32(0x00FF00FF);
    const int64_t off = i * kBlockBytes;
    Header h[S];
    __m512i sc[S][2], pw1[S], pw2[S];
    // The high nibbles enter the dots in place (x & 0xF0: 16 times their value), which saves a shift per
    // register; their scaled sums are divided by 16 once per super-block, exactly, since every term is a multiple
    // of 16 (|sum| < 4 * 240 * 128 * 32 * 63 < 2^31).
    __m512i sumi[S][C], sumi_hi16[S][C];
    const __m512i mask1 = _mm512_set1_epi32(0x3f3f3f3f), mask2 = _mm512_set1_epi32(0x0f0f0f0f),
                  mask3 = _mm512_set1_epi32(0x03030303);
#pragma GCC unroll 2
    for (int s = 0; s < S; ++s) {
      fetch_header<LaneQ45K, kPacked>(t, w[s], lr, i, h[s]);
      // Packed words 0..2 of each row's scales -> scales 0..3, 4..7 as bytes of 32-bit lanes (the mins, from
      // words 1 and 2, are unpacked at the end).
      const __m512i* pw = h[s].pw;
      sc[s][0] = _mm512_and_si512(pw[0], mask1);
      sc[s][1] = _mm512_or_si512(_mm512_and_si512(pw[2], mask2),
                                 _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(pw[0], 6), mask3), 4));
      pw1[s] = pw[1];
      pw2[s] = pw[2];
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) sumi[s][c] = sumi_hi16[s][c] = _mm512_setzero_si512();
    }
    // GEMV streams take turns every half quarter (4 registers, 256 bytes): a stand-alone 2-stream read of this
    // layout ran 9 % faster so (34.1 vs 31.1 GB/s for whole 512-byte quarters), the kernel less: Q4_K_M decode +1.7
    // and +1.8 % (3 interleaved rounds each; 128-byte pieces +1.6 %). Each half's dots are partial sums of the
    // quarter's (one chain per half when there are two), so the integers and the bits are the same.
    constexpr int kPieces = S > 1 ? 2 : 1;
    constexpr int kRegs = 8 / kPieces;
    // GEMV-sized tiles run each dot as two chains of 4 (no other columns to overlap the latency with).
    constexpr int kChains = C <= 2 ? 2 : 1;
#pragma GCC unroll 1
    for (int j = 0; j < 4; ++j) {
      // The j-th 32 bytes of quants: low nibbles are sub-block 2j, high nibbles sub-block 2j + 1; sa / sb their dots
      // with the activations, per stream and column.
      __m512i sa[S][C][kChains], sb[S][C][kChains];
#pragma GCC unroll 2
      for (int s = 0; s < S; ++s)
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c)
#pragma GCC unroll 2
          for (int q = 0; q < kChains; ++q) sa[s][c][q] = sb[s][c][q] = _mm512_setzero_si512();
#pragma GCC unroll 2
      for (int piece = 0; piece < kPieces; ++piece) {
#pragma GCC unroll 2
        for (int s = 0; s < S; ++s) {
          const int k0 = piece * kRegs;  // the piece's first register of the quarter
          __m512i lo[kRegs], hi[kRegs];
          if constexpr (kPacked) {
            const uint8_t* quants = w[s] + 16 * off + kPackedQsOffset + 512 * j + 64 * k0;
            prefetch_ahead(t, quants, 64 * kRegs);
#pragma GCC unroll 8
            for (int k = 0; k < kRegs; ++k) lo[k] = _mm512_loadu_si512(quants + 64 * k);
          } else {
#pragma GCC unroll 2
            for (int q = 0; q < kRegs / 4; ++q) {
              load_transposed(lr.row, off + offsetof(Block, qs) + 32 * j + 4 * (k0 + 4 * q), lo + 4 * q);
            }
          }
          if constexpr (kFive) {
            // Bits 2j and 2j + 1 of each qh byte to bit 0 and 1 (16-bit shifts: what crosses into the byte below
            // is masked off), then to bit 4, the fifth bit of the quant: q | (bits & 0x10) in one ternary op.
            const __m128i count = _mm_cvtsi32_si128(2 * j);
            const __m512i bit4 = _mm512_set1_epi8(0x10);
#pragma GCC unroll 8
            for (int k = 0; k < kRegs; ++k) {
              const __m512i bits = _mm512_srl_epi16(h[s].qh[k0 + k], count);
              hi[k] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(lo[k], 4), low4),
                                                _mm512_slli_epi16(bits, 3), bit4, 0xF8);
              lo[k] = _mm512_ternarylogic_epi32(_mm512_and_si512(lo[k], low4), _mm512_slli_epi16(bits, 4), bit4, 0xF8);
            }
          } else {
#pragma GCC unroll 8
            for (int k = 0; k < kRegs; ++k) {
              hi[k] = _mm512_andnot_si512(low4, lo[k]);
              lo[k] = _mm512_and_si512(lo[k], low4);
            }
          }
#pragma GCC unroll 8
          for (int c = 0; c < C; ++c) {
            const int8_t* yq = act_block<BlockQ8_K>(t, c, i).qs + 64 * j;
#pragma GCC unroll 8
            for (int k = 0; k < kRegs; ++k) {
              const int kk = k0 + k;
              const int chain = kChains == 1 ? 0 : (kPieces == 2 ? piece : kk % 2);
              int32_t ga, gb;
              std::memcpy(&ga, yq + 4 * kk, 4);
              std::memcpy(&gb, yq + 32 + 4 * kk, 4);
              sa[s][c][chain] = _mm512_dpbusd_epi32(sa[s][c][chain], lo[k], _mm512_set1_epi32(ga));
              sb[s][c][chain] = _mm512_dpbusd_epi32(sb[s][c][chain], hi[k], _mm512_set1_epi32(gb));
            }
          }
        }
      }
#pragma GCC unroll 2
      for (int s = 0; s < S; ++s) {
        const __m512i sc_a = _mm512_and_si512(_mm512_srli_epi32(sc[s][j / 2], 16 * (j % 2)), _mm512_set1_epi32(0xFF));
        const __m512i sc_b =
            _mm512_and_si512(_mm512_srli_epi32(sc[s][j / 2], 16 * (j % 2) + 8), _mm512_set1_epi32(0xFF));
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
          __m512i a = sa[s][c][0], b = sb[s][c][0];
          if constexpr (kChains == 2) {
            a = _mm512_add_epi32(a, sa[s][c][1]);
            b = _mm512_add_epi32(b, sb[s][c][1]);
          }
          sumi[s][c] = _mm512_add_epi32(sumi[s][c], _mm512_mullo_epi32(a, sc_a));
          sumi_hi16[s][c] = _mm512_add_epi32(sumi_hi16[s][c], _mm512_mullo_epi32(b, sc_b));
        }
      }
    }
#pragma GCC unroll 2
    for (int s = 0; s < S; ++s) {
      const __m512 d = _mm512_cvtph_ps(h[s].d);
      const __m512 dmin = _mm512_cvtph_ps(h[s].dmin);
      const __m512i mn_lo = _mm512_and_si512(pw1[s], mask1);
      const __m512i mn_hi =
          _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(pw2[s], 4), mask2),
                          _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(pw1[s], 6), mask3), 4));
      // Mins as int16 pairs: (m0, m2), (m1, m3), (m4, m6), (m5, m7).
      const __m512i mins[4] = {
          _mm512_and_si512(mn_lo, byte_pairs), _mm512_and_si512(_mm512_srli_epi32(mn_lo, 8), byte_pairs),
          _mm512_and_si512(mn_hi, byte_pairs), _mm512_and_si512(_mm512_srli_epi32(mn_hi, 8), byte_pairs)};
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        // Q4_K's high nibbles entered in place (16 times their value); Q5_K's were shifted down with their bit.
        const __m512i sum =
            _mm512_add_epi32(sumi[s][c], kFive ? sumi_hi16[s][c] : _mm512_srai_epi32(sumi_hi16[s][c], 4));
        // The activation block's sub-block sums as int16 pairs (activation_sums): (b0, b2), (b1, b3), ...
        const int32_t* pairs = t.a_sum + c * t.a_sums_stride + 12 * i;
        const __m512i summ =
            _mm512_add_epi32(_mm512_add_epi32(_mm512_madd_epi16(mins[0], _mm512_set1_epi32(pairs[0])),
                                              _mm512_madd_epi16(mins[1], _mm512_set1_epi32(pairs[1]))),
                             _mm512_add_epi32(_mm512_madd_epi16(mins[2], _mm512_set1_epi32(pairs[2])),
                                              _mm512_madd_epi16(mins[3], _mm512_set1_epi32(pairs[3]))));
        const BlockQ8_K& y = act_block<BlockQ8_K>(t, c, i);
        const __m512 yd = _mm512_set1_ps(y.d);
        acc[s][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(d, yd), acc[s][c]);
        acc[s][c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(summ), _mm512_mul_ps(dmin, yd), acc[s][c]);
      }
    }
  }
};
using LaneQ4K = LaneQ45K<false>;
using LaneQ5K = LaneQ45K<true>;

// Shared by the row-lane kernels of the k-quants with 16-element groups (Q2_K, Q3_K, Q6_K): for every column c,
// sumi[c] += sc_a * (w[0..3] . y) + sc_b * (w[4..7] . y), the 32 elements of super-block i's activations from
// `element` on (groups of 16: w[0..3] the first, w[4..7] the second; 4 elements per 32-bit lane of each register).
template <int C>
inline void accumulate_groups16(const DotTile& t, int64_t i, int element, const __m512i w[8], __m512i sc_a,
                                __m512i sc_b, __m512i sumi[C]) {
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) {
    const int8_t* yq = act_block<BlockQ8_K>(t, c, i).qs + element;
    __m512i sa = _mm512_setzero_si512(), sb = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      int32_t ga, gb;
      std::memcpy(&ga, yq + 4 * k, 4);
      std::memcpy(&gb, yq + 16 + 4 * k, 4);
      sa = _mm512_dpbusd_epi32(sa, w[k], _mm512_set1_epi32(ga));
      sb = _mm512_dpbusd_epi32(sb, w[k + 4], _mm512_set1_epi32(gb));
    }
    sumi[c] = _mm512_add_epi32(sumi[c], _mm512_add_epi32(_mm512_mullo_epi32(sa, sc_a), _mm512_mullo_epi32(sb, sc_b)));
  }
}

// sum_g x[g] * bsum[g] over the 16 groups of 16 of one activation super-block, x as int16 pairs: x_pairs[p] holds
// groups 4 (p / 2) + p % 2 and that + 2, the order of activation_sums' bsum pairs (`pairs`, 8 of them).
inline __m512i dot_bsums16(const __m512i x_pairs[8], const int32_t* pairs) {
  __m512i sum = _mm512_setzero_si512();
#pragma GCC unroll 8
  for (int p = 0; p < 8; ++p) sum = _mm512_add_epi32(sum, _mm512_madd_epi16(x_pairs[p], _mm512_set1_epi32(pairs[p])));
  return sum;
}

// Q2_K and Q3_K (kThree) against Q8_K in row-lane tiles (see LaneLegacy). Both keep 2 bits of each quant in qs:
// quarter s of half h is bits 2s and 2s + 1 of qs bytes 32h..32h + 31, group 8h + 2s (bytes 0..15) and group
// 8h + 2s + 1 (bytes 16..31) of the 16 groups of 16. Per super-block and output lane, exactly in int32:
//   Q2_K: sumi = sum_g sc[g] * (q . y over g), summ = sum_g m[g] * bsum[g]   (4-bit sc and m, q in 0..3)
//         acc = fma(float(sumi), d * yd, acc), then acc = fnmadd(float(summ), dmin * yd, acc);
//   Q3_K: x = d * (sc - 32) * (q - 4), q = the 2 bits plus 4 times the hmask bit (bit 4h + s of hmask[l] for
//         element l of the quarter), in 0..7 so that it is unsigned for vpdpbusd:
//         sumi = sum_g (sc[g] - 32) * (q . y over g) - 4 * sum_g (sc[g] - 32) * bsum[g],  acc = fma(float(sumi), ...)
//         with the 6-bit scales unpacked lane by lane from the transposed packed words (ggml's word masks).
template <bool kThree>
struct LaneQ23K {
  using Block = std::conditional_t<kThree, BlockQ3_K, BlockQ2_K>;
  static constexpr int64_t kBlockBytes = sizeof(Block);
  static constexpr int kMaxStreams = 2;  // in the GEMV, whole super-blocks side by side (see block)
  // A super-block of 16 rows before decoding. Q2_K: fp16 d and dmin of each row and the transposed scale bytes
  // (register q: groups 4q..4q + 3, scale in the low nibble, min in the high one). Q3_K: fp16 d, the transposed
  // packed-scale words 0..2 and the transposed hmask bytes (8 registers). Then per half h the transposed qs bytes
  // 32h..32h + 31 (8 registers). Packed layout: the same in order (Q2_K: 32 + 32 + 256 header bytes, Q3_K: 32 + 192
  // + 512) and 2 x 512 quant bytes = 16 x sizeof(Block).
  struct Header {
    __m256i d, dmin;             // dmin: Q2_K
    __m512i sc[4];               // Q2_K: scale bytes; Q3_K: packed words in sc[0..2]
    __m512i hm[kThree ? 8 : 1];  // Q3_K
  };
  static constexpr int64_t kPackedQsOffset = kThree ? 736 : 320;
  static constexpr int64_t kPackedHeaderBytes = kPackedQsOffset;
  static constexpr int kScaleRegs = kThree ? 3 : 4;
  static constexpr int64_t kPackedScaleOffset = kThree ? 32 : 64;
  static_assert(kPackedQsOffset + 2 * 512 == 16 * kBlockBytes);

  static void gather_header(const LaneRows& lr, const uint8_t* w, int64_t off, Header& h) {
    if constexpr (kThree) {
      // d is the block's last field: the dword ending with it stays inside the block.
      const __m512i sd = _mm512_i32gather_epi32(lr.index, w + off + offsetof(BlockQ3_K, d) - 2, 1);
      h.d = _mm512_cvtepi32_epi16(_mm512_srli_epi32(sd, 16));
      __m512i g[4];  // the 16 bytes before d: the last 4 of qs, then the 12 scale bytes
      load_transposed(lr.row, off + offsetof(BlockQ3_K, scales) - 4, g);
      for (int q = 0; q < 3; ++q) h.sc[q] = g[q + 1];
      load_transposed(lr.row, off + offsetof(BlockQ3_K, hmask), h.hm);
      load_transposed(lr.row, off + offsetof(BlockQ3_K, hmask) + 16, h.hm + 4);
    } else {
      const __m512i dm = _mm512_i32gather_epi32(lr.index, w + off + offsetof(BlockQ2_K, d), 1);
      h.d = _mm512_cvtepi32_epi16(dm);
      h.dmin = _mm512_cvtepi32_epi16(_mm512_srli_epi32(dm, 16));
      load_transposed(lr.row, off + offsetof(BlockQ2_K, scales), h.sc);
    }
  }
  static void gather_half(const LaneRows& lr, int64_t off, int h, __m512i q[8]) {
    load_transposed(lr.row, off + offsetof(Block, qs) + 32 * h, q);
    load_transposed(lr.row, off + offsetof(Block, qs) + 32 * h + 16, q + 4);
  }
  static void load_header(const uint8_t* p, Header& h) {
    h.d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    if constexpr (!kThree) h.dmin = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
#pragma GCC unroll 4
    for (int q = 0; q < kScaleRegs; ++q) h.sc[q] = _mm512_loadu_si512(p + kPackedScaleOffset + 64 * q);
    if constexpr (kThree) load8(p + 224, h.hm);
  }
  static void load_half(const uint8_t* p, int h, __m512i q[8]) { load8(p + kPackedQsOffset + 512 * h, q); }
  static void pack_block(const LaneRows& lr, const uint8_t* w, int64_t off, uint8_t* p) {
    Header hd;
    gather_header(lr, w, off, hd);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), hd.d);
    if constexpr (!kThree) _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + 32), hd.dmin);
    for (int q = 0; q < kScaleRegs; ++q) _mm512_storeu_si512(p + kPackedScaleOffset + 64 * q, hd.sc[q]);
    if constexpr (kThree) store8(p + 224, hd.hm);
    for (int h = 0; h < 2; ++h) {
      __m512i q[8];
      gather_half(lr, off, h, q);
      store8(p + kPackedQsOffset + 512 * h, q);
    }
  }
  // Q3_K: the packed words -> the 16 scales as bytes 0..63 (register q: groups 4q..4q + 3), lane by lane.
  static void unpack_q3_scales(const __m512i pw[3], __m512i u[4]) {
    const __m512i m1 = _mm512_set1_epi32(0x03030303), m2 = _mm512_set1_epi32(0x0f0f0f0f);
    auto high2 = [&](int shift) {  // bits shift, shift + 1 of each byte of pw[2], moved to bits 4 and 5
      return _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(pw[2], shift), m1), 4);
    };
    u[0] = _mm512_or_si512(_mm512_and_si512(pw[0], m2), high2(0));
    u[1] = _mm512_or_si512(_mm512_and_si512(pw[1], m2), high2(2));
    u[2] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(pw[0], 4), m2), high2(4));
    u[3] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(pw[1], 4), m2), high2(6));
  }
  // Group g's scale in every lane as int32: Q2_K its low nibble, Q3_K its byte minus 32.
  static __m512i lane_scale(const __m512i sc[4], int g) {
    const __m512i byte = _mm512_srli_epi32(sc[g / 4], 8 * (g % 4));
    if constexpr (kThree) {
      return _mm512_sub_epi32(_mm512_and_si512(byte, _mm512_set1_epi32(0xFF)), _mm512_set1_epi32(32));
    } else {
      return _mm512_and_si512(byte, _mm512_set1_epi32(0x0F));
    }
  }

  static constexpr int64_t kBlockElements = kQK_K;

  // Adds super-block i of the tile to acc (see run_lanes).
  // w: the tile's weights (t.w, or in the GEMV's streams this stream's group), read whole super-block by whole
  // super-block side by side (run_lanes).
  template <bool kPacked, int C, int S>
  [[gnu::always_inline]] static void block(const DotTile& t, const uint8_t* w, const LaneRows& lr, int64_t i,
                                           __m512 acc[C]) {
    const __m512i three = _mm512_set1_epi8(3), low4 = _mm512_set1_epi8(0x0F), bit2 = _mm512_set1_epi8(4);
    const __m512i byte_pairs = _mm512_set1_epi32(0x00FF00FF);
    const int64_t off = i * kBlockBytes;
    const uint8_t* packed = w + 16 * off;
    Header hd;
    fetch_header<LaneQ23K, kPacked>(t, w, lr, i, hd);
    const __m512 d = _mm512_cvtph_ps(hd.d);
    // Per group as int16 pairs (groups 4q, 4q + 2) and (4q + 1, 4q + 3), as activation_sums pairs the bsums:
    // Q2_K its min, Q3_K its scale minus 32.
    __m512i sc[4], pairs[8];
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) sc[q] = hd.sc[q];
    if constexpr (kThree) unpack_q3_scales(hd.sc, sc);
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      if constexpr (kThree) {
        const __m512i thirty_two = _mm512_set1_epi16(32);
        pairs[2 * q] = _mm512_sub_epi16(_mm512_and_si512(sc[q], byte_pairs), thirty_two);
        pairs[2 * q + 1] = _mm512_sub_epi16(_mm512_and_si512(_mm512_srli_epi32(sc[q], 8), byte_pairs), thirty_two);
      } else {
        const __m512i m = _mm512_and_si512(_mm512_srli_epi32(sc[q], 4), low4);
        pairs[2 * q] = _mm512_and_si512(m, byte_pairs);
        pairs[2 * q + 1] = _mm512_and_si512(_mm512_srli_epi32(m, 8), byte_pairs);
      }
    }
    __m512i sumi[C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) sumi[c] = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      __m512i q[8];
      if constexpr (kPacked) {
        prefetch_ahead(t, packed + kPackedQsOffset + 512 * h, 512);
        load_half(packed, h, q);
      } else {
        gather_half(lr, off, h, q);
      }
#pragma GCC unroll 4
      for (int s = 0; s < 4; ++s) {
        __m512i w[8];
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) {
          w[k] = _mm512_and_si512(_mm512_srli_epi16(q[k], 2 * s), three);
          if constexpr (kThree) {
            // The high bit (bit 4h + s of each hmask byte) moved to bit 2: 16-bit shifts by at most 5 keep it
            // inside its byte.
            const int up = 2 - (4 * h + s);
            const __m512i high = up >= 0 ? _mm512_slli_epi16(hd.hm[k], up) : _mm512_srli_epi16(hd.hm[k], -up);
            w[k] = _mm512_ternarylogic_epi32(w[k], high, bit2, 0xF8);  // w | (high & 4)
          }
        }
        accumulate_groups16<C>(t, i, 128 * h + 32 * s, w, lane_scale(sc, 8 * h + 2 * s),
                               lane_scale(sc, 8 * h + 2 * s + 1), sumi);
      }
    }
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      const __m512 yd = _mm512_set1_ps(act_block<BlockQ8_K>(t, c, i).d);
      const __m512i bsum_dot = dot_bsums16(pairs, t.a_sum + c * t.a_sums_stride + 12 * i + 4);
      if constexpr (kThree) {
        const __m512i s = _mm512_sub_epi32(sumi[c], _mm512_slli_epi32(bsum_dot, 2));
        acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(d, yd), acc[c]);
      } else {
        acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[c]), _mm512_mul_ps(d, yd), acc[c]);
        acc[c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(bsum_dot), _mm512_mul_ps(_mm512_cvtph_ps(hd.dmin), yd), acc[c]);
      }
    }
  }
};
using LaneQ2K = LaneQ23K<false>;
using LaneQ3K = LaneQ23K<true>;

// Q6_K against Q8_K in row-lane tiles (see LaneLegacy): per super-block and output lane, exactly in int32,
//   sumi = sum_g sc[g] * (q . y over group g) - 32 * sum_g sc[g] * bsum[g]   (g: the 16 groups of 16, q in 0..63)
// then acc = fma(float(sumi), d * yd, acc). The 6-bit quants of 16 rows are rebuilt from the transposed low and
// high bit planes, each plane transposed once per half super-block and kept in memory for its four 32-element
// groups.
struct LaneQ6K {
  static constexpr int64_t kBlockBytes = sizeof(BlockQ6_K);
  // A super-block of 16 rows before decoding: fp16 d of each row and the transposed int8 scales (4 registers); then
  // per half h, the transposed low bit planes (16 registers) and high bit planes (8), from which each quarter s
  // builds its 8 registers of 6-bit quants (build_quarter, ~3.25 ops a register).
  // Packed layout: the header as above (32 + 256 bytes), then per half and quarter the 8 registers already built,
  // stored in 6 (encode_quarter) so that they decode in 9 ops for 4: 288 + 2 x 4 x 384 = 16 x sizeof(BlockQ6_K).
  struct Header {
    __m256i d;
    __m512i sc[4];
  };
  static constexpr int64_t kPackedHalfOffset = 288;
  static constexpr int64_t kPackedHeaderBytes = kPackedHalfOffset;
  static constexpr int64_t kPackedQuarterBytes = 384;
  static_assert(kPackedHalfOffset + 8 * kPackedQuarterBytes == 16 * kBlockBytes);

  static void gather_header(const LaneRows& lr, const uint8_t* w, int64_t off, Header& h) {
    // d is the block's last field: the dword ending with it stays inside the block.
    const __m512i sd = _mm512_i32gather_epi32(lr.index, w + off + offsetof(BlockQ6_K, d) - 2, 1);
    h.d = _mm512_cvtepi32_epi16(_mm512_srli_epi32(sd, 16));
    load_transposed(lr.row, off + offsetof(BlockQ6_K, scales), h.sc);
  }
  static void gather_half(const LaneRows& lr, int64_t off, int h, __m512i ql[16], __m512i qh[8]) {
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) load_transposed(lr.row, off + offsetof(BlockQ6_K, ql) + 64 * h + 16 * q, ql + 4 * q);
    load_transposed(lr.row, off + offsetof(BlockQ6_K, qh) + 32 * h, qh);
    load_transposed(lr.row, off + offsetof(BlockQ6_K, qh) + 32 * h + 16, qh + 4);
  }
  // Elements 128h + 32s + l: low bits from ql[l] (s even) or ql[l + 32] (s odd), low nibble for s < 2, high for
  // s >= 2; high bits 2s, 2s + 1 of qh[l].
  static void build_quarter(const __m512i ql[16], const __m512i qh[8], int s, __m512i w[8]) {
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m512i bits45 = _mm512_set1_epi8(0x30);
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      const __m512i lo_src = ql[k + 8 * (s & 1)];
      const __m512i lo = _mm512_and_si512(s >= 2 ? _mm512_srli_epi16(lo_src, 4) : lo_src, low4);
      const __m512i hi = s <= 2 ? _mm512_slli_epi16(qh[k], 4 - 2 * s) : _mm512_srli_epi16(qh[k], 2);
      w[k] = _mm512_ternarylogic_epi32(hi, bits45, lo, 0xEA);  // (hi & bits45) | lo
    }
  }
  // Per group of 4 registers w0..w3 of 6-bit values, three bytes b_i = w_i | (bits 2i, 2i + 1 of w3) << 6. The shifts
  // are 16-bit but move bits only within their byte.
  static void encode_quarter(const __m512i w[8], __m512i b[6]) {
#pragma GCC unroll 2
    for (int g = 0; g < 2; ++g) {
      const __m512i w3 = w[4 * g + 3];
      b[3 * g] = _mm512_or_si512(w[4 * g], _mm512_slli_epi16(_mm512_and_si512(w3, _mm512_set1_epi8(0x03)), 6));
      b[3 * g + 1] = _mm512_or_si512(w[4 * g + 1], _mm512_slli_epi16(_mm512_and_si512(w3, _mm512_set1_epi8(0x0C)), 4));
      b[3 * g + 2] = _mm512_or_si512(w[4 * g + 2], _mm512_slli_epi16(_mm512_and_si512(w3, _mm512_set1_epi8(0x30)), 2));
    }
  }
  static void decode_quarter(const __m512i b[6], __m512i w[8]) {
    const __m512i six = _mm512_set1_epi8(0x3F);
#pragma GCC unroll 2
    for (int g = 0; g < 2; ++g) {
#pragma GCC unroll 3
      for (int i = 0; i < 3; ++i) w[4 * g + i] = _mm512_and_si512(b[3 * g + i], six);
      // Bits 6-7 of b0, b1, b2 shifted to 0-1, 2-3, 4-5 (each shift leaves other bits of the byte dirty), merged
      // by two bit selects (0xE4: mask ? first : second) and cleaned by the 6-bit mask.
      const __m512i t0 = _mm512_srli_epi16(b[3 * g], 6);
      const __m512i t1 = _mm512_srli_epi16(b[3 * g + 1], 4);
      const __m512i t2 = _mm512_srli_epi16(b[3 * g + 2], 2);
      const __m512i u = _mm512_ternarylogic_epi32(t0, t1, _mm512_set1_epi8(0x03), 0xE4);
      const __m512i v = _mm512_ternarylogic_epi32(t2, u, _mm512_set1_epi8(0x30), 0xE4);
      w[4 * g + 3] = _mm512_and_si512(v, six);
    }
  }
  static void load_header(const uint8_t* p, Header& h) {
    h.d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    for (int q = 0; q < 4; ++q) h.sc[q] = _mm512_loadu_si512(p + 32 + 64 * q);
  }
  static const uint8_t* packed_quarter(const uint8_t* p, int h, int s) {
    return p + kPackedHalfOffset + kPackedQuarterBytes * (4 * h + s);
  }
  static void pack_block(const LaneRows& lr, const uint8_t* w, int64_t off, uint8_t* p) {
    Header hd;
    gather_header(lr, w, off, hd);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), hd.d);
    for (int q = 0; q < 4; ++q) _mm512_storeu_si512(p + 32 + 64 * q, hd.sc[q]);
    for (int h = 0; h < 2; ++h) {
      __m512i ql[16], qh[8];
      gather_half(lr, off, h, ql, qh);
      for (int s = 0; s < 4; ++s) {
        __m512i wq[8], b[6];
        build_quarter(ql, qh, s, wq);
        encode_quarter(wq, b);
        uint8_t* quarter = p + kPackedHalfOffset + kPackedQuarterBytes * (4 * h + s);
        for (int k = 0; k < 6; ++k) _mm512_storeu_si512(quarter + 64 * k, b[k]);
      }
    }
  }

  // Lane scale g of the transposed int8 scales, sign-extended to int32.
  static __m512i lane_scale(const __m512i sc[4], int g) {
    return _mm512_srai_epi32(_mm512_slli_epi32(sc[g / 4], 24 - 8 * (g % 4)), 24);
  }

  static constexpr int64_t kBlockElements = kQK_K;
  // run_lanes hands all S streams to block_streams, which interleaves them quarter by quarter (384 bytes each), as
  // LaneQ45K does by half quarters.
  static constexpr bool kInterleavesStreams = true;
  static constexpr int kMaxStreams = 2;  // as LaneQ45K

  // Adds super-block i of each stream's weights w[s] to its acc (see run_lanes).
  template <bool kPacked, int C, int S>
  [[gnu::always_inline]] static void block_streams(const DotTile& t, const uint8_t* const w[S], const LaneRows& lr,
                                                   int64_t i, __m512 (*acc)[C]) {
    const int64_t off = i * kBlockBytes;
    Header hd[S];
    __m512i sumi[S][C];
#pragma GCC unroll 2
    for (int s = 0; s < S; ++s) {
      fetch_header<LaneQ6K, kPacked>(t, w[s], lr, i, hd[s]);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) sumi[s][c] = _mm512_setzero_si512();
    }
#pragma GCC unroll 1
    for (int h = 0; h < 2; ++h) {
      __m512i ql[16], qh[8];
      if constexpr (!kPacked) gather_half(lr, off, h, ql, qh);
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
#pragma GCC unroll 2
        for (int s = 0; s < S; ++s) {
          __m512i wq[8];
          if constexpr (kPacked) {
            const uint8_t* quarter = packed_quarter(w[s] + 16 * off, h, q);
            prefetch_ahead(t, quarter, kPackedQuarterBytes);
            __m512i b[6];
#pragma GCC unroll 6
            for (int k = 0; k < 6; ++k) b[k] = _mm512_loadu_si512(quarter + 64 * k);
            decode_quarter(b, wq);
          } else {
            build_quarter(ql, qh, q, wq);
          }
          const __m512i sc_a = lane_scale(hd[s].sc, 8 * h + 2 * q), sc_b = lane_scale(hd[s].sc, 8 * h + 2 * q + 1);
          accumulate_groups16<C>(t, i, 128 * h + 32 * q, wq, sc_a, sc_b, sumi[s]);
        }
      }
    }
#pragma GCC unroll 2
    for (int s = 0; s < S; ++s) {
      const __m512 d = _mm512_cvtph_ps(hd[s].d);
      // Scales as int16 pairs (sc[4j], sc[4j + 2]) and (sc[4j + 1], sc[4j + 3]) for the offset's vpmaddwd.
      __m512i sc_pairs[8];
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        sc_pairs[2 * j] = _mm512_srai_epi16(_mm512_slli_epi16(hd[s].sc[j], 8), 8);
        sc_pairs[2 * j + 1] = _mm512_srai_epi16(hd[s].sc[j], 8);
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const BlockQ8_K& y = act_block<BlockQ8_K>(t, c, i);
        const __m512i offset = dot_bsums16(sc_pairs, t.a_sum + c * t.a_sums_stride + 12 * i + 4);
        const __m512i sum = _mm512_sub_epi32(sumi[s][c], _mm512_slli_epi32(offset, 5));
        acc[s][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(d, _mm512_set1_ps(y.d)), acc[s][c]);
      }
    }
  }
};

struct LoadF32 {
  static constexpr int kBytes = 4;  // per element
  static __m512 vec(const uint8_t* row, int64_t e, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + e);
  }
};
struct LoadF16 {
  static constexpr int kBytes = 2;
  static __m512 vec(const uint8_t* row, int64_t e, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + e));
  }
};
struct LoadBF16 {
  static constexpr int kBytes = 2;
  static __m512 vec(const uint8_t* row, int64_t e, __mmask16 m) {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + e));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
};

// Float weights against f32 activations: two accumulators per output (32 elements per step), then masked 16-wide
// steps into the first.
template <class Load>
struct DotFloat {
  template <int R, int C>
  static void run(const DotTile& t) {
    __m512 acc[2][R][C];
#pragma GCC unroll 8
    for (int s = 0; s < 2; ++s)
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) acc[s][r][c] = _mm512_setzero_ps();
    auto step = [&](int64_t e, int slot, __mmask16 m) {
      __m512 wv[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) wv[r] = Load::vec(t.w + r * t.w_stride, e, m);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m512 xv = _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(t.a + c * t.a_stride) + e);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[slot][r][c] = _mm512_fmadd_ps(wv[r], xv, acc[slot][r][c]);
      }
    };
    int64_t e = 0;
    for (; e + 32 <= t.n; e += 32) {
      // GEMV (t.prefetch set): each row's next 32 elements one row tile ahead, into L2, as the quantized GGUF-layout
      // tiles do. F16 GEMV in matmul_bench, old and new binaries alternately: 1 thread 13.9-14.2 -> 14.7 GB/s, 2
      // threads 27.1-27.8 -> 28.0-28.5 (weights in L2: 52-57 -> 45-47, the prefetches' own cost).
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) prefetch_ahead(t, t.w + r * t.w_stride + e * Load::kBytes, 32 * Load::kBytes);
      step(e, 0, 0xFFFF);
      step(e + 16, 1, 0xFFFF);
    }
    for (; e < t.n; e += 16) step(e, 0, t.n - e >= 16 ? __mmask16{0xFFFF} : tail_mask16(t.n - e));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) t.y[c * t.ldy + r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[0][r][c], acc[1][r][c]));
  }
};

}  // namespace

#define STRATA_AVX512_LANE_KERNEL(name, K)                                                                   \
  void dot_##name(const DotTile& t, int rows, int cols) { dispatch_lanes<K, false>(t, rows, cols); }         \
  void dot_##name##_packed(const DotTile& t, int rows, int cols) { dispatch_lanes<K, true>(t, rows, cols); } \
  void pack_##name(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst) {           \
    pack_lanes<K>(w, w_stride, rows, n_blocks, dst);                                                         \
  }
STRATA_AVX512_LANE_KERNEL(q4_0_q8_0, LaneLegacy<Legacy::kQ4_0>)
STRATA_AVX512_LANE_KERNEL(q4_1_q8_1, LaneLegacy<Legacy::kQ4_1>)
STRATA_AVX512_LANE_KERNEL(q5_0_q8_0, LaneLegacy<Legacy::kQ5_0>)
STRATA_AVX512_LANE_KERNEL(q5_1_q8_1, LaneLegacy<Legacy::kQ5_1>)
STRATA_AVX512_LANE_KERNEL(q8_0_q8_0, LaneLegacy<Legacy::kQ8_0>)
STRATA_AVX512_LANE_KERNEL(q2_k_q8_k, LaneQ2K)
STRATA_AVX512_LANE_KERNEL(q3_k_q8_k, LaneQ3K)
STRATA_AVX512_LANE_KERNEL(q4_k_q8_k, LaneQ4K)
STRATA_AVX512_LANE_KERNEL(q5_k_q8_k, LaneQ5K)
STRATA_AVX512_LANE_KERNEL(q6_k_q8_k, LaneQ6K)
#undef STRATA_AVX512_LANE_KERNEL
void dot_f16_f32(const DotTile& t, int rows, int cols) { detail::dispatch<DotFloat<LoadF16>>(t, rows, cols); }
void dot_bf16_f32(const DotTile& t, int rows, int cols) { detail::dispatch<DotFloat<LoadBF16>>(t, rows, cols); }
void dot_f32_f32(const DotTile& t, int rows, int cols) { detail::dispatch<DotFloat<LoadF32>>(t, rows, cols); }

}  // namespace strata::cpu::avx512
