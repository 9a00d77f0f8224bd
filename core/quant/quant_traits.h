// Compile-time description of every element type the reference quant code handles, and the one place where a
// runtime GgmlType becomes a compile-time type (visit_quant_type).
//
// Per type: the storage block, elements per block, bytes per block, and the activation type a matrix-vector product
// quantizes its input to (ggml's vec_dot_type): Q8_0 for the symmetric legacy formats, Q8_1 for the ones with a
// minimum (the partner's cached d * sum(q) folds the min term into one multiply), Q8_K for the k-quants (its
// per-16 sums serve the k-quant mins). Plain float types pair with themselves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "core/gguf/ggml_type.h"
#include "core/quant/block_formats.h"

namespace strata {

template <GgmlType T>
struct QuantTraits;  // only the types listed below exist

#define STRATA_QUANT_TRAITS(kType, BlockT, kElems, kDot)   \
  template <>                                              \
  struct QuantTraits<GgmlType::kType> {                    \
    using Block = BlockT;                                  \
    static constexpr GgmlType kGgmlType = GgmlType::kType; \
    static constexpr int64_t kBlockSize = kElems;          \
    static constexpr size_t kBlockBytes = sizeof(BlockT);  \
    static constexpr GgmlType kDotType = GgmlType::kDot;   \
  }

// Plain types: F16 and BF16 store raw uint16_t bits (core/quant/fp16.h converts them).
STRATA_QUANT_TRAITS(kF32, float, 1, kF32);
STRATA_QUANT_TRAITS(kF16, uint16_t, 1, kF16);
STRATA_QUANT_TRAITS(kBF16, uint16_t, 1, kBF16);
STRATA_QUANT_TRAITS(kQ4_0, BlockQ4_0, kQK4_0, kQ8_0);
STRATA_QUANT_TRAITS(kQ4_1, BlockQ4_1, kQK4_1, kQ8_1);
STRATA_QUANT_TRAITS(kQ5_0, BlockQ5_0, kQK5_0, kQ8_0);
STRATA_QUANT_TRAITS(kQ5_1, BlockQ5_1, kQK5_1, kQ8_1);
STRATA_QUANT_TRAITS(kQ8_0, BlockQ8_0, kQK8_0, kQ8_0);
STRATA_QUANT_TRAITS(kQ8_1, BlockQ8_1, kQK8_1, kQ8_1);
STRATA_QUANT_TRAITS(kQ2_K, BlockQ2_K, kQK_K, kQ8_K);
STRATA_QUANT_TRAITS(kQ3_K, BlockQ3_K, kQK_K, kQ8_K);
STRATA_QUANT_TRAITS(kQ4_K, BlockQ4_K, kQK_K, kQ8_K);
STRATA_QUANT_TRAITS(kQ5_K, BlockQ5_K, kQK_K, kQ8_K);
STRATA_QUANT_TRAITS(kQ6_K, BlockQ6_K, kQK_K, kQ8_K);
STRATA_QUANT_TRAITS(kQ8_K, BlockQ8_K, kQK_K, kQ8_K);

#undef STRATA_QUANT_TRAITS

// Calls `fn(QuantTraits<T>{})` for the compile-time T equal to `type` and returns true, or returns false without
// calling it when `type` has no QuantTraits (the IQ formats, integer types, F64, ...). This is the instantiated set:
// every format that appears in the GGUF files we serve, plus the activation partners.
template <typename Fn>
bool visit_quant_type(GgmlType type, Fn&& fn) {
  switch (type) {
#define STRATA_VISIT(kType)             \
  case GgmlType::kType:                 \
    fn(QuantTraits<GgmlType::kType>{}); \
    return true;
    STRATA_VISIT(kF32)
    STRATA_VISIT(kF16)
    STRATA_VISIT(kBF16)
    STRATA_VISIT(kQ4_0)
    STRATA_VISIT(kQ4_1)
    STRATA_VISIT(kQ5_0)
    STRATA_VISIT(kQ5_1)
    STRATA_VISIT(kQ8_0)
    STRATA_VISIT(kQ8_1)
    STRATA_VISIT(kQ2_K)
    STRATA_VISIT(kQ3_K)
    STRATA_VISIT(kQ4_K)
    STRATA_VISIT(kQ5_K)
    STRATA_VISIT(kQ6_K)
    STRATA_VISIT(kQ8_K)
#undef STRATA_VISIT
    default:
      return false;
  }
}

// Elements per block and bytes per block of `type`, or {0, 0} when visit_quant_type does not know it.
struct QuantBlockShape {
  int64_t block_size = 0;
  size_t block_bytes = 0;
};
inline QuantBlockShape quant_block_shape(GgmlType type) {
  QuantBlockShape shape;
  visit_quant_type(type, [&](auto traits) {
    using Traits = decltype(traits);
    shape = {Traits::kBlockSize, Traits::kBlockBytes};
  });
  return shape;
}

// The activation type of `type`'s dot products (see the file comment); `type` itself when unknown.
inline GgmlType quant_dot_type(GgmlType type) {
  GgmlType dot = type;
  visit_quant_type(type, [&](auto traits) { dot = decltype(traits)::kDotType; });
  return dot;
}

}  // namespace strata
