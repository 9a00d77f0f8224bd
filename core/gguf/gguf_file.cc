#include "core/gguf/gguf_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/util/status_macros.h"
#include "core/util/str_cat.h"

namespace strata {

// GGUF is little-endian and values are read by memcpy; a big-endian host would need byte swaps everywhere.
static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
constexpr uint64_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
constexpr std::string_view kAlignmentKey = "general.alignment";

// Smallest encodings, used to bound counts by the bytes left before anything is allocated.
constexpr uint64_t kMinStringBytes = 8;                      // u64 length, empty payload
constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;            // empty key, type, a one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, n_dims, one dim, type, offset

bool is_known_value_type(uint32_t raw) { return raw <= static_cast<uint32_t>(GgufValueType::kFloat64); }

bool is_integer_type(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
      return true;
    default:
      return false;
  }
}

bool is_signed_type(GgufValueType type) {
  return type == GgufValueType::kInt8 || type == GgufValueType::kInt16 || type == GgufValueType::kInt32 ||
         type == GgufValueType::kInt64;
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Decodes one scalar stored at `p` into the member of `out` that `type` selects.
void decode_scalar(GgufValueType type, const uint8_t* p, GgufValue* out) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kBool:
      out->u = load<uint8_t>(p);
      break;
    case GgufValueType::kUint16:
      out->u = load<uint16_t>(p);
      break;
    case GgufValueType::kUint32:
      out->u = load<uint32_t>(p);
      break;
    case GgufValueType::kUint64:
      out->u = load<uint64_t>(p);
      break;
    case GgufValueType::kInt8:
      out->i = load<int8_t>(p);
      break;
    case GgufValueType::kInt16:
      out->i = load<int16_t>(p);
      break;
    case GgufValueType::kInt32:
      out->i = load<int32_t>(p);
      break;
    case GgufValueType::kInt64:
      out->i = load<int64_t>(p);
      break;
    case GgufValueType::kFloat32:
      out->f = load<float>(p);
      break;
    case GgufValueType::kFloat64:
      out->f = load<double>(p);
      break;
    case GgufValueType::kString:
    case GgufValueType::kArray:
      break;
  }
}

absl::Status invalid(std::string_view field, uint64_t byte, std::string_view problem) {
  return absl::InvalidArgumentError(str_cat("gguf: ", field, " at byte ", byte, ": ", problem));
}

std::string quoted(std::string_view s) {
  // Names come from untrusted input: keep messages printable and bounded.
  constexpr size_t kMaxShown = 80;
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  if (s.size() > kMaxShown) out += "...";
  out += "'";
  return out;
}

// printf-style formatting for the few messages that show raw bytes in hex.
template <typename... Args>
std::string hex_format(const char* format, Args... args) {
  char buffer[128];
  std::snprintf(buffer, sizeof(buffer), format, args...);
  return buffer;
}

std::string type_name_or_number(uint32_t raw) {
  if (!is_known_value_type(raw)) return str_cat("unknown type ", raw);
  return std::string(gguf_value_type_name(static_cast<GgufValueType>(raw)));
}

}  // namespace

// Reading position over the image. Every read checks the bytes left first; reads never move past the end.
class GgufCursor {
 public:
  GgufCursor(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }
  const uint8_t* here() const { return data_ + pos_; }

  absl::Status need(uint64_t n, std::string_view field) const {
    if (n <= remaining()) return absl::OkStatus();
    return invalid(field, pos_,
                   str_cat("needs ", n, " bytes but only ", remaining(), " remain (file size ", size_, ")"));
  }

  void skip(uint64_t n) { pos_ += n; }

  template <typename T>
  absl::StatusOr<T> read(std::string_view field) {
    STRATA_RETURN_IF_ERROR(need(sizeof(T), field));
    T v = load<T>(here());
    pos_ += sizeof(T);
    return v;
  }

  // A GGUF string: u64 length, then that many bytes (not NUL-terminated). False (position unchanged) when the
  // string does not fit; the hot path for vocabularies of 10^5 strings builds no message.
  bool try_read_string(std::string_view* out) {
    if (remaining() < sizeof(uint64_t)) return false;
    const uint64_t length = load<uint64_t>(here());
    if (length > remaining() - sizeof(uint64_t)) return false;
    *out = std::string_view(reinterpret_cast<const char*>(here() + sizeof(uint64_t)), length);
    pos_ += sizeof(uint64_t) + length;
    return true;
  }

