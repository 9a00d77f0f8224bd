// The backend consistency harness as a micro-benchmark: every op case (tests/backend/backend_op_cases.h) timed on
// the CPU backend, printing GFLOP/s and GB/s (the bytes the op must at least move) next to its accuracy.
//   backend_ops_bench [threads] [filter-substring]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernels/cpu/cpu_backend.h"
#include "tests/backend/backend_op_cases.h"

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const std::string filter = argc > 2 ? argv[2] : "";
  strata::cpu::CpuBackend backend(threads);
  std::printf("backend %s\n%-56s %10s %10s %10s %10s\n", backend.name().c_str(), "case", "us", "GFLOP/s", "GB/s",
              "error");
  for (auto& c : strata::testing::all_op_cases()) {
    if (!filter.empty() && c->name().find(filter) == std::string::npos) continue;
    c->build(1);
    auto first = c->run(backend);  // warm-up, and the accuracy figure
    if (!first.ok()) {
      std::printf("%-56s failed: %s\n", c->name().c_str(), std::string(first.status().message()).c_str());
      continue;
    }
    const double err = strata::testing::normalized_error(*first, c->reference());
    double best = 1e30;
    for (int rep = 0; rep < 5; ++rep) {
      const auto start = std::chrono::steady_clock::now();
      (void)c->run(backend);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::printf("%-56s %10.1f %10.2f %10.2f %10.2e\n", c->name().c_str(), best * 1e6, c->flops() / best / 1e9,
                c->bytes() / best / 1e9, err);
  }
  return 0;
}
