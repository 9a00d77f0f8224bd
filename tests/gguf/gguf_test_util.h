// Test helpers for GGUF: a byte builder for hand-made (often malformed) headers, and a sample file built with
// GgufWriter that exercises every value type and several tensor types. The fuzz seed generator uses the sample too.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/gguf/ggml_type.h"
#include "core/gguf/gguf_file.h"
#include "core/gguf/gguf_writer.h"

namespace strata::testing {

// Little-endian byte builder for GGUF images written field by field.
class GgufBytes {
 public:
  GgufBytes& u8(uint8_t v) { return raw(&v, 1); }
  GgufBytes& u32(uint32_t v) { return raw(&v, 4); }
  GgufBytes& u64(uint64_t v) { return raw(&v, 8); }
  GgufBytes& f32(float v) { return raw(&v, 4); }
  GgufBytes& str(std::string_view s) {
    u64(s.size());
    return raw(s.data(), s.size());
  }
  GgufBytes& raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
    return *this;
  }
  GgufBytes& fill(size_t n, uint8_t value = 0) {
    bytes_.insert(bytes_.end(), n, value);
    return *this;
  }
  GgufBytes& pad_to(size_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
    return *this;
  }
  // "GGUF", version, tensor count, metadata count.
  GgufBytes& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    return raw("GGUF", 4).u32(version).u64(n_tensors).u64(n_kv);
  }
  GgufBytes& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
  GgufBytes& kv_str(std::string_view key, std::string_view v) { return str(key).u32(8).str(v); }
  GgufBytes& tensor_info(std::string_view name, const std::vector<uint64_t>& shape, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(shape.size()));
    for (uint64_t d : shape) u64(d);
    return u32(type).u64(offset);
  }

  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// Random payload of the right size for a tensor.
inline std::vector<uint8_t> random_tensor_bytes(GgmlType type, const std::vector<uint64_t>& shape, std::mt19937& rng) {
  const GgmlTypeInfo* info = ggml_type_info(type);
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  std::vector<uint8_t> data(n / info->block_size * info->type_size);
  for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
  return data;
}

// A small file with every metadata value type and a few tensors; `variant` changes alignment, tensor types and
// sizes so several distinct seeds come out of one function.
inline GgufWriter make_sample_writer(int variant) {
  std::mt19937 rng(1234 + variant);
  GgufWriter w;
  w.set_string("general.architecture", variant % 2 == 0 ? "llama" : "gemma3");
  w.set_string("general.name", "sample-" + std::to_string(variant));
  w.set_u8("test.u8", 200);
  w.set_i8("test.i8", -100);
  w.set_u16("test.u16", 60000);
  w.set_i16("test.i16", -30000);
  w.set_u32("test.u32", 4000000000u);
  w.set_i32("test.i32", -2000000000);
  w.set_u64("test.u64", 18000000000000000000ull);
  w.set_i64("test.i64", -9000000000000000000ll);
  w.set_f32("test.f32", 1.5f);
  w.set_f64("test.f64", -2.25);
  w.set_bool("test.bool", true);
  const std::vector<int32_t> ints = {1, -2, 3, -4, 5};
  w.set_array("test.arr_i32", std::span<const int32_t>(ints));
  const std::vector<float> floats = {0.5f, -1.0f, 3.25f};
  w.set_array("test.arr_f32", std::span<const float>(floats));
  const std::vector<uint8_t> bytes = {0, 1, 255};
  w.set_array("test.arr_u8", std::span<const uint8_t>(bytes));
  w.set_bool_array("test.arr_bool", {true, false, true});
  std::vector<std::string> tokens;
  for (int i = 0; i < 24 + 8 * variant; ++i) tokens.push_back("tok" + std::to_string(i));
  tokens.push_back("");  // empty strings are legal
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  const uint32_t alignments[] = {32, 64, 16, 8, 1};
  if (variant % 5 != 0) (void)w.set_alignment(alignments[variant % 5]);

  struct Spec {
    const char* name;
    GgmlType type;
    std::vector<uint64_t> shape;
  };
  const GgmlType quant = variant % 3 == 0 ? GgmlType::kQ4_0 : (variant % 3 == 1 ? GgmlType::kQ8_0 : GgmlType::kQ4_1);
  const std::vector<Spec> specs = {
      {"token_embd.weight", GgmlType::kF16, {8, 6}},
      {"blk.0.attn_q.weight", quant, {64, 2}},
      {"blk.0.ffn_down.weight", variant % 2 == 0 ? GgmlType::kQ4_K : GgmlType::kQ6_K, {256, 1, 1}},
      {"output_norm.weight", GgmlType::kF32, {7}},
  };
  for (const Spec& s : specs) {
    std::vector<uint8_t> data = random_tensor_bytes(s.type, s.shape, rng);
    (void)w.add_tensor(s.name, s.type, s.shape, data.data(), data.size());
  }
  return w;
}

}  // namespace strata::testing
