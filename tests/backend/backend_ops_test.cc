// Every op case of the harness on every backend this build has (the CPU backend here; CUDA joins where it runs),
// against the float64 reference, with each case's stated tolerance.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "core/quant/fp16.h"
#include "kernels/cpu/cpu_backend.h"
#include "tests/backend/backend_op_cases.h"

namespace strata::testing {
namespace {

class BackendOps : public ::testing::TestWithParam<size_t> {};

TEST_P(BackendOps, MatchesFloat64Reference) {
  auto cases = all_op_cases();
  OpCase& c = *cases[GetParam()];
  c.build(/*seed=*/1000 + GetParam());
  const std::vector<double> want = c.reference();
  cpu::CpuBackend backend(2);
  auto got = c.run(backend);
  ASSERT_TRUE(got.ok()) << c.name() << ": " << got.status();
  ASSERT_EQ(got->size(), want.size()) << c.name();
  const double err = normalized_error(*got, want);
  EXPECT_LT(err, c.tolerance()) << c.name();
}

INSTANTIATE_TEST_SUITE_P(Cpu, BackendOps, ::testing::Range<size_t>(0, all_op_cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return all_op_cases()[info.param]->name();
                         });

// kv_store's f16 rounding is the reference conversion's bit for bit (round to nearest even, overflow to inf,
// subnormals, signed zero), so a cache written on any CPU reads the same everywhere.
TEST(KvStore, RoundsLikeTheReferenceConversion) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  const int64_t dim = 37;  // a vector tail on every row
  std::vector<float> k(4 * dim), v(4 * dim);
  for (float& x : k) x = normal(rng);
  for (float& x : v) x = normal(rng) * 1e-5f;  // f16 subnormals
  const float edge[] = {65504.0f, 65520.0f, 1e6f, -0.0f, 6e-8f, 2.9e-8f, -1e-7f, 0.33333334f};
  std::memcpy(k.data(), edge, sizeof(edge));
  k[10] = std::numeric_limits<float>::infinity();
  const int32_t slots[] = {3, 0, 5, 1};
  std::vector<uint16_t> k_cache(6 * dim, 0xFFFF), v_cache(6 * dim, 0xFFFF);
  cpu::CpuBackend backend(1);
  backend.kv_store(k.data(), v.data(), slots, 4, dim, dim, k_cache.data(), v_cache.data());
  for (int t = 0; t < 4; ++t) {
    for (int64_t j = 0; j < dim; ++j) {
      EXPECT_EQ(k_cache[slots[t] * dim + j], f32_to_fp16(k[t * dim + j])) << "k " << t << "," << j;
      EXPECT_EQ(v_cache[slots[t] * dim + j], f32_to_fp16(v[t * dim + j])) << "v " << t << "," << j;
    }
  }
  EXPECT_EQ(k_cache[2 * dim], 0xFFFF);  // slot 2 was not written
}

// Pages of [p, p + bytes) whose page-table entry is present (/proc/self/pagemap bit 63), or -1 if unreadable.
int64_t present_pages(const void* p, size_t bytes) {
  const long page = sysconf(_SC_PAGESIZE);
  const int fd = open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0) return -1;
  const uint64_t first = reinterpret_cast<uintptr_t>(p) / page, n = bytes / page;
  std::vector<uint64_t> entries(n);
  const ssize_t got = pread(fd, entries.data(), n * sizeof(uint64_t), static_cast<off_t>(first * sizeof(uint64_t)));
  close(fd);
  if (got != static_cast<ssize_t>(n * sizeof(uint64_t))) return -1;
  int64_t present = 0;
  for (uint64_t e : entries) present += (e >> 63) & 1;
  return present;
}