  // The error for a string at the current position that try_read_string rejected.
  absl::Status string_error(std::string_view field) const {
    if (remaining() < sizeof(uint64_t)) return need(sizeof(uint64_t), field);
    return invalid(field, pos_,
                   str_cat("string length ", load<uint64_t>(here()), " exceeds the ", remaining() - sizeof(uint64_t),
                           " bytes left (file size ", size_, ")"));
  }

  absl::StatusOr<std::string_view> read_string(std::string_view field) {
    std::string_view s;
    if (!try_read_string(&s)) return string_error(field);
    return s;
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

namespace {

// Parses one value of `type` (already read) for metadata `key`.
absl::Status parse_value(GgufCursor& cursor, GgufValueType type, std::string_view key, GgufValue* out) {
  out->type = type;
  const std::string field = str_cat("metadata ", quoted(key), " value");
  if (type == GgufValueType::kString) {
    STRATA_ASSIGN_OR_RETURN(out->str, cursor.read_string(field));
    return absl::OkStatus();
  }
  if (type != GgufValueType::kArray) {
    const uint64_t n = gguf_scalar_size(type);
    STRATA_RETURN_IF_ERROR(cursor.need(n, field));
    if (type == GgufValueType::kBool && *cursor.here() > 1) {
      return invalid(field, cursor.pos(), str_cat("bool must be 0 or 1, found ", *cursor.here()));
    }
    decode_scalar(type, cursor.here(), out);
    cursor.skip(n);
    return absl::OkStatus();
  }

  const uint64_t type_pos = cursor.pos();
  STRATA_ASSIGN_OR_RETURN(uint32_t raw_element_type, cursor.read<uint32_t>(field + " array element type"));
  if (!is_known_value_type(raw_element_type)) {
    return invalid(field + " array element type", type_pos, str_cat("unknown value type ", raw_element_type));
  }
  const auto element_type = static_cast<GgufValueType>(raw_element_type);
  if (element_type == GgufValueType::kArray) {
    // ggml itself rejects arrays of arrays; no model metadata uses them.
    return invalid(field + " array element type", type_pos, "nested arrays are not supported");
  }
  const uint64_t count_pos = cursor.pos();
  STRATA_ASSIGN_OR_RETURN(uint64_t count, cursor.read<uint64_t>(field + " array count"));
  GgufArray& array = out->array;
  array.element_type = element_type;
  array.data = cursor.here();

  if (element_type == GgufValueType::kString) {
    if (count > cursor.remaining() / kMinStringBytes) {
      return invalid(field + " array count", count_pos,
                     str_cat(count, " strings need at least ", kMinStringBytes, " bytes each but only ",
                             cursor.remaining(), " bytes remain"));
    }
    array.strings.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      std::string_view s;
      if (!cursor.try_read_string(&s)) return cursor.string_error(str_cat(field, " array element ", i));
      array.strings.push_back(s);
    }
    array.count = count;
    return absl::OkStatus();
  }

  const uint64_t element_size = gguf_scalar_size(element_type);
  if (count > cursor.remaining() / element_size) {
    return invalid(
        field + " array count", count_pos,
        str_cat(count, " elements of ", element_size, " bytes exceed the ", cursor.remaining(), " bytes left"));
  }
  if (element_type == GgufValueType::kBool) {
    const uint8_t* p = cursor.here();
    for (uint64_t i = 0; i < count; ++i) {
      if (p[i] > 1) {
        return invalid(str_cat(field, " array element ", i), cursor.pos() + i,
                       str_cat("bool must be 0 or 1, found ", p[i]));
      }
    }
  }
  array.count = count;
  cursor.skip(count * element_size);
  return absl::OkStatus();
}

// `a * b` and `a + b` without wrap-around; false on overflow.
bool mul_ok(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_mul_overflow(a, b, out); }
bool add_ok(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_add_overflow(a, b, out); }

}  // namespace

uint64_t gguf_scalar_size(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
      return 8;
    case GgufValueType::kString:
    case GgufValueType::kArray:
      return 0;
  }
  return 0;
}

