// q3_K's codes in the row-group layout (quant/layout/row_groups.h): whole 3-bit codes, three
// code words per four elements of each row, instead of ggml's 2-bit planes (qs) and high-bit
// mask (hmask).
//
// Why: the decode kernel (kernels/cpu/x86/avx512/quant_gemv_groups_k23_avx512.h) feeds each
// code byte to vpdpbusd in place. From ggml's fields every code took a GF(2) move of its high
// bit and a merge with its low bits (plus a third op for the top plane): 2-3 ALU ops per 64
// codes beside the dot itself, which made q3_K's kernel compute-bound at ~33 GB/s per core (the
// other row-group types stream 40-60). Here six of every eight codes are one AND and the other
// two a GF(2) move and a merge: the hot ceiling went from ~33 to ~50 GB/s.
//
// The repacking is a fixed permutation of the bits of three bytes, the same for every row, so it
// is applied to a block column after the word transpose (every 64-byte vector holds one byte
// position of 16 rows): the column's first 24 words (hmask: 8 words, then qs: 16) are replaced by
// 24 code words. For element l < 32 of a 128-element half n and plane k (ggml's element
// 128n + 32k + l; its code is (qs[32n + l] >> 2k & 3) | (hmask[l] >> (4n + k) & 1) << 2), with
// w = l / 4 and plane p = 4n + k, word position w holds three words X_w, Y_w, Z_w at code words
// 3w, 3w + 1, 3w + 2, each byte (l % 4 of the row's word) holding
//   X: c0 | c1 << 3 | (c6 >> 1) << 6     Y: c2 | c3 << 3 | (c6 & 1) << 6 | (c7 & 1) << 7
//   Z: c4 | c5 << 3 | (c7 >> 1) << 6     (c_p: the code of plane p)
// so c0, c2, c4 are a byte AND 7, c1, c3, c5 the byte AND 0x38 (8 times the code), and
// c6 = X's top two bits with Y's bit 6 moved to bit 5 (32 times the code), c7 likewise from Z
// and Y's bit 7 (kInPlaceShift).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace insitu::q3k_group_codes {

// The three input bytes of one byte position: hmask[l], qs[l] (half 0), qs[32 + l] (half 1).
enum Source : uint8_t { kHmask, kQs0, kQs1 };
struct BitFrom {
  Source source;
  uint8_t bit;
};

// kBits[o][b]: where bit b of output byte o (0: X, 1: Y, 2: Z) comes from. Code bit 0..1 of
// plane (n, k) is qs_n bit 2k..2k + 1, code bit 2 is hmask bit 4n + k.
inline constexpr BitFrom kBits[3][8] = {
    // X: c0 (plane 0,0), c1 (0,1), c6 bits 1..2 (plane 1,2)
    {{kQs0, 0}, {kQs0, 1}, {kHmask, 0}, {kQs0, 2}, {kQs0, 3}, {kHmask, 1}, {kQs1, 5}, {kHmask, 6}},
    // Y: c2 (0,2), c3 (0,3), c6 bit 0, c7 bit 0 (plane 1,3)
    {{kQs0, 4}, {kQs0, 5}, {kHmask, 2}, {kQs0, 6}, {kQs0, 7}, {kHmask, 3}, {kQs1, 4}, {kQs1, 6}},
    // Z: c4 (1,0), c5 (1,1), c7 bits 1..2
    {{kQs1, 0}, {kQs1, 1}, {kHmask, 4}, {kQs1, 2}, {kQs1, 3}, {kHmask, 5}, {kQs1, 7}, {kHmask, 7}},
};

// Plane p = 4n + k's code sits at bit kInPlaceShift[p] of the byte the kernel dots (its value
// times 2^shift).
inline constexpr int kInPlaceShift[8] = {0, 3, 0, 3, 0, 3, 5, 5};

// Code words per block column: 24 (the 8 hmask and 16 qs words they replace), 64 bytes each.
inline constexpr size_t kCodeWords = 24;
inline constexpr size_t kCodeBytes = kCodeWords * 64;

// Column word of each source for word position w: hmask word w, qs words 8 + w and 16 + w.
constexpr size_t source_word(Source s, int w) {
  return s == kHmask ? w : s == kQs0 ? 8 + w : 16 + w;
}

// Byte tables of the permutation: kTo[o][s][v] is output byte o's bits that come from source s
// when that byte is v (the output is the OR over the three sources); kFrom[s][o][v] the inverse.
using ByteTable = std::array<uint8_t, 256>;
constexpr std::array<std::array<ByteTable, 3>, 3> make_tables(bool to_codes) {
  std::array<std::array<ByteTable, 3>, 3> t{};
  for (int o = 0; o < 3; ++o)
    for (int b = 0; b < 8; ++b) {
      const BitFrom f = kBits[o][b];
      for (int v = 0; v < 256; ++v) {
        if (to_codes) {  // [code byte o][source][source byte v]
          if (v >> f.bit & 1) t[o][f.source][v] |= static_cast<uint8_t>(1 << b);
        } else {  // [source][code byte o][code byte v]
          if (v >> b & 1) t[f.source][o][v] |= static_cast<uint8_t>(1 << f.bit);
        }
      }
    }
  return t;
}
inline constexpr auto kTo = make_tables(true);
inline constexpr auto kFrom = make_tables(false);

// A block column of the row-group layout (its first kCodeBytes bytes): ggml's hmask and qs words
// to code words, in place, and back.
void to_codes(uint8_t* column);
void from_codes(uint8_t* column);

}  // namespace insitu::q3k_group_codes
