// Marks functions usable from both host code and CUDA device code.
#pragma once

#if defined(__CUDACC__)
#define STRATA_HOST_DEVICE __host__ __device__
#define STRATA_INLINE __forceinline__
#else
#define STRATA_HOST_DEVICE
#define STRATA_INLINE inline
#endif
