// Proves the CUDA toolchain path (nvcc, architecture flags, linking) until the CUDA backend lands.
// A scaled vector add with a host launcher that reports launch errors as a status, never exits.
#include "kernels/cuda/cuda_smoke.h"

#include <cuda_runtime.h>

namespace strata::cuda {
namespace {

__global__ void axpy_kernel(float a, const float* x, float* y, int n) {  // x, y: [n]
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] += a * x[i];
}

}  // namespace

int axpy_launch(float a, const float* x, float* y, int n, void* stream) {
  constexpr int kThreads = 256;
  const int blocks = (n + kThreads - 1) / kThreads;
  axpy_kernel<<<blocks, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(a, x, y, n);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace strata::cuda
