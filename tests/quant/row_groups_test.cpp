// The row-group layout (quant/layout/row_groups.h) is a byte permutation of the row format:
// packing then unpacking gives the original bytes for every type that has it, each row read
// alone equals its row-format bytes, and a group's units sit where the header says (q3_K's
// re-coded codes where quant/layout/q3k_group_codes.h says).
#include "quant/layout/row_groups.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "quant/registry.h"

namespace insitu {
namespace {

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

TEST(RowGroups, RoundTripAndSingleRowsForEveryType) {
  int covered = 0;
  for (const auto& info : all_quant_types()) {
    if (!row_groups_defined(info.type)) continue;
    ++covered;
    for (int64_t rows : {16, 48}) {
      const int64_t cols = 3 * info.block_size;
      const size_t row_bytes = quant_row_bytes(info.type, cols);
      const std::vector<uint8_t> src = random_bytes(rows * row_bytes, 7 + rows);
      std::vector<uint8_t> grouped(src.size()), back(src.size());
      pack_row_groups(info.type, src.data(), grouped.data(), rows, cols);
      EXPECT_NE(grouped, src) << info.name;
      unpack_row_groups(info.type, grouped.data(), back.data(), rows, cols);
      EXPECT_EQ(back, src) << info.name;
      std::vector<uint8_t> one(row_bytes);
      for (int64_t r = 0; r < rows; ++r) {
        unpack_row_group_row(info.type, grouped.data(), r, cols, one.data());
        ASSERT_EQ(std::memcmp(one.data(), src.data() + r * row_bytes, row_bytes), 0)
            << info.name << " row " << r;
      }
    }
  }
  EXPECT_GE(covered, 10);  // the ggml block types q4_0..q8_0, q2k..q6k
}

// The documented position of one unit: word u of the last field of row r in block column b.
TEST(RowGroups, UnitsSitWhereTheLayoutSays) {
  const QuantType t = QuantType::kQ4K;  // fields d, dmin, scales[12], qs[128]
  const auto& info = quant_info(t);
  const int64_t rows = 32, cols = 2 * info.block_size;
  const size_t row_bytes = quant_row_bytes(t, cols);
  const std::vector<uint8_t> src = random_bytes(rows * row_bytes, 3);
  std::vector<uint8_t> grouped(src.size());
  pack_row_groups(t, src.data(), grouped.data(), rows, cols);
  const int64_t g = 1, r = 5, b = 1, u = 7;  // row 21, block 1, qs word 7
  const size_t column = g * 16 * row_bytes + b * 16 * info.bytes_per_block;
  const size_t qs_field = 16 * (2 + 2 + 12);  // 16 rows' d, dmin and scales come first
  const uint8_t* want =
      src.data() + (16 * g + r) * row_bytes + b * info.bytes_per_block + 16 + 4 * u;
  EXPECT_EQ(std::memcmp(grouped.data() + column + qs_field + 4 * (16 * u + r), want, 4), 0);
  // f16 field dmin: 16 consecutive values after d's.
  const uint8_t* dmin = src.data() + (16 * g + r) * row_bytes + b * info.bytes_per_block + 2;
  EXPECT_EQ(std::memcmp(grouped.data() + column + 32 + 2 * r, dmin, 2), 0);
}

// q3_K's code words hold every element's ggml code (low bits from qs, high bit from hmask) by
// the formulas of q3k_group_codes.h, read here without its tables.
TEST(RowGroups, Q3KCodeWordsHoldWholeCodes) {
  const QuantType t = QuantType::kQ3K;  // fields hmask[32], qs[64], scales[12], d
  const int64_t rows = 16, cols = 2 * 256;
  const size_t row_bytes = quant_row_bytes(t, cols), block = quant_info(t).bytes_per_block;
  const std::vector<uint8_t> src = random_bytes(rows * row_bytes, 11);
  std::vector<uint8_t> grouped(src.size());
  pack_row_groups(t, src.data(), grouped.data(), rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < cols / 256; ++b) {
      const uint8_t* blk = src.data() + r * row_bytes + b * block;
      const uint8_t* column = grouped.data() + b * 16 * block;
      for (int n = 0; n < 2; ++n)
        for (int k = 0; k < 4; ++k)
          for (int l = 0; l < 32; ++l) {
            const int want = (blk[32 + 32 * n + l] >> (2 * k) & 3) | (blk[l] >> (4 * n + k) & 1)
                                                                         << 2;
            // code word o of word position l / 4, byte l % 4 of row r
            const auto word = [&](int o) { return column[64 * (3 * (l / 4) + o) + 4 * r + l % 4]; };
            const int x = word(0), y = word(1), z = word(2);
            const int got[8] = {x & 7,
                                x >> 3 & 7,
                                y & 7,
                                y >> 3 & 7,
                                z & 7,
                                z >> 3 & 7,
                                (x >> 6) << 1 | (y >> 6 & 1),
                                (z >> 6) << 1 | y >> 7};
            ASSERT_EQ(got[4 * n + k], want)
                << "row " << r << " block " << b << " element " << 128 * n + 32 * k + l;
          }
    }
}

}  // namespace
}  // namespace insitu
