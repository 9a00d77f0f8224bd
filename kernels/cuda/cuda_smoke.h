#pragma once

namespace strata::cuda {

// y[i] += a * x[i] for i < n, on `stream` (a cudaStream_t). Returns the cudaError_t of the launch (0 = success).
int axpy_launch(float a, const float* x, float* y, int n, void* stream);

}  // namespace strata::cuda