// The CPU backend reads mapped weights (the embedding table) in place and fills the mapping's page tables when it
// maps them, so the first lookup of a row does not stop on a page fault: after map_weights, every page of a mapped
// 8 MiB file is present without having been read (none is before).
TEST(CpuBackend, MappedWeightsArePresentWhenMapped) {
  constexpr size_t kBytes = size_t{8} << 20;
  char path[] = "/tmp/strata_map_weights_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  std::vector<uint8_t> data(kBytes);
  std::mt19937 rng(5);
  for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
  ASSERT_EQ(write(fd, data.data(), kBytes), static_cast<ssize_t>(kBytes));
  void* map = mmap(nullptr, kBytes, PROT_READ, MAP_PRIVATE, fd, 0);
  ASSERT_NE(map, MAP_FAILED);
  close(fd);
  const int64_t before = present_pages(map, kBytes);
  if (before < 0) {
    munmap(map, kBytes);
    GTEST_SKIP() << "/proc/self/pagemap is not readable here";
  }
  EXPECT_EQ(before, 0);
  cpu::CpuBackend backend(1);
  auto mapped = backend.map_weights(map, kBytes);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ(*mapped, map);  // read in place
  // A kernel without MADV_POPULATE_READ (before 5.14) rejects the advice, and the pages map as they are read.
  const long page = sysconf(_SC_PAGESIZE);
  if (madvise(map, page, 22 /* MADV_POPULATE_READ */) != 0) {
    munmap(map, kBytes);
    GTEST_SKIP() << "this kernel has no MADV_POPULATE_READ";
  }
  EXPECT_EQ(present_pages(map, kBytes), static_cast<int64_t>(kBytes / page));
  EXPECT_EQ(std::memcmp(map, data.data(), kBytes), 0);
  munmap(map, kBytes);
}

// A row's gated activation never depends on the batch, on whichever ISA the run forces, for both activations:
//  - 37 rows of 100 (a vector tail on every row; several pool tasks) give each row the bits it gets alone;
//  - rows of 5637 (a decode step's row, which a batch of one splits over the pool; a vector tail) give in a batch
//    of 3, one row per call, the bits they get alone.
TEST(GatedActivation, RowsDoNotDependOnTheBatch) {
  for (const auto [m, n] : {std::pair<int64_t, int64_t>{37, 100}, {3, 5637}}) {
    std::mt19937 rng(11);
    std::normal_distribution<float> normal(0.0f, 2.0f);
    std::vector<float> gate(m * n), up(m * n);
    for (float& x : gate) x = normal(rng);
    for (float& x : up) x = normal(rng);
    cpu::CpuBackend backend(2);
    for (FfnActivation act : {FfnActivation::kSilu, FfnActivation::kGeluTanh}) {
      std::vector<float> batch(m * n), alone(n);
      backend.gated_activation(gate.data(), up.data(), m, n, act, batch.data());
      for (int64_t r = 0; r < m; ++r) {
        backend.gated_activation(gate.data() + r * n, up.data() + r * n, 1, n, act, alone.data());
        EXPECT_EQ(std::memcmp(alone.data(), batch.data() + r * n, n * sizeof(float)), 0)
            << "n " << n << " row " << r << " activation " << static_cast<int>(act);
      }
    }
  }
}

