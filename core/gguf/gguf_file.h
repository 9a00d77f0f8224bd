// Read-only view of a GGUF file (v2 and v3) over mmap.
//
// The file is mapped once; every string, array and tensor payload handed out is a view into the mapping, so a
// GgufFile must outlive everything taken from it. Opening validates the whole header, metadata and tensor table
// against the file size (overflow-safe); a malformed file yields an absl::Status naming the field and byte offset.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/gguf/ggml_type.h"

namespace strata {

enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

std::string_view gguf_value_type_name(GgufValueType type);
// Bytes of one scalar of `type`; 0 for kString and kArray (variable size) and for unknown values.
uint64_t gguf_scalar_size(GgufValueType type);

// An array value. Numeric elements stay in the mapping (little-endian, possibly unaligned); strings are views.
struct GgufArray {
  GgufValueType element_type = GgufValueType::kUint8;
  uint64_t count = 0;
  const uint8_t* data = nullptr;          // numeric elements, count * element size bytes
  std::vector<std::string_view> strings;  // filled when element_type == kString
};

// One metadata value. Exactly one of the members is meaningful, chosen by `type`.
struct GgufValue {
  GgufValueType type = GgufValueType::kUint8;
  uint64_t u = 0;  // kUint8/16/32/64, kBool
  int64_t i = 0;   // kInt8/16/32/64
  double f = 0;    // kFloat32/64
  std::string_view str;
  GgufArray array;

  bool is_integer() const;
  bool is_float() const;
};

struct GgufKeyValue {
  std::string_view key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string_view name;
  std::vector<uint64_t> shape;  // ggml order: shape[0] is the contiguous (row) dimension
  GgmlType type = GgmlType::kF32;
  uint64_t offset = 0;  // relative to the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping
};

class GgufCursor;  // bounds-checked reading position, private to gguf_file.cc

class GgufFile {
 public:
  // Maps and validates `path`. Errors: NotFound/PermissionDenied for the file, InvalidArgument (with field name and
  // byte offset) for malformed content.
  static absl::StatusOr<std::unique_ptr<GgufFile>> open(const std::string& path);
  // Parses an in-memory image (not copied: `bytes` must outlive the GgufFile). Used by the fuzzer and tests.
  static absl::StatusOr<std::unique_ptr<GgufFile>> parse(const uint8_t* bytes, size_t size);

  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  // Start of the tensor data section: the end of the tensor infos rounded up to alignment(). With no tensors a file
  // may end before it.
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return size_; }
  const uint8_t* bytes() const { return bytes_; }

  const std::vector<GgufKeyValue>& metadata() const { return metadata_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  // Tells the system that `tensor`'s bytes will not be read again through this mapping (a backend copied them), so
  // their pages leave the process's resident set; reading them again still works (they fault back in from the
  // file). No-op for parsed in-memory images. Only the whole pages inside the tensor are released.
  void release_pages(const GgufTensorInfo& tensor) const;

  const GgufValue* find(std::string_view key) const;
  const GgufTensorInfo* find_tensor(std::string_view name) const;

  // Typed getters. NotFound when absent, InvalidArgument when the stored type does not convert losslessly.
  absl::StatusOr<std::string_view> get_string(std::string_view key) const;
  absl::StatusOr<uint64_t> get_uint(std::string_view key) const;  // any non-negative integer type
  absl::StatusOr<int64_t> get_int(std::string_view key) const;    // any integer type
  absl::StatusOr<double> get_float(std::string_view key) const;   // float or integer types
  absl::StatusOr<bool> get_bool(std::string_view key) const;
  absl::StatusOr<const GgufArray*> get_array(std::string_view key) const;
  // Numeric arrays converted element-wise (InvalidArgument for string arrays).
  absl::StatusOr<std::vector<float>> get_f32_array(std::string_view key) const;
  absl::StatusOr<std::vector<int64_t>> get_int_array(std::string_view key) const;

  // Convenience: value when present, `fallback` when absent; error only when present with the wrong type.
  absl::StatusOr<uint64_t> get_uint_or(std::string_view key, uint64_t fallback) const;
  absl::StatusOr<double> get_float_or(std::string_view key, double fallback) const;
  absl::StatusOr<bool> get_bool_or(std::string_view key, bool fallback) const;

 private:
  GgufFile() = default;
  absl::Status parse_all();
  absl::Status parse_metadata(GgufCursor& cursor, uint64_t n_kv);
  absl::Status parse_tensor_infos(GgufCursor& cursor, uint64_t n_tensors, std::vector<uint64_t>& offset_positions);
  absl::Status place_tensors(const std::vector<uint64_t>& offset_positions);

  const uint8_t* bytes_ = nullptr;
  uint64_t size_ = 0;
  void* mapping_ = nullptr;  // non-null when the file owns an mmap of `size_` bytes
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKeyValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  absl::flat_hash_map<std::string_view, size_t> metadata_index_;  // key -> index into metadata_
  absl::flat_hash_map<std::string_view, size_t> tensor_index_;    // name -> index into tensors_
};

}  // namespace strata