std::string_view gguf_value_type_name(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
      return "uint8";
    case GgufValueType::kInt8:
      return "int8";
    case GgufValueType::kUint16:
      return "uint16";
    case GgufValueType::kInt16:
      return "int16";
    case GgufValueType::kUint32:
      return "uint32";
    case GgufValueType::kInt32:
      return "int32";
    case GgufValueType::kFloat32:
      return "float32";
    case GgufValueType::kBool:
      return "bool";
    case GgufValueType::kString:
      return "string";
    case GgufValueType::kArray:
      return "array";
    case GgufValueType::kUint64:
      return "uint64";
    case GgufValueType::kInt64:
      return "int64";
    case GgufValueType::kFloat64:
      return "float64";
  }
  return "unknown";
}

bool GgufValue::is_integer() const { return is_integer_type(type); }

bool GgufValue::is_float() const { return type == GgufValueType::kFloat32 || type == GgufValueType::kFloat64; }

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string message = str_cat("gguf: cannot open '", path, "': ", std::strerror(err));
    if (err == ENOENT || err == ENOTDIR) return absl::NotFoundError(message);
    if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
    return absl::UnavailableError(message);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return absl::UnavailableError(str_cat("gguf: cannot stat '", path, "': ", std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(str_cat("gguf: '", path, "' is not a regular file"));
  }
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->size_ = static_cast<uint64_t>(st.st_size);
  if (file->size_ > 0) {
    // MAP_PRIVATE + PROT_READ: weights are never written through the mapping, and pages stay shared with the page
    // cache so several workers on one box map one copy.
    void* mapping = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapping == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return absl::ResourceExhaustedError(str_cat("gguf: cannot map '", path, "': ", std::strerror(err)));
    }
    file->mapping_ = mapping;
    file->bytes_ = static_cast<const uint8_t*>(mapping);
  }
  ::close(fd);  // the mapping keeps the file referenced
  absl::Status status = file->parse_all();
  if (!status.ok()) {
    return absl::Status(status.code(), str_cat(status.message(), " (file '", path, "')"));
  }
  return file;
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::parse(const uint8_t* bytes, size_t size) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->bytes_ = bytes;
  file->size_ = bytes == nullptr ? 0 : size;
  STRATA_RETURN_IF_ERROR(file->parse_all());
  return file;
}

GgufFile::~GgufFile() {
  if (mapping_ != nullptr) ::munmap(mapping_, size_);
}

absl::Status GgufFile::parse_all() {
  alignment_ = kDefaultAlignment;  // until general.alignment says otherwise
  GgufCursor cursor(bytes_, size_);
  if (size_ < 4) {
    return invalid("magic", 0, str_cat("file is ", size_, " bytes, too short for a GGUF header"));
  }
  STRATA_ASSIGN_OR_RETURN(uint32_t magic, cursor.read<uint32_t>("magic"));
  if (magic != kGgufMagic) {
    return invalid("magic", 0,
                   hex_format("expected 'GGUF' (47 47 55 46), found %02x %02x %02x %02x", bytes_[0], bytes_[1],
                              bytes_[2], bytes_[3]));
  }
  STRATA_ASSIGN_OR_RETURN(version_, cursor.read<uint32_t>("version"));
  if (version_ != 0 && (version_ & 0xFFFF) == 0) {
    // A small version number written big-endian lands in the high half.
    return invalid("version", 4,
                   hex_format("reads 0x%08x: this is a big-endian GGUF file, which is not supported", version_));
  }
  if (version_ == 1) return invalid("version", 4, "GGUF version 1 is not supported (only versions 2 and 3)");
  if (version_ != 2 && version_ != 3) {
    return invalid("version", 4, str_cat("unsupported GGUF version ", version_, " (only versions 2 and 3)"));
  }
  STRATA_ASSIGN_OR_RETURN(uint64_t n_tensors, cursor.read<uint64_t>("tensor count"));
  STRATA_ASSIGN_OR_RETURN(uint64_t n_kv, cursor.read<uint64_t>("metadata count"));
  if (n_kv > cursor.remaining() / kMinKeyValueBytes) {
    return invalid("metadata count", 16,
                   str_cat(n_kv, " entries need at least ", kMinKeyValueBytes, " bytes each but only ",
                           cursor.remaining(), " bytes remain"));
  }
  if (n_tensors > cursor.remaining() / kMinTensorInfoBytes) {
    return invalid("tensor count", 8,
                   str_cat(n_tensors, " tensor infos need at least ", kMinTensorInfoBytes, " bytes each but only ",
                           cursor.remaining(), " bytes remain"));
  }
  STRATA_RETURN_IF_ERROR(parse_metadata(cursor, n_kv));
  std::vector<uint64_t> offset_positions;
  STRATA_RETURN_IF_ERROR(parse_tensor_infos(cursor, n_tensors, offset_positions));

  // The data section starts at the first aligned byte after the tensor infos. alignment <= 2^31 and the position is
  // at most the file size, so this cannot wrap.
  data_offset_ = (cursor.pos() + alignment_ - 1) / alignment_ * alignment_;
  return place_tensors(offset_positions);
}

