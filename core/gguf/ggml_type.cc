#include "core/gguf/ggml_type.h"

#include <array>

namespace strata {
namespace {

// Indexed by the raw ggml type number; an entry with block_size 0 is a hole (removed or never assigned numbers).
// Sizes are ggml's block structs (ggml-common.h): K and IQ formats use 256-element super-blocks, IQ4_NL 32.
constexpr size_t kTypeCount = 36;

constexpr std::array<GgmlTypeInfo, kTypeCount> make_table() {
  std::array<GgmlTypeInfo, kTypeCount> t{};
  auto set = [&t](GgmlType type, std::string_view name, uint32_t block_size, uint32_t type_size) {
    t[static_cast<uint32_t>(type)] = GgmlTypeInfo{name, block_size, type_size};
  };
  set(GgmlType::kF32, "F32", 1, 4);
  set(GgmlType::kF16, "F16", 1, 2);
  set(GgmlType::kQ4_0, "Q4_0", 32, 18);
  set(GgmlType::kQ4_1, "Q4_1", 32, 20);
  set(GgmlType::kQ5_0, "Q5_0", 32, 22);
  set(GgmlType::kQ5_1, "Q5_1", 32, 24);
  set(GgmlType::kQ8_0, "Q8_0", 32, 34);
  set(GgmlType::kQ8_1, "Q8_1", 32, 36);
  set(GgmlType::kQ2_K, "Q2_K", 256, 84);
  set(GgmlType::kQ3_K, "Q3_K", 256, 110);
  set(GgmlType::kQ4_K, "Q4_K", 256, 144);
  set(GgmlType::kQ5_K, "Q5_K", 256, 176);
  set(GgmlType::kQ6_K, "Q6_K", 256, 210);
  set(GgmlType::kQ8_K, "Q8_K", 256, 292);
  set(GgmlType::kIQ2_XXS, "IQ2_XXS", 256, 66);  // d + qs[32] u16
  set(GgmlType::kIQ2_XS, "IQ2_XS", 256, 74);    // d + qs[32] u16 + scales[8]
  set(GgmlType::kIQ3_XXS, "IQ3_XXS", 256, 98);  // d + qs[96]
  set(GgmlType::kIQ1_S, "IQ1_S", 256, 50);      // d + qs[32] + qh[8] u16
  set(GgmlType::kIQ4_NL, "IQ4_NL", 32, 18);     // d + qs[16]
  set(GgmlType::kIQ3_S, "IQ3_S", 256, 110);     // d + qs[64] + qh[8] + signs[32] + scales[4]
  set(GgmlType::kIQ2_S, "IQ2_S", 256, 82);      // d + qs[64] + qh[8] + scales[8]
  set(GgmlType::kIQ4_XS, "IQ4_XS", 256, 136);   // d + scales_h u16 + scales_l[4] + qs[128]
  set(GgmlType::kI8, "I8", 1, 1);
  set(GgmlType::kI16, "I16", 1, 2);
  set(GgmlType::kI32, "I32", 1, 4);
  set(GgmlType::kI64, "I64", 1, 8);
  set(GgmlType::kF64, "F64", 1, 8);
  set(GgmlType::kIQ1_M, "IQ1_M", 256, 56);  // qs[32] + qh[16] + scales[8], no separate d
  set(GgmlType::kBF16, "BF16", 1, 2);
  set(GgmlType::kTQ1_0, "TQ1_0", 256, 54);  // qs[48] + qh[4] + d
  set(GgmlType::kTQ2_0, "TQ2_0", 256, 66);  // qs[64] + d
  return t;
}

constexpr std::array<GgmlTypeInfo, kTypeCount> kTypes = make_table();

}  // namespace

const GgmlTypeInfo* ggml_type_info(uint32_t raw_type) {
  if (raw_type >= kTypes.size() || kTypes[raw_type].block_size == 0) return nullptr;
  return &kTypes[raw_type];
}

const GgmlTypeInfo* ggml_type_info(GgmlType type) { return ggml_type_info(static_cast<uint32_t>(type)); }

}  // namespace strata
