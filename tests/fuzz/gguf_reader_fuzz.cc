// libFuzzer target for the GGUF reader. Any input must either fail with InvalidArgument or yield a file whose every
// value, array element and tensor byte can be read; an accepted file must also survive a writer round trip.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/gguf/gguf_file.h"
#include "core/gguf/gguf_writer.h"

namespace {

// Reads that the optimizer cannot drop: a wild pointer from the parser turns into an ASan report here.
volatile uint8_t g_sink;

void touch(const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint8_t acc = 0;
  for (size_t i = 0; i < n; ++i) acc ^= p[i];
  g_sink = acc;
}

void touch(std::string_view s) { touch(s.data(), s.size()); }

void check(bool condition) {
  if (!condition) __builtin_trap();  // an invariant broke: let libFuzzer record the input
}


void touch_file(const strata::GgufFile& file) {
  for (const strata::GgufKeyValue& kv : file.metadata()) {
    touch(kv.key);
    const strata::GgufValue& v = kv.value;
    touch(&v.u, sizeof(v.u));
    touch(&v.i, sizeof(v.i));
    touch(&v.f, sizeof(v.f));
    touch(v.str);
    if (v.type == strata::GgufValueType::kArray) {
      if (v.array.element_type == strata::GgufValueType::kString) {
        check(v.array.strings.size() == v.array.count);
        for (std::string_view s : v.array.strings) touch(s);
      } else {
        const size_t size = strata::gguf_scalar_size(v.array.element_type);
        check(size != 0);
        touch(v.array.data, v.array.count * size);
      }
    }
    // Getters must answer (value or error) for every key and type.
    (void)file.get_string(kv.key);
    (void)file.get_uint(kv.key);
    (void)file.get_int(kv.key);
    (void)file.get_float(kv.key);
    (void)file.get_bool(kv.key);
    (void)file.get_f32_array(kv.key);
    (void)file.get_int_array(kv.key);
    check(file.find(kv.key) == &v);
  }
  for (const strata::GgufTensorInfo& t : file.tensors()) {
    touch(t.name);
    check(t.data >= file.bytes() && t.n_bytes <= file.file_size() &&
          static_cast<uint64_t>(t.data - file.bytes()) <= file.file_size() - t.n_bytes);
    touch(t.data, t.n_bytes);
    check(file.find_tensor(t.name) == &t);
  }
}

// Whatever the reader accepts, the writer must reproduce and the reader accept again, with equal content.
void round_trip(const strata::GgufFile& file) {
  strata::GgufWriter writer;
  check(writer.copy_metadata_from(file).ok());
  for (const strata::GgufTensorInfo& t : file.tensors()) {
    check(writer.add_tensor_ref(t.name, t.type, t.shape, t.data, t.n_bytes).ok());
  }
  auto bytes = writer.serialize();
  check(bytes.ok());
  auto again = strata::GgufFile::parse(bytes->data(), bytes->size());
  check(again.ok());
  const strata::GgufFile& copy = **again;
  check(copy.metadata().size() == file.metadata().size());
  check(copy.tensors().size() == file.tensors().size());
  check(copy.alignment() == file.alignment());
  for (size_t i = 0; i < file.metadata().size(); ++i) {
    const strata::GgufKeyValue& a = file.metadata()[i];
    const strata::GgufKeyValue& b = copy.metadata()[i];
    check(a.key == b.key && a.value.type == b.value.type && a.value.str == b.value.str);
    check(a.value.array.count == b.value.array.count && a.value.array.strings == b.value.array.strings);
  }
  for (size_t i = 0; i < file.tensors().size(); ++i) {
    const strata::GgufTensorInfo& a = file.tensors()[i];
    const strata::GgufTensorInfo& b = copy.tensors()[i];
    check(a.name == b.name && a.type == b.type && a.shape == b.shape && a.n_bytes == b.n_bytes);
    check(std::memcmp(a.data, b.data, a.n_bytes) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = strata::GgufFile::parse(data, size);
  if (!file.ok()) {
    check(file.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  touch_file(**file);
  round_trip(**file);
  return 0;
}