absl::Status GgufFile::parse_metadata(GgufCursor& cursor, uint64_t n_kv) {
  // No reserve from the untrusted count: the vector grows only with entries actually parsed.
  for (uint64_t i = 0; i < n_kv; ++i) {
    const uint64_t key_pos = cursor.pos();
    STRATA_ASSIGN_OR_RETURN(std::string_view key, cursor.read_string(str_cat("metadata #", i, " key")));
    if (metadata_index_.contains(key)) {
      return invalid(str_cat("metadata #", i, " key"), key_pos, str_cat("duplicate key ", quoted(key)));
    }
    const uint64_t type_pos = cursor.pos();
    const std::string type_field = str_cat("metadata ", quoted(key), " type");
    STRATA_ASSIGN_OR_RETURN(uint32_t raw_type, cursor.read<uint32_t>(type_field));
    if (!is_known_value_type(raw_type)) {
      return invalid(type_field, type_pos, str_cat("unknown value type ", raw_type));
    }
    const uint64_t value_pos = cursor.pos();
    GgufKeyValue kv;
    kv.key = key;
    STRATA_RETURN_IF_ERROR(parse_value(cursor, static_cast<GgufValueType>(raw_type), key, &kv.value));
    if (key == kAlignmentKey) {
      const std::string field = str_cat("metadata ", quoted(key), " value");
      if (kv.value.type != GgufValueType::kUint32) {
        return invalid(field, value_pos, str_cat("must be uint32, found ", type_name_or_number(raw_type)));
      }
      if (kv.value.u == 0 || !std::has_single_bit(kv.value.u)) {
        return invalid(field, value_pos, str_cat("alignment ", kv.value.u, " is not a non-zero power of two"));
      }
      alignment_ = kv.value.u;
    }
    metadata_index_.emplace(key, metadata_.size());
    metadata_.push_back(std::move(kv));
  }
  return absl::OkStatus();
}

