// The profiling decorator forwards every op unchanged (each harness case through it gives the CPU backend's bits)
// and counts what it forwarded.
#include "kernels/profiling_backend.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/quant/quantize.h"
#include "kernels/cpu/cpu_backend.h"
#include "tests/backend/backend_op_cases.h"

namespace strata::testing {
namespace {

TEST(ProfilingBackend, ForwardsEveryOpCaseBitForBit) {
  cpu::CpuBackend cpu(2);
  ProfilingBackend profiled(cpu);
  auto cases = all_op_cases();
  for (size_t i = 0; i < cases.size(); ++i) {
    OpCase& c = *cases[i];
    c.build(/*seed=*/2000 + i);
    auto direct = c.run(cpu);
    auto through = c.run(profiled);
    ASSERT_TRUE(direct.ok() && through.ok()) << c.name();
    ASSERT_EQ(direct->size(), through->size()) << c.name();
    EXPECT_EQ(std::memcmp(direct->data(), through->data(), direct->size() * sizeof(float)), 0) << c.name();
  }
  // Every op the harness covers was timed at least once.
  std::vector<std::string> labels;
  for (const ProfilingBackend::OpStats& s : profiled.stats()) {
    EXPECT_GT(s.calls, 0) << s.label;
    EXPECT_GE(s.seconds, 0) << s.label;
    labels.push_back(s.label.substr(0, s.label.find(' ')));
  }
  for (const char* op :
       {"matmul", "embed", "rms_norm", "rope", "gated_activation", "add", "kv_store", "paged_attention"}) {
    EXPECT_NE(std::find(labels.begin(), labels.end(), op), labels.end()) << op;
  }
}

TEST(ProfilingBackend, GroupsMatmulsByShapeAndCountsWeightBytes) {
  cpu::CpuBackend cpu(1);
  ProfilingBackend profiled(cpu);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  constexpr int64_t kRows = 48, kLen = 64;
  std::vector<float> values(kRows * kLen), x(kLen), y(kRows), y2(kRows), normed(kLen);
  for (float& v : values) v = normal(rng);
  for (float& v : x) v = normal(rng);
  // Two distinct Q8_0 weights of one shape share a row; the row counts both weights' bytes.
  std::vector<uint8_t> a(kRows * 68), b(kRows * 68);
  ASSERT_TRUE(quantize_row(GgmlType::kQ8_0, values.data(), a.data(), kRows * kLen).ok());
  ASSERT_TRUE(quantize_row(GgmlType::kQ8_0, values.data(), b.data(), kRows * kLen).ok());
  WeightTensor wa{GgmlType::kQ8_0, a.data(), kRows, kLen, 68};
  WeightTensor wb = wa;
  wb.data = b.data();
  ASSERT_TRUE(profiled.matmul(wa, x.data(), 1, y.data()).ok());
  ASSERT_TRUE(profiled.matmul(wb, x.data(), 1, y2.data()).ok());
  profiled.rms_norm(x.data(), x.data(), 1, kLen, 1e-5f, normed.data());
  profiled.set_enabled(false);
  profiled.rms_norm(x.data(), x.data(), 1, kLen, 1e-5f, normed.data());  // not counted
  const std::vector<ProfilingBackend::OpStats> stats = profiled.stats();
  ASSERT_EQ(stats.size(), 2u);
  for (const ProfilingBackend::OpStats& s : stats) {
    if (s.label == "matmul 48x64 Q8_0") {
      EXPECT_EQ(s.calls, 2);
      EXPECT_EQ(s.weight_bytes, 2u * kRows * 68);
    } else {
      EXPECT_EQ(s.label, "rms_norm");
      EXPECT_EQ(s.calls, 1);
      EXPECT_EQ(s.weight_bytes, 0u);
    }
  }
  EXPECT_NE(profiled.report(2).find("matmul 48x64 Q8_0"), std::string::npos);
  profiled.reset();
  EXPECT_TRUE(profiled.stats().empty());
}

}  // namespace
}  // namespace strata::testing
