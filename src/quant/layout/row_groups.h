// The row-group layout: a second storage order for a quantized matrix, built for decode GEMV
// kernels that process 16 output rows at once
// (kernels/cpu/x86/avx512/quant_gemv_groups_avx512.cpp).
//
// In the registry's row format each row is a run of blocks. In the row-group layout the rows
// are taken 16 at a time (a group); a group occupies the same bytes as its 16 rows did, and
// holds its blocks column by column: block column b of the group is 16 * bytes_per_block bytes
// at group_start + 16 * b * bytes_per_block. Inside it, the type's block fields
// (QuantTypeInfo::fields) follow in block order, field f at 16 * (its offset in the block),
// and each field is transposed across the 16 rows by units:
//   * a one-byte field (MXFP4's exponent): the 16 rows' bytes, row r at r;
//   * an f16 field (2 bytes): the 16 rows' values, row r at 2 * r;
//   * a word array: word u of row r at 4 * (16 * u + r).
// So one 64-byte load gives the same word of all 16 rows, one per 32-bit lane: a kernel
// multiplies 16 rows by a broadcast activation word with one vpdpbusd, and applies a block's
// scales to 16 rows with one vector op.
// q3_K then re-codes each block column's hmask and qs words into whole 3-bit codes, the same
// bytes in another order (quant/layout/q3k_group_codes.h).
//
// Only matrices whose row count is a multiple of 16 take this layout; the byte size is the
// same as the row format's, so memory estimates and accounting do not change.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/registry.h"

namespace insitu {

inline constexpr int64_t kRowGroupRows = 16;

// Whether `t` has a row-group layout (its registry row lists block fields).
bool row_groups_defined(QuantType t);

// Rows [0, rows) of a matrix with `cols` columns, rows a multiple of 16: `src` in the row
// format to `dst` in the row-group layout, or back. src and dst must not overlap.
void pack_row_groups(QuantType t, const uint8_t* src, uint8_t* dst, int64_t rows, int64_t cols);
void unpack_row_groups(QuantType t, const uint8_t* src, uint8_t* dst, int64_t rows, int64_t cols);

// Row r of a row-group matrix, in the row format (quant_row_bytes(t, cols) bytes to `out`).
void unpack_row_group_row(QuantType t, const uint8_t* data, int64_t r, int64_t cols, uint8_t* out);

}  // namespace insitu