absl::Status GgufFile::parse_tensor_infos(GgufCursor& cursor, uint64_t n_tensors,
                                          std::vector<uint64_t>& offset_positions) {
  // n_tensors was bounded by the bytes left (kMinTensorInfoBytes each), so reserving is proportional to the input.
  tensors_.reserve(n_tensors);
  offset_positions.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    const uint64_t name_pos = cursor.pos();
    STRATA_ASSIGN_OR_RETURN(std::string_view name, cursor.read_string(str_cat("tensor #", i, " name")));
    const std::string label = str_cat("tensor ", quoted(name), " (#", i, ")");
    if (tensor_index_.contains(name)) {
      return invalid(str_cat("tensor #", i, " name"), name_pos, str_cat("duplicate tensor name ", quoted(name)));
    }
    const uint64_t dims_pos = cursor.pos();
    STRATA_ASSIGN_OR_RETURN(uint32_t n_dims, cursor.read<uint32_t>(label + " n_dims"));
    if (n_dims < 1 || n_dims > kMaxDims) {
      return invalid(label + " n_dims", dims_pos, str_cat(n_dims, " dimensions, must be 1..", kMaxDims));
    }
    GgufTensorInfo info;
    info.name = name;
    info.shape.resize(n_dims);
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t dim_pos = cursor.pos();
      const std::string field = str_cat(label, " shape[", d, "]");
      STRATA_ASSIGN_OR_RETURN(info.shape[d], cursor.read<uint64_t>(field));
      if (info.shape[d] == 0) return invalid(field, dim_pos, "dimension is 0, must be >= 1");
      // ggml counts elements in int64_t.
      if (!mul_ok(n_elements, info.shape[d], &n_elements) ||
          n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return invalid(field, dim_pos, "element count overflows int64");
      }
    }
    const uint64_t type_pos = cursor.pos();
    STRATA_ASSIGN_OR_RETURN(uint32_t raw_type, cursor.read<uint32_t>(label + " type"));
    const GgmlTypeInfo* type_info = ggml_type_info(raw_type);
    if (type_info == nullptr) return invalid(label + " type", type_pos, str_cat("unknown ggml type ", raw_type));
    if (info.shape[0] % type_info->block_size != 0) {
      return invalid(label + " shape[0]", dims_pos + 4,
                     str_cat("row length ", info.shape[0], " is not a multiple of the ", type_info->name,
                             " block size ", type_info->block_size));
    }
    info.type = static_cast<GgmlType>(raw_type);
    info.n_elements = n_elements;
    if (!mul_ok(n_elements / type_info->block_size, type_info->type_size, &info.n_bytes)) {
      return invalid(label + " shape", dims_pos + 4, "byte size overflows uint64");
    }
    const uint64_t offset_pos = cursor.pos();
    STRATA_ASSIGN_OR_RETURN(info.offset, cursor.read<uint64_t>(label + " offset"));
    if (info.offset % alignment_ != 0) {
      return invalid(str_cat(label, " offset ", info.offset), offset_pos,
                     str_cat("not a multiple of the alignment ", alignment_));
    }
    tensor_index_.emplace(name, tensors_.size());
    tensors_.push_back(std::move(info));
    offset_positions.push_back(offset_pos);
  }
  return absl::OkStatus();
}

absl::Status GgufFile::place_tensors(const std::vector<uint64_t>& offset_positions) {
  auto label = [this](size_t i) {
    return str_cat("tensor ", quoted(tensors_[i].name), " (#", i, ") offset ", tensors_[i].offset);
  };
  for (size_t i = 0; i < tensors_.size(); ++i) {
    GgufTensorInfo& t = tensors_[i];
    uint64_t begin = 0;
    uint64_t end = 0;
    if (!add_ok(data_offset_, t.offset, &begin) || !add_ok(begin, t.n_bytes, &end)) {
      return invalid(label(i), offset_positions[i], "data range overflows uint64");
    }
    if (end > size_) {
      return invalid(label(i), offset_positions[i],
                     str_cat("data range [", begin, ", ", end, ") exceeds file size ", size_));
    }
    t.data = bytes_ + begin;
  }
  // Sorted by offset, each tensor must end before the next begins.
  std::vector<size_t> order(tensors_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [this](size_t a, size_t b) { return tensors_[a].offset < tensors_[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const GgufTensorInfo& prev = tensors_[order[k - 1]];
    const GgufTensorInfo& cur = tensors_[order[k]];
    if (prev.offset + prev.n_bytes > cur.offset) {
      return invalid(
          label(order[k]), offset_positions[order[k]],
          str_cat("data range [", cur.offset, ", ", cur.offset + cur.n_bytes, ") overlaps tensor ", quoted(prev.name),
                  " (#", order[k - 1], ") range [", prev.offset, ", ", prev.offset + prev.n_bytes,
                  ") (offsets relative to the data section at byte ", data_offset_, ")"));
    }
  }
  return absl::OkStatus();
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].value;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

absl::Status not_found(std::string_view key) {
  return absl::NotFoundError(str_cat("gguf: metadata key '", key, "' not found"));
}

absl::Status wrong_type(std::string_view key, const GgufValue& v, std::string_view wanted) {
  return absl::InvalidArgumentError(
      str_cat("gguf: metadata '", key, "' is ", gguf_value_type_name(v.type), ", expected ", wanted));
}

// Element `i` of a numeric array as the scalar GgufValue it would be on its own.
GgufValue array_element(const GgufArray& array, uint64_t i) {
  GgufValue v;
  v.type = array.element_type;
  decode_scalar(array.element_type, array.data + i * gguf_scalar_size(array.element_type), &v);
  return v;
}

}  // namespace

absl::StatusOr<std::string_view> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found(key);
  if (v->type != GgufValueType::kString) return wrong_type(key, *v, "string");
  return v->str;
}

