// Scale searches of ggml's k-quant reference quantizers. Each picks the scale (and min) of one sub-block and the
// integer levels L, trying several candidate scales and keeping the one with the least weighted error; a plain
// max-abs scale wastes levels on the single largest value and is measurably worse (about 10-20 % more RMS error).
#pragma once

#include <cmath>
#include <cstdint>

namespace strata {

// Round to nearest, ties to even, as ggml's nearest_int (its float magic-number trick) does. |x| < 2^22.
inline int nearest_int(float x) { return static_cast<int>(std::lrint(x)); }

// Group maxima below this are treated as all-zero groups (ggml's GROUP_MAX_EPS).
inline constexpr float kGroupMaxEps = 1e-15f;

// Affine fit x ~ scale * L - the_min with L in [0, nmax], min clamped to <= 0 (so the_min >= 0). Starts from the
// min/max grid, then tries nstep + 1 grids with nmax + rmin + rdelta * k levels over the range, each followed by a
// weighted least-squares fit of scale and min to its levels; keeps the fit with the least weighted error
// (|diff| when use_mad, else diff^2). Returns scale; fills L[n] and *the_min. `laux`: scratch of n bytes.
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* levels, float* the_min,
                       uint8_t* laux, float rmin, float rdelta, int nstep, bool use_mad);

// Symmetric fit x ~ scale * (L - nmax) with L - nmax in [-nmax, nmax - 1]; the sign of scale follows the largest
// |x| so its value gets the extra negative level. rmse_type 1 weights errors by x^2 and tries 18 scales around
// nmax / max, refitting scale by least squares for each. Returns scale; fills L[n] (offset by nmax).
float make_qx_quants(int n, int nmax, const float* x, int8_t* levels, int rmse_type, const float* qw);

// Symmetric 3-bit style fit for Q3_K: x^2-weighted, improves levels one at a time (up to 5 sweeps) while the
// least-squares objective grows. Returns scale; fills L[n] (offset by nmax).
float make_q3_quants(int n, int nmax, const float* x, int8_t* levels, bool do_rmse);

}  // namespace strata
