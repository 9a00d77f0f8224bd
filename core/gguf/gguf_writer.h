// Builds a GGUF v3 file: metadata in insertion order, then tensor infos, then the aligned tensor payloads.
//
// Values are encoded when set, so the writer owns every metadata byte (nothing refers back to a GgufFile after
// copy_metadata_from). Tensor payloads are copied by add_tensor, or borrowed by add_tensor_ref when the caller keeps
// them alive until write()/serialize() returns (the synthesizer streams large random-weight models that way).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/gguf/ggml_type.h"
#include "core/gguf/gguf_file.h"

namespace strata {

class GgufWriter {
 public:
  GgufWriter() = default;
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;
  GgufWriter(GgufWriter&&) = default;  // owned tensor buffers keep their address when moved
  GgufWriter& operator=(GgufWriter&&) = default;

  // Scalars. Setting an existing key replaces its value (and type) in place, keeping its position.
  void set_u8(std::string_view key, uint8_t value);
  void set_i8(std::string_view key, int8_t value);
  void set_u16(std::string_view key, uint16_t value);
  void set_i16(std::string_view key, int16_t value);
  void set_u32(std::string_view key, uint32_t value);
  void set_i32(std::string_view key, int32_t value);
  void set_u64(std::string_view key, uint64_t value);
  void set_i64(std::string_view key, int64_t value);
  void set_f32(std::string_view key, float value);
  void set_f64(std::string_view key, double value);
  void set_bool(std::string_view key, bool value);
  void set_string(std::string_view key, std::string_view value);

  // Arrays of numbers; the element type follows the span's element type.
  void set_array(std::string_view key, std::span<const uint8_t> values);
  void set_array(std::string_view key, std::span<const int8_t> values);
  void set_array(std::string_view key, std::span<const uint16_t> values);
  void set_array(std::string_view key, std::span<const int16_t> values);
  void set_array(std::string_view key, std::span<const uint32_t> values);
  void set_array(std::string_view key, std::span<const int32_t> values);
  void set_array(std::string_view key, std::span<const uint64_t> values);
  void set_array(std::string_view key, std::span<const int64_t> values);
  void set_array(std::string_view key, std::span<const float> values);
  void set_array(std::string_view key, std::span<const double> values);
  void set_bool_array(std::string_view key, const std::vector<bool>& values);
  void set_string_array(std::string_view key, std::span<const std::string> values);
  void set_string_array(std::string_view key, std::span<const std::string_view> values);

  // Any value as the reader returns it (an array keeps its element type). InvalidArgument for nested arrays or a bool
  // outside 0/1, which no reader would accept.
  absl::Status set_value(std::string_view key, const GgufValue& value);

  // Copies every metadata entry of `file` (in its order) for which `filter(key)` is true; all when filter is empty.
  absl::Status copy_metadata_from(const GgufFile& file, const std::function<bool(std::string_view key)>& filter = {});

  bool remove(std::string_view key);  // false when absent
  bool has_key(std::string_view key) const { return index_.contains(key); }
  size_t metadata_count() const { return entries_.size(); }

  // Stores `general.alignment` (uint32): data section start and every tensor offset are multiples of it.
  // InvalidArgument unless a non-zero power of two. Default 32, as in ggml.
  absl::Status set_alignment(uint32_t alignment);

  // Adds a tensor (shape in ggml order, shape[0] contiguous). Validates name uniqueness, 1..4 dims >= 1, the type,
  // shape[0] a multiple of the block size, and n_bytes against shape and type. add_tensor copies the payload;
  // add_tensor_ref borrows it until the next write()/serialize() has returned.
  absl::Status add_tensor(std::string_view name, GgmlType type, std::span<const uint64_t> shape, const void* data,
                          size_t n_bytes);
  absl::Status add_tensor_ref(std::string_view name, GgmlType type, std::span<const uint64_t> shape, const void* data,
                              size_t n_bytes);
  size_t tensor_count() const { return tensors_.size(); }

  // The whole file in memory.
  absl::StatusOr<std::vector<uint8_t>> serialize() const;
  // Streams the file to `path.tmp`, then renames it to `path`, so readers never see a partial file.
  absl::Status write(const std::string& path) const;

 private:
  // std::string keys looked up by std::string_view (C++20 heterogeneous lookup).
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using StringIndex = std::unordered_map<std::string, size_t, StringHash, std::equal_to<>>;

  struct Entry {
    std::string key;
    GgufValueType type;
    std::vector<uint8_t> payload;  // the value's encoding after the type field
  };
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> shape;
    uint64_t n_bytes;
    std::vector<uint8_t> owned;  // empty for add_tensor_ref
    const uint8_t* data;
  };

  void set_entry(std::string_view key, GgufValueType type, std::vector<uint8_t> payload);
  absl::Status add_tensor_impl(std::string_view name, GgmlType type, std::span<const uint64_t> shape, const void* data,
                               size_t n_bytes, bool copy);
  absl::StatusOr<uint64_t> alignment() const;
  // Header, metadata and tensor infos, padded to the alignment; `offsets` receives each tensor's data offset.
  absl::StatusOr<std::vector<uint8_t>> encode_header(std::vector<uint64_t>* offsets) const;

  std::vector<Entry> entries_;
  StringIndex index_;  // key -> index into entries_
  std::vector<Tensor> tensors_;
  StringIndex tensor_index_;
};

}  // namespace strata
