// Runtime tile shape -> compile-time kernel instantiation, in one place for every ISA's translation unit.
//
// A kernel is a class K with `template <int R, int C> static void run(const DotTile&)`. Every shape from 1 x 1 to
// kRows x kCols is instantiated: GEMV uses R x m for m <= kCols, and matrix edges use the smaller ones. Since K is a
// type of the including ISA's namespace, each ISA gets its own instantiations (see x86_simd.h for why that matters).
#pragma once

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

}  // namespace strata::cpu
