#include "core/gguf/gguf_writer.h"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "core/util/str_cat.h"
#include "core/util/status_macros.h"

namespace strata {


// The encoding below copies host integers byte for byte; GGUF is little-endian.
static_assert(std::endian::native == std::endian::little, "the GGUF writer assumes a little-endian host");

namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF"
constexpr uint32_t kGgufVersion = 3;
constexpr uint64_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;
constexpr std::string_view kAlignmentKey = "general.alignment";

template <typename T>
void put(std::vector<uint8_t>& out, T value) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &value, sizeof(T));
}

void put_bytes(std::vector<uint8_t>& out, const void* data, size_t n) {
  if (n == 0) return;
  const auto* p = static_cast<const uint8_t*>(data);
  out.insert(out.end(), p, p + n);
}

void put_string(std::vector<uint8_t>& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  put_bytes(out, s.data(), s.size());
}

template <typename T>
std::vector<uint8_t> scalar_payload(T value) {
  std::vector<uint8_t> out;
  put(out, value);
  return out;
}

// Array payload: element type, count, then the elements (`n_bytes` of them, already little-endian).
std::vector<uint8_t> raw_array_payload(GgufValueType element_type, uint64_t count, const void* data, size_t n_bytes) {
  std::vector<uint8_t> out;
  out.reserve(12 + n_bytes);
  put<uint32_t>(out, static_cast<uint32_t>(element_type));
  put<uint64_t>(out, count);
  put_bytes(out, data, n_bytes);
  return out;
}

template <typename T>
std::vector<uint8_t> numeric_array_payload(GgufValueType element_type, std::span<const T> values) {
  return raw_array_payload(element_type, values.size(), values.data(), values.size_bytes());
}

template <typename Strings>
std::vector<uint8_t> string_array_payload(const Strings& values) {
  size_t total = 12;
  for (const auto& s : values) total += 8 + s.size();
  std::vector<uint8_t> out;
  out.reserve(total);
  put<uint32_t>(out, static_cast<uint32_t>(GgufValueType::kString));
  put<uint64_t>(out, values.size());
  for (const auto& s : values) put_string(out, s);
  return out;
}


uint64_t align_up(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

// Closes the FILE on every path; write() reports fclose errors itself before this runs.
struct FileCloser {
  void operator()(FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};

}  // namespace

void GgufWriter::set_entry(std::string_view key, GgufValueType type, std::vector<uint8_t> payload) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    entries_[it->second].type = type;
    entries_[it->second].payload = std::move(payload);
    return;
  }
  index_.emplace(std::string(key), entries_.size());
  entries_.push_back(Entry{std::string(key), type, std::move(payload)});
}

void GgufWriter::set_u8(std::string_view key, uint8_t value) {
  set_entry(key, GgufValueType::kUint8, scalar_payload(value));
}
void GgufWriter::set_i8(std::string_view key, int8_t value) {
  set_entry(key, GgufValueType::kInt8, scalar_payload(value));
}
void GgufWriter::set_u16(std::string_view key, uint16_t value) {
  set_entry(key, GgufValueType::kUint16, scalar_payload(value));
}
void GgufWriter::set_i16(std::string_view key, int16_t value) {
  set_entry(key, GgufValueType::kInt16, scalar_payload(value));
}
void GgufWriter::set_u32(std::string_view key, uint32_t value) {
  set_entry(key, GgufValueType::kUint32, scalar_payload(value));
}
void GgufWriter::set_i32(std::string_view key, int32_t value) {
  set_entry(key, GgufValueType::kInt32, scalar_payload(value));
}
void GgufWriter::set_u64(std::string_view key, uint64_t value) {
  set_entry(key, GgufValueType::kUint64, scalar_payload(value));
}
void GgufWriter::set_i64(std::string_view key, int64_t value) {
  set_entry(key, GgufValueType::kInt64, scalar_payload(value));
}
void GgufWriter::set_f32(std::string_view key, float value) {
  set_entry(key, GgufValueType::kFloat32, scalar_payload(value));
}
void GgufWriter::set_f64(std::string_view key, double value) {
  set_entry(key, GgufValueType::kFloat64, scalar_payload(value));
}
void GgufWriter::set_bool(std::string_view key, bool value) {
  set_entry(key, GgufValueType::kBool, scalar_payload<uint8_t>(value ? 1 : 0));
}
void GgufWriter::set_string(std::string_view key, std::string_view value) {
  std::vector<uint8_t> payload;
  put_string(payload, value);
  set_entry(key, GgufValueType::kString, std::move(payload));
}