absl::StatusOr<uint64_t> GgufFile::get_uint(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found(key);
  if (!v->is_integer()) return wrong_type(key, *v, "a non-negative integer");
  if (!is_signed_type(v->type)) return v->u;
  if (v->i < 0) {
    return absl::InvalidArgumentError(str_cat("gguf: metadata '", key, "' is ", v->i, ", expected >= 0"));
  }
  return static_cast<uint64_t>(v->i);
}

absl::StatusOr<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found(key);
  if (!v->is_integer()) return wrong_type(key, *v, "an integer");
  if (is_signed_type(v->type)) return v->i;
  if (v->u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return absl::InvalidArgumentError(str_cat("gguf: metadata '", key, "' is ", v->u, ", beyond int64"));
  }
  return static_cast<int64_t>(v->u);
}

absl::StatusOr<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found(key);
  if (v->is_float()) return v->f;
  if (!v->is_integer()) return wrong_type(key, *v, "a number");
  return is_signed_type(v->type) ? static_cast<double>(v->i) : static_cast<double>(v->u);
}

absl::StatusOr<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found(key);
  if (v->type != GgufValueType::kBool) return wrong_type(key, *v, "bool");
  return v->u != 0;
}

absl::StatusOr<const GgufArray*> GgufFile::get_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found(key);
  if (v->type != GgufValueType::kArray) return wrong_type(key, *v, "array");
  return &v->array;
}

absl::StatusOr<std::vector<float>> GgufFile::get_f32_array(std::string_view key) const {
  STRATA_ASSIGN_OR_RETURN(const GgufArray* array, get_array(key));
  if (array->element_type == GgufValueType::kString) {
    return absl::InvalidArgumentError(str_cat("gguf: metadata '", key, "' is an array of strings, expected numbers"));
  }
  std::vector<float> out(array->count);
  for (uint64_t i = 0; i < array->count; ++i) {
    const GgufValue v = array_element(*array, i);
    if (v.is_float()) {
      out[i] = static_cast<float>(v.f);
    } else if (is_signed_type(v.type)) {
      out[i] = static_cast<float>(v.i);
    } else {
      out[i] = static_cast<float>(v.u);
    }
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> GgufFile::get_int_array(std::string_view key) const {
  STRATA_ASSIGN_OR_RETURN(const GgufArray* array, get_array(key));
  const GgufValueType t = array->element_type;
  if (!is_integer_type(t) && t != GgufValueType::kBool) {
    return absl::InvalidArgumentError(
        str_cat("gguf: metadata '", key, "' is an array of ", gguf_value_type_name(t), ", expected integers"));
  }
  std::vector<int64_t> out(array->count);
  for (uint64_t i = 0; i < array->count; ++i) {
    const GgufValue v = array_element(*array, i);
    if (is_signed_type(t)) {
      out[i] = v.i;
    } else if (v.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::InvalidArgumentError(
          str_cat("gguf: metadata '", key, "' element ", i, " is ", v.u, ", beyond int64"));
    } else {
      out[i] = static_cast<int64_t>(v.u);
    }
  }
  return out;
}

absl::StatusOr<uint64_t> GgufFile::get_uint_or(std::string_view key, uint64_t fallback) const {
  if (find(key) == nullptr) return fallback;
  return get_uint(key);
}

absl::StatusOr<double> GgufFile::get_float_or(std::string_view key, double fallback) const {
  if (find(key) == nullptr) return fallback;
  return get_float(key);
}

absl::StatusOr<bool> GgufFile::get_bool_or(std::string_view key, bool fallback) const {
  if (find(key) == nullptr) return fallback;
  return get_bool(key);
}

void GgufFile::release_pages(const GgufTensorInfo& tensor) const {
  if (mapping_ == nullptr || tensor.n_bytes == 0) return;
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(tensor.data);
  const uintptr_t first = (begin + page - 1) / page * page;
  const uintptr_t last = (begin + tensor.n_bytes) / page * page;
  // A private read-only mapping: dropping our pages loses nothing, the file still has the bytes.
  if (first < last) (void)madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace strata
