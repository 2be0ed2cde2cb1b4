#include "quant/layout/row_groups.h"

#include <cstring>

#include "core/error.h"

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

// kPack: row format -> groups; else groups -> row format.
template <bool kPack>
void convert(QuantType t, const uint8_t* src, uint8_t* dst, int64_t rows, int64_t cols) {
  const QuantTypeInfo& info = layout_info(t, rows, cols, "row groups: type or shape");
  const size_t block = info.bytes_per_block;
  const int64_t nb = cols / info.block_size;
  const size_t row_bytes = nb * block;
  for (int64_t g = 0; g < rows; g += kRowGroupRows) {
    const size_t base = g * row_bytes;
    for (int64_t b = 0; b < nb; ++b)
      for_each_unit(info, 0, kRowGroupRows,
                    [&](int64_t r, size_t in_block, size_t in_column, size_t unit) {
                      const size_t rowwise = base + r * row_bytes + b * block + in_block;
                      const size_t grouped = base + b * kRowGroupRows * block + in_column;
                      if constexpr (kPack)
                        copy_unit(dst + grouped, src + rowwise, unit);
                      else
                        copy_unit(dst + rowwise, src + grouped, unit);
                    });
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
  for (int64_t b = 0; b < nb; ++b)
    for_each_unit(info, lane, lane + 1,
                  [&](int64_t, size_t in_block, size_t in_column, size_t unit) {
                    copy_unit(out + b * block + in_block,
                              group + b * kRowGroupRows * block + in_column, unit);
                  });
}

}  // namespace insitu