void GgufWriter::set_array(std::string_view key, std::span<const uint8_t> values) {
  set_entry(key, GgufValueType::kArray, numeric_array_payload(GgufValueType::kUint8, values));
}
void GgufWriter::set_array(std::string_view key, std::span<const int8_t> values) {
  set_entry(key, GgufValueType::kArray, numeric_array_payload(GgufValueType::kInt8, values));
}
void GgufWriter::set_array(std::string_view key, std::span<const uint16_t> values) {
  set_entry(key, GgufValueType::kArray, numeric_array_payload(GgufValueType::kUint16, values));
}
void GgufWriter::set_array(std::string_view key, std::span<const int16_t> values) {
  set_entry(key, GgufValueType::kArray, numeric_array_payload(GgufValueType::kInt16, values));
}
void GgufWriter::set_array(std::string_view key, std::span<const uint32_t> values) {
  set_entry(key, GgufValueType::kArray, numeric_array_payload(GgufValueType::kUint32, values));
}
void GgufWriter::set_array(std::string_view key, std::span<const int32_t> values) {
  set_entry(key, GgufValueType::kArray, numeric_array_payload(GgufValueType::kInt32, values));
}
void GgufWriter::set_array(std::string_view key, std::span<const uint64_t> values) {
  set_entry(key, GgufValueType::kArray, numeric_array_payload(GgufValueType::kUint64, values));
}
void GgufWriter::set_array(std::string_view key, std::span<const int64_t> values) {
  set_entry(key, GgufValueType::kArray, numeric_array_payload(GgufValueType::kInt64, values));
}
void GgufWriter::set_array(std::string_view key, std::span<const float> values) {
  set_entry(key, GgufValueType::kArray, numeric_array_payload(GgufValueType::kFloat32, values));
}
void GgufWriter::set_array(std::string_view key, std::span<const double> values) {
  set_entry(key, GgufValueType::kArray, numeric_array_payload(GgufValueType::kFloat64, values));
}

void GgufWriter::set_bool_array(std::string_view key, const std::vector<bool>& values) {
  // std::vector<bool> is packed bits; GGUF wants one byte per element.
  std::vector<uint8_t> bytes(values.begin(), values.end());
  set_entry(key, GgufValueType::kArray, numeric_array_payload(GgufValueType::kBool, std::span<const uint8_t>(bytes)));
}

void GgufWriter::set_string_array(std::string_view key, std::span<const std::string> values) {
  set_entry(key, GgufValueType::kArray, string_array_payload(values));
}

void GgufWriter::set_string_array(std::string_view key, std::span<const std::string_view> values) {
  set_entry(key, GgufValueType::kArray, string_array_payload(values));
}

absl::Status GgufWriter::set_value(std::string_view key, const GgufValue& value) {
  const std::string where = str_cat("gguf writer: value for '", key, "'");
  switch (value.type) {
    case GgufValueType::kUint8:
      set_u8(key, static_cast<uint8_t>(value.u));
      return absl::OkStatus();
    case GgufValueType::kInt8:
      set_i8(key, static_cast<int8_t>(value.i));
      return absl::OkStatus();
    case GgufValueType::kUint16:
      set_u16(key, static_cast<uint16_t>(value.u));
      return absl::OkStatus();
    case GgufValueType::kInt16:
      set_i16(key, static_cast<int16_t>(value.i));
      return absl::OkStatus();
    case GgufValueType::kUint32:
      set_u32(key, static_cast<uint32_t>(value.u));
      return absl::OkStatus();
    case GgufValueType::kInt32:
      set_i32(key, static_cast<int32_t>(value.i));
      return absl::OkStatus();
    case GgufValueType::kUint64:
      set_u64(key, value.u);
      return absl::OkStatus();
    case GgufValueType::kInt64:
      set_i64(key, value.i);
      return absl::OkStatus();
    case GgufValueType::kFloat32:
      set_f32(key, static_cast<float>(value.f));
      return absl::OkStatus();
    case GgufValueType::kFloat64:
      set_f64(key, value.f);
      return absl::OkStatus();
    case GgufValueType::kBool:
      if (value.u > 1) return absl::InvalidArgumentError(str_cat(where, ": bool ", value.u, " is not 0 or 1"));
      set_bool(key, value.u != 0);
      return absl::OkStatus();
    case GgufValueType::kString:
      set_string(key, value.str);
      return absl::OkStatus();
    case GgufValueType::kArray:
      break;
  }
  if (value.type != GgufValueType::kArray) {
    return absl::InvalidArgumentError(str_cat(where, ": unknown value type ", static_cast<uint32_t>(value.type)));
  }
  const GgufArray& array = value.array;
  if (array.element_type == GgufValueType::kString) {
    if (array.strings.size() != array.count) {
      return absl::InvalidArgumentError(
          str_cat(where, ": array count ", array.count, " but ", array.strings.size(), " strings"));
    }
    set_string_array(key, std::span<const std::string_view>(array.strings));
    return absl::OkStatus();
  }
  const uint64_t size = gguf_scalar_size(array.element_type);
  if (size == 0) {
    return absl::InvalidArgumentError(
        str_cat(where, ": arrays of ", gguf_value_type_name(array.element_type), " are not supported"));
  }
  if (array.count > 0 && array.data == nullptr) {
    return absl::InvalidArgumentError(str_cat(where, ": array of ", array.count, " elements has no data"));
  }
  if (array.count > std::numeric_limits<size_t>::max() / size) {
    return absl::InvalidArgumentError(str_cat(where, ": array count ", array.count, " is too large"));
  }
  if (array.element_type == GgufValueType::kBool) {
    for (uint64_t i = 0; i < array.count; ++i) {
      if (array.data[i] > 1) {
        return absl::InvalidArgumentError(str_cat(where, ": bool element ", i, " is not 0 or 1"));
      }
    }
  }
  set_entry(key, GgufValueType::kArray,
            raw_array_payload(array.element_type, array.count, array.data, array.count * size));
  return absl::OkStatus();
}

