// Activation rows in a partner format (Q8_0 / Q8_1 / Q8_K) -> the GEMM panel layout (gemm_panels.h). The integers
// are the same ones the GEMV dot products see, so both paths compute identical integer sums.
#include <cstring>

#include "core/quant/block_formats.h"
#include "core/quant/fp16.h"
#include "kernels/cpu/gemm_panels.h"

namespace strata::cpu {
namespace {

template <typename Block>
void lay_out_q8_32(const Block* b, int64_t k, int8_t* q, float* d, float* dsum) {
  for (int64_t i = 0; i < k / 32; ++i) {
    const float di = fp16_to_f32(b[i].d);
    std::memcpy(q + 32 * i, b[i].qs, 32);
    d[i] = di;
    for (int h = 0; h < 2; ++h) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += b[i].qs[16 * h + l];
      dsum[2 * i + h] = di * sum;
    }
  }
}

void lay_out_q8_k(const BlockQ8_K* b, int64_t k, int8_t* q, float* d, float* dsum) {
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    std::memcpy(q + kQK_K * i, b[i].qs, kQK_K);
    for (int c = 0; c < kQK_K / 32; ++c) d[8 * i + c] = b[i].d;
    for (int g = 0; g < kQK_K / 16; ++g) dsum[16 * i + g] = b[i].d * b[i].bsums[g];
  }
}

}  // namespace

ActPanel act_panel_view(void* buf, int64_t cols, int64_t k) {
  auto* q = static_cast<int8_t*>(buf);
  auto* d = reinterpret_cast<float*>(q + cols * k);
  return ActPanel{k, q, d, d + cols * (k / 32)};
}

void fill_act_panel(GgmlType partner, const uint8_t* a, int64_t row_bytes, int64_t c0, int64_t cols,
                    const ActPanel& panel) {
  const int64_t k = panel.k;
  for (int64_t c = c0; c < c0 + cols; ++c) {
    const uint8_t* row = a + (c - c0) * row_bytes;
    // The panel's arrays are const for the tiles that read them; this is the one writer.
    auto* qc = const_cast<int8_t*>(panel.q) + c * k;
    auto* dc = const_cast<float*>(panel.d) + c * (k / 32);
    auto* sc = const_cast<float*>(panel.dsum) + c * (k / 16);
    switch (partner) {
      case GgmlType::kQ8_0:
        lay_out_q8_32(reinterpret_cast<const BlockQ8_0*>(row), k, qc, dc, sc);
        break;
      case GgmlType::kQ8_1:
        lay_out_q8_32(reinterpret_cast<const BlockQ8_1*>(row), k, qc, dc, sc);
        // Q8_1 partners Q4_1 / Q5_1, whose minimum is per 32: use the block's stored fp16 s = d * sum(q) for the
        // whole block, as the GEMV dot product does, so both paths give the same results (not just close ones)
        // and greedy decoding does not depend on the batch size.
        for (int64_t i = 0; i < k / 32; ++i) {
          sc[2 * i] = fp16_to_f32(reinterpret_cast<const BlockQ8_1*>(row)[i].s);
          sc[2 * i + 1] = 0.0f;
        }
        break;
      default:  // kQ8_K; quant_matmul only passes the three partners
        lay_out_q8_k(reinterpret_cast<const BlockQ8_K*>(row), k, qc, dc, sc);
        break;
    }
  }
}

}  // namespace strata::cpu
