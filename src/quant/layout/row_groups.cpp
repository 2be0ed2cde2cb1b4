#include "quant/layout/row_groups.h"

#include <cstring>
#include <vector>

#include "core/error.h"
#include "quant/layout/q3k_group_codes.h"

namespace insitu {
namespace {

const QuantTypeInfo& layout_info(QuantType t, int64_t rows, int64_t cols, const char* what) {
  const QuantTypeInfo& info = quant_info(t);
  INSITU_CHECK(info.fields.count > 0, what);
  INSITU_CHECK(rows % kRowGroupRows == 0 && cols % info.block_size == 0, what);
  return info;
}

// Copies one unit (a byte, an f16 or a 4-byte word); constant sizes so the copies inline.
inline void copy_unit(uint8_t* to, const uint8_t* from, size_t unit) {
  if (unit == 4)
    std::memcpy(to, from, 4);
  else if (unit == 2)
    std::memcpy(to, from, 2);
  else
    *to = *from;
}

// Calls f(r, in_block, in_column, unit_bytes) for every unit of rows [r0, r1) of one block
// column: in_block is the unit's offset in row r's block, in_column its offset in the group's
// block column.
template <typename F>
void for_each_unit(const QuantTypeInfo& info, int64_t r0, int64_t r1, F&& f) {
  size_t off = 0;
  for (int k = 0; k < info.fields.count; ++k) {
    const size_t bytes = info.fields.bytes[k];
    const size_t unit = bytes <= 2 ? bytes : 4;
    for (size_t u = 0; u < bytes / unit; ++u)
      for (int64_t r = r0; r < r1; ++r)
        f(r, off + u * unit, kRowGroupRows * off + (u * kRowGroupRows + r) * unit, unit);
    off += bytes;
  }
}

// Types whose block columns are re-coded after the word transpose (q3k_group_codes.h).
bool recoded(QuantType t) {
  return t == QuantType::kQ3K;
}

// Block column `column` of a group in the row format's field order: itself, or (re-coded types)
// a copy in `scratch` with the codes turned back into ggml's fields.
const uint8_t* transposed_column(QuantType t, const uint8_t* column, size_t bytes,
                                 std::vector<uint8_t>& scratch) {
  if (!recoded(t)) return column;
  scratch.assign(column, column + bytes);
  q3k_group_codes::from_codes(scratch.data());
  return scratch.data();
}

// kPack: row format -> groups; else groups -> row format.
template <bool kPack>
void convert(QuantType t, const uint8_t* src, uint8_t* dst, int64_t rows, int64_t cols) {
  const QuantTypeInfo& info = layout_info(t, rows, cols, "row groups: type or shape");
  const size_t block = info.bytes_per_block;
  const int64_t nb = cols / info.block_size;
  const size_t row_bytes = nb * block;
  std::vector<uint8_t> scratch;
  for (int64_t g = 0; g < rows; g += kRowGroupRows) {
    const size_t base = g * row_bytes;
    for (int64_t b = 0; b < nb; ++b) {
      const size_t column = base + b * kRowGroupRows * block;
      const uint8_t* from =
          kPack ? nullptr : transposed_column(t, src + column, kRowGroupRows * block, scratch);
      for_each_unit(info, 0, kRowGroupRows,
                    [&](int64_t r, size_t in_block, size_t in_column, size_t unit) {
                      const size_t rowwise = base + r * row_bytes + b * block + in_block;
                      if constexpr (kPack)
                        copy_unit(dst + column + in_column, src + rowwise, unit);
                      else
                        copy_unit(dst + rowwise, from + in_column, unit);
                    });
      if (kPack && recoded(t)) q3k_group_codes::to_codes(dst + column);
    }
  }
}

}  // namespace

bool row_groups_defined(QuantType t) {
  return quant_info(t).fields.count > 0;
}

void pack_row_groups(QuantType t, const uint8_t* src, uint8_t* dst, int64_t rows, int64_t cols) {
  convert<true>(t, src, dst, rows, cols);
}

void unpack_row_groups(QuantType t, const uint8_t* src, uint8_t* dst, int64_t rows, int64_t cols) {
  convert<false>(t, src, dst, rows, cols);
}

void unpack_row_group_row(QuantType t, const uint8_t* data, int64_t r, int64_t cols, uint8_t* out) {
  const QuantTypeInfo& info = layout_info(t, kRowGroupRows, cols, "row groups: type or shape");
  const size_t block = info.bytes_per_block;
  const int64_t nb = cols / info.block_size;
  const uint8_t* group = data + (r / kRowGroupRows) * kRowGroupRows * nb * block;
  const int64_t lane = r % kRowGroupRows;
  std::vector<uint8_t> scratch;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* column =
        transposed_column(t, group + b * kRowGroupRows * block, kRowGroupRows * block, scratch);
    for_each_unit(info, lane, lane + 1,
                  [&](int64_t, size_t in_block, size_t in_column, size_t unit) {
                    copy_unit(out + b * block + in_block, column + in_column, unit);
                  });
  }
}

}  // namespace insitu
