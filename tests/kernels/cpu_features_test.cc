#include "kernels/cpu/cpu_features.h"

#include "gtest/gtest.h"

namespace strata::cpu {
namespace {

TEST(CpuFeaturesTest, NamesRoundTrip) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    absl::StatusOr<Isa> parsed = parse_isa(isa_name(isa));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, isa);
  }
  EXPECT_FALSE(parse_isa("sse9").ok());
}

TEST(CpuFeaturesTest, ActiveIsaIsSupported) {
  EXPECT_TRUE(isa_supported(Isa::kScalar));
  EXPECT_TRUE(isa_supported(detected_isa()));
  EXPECT_TRUE(isa_supported(active_isa()));
  EXPECT_LE(static_cast<int>(active_isa()), static_cast<int>(detected_isa()));
}

}  // namespace
}  // namespace strata::cpu