absl::Status GgufWriter::copy_metadata_from(const GgufFile& file,
                                            const std::function<bool(std::string_view key)>& filter) {
  for (const GgufKeyValue& kv : file.metadata()) {
    if (filter && !filter(kv.key)) continue;
    STRATA_RETURN_IF_ERROR(set_value(kv.key, kv.value));
  }
  return absl::OkStatus();
}

bool GgufWriter::remove(std::string_view key) {
  auto it = index_.find(key);
  if (it == index_.end()) return false;
  entries_.erase(entries_.begin() + static_cast<ptrdiff_t>(it->second));
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].key, i);
  return true;
}

absl::Status GgufWriter::set_alignment(uint32_t alignment) {
  if (alignment == 0 || !std::has_single_bit(alignment)) {
    return absl::InvalidArgumentError(str_cat("gguf writer: alignment ", alignment, " is not a non-zero power of two"));
  }
  set_u32(kAlignmentKey, alignment);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> GgufWriter::alignment() const {
  auto it = index_.find(kAlignmentKey);
  if (it == index_.end()) return kDefaultAlignment;
  // The key may have been set through set_u64 & co or copied from a file; readers accept only a uint32 power of two.
  const Entry& e = entries_[it->second];
  uint32_t value = 0;
  if (e.type == GgufValueType::kUint32) std::memcpy(&value, e.payload.data(), sizeof(value));
  if (e.type != GgufValueType::kUint32 || value == 0 || !std::has_single_bit(value)) {
    return absl::InvalidArgumentError(
        str_cat("gguf writer: '", kAlignmentKey, "' must be a uint32 non-zero power of two"));
  }
  return value;
}

absl::Status GgufWriter::add_tensor(std::string_view name, GgmlType type, std::span<const uint64_t> shape,
                                    const void* data, size_t n_bytes) {
  return add_tensor_impl(name, type, shape, data, n_bytes, /*copy=*/true);
}

absl::Status GgufWriter::add_tensor_ref(std::string_view name, GgmlType type, std::span<const uint64_t> shape,
                                        const void* data, size_t n_bytes) {
  return add_tensor_impl(name, type, shape, data, n_bytes, /*copy=*/false);
}

absl::Status GgufWriter::add_tensor_impl(std::string_view name, GgmlType type, std::span<const uint64_t> shape,
                                         const void* data, size_t n_bytes, bool copy) {
  const std::string where = str_cat("gguf writer: tensor '", name, "'");
  if (tensor_index_.contains(name)) return absl::InvalidArgumentError(str_cat(where, ": duplicate name"));
  const GgmlTypeInfo* info = ggml_type_info(type);
  if (info == nullptr) {
    return absl::InvalidArgumentError(str_cat(where, ": unknown type ", static_cast<uint32_t>(type)));
  }
  if (shape.empty() || shape.size() > kMaxDims) {
    return absl::InvalidArgumentError(str_cat(where, ": ", shape.size(), " dimensions, must be 1..", kMaxDims));
  }
  uint64_t n_elements = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return absl::InvalidArgumentError(str_cat(where, ": shape[", d, "] is 0"));
    if (__builtin_mul_overflow(n_elements, shape[d], &n_elements) ||
        n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::InvalidArgumentError(str_cat(where, ": element count overflows int64"));
    }
  }
  if (shape[0] % info->block_size != 0) {
    return absl::InvalidArgumentError(str_cat(where, ": shape[0] ", shape[0], " is not a multiple of the ", info->name,
                                              " block size ", info->block_size));
  }
  uint64_t expected = 0;
  if (__builtin_mul_overflow(n_elements / info->block_size, uint64_t{info->type_size}, &expected)) {
    return absl::InvalidArgumentError(str_cat(where, ": byte size overflows uint64"));
  }
  if (expected != n_bytes) {
    return absl::InvalidArgumentError(
        str_cat(where, ": ", n_bytes, " bytes given, ", info->name, " shape needs ", expected));
  }
  if (data == nullptr) return absl::InvalidArgumentError(str_cat(where, ": no data"));
  Tensor t{std::string(name), type, std::vector<uint64_t>(shape.begin(), shape.end()), n_bytes, {}, nullptr};
  if (copy) {
    const auto* p = static_cast<const uint8_t*>(data);
    t.owned.assign(p, p + n_bytes);
    t.data = t.owned.data();  // a vector's buffer survives moves of the vector
  } else {
    t.data = static_cast<const uint8_t*>(data);
  }
  tensor_index_.emplace(t.name, tensors_.size());
  tensors_.push_back(std::move(t));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> GgufWriter::encode_header(std::vector<uint64_t>* offsets) const {
  STRATA_ASSIGN_OR_RETURN(uint64_t align, alignment());
  std::vector<uint8_t> out;
  put<uint32_t>(out, kGgufMagic);
  put<uint32_t>(out, kGgufVersion);
  put<uint64_t>(out, tensors_.size());
  put<uint64_t>(out, entries_.size());
  for (const Entry& e : entries_) {
    put_string(out, e.key);
    put<uint32_t>(out, static_cast<uint32_t>(e.type));
    put_bytes(out, e.payload.data(), e.payload.size());
  }
  // Payloads are packed in order, each starting on an alignment boundary, as ggml writes them.
  offsets->clear();
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    put_string(out, t.name);
    put<uint32_t>(out, static_cast<uint32_t>(t.shape.size()));
    for (uint64_t dim : t.shape) put<uint64_t>(out, dim);
    put<uint32_t>(out, static_cast<uint32_t>(t.type));
    put<uint64_t>(out, offset);
    offsets->push_back(offset);
    offset = align_up(offset + t.n_bytes, align);
  }
  out.resize(align_up(out.size(), align), 0);
  return out;
}

