// Pieces shared by the AMX-BF16 GEMMs (dense_gemm_amx.cpp, quant_gemm_amx.cpp): the tile
// configuration, the f32 -> bf16 hi/lo split, the activation planes laid out as ready-made
// A tiles, and the per-thread C-tile buffer (CBlock). Include only from AMX translation units.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/cpu/x86/avx512/bf16_tiles_avx512.h"
#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::amx_common {
using bf16_tiles::a_plane_u16;
using bf16_tiles::a_tile;
using bf16_tiles::a_tiles_bytes;
using bf16_tiles::kTileU16;
using bf16_tiles::prepare_a_tiles;
using bf16_tiles::round_up;
using bf16_tiles::split_bf16;
namespace {

struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// Every one of the 8 tiles as 16 rows x 64 bytes. The configuration is a compile-time constant:
// GCC does not treat _tile_loadconfig as reading its operand, and moved the stores that filled
// a stack copy below the ldtilecfg (the next tile instruction then raised #UD).
alignas(64) inline constexpr TileConfig kTiles16x64 = {
    1, 0, {}, {64, 64, 64, 64, 64, 64, 64, 64}, {16, 16, 16, 16, 16, 16, 16, 16}};
inline void configure_tiles_16x64() {
  _tile_loadconfig(&kTiles16x64);
}

// Partial sums of one staged weight-row block between K chunks: [m_pad / 16][nblk16] f32 C
// tiles of 16 x 16, contiguous in the thread's scratch. Reloading them from y instead (rows
// 4 * y_cols bytes apart: the 16 rows of a C tile on 16 pages, 4 KiB-aliased) took ~27% of the
// quantized GEMM's samples. Tiles 0..3 are the 2 x 2 C tiles of a 32 x 32 block.
constexpr int64_t kCTileF32 = 256;
inline size_t c_buffer_bytes(int64_t m, int64_t block_rows) {
  return static_cast<size_t>(round_up(m, 32) / 16) * (round_up(block_rows, 32) / 16) * kCTileF32 *
         sizeof(float);
}

struct CBlock {
  float* buf;
  int64_t nblk16;  // 16-column tiles per activation row block in this weight block
  float* tile(int64_t a16, int64_t b16) const { return buf + (a16 * nblk16 + b16) * kCTileF32; }

  // Activation rows [16 a16, 16 a16 + 32) x weight block columns [32 rb, 32 rb + 32): zero the
  // four C tiles at the first K chunk, else reload them.
  void begin(bool first, int64_t a16, int64_t rb) const {
    if (first) {
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      return;
    }
    _tile_loadd(0, tile(a16, 2 * rb), 64);
    _tile_loadd(1, tile(a16, 2 * rb + 1), 64);
    _tile_loadd(2, tile(a16 + 1, 2 * rb), 64);
    _tile_loadd(3, tile(a16 + 1, 2 * rb + 1), 64);
  }

  // Saves the four tiles; at the last K chunk writes them to y ([m][y_cols]; block at row
  // 16 * a16, column col0, nact x ncol valid), a full block straight from the tiles.
  void end(bool last, int64_t a16, int64_t rb, float* y, int64_t y_cols, int64_t col0, int64_t nact,
           int64_t ncol) const {
    if (last && nact == 32 && ncol == 32) {
      float* c = y + 16 * a16 * y_cols + col0;
      const int64_t ldc = y_cols * 4;
      _tile_stored(0, c, ldc);
      _tile_stored(1, c + 16, ldc);
      _tile_stored(2, c + 16 * y_cols, ldc);
      _tile_stored(3, c + 16 * y_cols + 16, ldc);
      return;
    }
    float* t[4] = {tile(a16, 2 * rb), tile(a16, 2 * rb + 1), tile(a16 + 1, 2 * rb),
                   tile(a16 + 1, 2 * rb + 1)};
    _tile_stored(0, t[0], 64);
    _tile_stored(1, t[1], 64);
    _tile_stored(2, t[2], 64);
    _tile_stored(3, t[3], 64);
    if (!last) return;
    for (int64_t i = 0; i < nact; ++i)
      for (int64_t h = 0; h < 2; ++h) {
        const int64_t n = ncol - 16 * h < 16 ? ncol - 16 * h : 16;
        if (n > 0)
          std::memcpy(y + (16 * a16 + i) * y_cols + col0 + 16 * h,
                      t[2 * (i / 16) + h] + (i % 16) * 16, n * sizeof(float));
      }
  }
};

}  // namespace
}  // namespace insitu::kernels::amx_common
