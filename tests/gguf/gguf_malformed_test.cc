// Malformed GGUF images: each must fail with InvalidArgument naming the field, never crash or over-allocate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>

#include "core/gguf/gguf_file.h"
#include "core/gguf/gguf_writer.h"
#include "tests/gguf/gguf_test_util.h"

namespace strata {
namespace {

using ::testing::AllOf;
using testing::GgufBytes;
using ::testing::HasSubstr;

absl::Status parse_status(const std::vector<uint8_t>& bytes) {
  return GgufFile::parse(bytes.data(), bytes.size()).status();
}

// Expects InvalidArgument whose message contains every one of `parts`.
void expect_invalid(const std::vector<uint8_t>& bytes, std::initializer_list<std::string_view> parts) {
  const absl::Status status = parse_status(bytes);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  for (std::string_view part : parts) EXPECT_THAT(std::string(status.message()), HasSubstr(std::string(part)));
}

std::vector<uint8_t> sample_bytes(int variant) {
  auto bytes = testing::make_sample_writer(variant).serialize();
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

TEST(GgufMalformed, TruncationAtEveryByteFailsCleanly) {
  for (int variant : {0, 1, 3}) {
    const std::vector<uint8_t> full = sample_bytes(variant);
    auto file = GgufFile::parse(full.data(), full.size());
    ASSERT_TRUE(file.ok()) << file.status();
    // The last tensor's end is the shortest valid length; the writer's tail padding is optional.
    uint64_t end = 0;
    for (const GgufTensorInfo& t : (*file)->tensors()) {
      end = std::max<uint64_t>(end, (*file)->data_offset() + t.offset + t.n_bytes);
    }
    ASSERT_GT(full.size(), 1000u);
    for (size_t cut = 0; cut < full.size(); ++cut) {
      // A fresh heap copy of exactly `cut` bytes, so AddressSanitizer would see any read past the end.
      std::vector<uint8_t> head(full.begin(), full.begin() + static_cast<ptrdiff_t>(cut));
      const absl::Status status = parse_status(head);
      if (cut < end) {
        ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << "variant " << variant << " cut " << cut;
        ASSERT_THAT(std::string(status.message()), HasSubstr("gguf: ")) << cut;
        ASSERT_THAT(std::string(status.message()), HasSubstr(" at byte ")) << cut;
      } else {
        ASSERT_TRUE(status.ok()) << "variant " << variant << " cut " << cut << ": " << status;
      }
    }
  }
}

TEST(GgufMalformed, RandomByteFlipsNeverCrash) {
  std::mt19937 rng(20240611);
  int ok = 0;
  int invalid = 0;
  for (int variant = 0; variant < 5; ++variant) {
    const std::vector<uint8_t> original = sample_bytes(variant);
    auto file = GgufFile::parse(original.data(), original.size());
    ASSERT_TRUE(file.ok());
    const size_t header_end = (*file)->data_offset();
    for (int iter = 0; iter < 600; ++iter) {
      std::vector<uint8_t> bytes = original;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int f = 0; f < flips; ++f) {
        // Mostly inside the header and metadata, where the parser's decisions are.
        const size_t range = rng() % 4 == 0 ? bytes.size() : header_end;
        const size_t at = rng() % range;
        if (rng() % 2 == 0) {
          bytes[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
        } else {
          bytes[at] = static_cast<uint8_t>(rng());
        }
      }
      auto parsed = GgufFile::parse(bytes.data(), bytes.size());
      if (parsed.ok()) {
        ++ok;
        for (const GgufTensorInfo& t : (*parsed)->tensors()) {
          ASSERT_GE(t.data, bytes.data());
          ASSERT_LE(t.data + t.n_bytes, bytes.data() + bytes.size());
        }
      } else {
        ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << parsed.status();
        ++invalid;
      }
    }
  }
  // Both outcomes must occur, or the mutation is not reaching the parser's decisions.
  EXPECT_GT(ok, 0);
  EXPECT_GT(invalid, 0);
}

TEST(GgufMalformed, EmptyAndTinyInputs) {
  EXPECT_EQ(GgufFile::parse(nullptr, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GgufFile::parse(nullptr, 100).status().code(), absl::StatusCode::kInvalidArgument);
  expect_invalid({'G', 'G'}, {"magic", "too short"});
}

TEST(GgufMalformed, BadMagic) {
  expect_invalid(GgufBytes().raw("GGML", 4).u32(3).u64(0).u64(0).bytes(), {"magic", "47 47 4d 4c"});
}

TEST(GgufMalformed, UnsupportedVersions) {
  expect_invalid(GgufBytes().header(1, 0, 0).bytes(), {"version", "version 1 is not supported"});
  expect_invalid(GgufBytes().header(4, 0, 0).bytes(), {"version", "unsupported GGUF version 4"});
  expect_invalid(GgufBytes().header(0, 0, 0).bytes(), {"version", "version 0"});
  // Version 3 written big-endian.
  expect_invalid(GgufBytes().header(0x03000000, 0, 0).bytes(), {"version", "big-endian"});
  EXPECT_TRUE(parse_status(GgufBytes().header(2, 0, 0).bytes()).ok());
  EXPECT_TRUE(parse_status(GgufBytes().header(3, 0, 0).bytes()).ok());
}

TEST(GgufMalformed, AbsurdCountsFailFast) {
  expect_invalid(GgufBytes().header(3, 1ull << 62, 0).bytes(), {"tensor count", "at byte 8"});
  expect_invalid(GgufBytes().header(3, std::numeric_limits<uint64_t>::max(), 0).bytes(), {"tensor count"});
  expect_invalid(GgufBytes().header(3, 0, (1ull << 63) - 1).fill(64).bytes(), {"metadata count", "at byte 16"});
  // Key length near 2^63.
  expect_invalid(GgufBytes().header(3, 0, 1).u64(1ull << 63).fill(16).bytes(),
                 {"metadata #0 key", "at byte 24", "string length 9223372036854775808"});
  // String value length.
  expect_invalid(GgufBytes().header(3, 0, 1).str("k").u32(8).u64(std::numeric_limits<uint64_t>::max()).bytes(),
                 {"metadata 'k' value", "string length"});
  // Array of 2^62 strings: bounded by the bytes left before any allocation.
  expect_invalid(GgufBytes().header(3, 0, 1).str("arr").u32(9).u32(8).u64(1ull << 62).fill(32).bytes(),
                 {"metadata 'arr' value array count", "strings need at least 8 bytes"});
  // Array of 2^63 - 1 uint32: count * 4 would wrap.
  expect_invalid(GgufBytes().header(3, 0, 1).str("arr").u32(9).u32(4).u64((1ull << 63) - 1).fill(32).bytes(),
                 {"metadata 'arr' value array count"});
  // Array of 2^62 uint64: count * 8 wraps to 0 exactly.
  expect_invalid(GgufBytes().header(3, 0, 1).str("arr").u32(9).u32(10).u64(1ull << 61).bytes(), {"array count"});
  // A string inside an array claims more than is left.
  expect_invalid(GgufBytes().header(3, 0, 1).str("arr").u32(9).u32(8).u64(2).str("a").u64(1000).fill(8).bytes(),
                 {"metadata 'arr' value array element 1", "string length 1000"});
}

TEST(GgufMalformed, UnknownValueTypes) {
  expect_invalid(GgufBytes().header(3, 0, 1).str("k").u32(13).u32(0).bytes(),
                 {"metadata 'k' type", "unknown value type 13"});
  expect_invalid(GgufBytes().header(3, 0, 1).str("k").u32(9).u32(99).u64(0).bytes(),
                 {"metadata 'k' value array element type", "unknown value type 99"});
  expect_invalid(GgufBytes().header(3, 0, 1).str("k").u32(9).u32(9).u64(1).u32(4).u64(0).bytes(),
                 {"metadata 'k' value array element type", "nested arrays"});
  expect_invalid(GgufBytes().header(3, 0, 1).str("flag").u32(7).u8(2).bytes(), {"metadata 'flag' value", "bool"});
  expect_invalid(GgufBytes().header(3, 0, 1).str("flags").u32(9).u32(7).u64(3).u8(1).u8(0).u8(7).bytes(),
                 {"metadata 'flags' value array element 2", "bool"});
}

TEST(GgufMalformed, DuplicateKeys) {
  expect_invalid(GgufBytes().header(3, 0, 2).kv_u32("a.b", 1).kv_str("a.b", "x").bytes(),
                 {"metadata #1 key", "duplicate key 'a.b'"});
}

TEST(GgufMalformed, Alignment) {
  expect_invalid(GgufBytes().header(3, 0, 1).kv_u32("general.alignment", 0).bytes(),
                 {"general.alignment", "not a non-zero power of two"});
  expect_invalid(GgufBytes().header(3, 0, 1).kv_u32("general.alignment", 48).bytes(),
                 {"general.alignment", "alignment 48"});
  expect_invalid(GgufBytes().header(3, 0, 1).str("general.alignment").u32(10).u64(64).bytes(),
                 {"general.alignment", "must be uint32, found uint64"});
  const std::vector<uint8_t> ok = GgufBytes().header(3, 0, 1).kv_u32("general.alignment", 64).bytes();
  auto file = GgufFile::parse(ok.data(), ok.size());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->alignment(), 64u);
}

// One F32 tensor of 8 elements (32 bytes) at `offset`, alignment 32, with `data_bytes` of data section.
std::vector<uint8_t> one_tensor(uint32_t type, std::vector<uint64_t> shape, uint64_t offset, size_t data_bytes) {
  GgufBytes b;
  b.header(3, 1, 1).kv_str("general.architecture", "llama").tensor_info("w", shape, type, offset).pad_to(32);
  b.fill(data_bytes, 0xAB);
  return b.bytes();
}

TEST(GgufMalformed, TensorInfos) {
  EXPECT_TRUE(parse_status(one_tensor(0, {8}, 0, 32)).ok());
  expect_invalid(one_tensor(4, {8}, 0, 32), {"tensor 'w' (#0) type", "unknown ggml type 4"});
  expect_invalid(one_tensor(1000, {8}, 0, 32), {"tensor 'w' (#0) type", "unknown ggml type 1000"});
  expect_invalid(one_tensor(0, {}, 0, 32), {"tensor 'w' (#0) n_dims", "0 dimensions"});
  expect_invalid(one_tensor(0, {1, 1, 1, 1, 1}, 0, 32), {"tensor 'w' (#0) n_dims", "5 dimensions"});
  expect_invalid(one_tensor(0, {8, 0}, 0, 32), {"tensor 'w' (#0) shape[1]", "dimension is 0"});
  expect_invalid(one_tensor(2, {48}, 0, 64), {"tensor 'w' (#0) shape[0]", "not a multiple of the Q4_0 block size 32"});
  expect_invalid(one_tensor(0, {1ull << 32, 1ull << 32}, 0, 32), {"tensor 'w' (#0) shape[1]", "overflows"});
  // 3 * 2^61 F64 elements: the count fits int64, the byte size (3 * 2^64) does not fit uint64.
  expect_invalid(one_tensor(28, {1ull << 61, 3}, 0, 32), {"tensor 'w' (#0) shape", "byte size overflows uint64"});
  expect_invalid(one_tensor(0, {8}, 16, 64), {"tensor 'w' (#0) offset 16", "alignment 32"});
  expect_invalid(one_tensor(0, {8}, 0, 31), {"tensor 'w' (#0) offset 0", "exceeds file size"});
  expect_invalid(one_tensor(0, {8}, 64, 64), {"tensor 'w' (#0) offset 64", "data range [", "exceeds file size"});
  expect_invalid(one_tensor(0, {8}, std::numeric_limits<uint64_t>::max() - 31, 32),
                 {"tensor 'w' (#0)", "overflows uint64"});
}

TEST(GgufMalformed, ErrorNamesOffsetAndDataRange) {
  const std::vector<uint8_t> bytes = one_tensor(0, {8}, 32, 32);
  const absl::Status status = parse_status(bytes);
  // header 24 + kv (8+20 key, 4 type, 8+5 value) = 69; info: 8+1 name, 4 n_dims, 8 dim, 4 type -> offset at 94.
  EXPECT_EQ(status.message(),
            "gguf: tensor 'w' (#0) offset 32 at byte 94: data range [160, 192) exceeds file size 160");
}

TEST(GgufMalformed, OverlappingAndDuplicateTensors) {
  auto two = [](std::string_view second_name, uint64_t second_offset) {
    GgufBytes b;
    b.header(3, 2, 0).tensor_info("a", {16}, 0, 0).tensor_info(second_name, {8}, 0, second_offset).pad_to(32);
    b.fill(128);
    return b.bytes();
  };
  EXPECT_TRUE(parse_status(two("b", 64)).ok());
  expect_invalid(two("b", 32), {"tensor 'b' (#1) offset 32", "overlaps tensor 'a' (#0)"});
  expect_invalid(two("b", 0), {"overlaps"});
  expect_invalid(two("a", 64), {"tensor #1 name", "duplicate tensor name 'a'"});
}

TEST(GgufMalformed, NonPrintableNamesAreEscaped) {
  GgufBytes b;
  b.header(3, 0, 2).kv_u32(std::string("\x01\xff", 2), 1).kv_u32(std::string("\x01\xff", 2), 1);
  expect_invalid(b.bytes(), {"duplicate key '\\x01\\xff'"});
}

}  // namespace
}  // namespace strata
