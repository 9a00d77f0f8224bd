// GgufWriter -> GgufFile round trips: every value type, tensors of several types, shapes and alignments, files on
// disk, metadata copies and the writer's own validation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "core/gguf/gguf_file.h"
#include "core/gguf/gguf_writer.h"
#include "tests/gguf/gguf_test_util.h"

namespace strata {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<GgufFile> parse_ok(const std::vector<uint8_t>& bytes) {
  auto file = GgufFile::parse(bytes.data(), bytes.size());
  EXPECT_TRUE(file.ok()) << file.status();
  return file.ok() ? std::move(*file) : nullptr;
}

TEST(GgufRoundTrip, EveryScalarType) {
  GgufWriter w;
  w.set_u8("u8", 255);
  w.set_i8("i8", -128);
  w.set_u16("u16", 65535);
  w.set_i16("i16", -32768);
  w.set_u32("u32", 0xFFFFFFFFu);
  w.set_i32("i32", std::numeric_limits<int32_t>::min());
  w.set_u64("u64", std::numeric_limits<uint64_t>::max());
  w.set_i64("i64", std::numeric_limits<int64_t>::min());
  w.set_f32("f32", 3.5f);
  w.set_f64("f64", -1e300);
  w.set_bool("bool_t", true);
  w.set_bool("bool_f", false);
  w.set_string("str", "héllo\nworld");
  w.set_string("empty", "");
  auto bytes = w.serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto file = parse_ok(*bytes);
  ASSERT_NE(file, nullptr);

  EXPECT_EQ(file->version(), 3u);
  EXPECT_EQ(file->alignment(), 32u);
  EXPECT_EQ(file->data_offset() % 32, 0u);
  ASSERT_EQ(file->metadata().size(), 14u);
  EXPECT_EQ(file->metadata()[0].key, "u8");
  EXPECT_EQ(file->metadata()[13].key, "empty");

  EXPECT_EQ(file->find("u8")->type, GgufValueType::kUint8);
  EXPECT_EQ(*file->get_uint("u8"), 255u);
  EXPECT_EQ(*file->get_int("i8"), -128);
  EXPECT_EQ(*file->get_uint("u16"), 65535u);
  EXPECT_EQ(*file->get_int("i16"), -32768);
  EXPECT_EQ(*file->get_uint("u32"), 0xFFFFFFFFu);
  EXPECT_EQ(*file->get_int("i32"), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(*file->get_uint("u64"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(*file->get_int("i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(*file->get_float("f32"), 3.5);
  EXPECT_EQ(*file->get_float("f64"), -1e300);
  EXPECT_EQ(file->find("f64")->type, GgufValueType::kFloat64);
  EXPECT_TRUE(*file->get_bool("bool_t"));
  EXPECT_FALSE(*file->get_bool("bool_f"));
  EXPECT_EQ(*file->get_string("str"), "héllo\nworld");
  EXPECT_EQ(*file->get_string("empty"), "");
  EXPECT_TRUE(file->find("u8")->is_integer());
  EXPECT_TRUE(file->find("f32")->is_float());
  EXPECT_FALSE(file->find("bool_t")->is_integer());
}

TEST(GgufRoundTrip, GettersConvertOnlyLosslessly) {
  GgufWriter w;
  w.set_i8("neg", -1);
  w.set_i32("pos", 7);
  w.set_u64("huge", std::numeric_limits<uint64_t>::max());
  w.set_f32("float", 0.25f);
  w.set_string("str", "x");
  w.set_bool("flag", true);
  auto bytes = w.serialize();
  ASSERT_TRUE(bytes.ok());
  auto file = parse_ok(*bytes);
  ASSERT_NE(file, nullptr);

  EXPECT_EQ(file->get_uint("neg").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*file->get_uint("pos"), 7u);
  EXPECT_EQ(*file->get_float("pos"), 7.0);
  EXPECT_EQ(file->get_int("huge").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(file->get_uint("float").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(file->get_string("pos").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(file->get_string("pos").status().message()), HasSubstr("int32"));
  EXPECT_EQ(file->get_bool("pos").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(file->get_uint("flag").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(file->get_array("str").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(file->get_string("missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(file->get_string("missing").status().message()), HasSubstr("missing"));

  EXPECT_EQ(*file->get_uint_or("missing", 42), 42u);
  EXPECT_EQ(*file->get_uint_or("pos", 42), 7u);
  EXPECT_FALSE(file->get_uint_or("str", 42).ok());
  EXPECT_EQ(*file->get_float_or("missing", 1.5), 1.5);
  EXPECT_EQ(*file->get_float_or("float", 1.5), 0.25);
  EXPECT_TRUE(*file->get_bool_or("missing", true));
  EXPECT_TRUE(*file->get_bool_or("flag", false));
  EXPECT_FALSE(file->get_bool_or("pos", false).ok());
}

template <typename T>
void expect_numeric_array(const GgufFile& file, std::string_view key, GgufValueType type, const std::vector<T>& want) {
  auto array = file.get_array(key);
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_EQ((*array)->element_type, type) << key;
  ASSERT_EQ((*array)->count, want.size()) << key;
  for (size_t i = 0; i < want.size(); ++i) {
    T v;
    std::memcpy(&v, (*array)->data + i * sizeof(T), sizeof(T));
    EXPECT_EQ(v, want[i]) << key << "[" << i << "]";
  }
}

TEST(GgufRoundTrip, EveryArrayType) {
  const std::vector<uint8_t> u8 = {0, 1, 255};
  const std::vector<int8_t> i8 = {-128, 0, 127};
  const std::vector<uint16_t> u16 = {0, 65535};
  const std::vector<int16_t> i16 = {-32768, 32767};
  const std::vector<uint32_t> u32 = {1, 0xFFFFFFFFu};
  const std::vector<int32_t> i32 = {-5, 6, -7};
  const std::vector<uint64_t> u64 = {std::numeric_limits<uint64_t>::max()};
  const std::vector<int64_t> i64 = {std::numeric_limits<int64_t>::min(), 3};
  const std::vector<float> f32 = {1.25f, -0.5f};
  const std::vector<double> f64 = {1e-300, 2.5};
  const std::vector<std::string> strings = {"a", "", "long string with spaces", "\xe2\x96\x81x"};
  GgufWriter w;
  w.set_array("u8", std::span<const uint8_t>(u8));
  w.set_array("i8", std::span<const int8_t>(i8));
  w.set_array("u16", std::span<const uint16_t>(u16));
  w.set_array("i16", std::span<const int16_t>(i16));
  w.set_array("u32", std::span<const uint32_t>(u32));
  w.set_array("i32", std::span<const int32_t>(i32));
  w.set_array("u64", std::span<const uint64_t>(u64));
  w.set_array("i64", std::span<const int64_t>(i64));
  w.set_array("f32", std::span<const float>(f32));
  w.set_array("f64", std::span<const double>(f64));
  w.set_bool_array("bool", {true, false, false, true});
  w.set_string_array("strings", strings);
  const std::vector<std::string_view> views = {"x", "yz"};
  w.set_string_array("views", views);
  w.set_array("empty", std::span<const float>());
  auto bytes = w.serialize();
  ASSERT_TRUE(bytes.ok());
  auto file = parse_ok(*bytes);
  ASSERT_NE(file, nullptr);

  expect_numeric_array(*file, "u8", GgufValueType::kUint8, u8);
  expect_numeric_array(*file, "i8", GgufValueType::kInt8, i8);
  expect_numeric_array(*file, "u16", GgufValueType::kUint16, u16);
  expect_numeric_array(*file, "i16", GgufValueType::kInt16, i16);
  expect_numeric_array(*file, "u32", GgufValueType::kUint32, u32);
  expect_numeric_array(*file, "i32", GgufValueType::kInt32, i32);
  expect_numeric_array(*file, "u64", GgufValueType::kUint64, u64);
  expect_numeric_array(*file, "i64", GgufValueType::kInt64, i64);
  expect_numeric_array(*file, "f32", GgufValueType::kFloat32, f32);
  expect_numeric_array(*file, "f64", GgufValueType::kFloat64, f64);
  expect_numeric_array(*file, "bool", GgufValueType::kBool, std::vector<uint8_t>{1, 0, 0, 1});
  expect_numeric_array(*file, "empty", GgufValueType::kFloat32, std::vector<float>{});

  auto s = file->get_array("strings");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->element_type, GgufValueType::kString);
  ASSERT_EQ((*s)->count, strings.size());
  ASSERT_EQ((*s)->strings.size(), strings.size());
  for (size_t i = 0; i < strings.size(); ++i) EXPECT_EQ((*s)->strings[i], strings[i]);
  EXPECT_THAT((*file->get_array("views"))->strings, ::testing::ElementsAre("x", "yz"));

  EXPECT_THAT(*file->get_f32_array("i32"), ::testing::ElementsAre(-5.0f, 6.0f, -7.0f));
  EXPECT_THAT(*file->get_f32_array("f64"), ::testing::ElementsAre(static_cast<float>(1e-300), 2.5f));
  EXPECT_THAT(*file->get_int_array("u16"), ::testing::ElementsAre(0, 65535));
  EXPECT_THAT(*file->get_int_array("i64"), ::testing::ElementsAre(std::numeric_limits<int64_t>::min(), 3));
  EXPECT_EQ(file->get_int_array("u64").status().code(), absl::StatusCode::kInvalidArgument);  // beyond int64
  EXPECT_EQ(file->get_int_array("f32").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(file->get_f32_array("strings").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(file->get_f32_array("missing").status().code(), absl::StatusCode::kNotFound);
}

TEST(GgufRoundTrip, SettingAKeyAgainReplacesItInPlace) {
  GgufWriter w;
  w.set_u32("a", 1);
  w.set_string("b", "x");
  w.set_u32("c", 3);
  w.set_string("a", "now a string");
  EXPECT_TRUE(w.remove("c"));
  EXPECT_FALSE(w.remove("c"));
  w.set_u8("d", 4);
  EXPECT_TRUE(w.has_key("a"));
  EXPECT_FALSE(w.has_key("c"));
  EXPECT_EQ(w.metadata_count(), 3u);
  auto bytes = w.serialize();
  ASSERT_TRUE(bytes.ok());
  auto file = parse_ok(*bytes);
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(file->metadata().size(), 3u);
  EXPECT_EQ(file->metadata()[0].key, "a");
  EXPECT_EQ(file->metadata()[1].key, "b");
  EXPECT_EQ(file->metadata()[2].key, "d");
  EXPECT_EQ(*file->get_string("a"), "now a string");
}

struct TensorCase {
  std::string name;
  GgmlType type;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> data;
};

std::vector<TensorCase> tensor_cases(std::mt19937& rng) {
  const std::vector<std::pair<GgmlType, std::vector<uint64_t>>> specs = {
      {GgmlType::kF32, {7}},
      {GgmlType::kF16, {3, 5}},
      {GgmlType::kBF16, {2, 2, 2}},
      {GgmlType::kQ4_0, {64, 3}},
      {GgmlType::kQ4_1, {32, 1, 2}},
      {GgmlType::kQ5_0, {96}},
      {GgmlType::kQ8_0, {32, 1, 1, 2}},
      {GgmlType::kQ4_K, {256, 2}},
      {GgmlType::kQ6_K, {512}},
      {GgmlType::kIQ4_NL, {32, 3}},
      {GgmlType::kTQ1_0, {256}},
      {GgmlType::kI8, {3}},
      {GgmlType::kI64, {1, 1}},
      {GgmlType::kF64, {2, 3, 1, 1}},
      {GgmlType::kIQ2_XXS, {256}},
  };
  std::vector<TensorCase> cases;
  for (size_t i = 0; i < specs.size(); ++i) {
    // Built piecewise: GCC 12 warns falsely (-Wrestrict) on a chained operator+ here.
    std::string name = "t";
    name += std::to_string(i);
    name += '.';
    name += ggml_type_info(specs[i].first)->name;
    TensorCase c{std::move(name), specs[i].first, specs[i].second, {}};
    c.data = testing::random_tensor_bytes(c.type, c.shape, rng);
    cases.push_back(std::move(c));
  }
  return cases;
}

TEST(GgufRoundTrip, TensorsOfSeveralTypesShapesAndAlignments) {
  for (uint32_t alignment : {1u, 8u, 32u, 64u, 4096u}) {
    SCOPED_TRACE(alignment);
    std::mt19937 rng(alignment);
    const std::vector<TensorCase> cases = tensor_cases(rng);
    GgufWriter w;
    w.set_string("general.architecture", "llama");
    ASSERT_TRUE(w.set_alignment(alignment).ok());
    for (const TensorCase& c : cases) {
      ASSERT_TRUE(w.add_tensor(c.name, c.type, c.shape, c.data.data(), c.data.size()).ok()) << c.name;
    }
    EXPECT_EQ(w.tensor_count(), cases.size());
    auto bytes = w.serialize();
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_EQ(bytes->size() % alignment, 0u);
    auto file = parse_ok(*bytes);
    ASSERT_NE(file, nullptr);
    EXPECT_EQ(file->alignment(), alignment);
    EXPECT_EQ(*file->get_uint("general.alignment"), alignment);
    EXPECT_EQ(file->data_offset() % alignment, 0u);
    ASSERT_EQ(file->tensors().size(), cases.size());
    for (size_t i = 0; i < cases.size(); ++i) {
      const GgufTensorInfo& t = file->tensors()[i];
      const TensorCase& c = cases[i];
      EXPECT_EQ(t.name, c.name);
      EXPECT_EQ(t.type, c.type);
      EXPECT_EQ(t.shape, c.shape);
      EXPECT_EQ(t.offset % alignment, 0u);
      EXPECT_EQ(t.n_bytes, c.data.size());
      uint64_t n = 1;
      for (uint64_t d : c.shape) n *= d;
      EXPECT_EQ(t.n_elements, n);
      EXPECT_EQ(t.data, file->bytes() + file->data_offset() + t.offset);
      EXPECT_EQ(std::memcmp(t.data, c.data.data(), c.data.size()), 0) << c.name;
      EXPECT_EQ(file->find_tensor(c.name), &t);
    }
    EXPECT_EQ(file->find_tensor("absent"), nullptr);
  }
}

std::string temp_path(std::string_view name) {
  return (std::filesystem::temp_directory_path() / (std::string(name) + "." + std::to_string(getpid()))).string();
}

TEST(GgufRoundTrip, WriteToDiskMatchesSerializeAndOpens) {
  const GgufWriter w = testing::make_sample_writer(2);
  const std::string path = temp_path("strata_gguf_write_test.gguf");
  ASSERT_TRUE(w.write(path).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto bytes = w.serialize();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(on_disk, *bytes);

  auto file = GgufFile::open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->file_size(), bytes->size());
  EXPECT_EQ((*file)->tensors().size(), 4u);
  EXPECT_EQ(*(*file)->get_string("general.architecture"), "llama");
  std::filesystem::remove(path);
}

TEST(GgufRoundTrip, WriteIntoMissingDirectoryFails) {
  const GgufWriter w = testing::make_sample_writer(0);
  const absl::Status status = w.write("/nonexistent-dir-strata/x.gguf");
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("/nonexistent-dir-strata/x.gguf.tmp"));
}

TEST(GgufRoundTrip, CopyMetadataWithFilter) {
  auto source_bytes = testing::make_sample_writer(1).serialize();
  ASSERT_TRUE(source_bytes.ok());
  auto source = parse_ok(*source_bytes);
  ASSERT_NE(source, nullptr);

  GgufWriter w;
  w.set_string("general.name", "before");
  ASSERT_TRUE(w.copy_metadata_from(*source, [](std::string_view key) { return key.substr(0, 5) != "test."; }).ok());
  auto bytes = w.serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto copy = parse_ok(*bytes);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->find("test.u8"), nullptr);
  EXPECT_EQ(*copy->get_string("general.name"), "sample-1");  // replaced in place
  EXPECT_EQ(copy->metadata()[0].key, "general.name");
  EXPECT_EQ(*copy->get_string("general.architecture"), "gemma3");
  EXPECT_EQ(copy->alignment(), source->alignment());
  const GgufArray* a = *source->get_array("tokenizer.ggml.tokens");
  const GgufArray* b = *copy->get_array("tokenizer.ggml.tokens");
  EXPECT_EQ(a->strings, b->strings);

  // Without a filter every entry comes across, values and types unchanged.
  GgufWriter all;
  ASSERT_TRUE(all.copy_metadata_from(*source).ok());
  auto all_bytes = all.serialize();
  ASSERT_TRUE(all_bytes.ok());
  auto all_file = parse_ok(*all_bytes);
  ASSERT_NE(all_file, nullptr);
  ASSERT_EQ(all_file->metadata().size(), source->metadata().size());
  for (size_t i = 0; i < source->metadata().size(); ++i) {
    const GgufKeyValue& x = source->metadata()[i];
    const GgufKeyValue& y = all_file->metadata()[i];
    EXPECT_EQ(x.key, y.key);
    EXPECT_EQ(x.value.type, y.value.type);
    EXPECT_EQ(x.value.u, y.value.u);
    EXPECT_EQ(x.value.i, y.value.i);
    EXPECT_EQ(x.value.f, y.value.f);
    EXPECT_EQ(x.value.str, y.value.str);
    EXPECT_EQ(x.value.array.count, y.value.array.count);
  }
}

TEST(GgufRoundTrip, WriterRejectsInvalidTensors) {
  GgufWriter w;
  std::vector<uint8_t> data(1 << 12);
  const std::vector<uint64_t> shape = {32, 2};
  EXPECT_TRUE(w.add_tensor("ok", GgmlType::kQ8_0, shape, data.data(), 68).ok());
  auto expect_error = [](absl::Status s, std::string_view part) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.message()), HasSubstr(std::string(part)));
  };
  expect_error(w.add_tensor("ok", GgmlType::kQ8_0, shape, data.data(), 68), "duplicate");
  expect_error(w.add_tensor("size", GgmlType::kQ8_0, shape, data.data(), 67), "needs 68");
  const std::vector<uint64_t> odd = {33, 2};
  expect_error(w.add_tensor("block", GgmlType::kQ8_0, odd, data.data(), 68), "block size 32");
  const std::vector<uint64_t> five = {1, 1, 1, 1, 1};
  expect_error(w.add_tensor("dims", GgmlType::kF32, five, data.data(), 4), "dimensions");
  expect_error(w.add_tensor("dims0", GgmlType::kF32, std::vector<uint64_t>{}, data.data(), 4), "dimensions");
  const std::vector<uint64_t> zero = {4, 0};
  expect_error(w.add_tensor("zero", GgmlType::kF32, zero, data.data(), 0), "shape[1] is 0");
  const std::vector<uint64_t> four = {4};
  expect_error(w.add_tensor("type", static_cast<GgmlType>(4), four, data.data(), 16), "unknown type 4");
  expect_error(w.add_tensor("null", GgmlType::kF32, four, nullptr, 16), "no data");
  const std::vector<uint64_t> huge = {1ull << 40, 1ull << 40};
  expect_error(w.add_tensor("huge", GgmlType::kF32, huge, data.data(), 16), "overflows");
  EXPECT_EQ(w.tensor_count(), 1u);

  expect_error(w.set_alignment(0), "power of two");
  expect_error(w.set_alignment(48), "power of two");
  w.set_u64("general.alignment", 64);  // wrong type: the file could not be read back
  expect_error(w.serialize().status(), "general.alignment");
  w.set_u32("general.alignment", 64);
  EXPECT_TRUE(w.serialize().ok());
}

TEST(GgufRoundTrip, BorrowedTensorDataIsWritten) {
  std::vector<float> values = {1, 2, 3, 4};
  GgufWriter w;
  const std::vector<uint64_t> shape = {4};
  ASSERT_TRUE(w.add_tensor_ref("v", GgmlType::kF32, shape, values.data(), values.size() * 4).ok());
  values[2] = 42;  // borrowed, so the change is visible
  auto bytes = w.serialize();
  ASSERT_TRUE(bytes.ok());
  auto file = parse_ok(*bytes);
  ASSERT_NE(file, nullptr);
  float third;
  std::memcpy(&third, file->tensors()[0].data + 8, 4);
  EXPECT_EQ(third, 42.0f);
}

TEST(GgufRoundTrip, SetValueRejectsWhatNoReaderAccepts) {
  GgufWriter w;
  GgufValue nested;
  nested.type = GgufValueType::kArray;
  nested.array.element_type = GgufValueType::kArray;
  EXPECT_EQ(w.set_value("n", nested).code(), absl::StatusCode::kInvalidArgument);
  GgufValue bad_bool;
  bad_bool.type = GgufValueType::kBool;
  bad_bool.u = 2;
  EXPECT_EQ(w.set_value("b", bad_bool).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w.metadata_count(), 0u);
}

TEST(GgufOpen, MissingFileIsNotFoundWithPath) {
  auto file = GgufFile::open("/nonexistent/strata/model.gguf");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(file.status().message()), HasSubstr("/nonexistent/strata/model.gguf"));
}

TEST(GgufOpen, DirectoryAndEmptyFileAreRejected) {
  auto dir = GgufFile::open(std::filesystem::temp_directory_path().string());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string path = temp_path("strata_gguf_empty.gguf");
  { std::ofstream out(path); }
  auto empty = GgufFile::open(path);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr(path));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace strata
