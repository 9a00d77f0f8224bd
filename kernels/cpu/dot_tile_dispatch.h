// Runtime tile shape -> compile-time kernel instantiation, in one place for every ISA's translation unit.
//
// A kernel is a class K with `template <int R, int C> static void run(const DotTile&)`. Every shape from 1 x 1 to
// kRows x kCols is instantiated: GEMV uses R x m for m <= kCols, and matrix edges use the smaller ones. Since K is a
// type of the including ISA's namespace, each ISA gets its own instantiations (see x86_simd.h for why that matters).
#pragma once

#include <algorithm>
#include <array>
#include <utility>

#include "kernels/cpu/isa_kernels.h"

namespace strata::cpu {

template <int kRows, int kCols, class K>
void dispatch_dot_tile(const DotTile& t, int rows, int cols) {
  using Fn = void (*)(const DotTile&);
  static constexpr std::array<Fn, kRows* kCols> kTable = []<size_t... I>(std::index_sequence<I...>) {
    return std::array<Fn, kRows * kCols>{&K::template run<I / kCols + 1, I % kCols + 1>...};
  }
  (std::make_index_sequence<kRows * kCols>());
  kTable[(rows - 1) * kCols + (cols - 1)](t);
}

// A tile larger than K's register tile (kRows x kCols), computed as register tiles of at most that size. Each
// output still goes through K's per-output operations, so the results are those of the smaller tiles bit for bit.
template <int kRows, int kCols, class K>
void dispatch_dot_tile_split(const DotTile& t, int rows, int cols) {
  for (int c0 = 0; c0 < cols; c0 += kCols) {
    for (int r0 = 0; r0 < rows; r0 += kRows) {
      DotTile sub = t;
      sub.w = t.w + r0 * t.w_stride;
      sub.a = t.a + c0 * t.a_stride;
      sub.y = t.y + c0 * t.ldy + r0;
      dispatch_dot_tile<kRows, kCols, K>(sub, std::min(kRows, rows - r0), std::min(kCols, cols - c0));
    }
  }
}

}  // namespace strata::cpu
