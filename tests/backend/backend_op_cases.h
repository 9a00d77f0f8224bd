// One consistency harness for every Backend (kernels/backend.h), in the spirit of llama.cpp's test-backend-ops:
// each case builds random inputs from a seed (never zeros), runs the op on a backend and a float64 reference
// written out here, and states its tolerance (normalized error) and its FLOPs / bytes, so the same cases are the
// tests (tests/backend) and the micro-benchmarks (bench/backend).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kernels/backend.h"

namespace strata::testing {

class OpCase {
 public:
  virtual ~OpCase() = default;
  virtual std::string name() const = 0;
  // Allowed ||backend - reference|| / ||reference||, with the reason in the case's comment.
  virtual double tolerance() const = 0;
  virtual double flops() const = 0;
  virtual double bytes() const = 0;  // bytes an op must at least read and write
  // Builds the inputs (host side) from `seed`.
  virtual void build(uint64_t seed) = 0;
  virtual std::vector<double> reference() const = 0;
  // Runs the op on `backend` (inputs copied in, output copied out); may be called repeatedly for timing.
  virtual absl::StatusOr<std::vector<float>> run(Backend& backend) = 0;
};

// Every case the harness knows, across shapes that are not multiples of tile sizes.
std::vector<std::unique_ptr<OpCase>> all_op_cases();

// ||a - b|| / ||b||.
double normalized_error(const std::vector<float>& got, const std::vector<double>& want);

}  // namespace strata::testing
