// Portable writers of the packed row-lane layout (WeightLayout::kCpuRowLanes16) of every quantized format: the bytes
// the AVX-512 packers write, produced without AVX-512, so that CPUs with AVX2 only can pack for their row-lane kernels
// (which read each 64-byte register of the layout as two 32-byte halves: rows 0-7, 8-15).
//
// A "register" is 64 bytes in which 32-bit lane r holds 4 bytes of row r; rows past `rows` repeat the last one.
// Per block of 16 rows:
//  - Q4_0: the rows' fp16 d (32 bytes, row r at 2r), then 4 registers, qs bytes 4j..4j + 3 in register j.
//  - Q4_1, Q5_0, Q5_1: d, then (Q4_1, Q5_1) the rows' fp16 m (32 bytes), (Q5_0, Q5_1) one register of the qh words,
//    then the 4 qs registers as Q4_0's.
//  - Q8_0: d, then 8 registers the same way for its 32 quants, each byte XOR 0x80 (the quant plus 128, unsigned).
//  - Q2_K (per super-block): d (32 bytes), dmin (32), 4 registers of the scale bytes, then per half h the 8
//    registers of qs bytes 32h + 4k..+3. Q3_K: d, 3 registers of the packed scale bytes, 8 of hmask, then qs as Q2_K.
//  - Q4_K (per super-block): d (32 bytes), dmin (32), 3 registers of the packed scale words, then per quarter j of
//    qs 8 registers, qs bytes 32j + 4k..32j + 4k + 3 in register k.
//  - Q5_K: as Q4_K with 8 registers of qh (bytes 4k..4k + 3 in register k) between the scale words and the qs.
//  - Q6_K (per super-block): d (32 bytes), 4 registers of the int8 scales, then per half h and quarter s the 8
//    registers of 6-bit quants of elements 128h + 32s + 4k..+3 (register k) stored in 6: per group of 4 registers
//    w0..w3, bytes b_i = w_i | (bits 2i, 2i + 1 of w3) << 6 (see LaneQ6K::encode_quarter).
#pragma once

#include <cstdint>

namespace strata::cpu {

// Rows [0, rows) of a GGUF tensor (w_stride bytes apart, n_blocks blocks each) -> one packed group of 16 rows.
void pack_row_lanes_q4_0(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst);
void pack_row_lanes_q4_1(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst);
void pack_row_lanes_q5_0(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst);
void pack_row_lanes_q5_1(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst);
void pack_row_lanes_q8_0(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst);
void pack_row_lanes_q2_k(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst);
void pack_row_lanes_q3_k(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst);
void pack_row_lanes_q4_k(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst);
void pack_row_lanes_q5_k(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst);
void pack_row_lanes_q6_k(const uint8_t* w, int64_t w_stride, int rows, int64_t n_blocks, uint8_t* dst);

}  // namespace strata::cpu