// A prompt's queries attend in blocks (paged_attention), yet each query's output has the bits it gets when its
// token is attended alone, as a decode step would: 45 tokens of one sequence (blocks of up to 8, the last short) plus
// 3 tokens of another in the same call, each token compared with a call of its own. Head dims 64 (the chunk
// kernels) and 36 (the per-row ops), with no window and with a window shorter than the prompt (queries past it start
// at different positions and take blocks of their own).
TEST(PagedAttention, PromptQueriesGetTheirSingleTokenBits) {
  for (const int64_t head_dim : {int64_t{64}, int64_t{36}}) {
    for (const int64_t window : {int64_t{0}, int64_t{20}}) {
      const int64_t n_head = 8, n_head_kv = 2, block_size = 16, max_blocks = 3, n_blocks = 6;
      std::mt19937 rng(17);
      std::normal_distribution<float> normal(0.0f, 1.0f);
      std::vector<uint16_t> k_cache(n_blocks * block_size * n_head_kv * head_dim);
      std::vector<uint16_t> v_cache(k_cache.size());
      for (uint16_t& x : k_cache) x = f32_to_fp16(normal(rng));
      for (uint16_t& x : v_cache) x = f32_to_fp16(normal(rng));
      const int32_t tables[2 * max_blocks] = {4, 0, 2, 5, 1, 3};
      std::vector<int32_t> seq, pos;
      for (int32_t p = 0; p < 45; ++p) seq.push_back(0), pos.push_back(p);
      for (int32_t p = 30; p < 33; ++p) seq.push_back(1), pos.push_back(p);
      const int64_t n = static_cast<int64_t>(seq.size());
      std::vector<float> q(n * n_head * head_dim);
      for (float& x : q) x = normal(rng);
      PagedAttentionArgs a;
      a.q = q.data();
      a.k_cache = k_cache.data();
      a.v_cache = v_cache.data();
      a.block_tables = tables;
      a.token_seq = seq.data();
      a.token_pos = pos.data();
      a.n_tokens = n;
      a.n_head = n_head;
      a.n_head_kv = n_head_kv;
      a.head_dim_k = a.head_dim_v = head_dim;
      a.block_size = block_size;
      a.max_blocks_per_seq = max_blocks;
      a.scale = 0.125f;
      a.window = window;
      cpu::CpuBackend backend(2);
      std::vector<float> together(n * n_head * head_dim), alone(n_head * head_dim);
      a.out = together.data();
      backend.paged_attention(a);
      for (int64_t t = 0; t < n; ++t) {
        PagedAttentionArgs one = a;
        one.q = q.data() + t * n_head * head_dim;
        one.token_seq = seq.data() + t;
        one.token_pos = pos.data() + t;
        one.n_tokens = 1;
        one.out = alone.data();
        backend.paged_attention(one);
        ASSERT_EQ(std::memcmp(alone.data(), together.data() + t * n_head * head_dim, alone.size() * sizeof(float)), 0)
            << "head_dim " << head_dim << " window " << window << " token " << t;
      }
    }
  }
}

// RoPE's vector loops do the scalar formula's operations (two rounded products, then their difference or sum), so
// whichever ISA the run forces gives these bits exactly: both layouts, a partial rotary dim whose half (20) leaves a
// scalar tail after the vectors, 9 tokens over the pool.
TEST(Rope, EveryIsaGivesTheScalarFormulasBits) {
  const int64_t m = 9, heads = 3, head_dim = 80;
  const int32_t pos[m] = {0, 1, 7, 100, 2047, 5, 300000, 42, 9};
  std::mt19937 rng(13);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(m * heads * head_dim);
  for (float& v : x) v = normal(rng);
  cpu::CpuBackend backend(2);
  for (RopeLayout layout : {RopeLayout::kNormal, RopeLayout::kNeox}) {
    RopeParams p;
    p.layout = layout;
    p.rope_dim = 40;
    p.freq_base = 10000.0f;
    p.freq_scale = 0.5f;
    std::vector<float> want = x, got = x;
    const int64_t half = p.rope_dim / 2;
    for (int64_t t = 0; t < m; ++t) {
      for (int64_t h = 0; h < heads; ++h) {
        float* v = want.data() + (t * heads + h) * head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const double theta = static_cast<double>(pos[t]) * p.freq_scale *
                               std::pow(static_cast<double>(p.freq_base), -2.0 * i / p.rope_dim);
          const float c = static_cast<float>(std::cos(theta)), s = static_cast<float>(std::sin(theta));
          const int64_t a = layout == RopeLayout::kNormal ? 2 * i : i;
          const int64_t b = layout == RopeLayout::kNormal ? 2 * i + 1 : i + half;
          const float x0 = v[a], x1 = v[b];
          const float x0c = x0 * c, x1s = x1 * s, x0s = x0 * s, x1c = x1 * c;
          v[a] = x0c - x1s;
          v[b] = x0s + x1c;
        }
      }
    }
    backend.rope(got.data(), pos, m, heads, head_dim, p);
    EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0)
        << "layout " << static_cast<int>(layout);
  }
}

}  // namespace
}  // namespace strata::testing