absl::StatusOr<std::vector<uint8_t>> GgufWriter::serialize() const {
  std::vector<uint64_t> offsets;
  STRATA_ASSIGN_OR_RETURN(std::vector<uint8_t> out, encode_header(&offsets));
  STRATA_ASSIGN_OR_RETURN(uint64_t align, alignment());
  const size_t data_start = out.size();
  for (size_t i = 0; i < tensors_.size(); ++i) {
    out.resize(data_start + offsets[i], 0);
    put_bytes(out, tensors_[i].data, tensors_[i].n_bytes);
  }
  out.resize(data_start + align_up(out.size() - data_start, align), 0);
  return out;
}

absl::Status GgufWriter::write(const std::string& path) const {
  std::vector<uint64_t> offsets;
  STRATA_ASSIGN_OR_RETURN(std::vector<uint8_t> header, encode_header(&offsets));
  STRATA_ASSIGN_OR_RETURN(uint64_t align, alignment());
  const std::string tmp = path + ".tmp";
  auto io_error = [&tmp](std::string_view what, int err) {
    std::remove(tmp.c_str());
    return absl::UnavailableError(str_cat("gguf writer: ", what, " '", tmp, "': ", std::strerror(err)));
  };
  std::unique_ptr<FILE, FileCloser> f(std::fopen(tmp.c_str(), "wb"));
  if (f == nullptr) return io_error("cannot create", errno);
  const std::vector<uint8_t> zeros(align, 0);
  auto write_all = [&f](const void* p, size_t n) { return n == 0 || std::fwrite(p, 1, n, f.get()) == n; };
  if (!write_all(header.data(), header.size())) return io_error("cannot write", errno);
  uint64_t written = 0;  // bytes of the data section so far
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (!write_all(zeros.data(), offsets[i] - written)) return io_error("cannot write", errno);
    if (!write_all(tensors_[i].data, tensors_[i].n_bytes)) return io_error("cannot write", errno);
    written = offsets[i] + tensors_[i].n_bytes;
  }
  if (!write_all(zeros.data(), align_up(written, align) - written)) return io_error("cannot write", errno);
  if (std::fclose(f.release()) != 0) return io_error("cannot close", errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return absl::UnavailableError(
        str_cat("gguf writer: cannot rename '", tmp, "' to '", path, "': ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace strata
