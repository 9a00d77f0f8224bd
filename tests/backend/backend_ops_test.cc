// Every op case of the harness on every backend this build has (the CPU backend here; CUDA joins where it runs),
// against the float64 reference, with each case's stated tolerance.
#include <gtest/gtest.h>

#include <cmath>

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

}  // namespace
}  // namespace strata::testing
