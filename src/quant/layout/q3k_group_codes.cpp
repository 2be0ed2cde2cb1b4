#include "quant/layout/q3k_group_codes.h"

#include <cstring>

namespace insitu::q3k_group_codes {

void to_codes(uint8_t* column) {
  uint8_t out[kCodeBytes];
  for (int w = 0; w < 8; ++w)
    for (int i = 0; i < 64; ++i) {
      const uint8_t in[3] = {column[64 * source_word(kHmask, w) + i],
                             column[64 * source_word(kQs0, w) + i],
                             column[64 * source_word(kQs1, w) + i]};
      for (int o = 0; o < 3; ++o)
        out[64 * (3 * w + o) + i] = kTo[o][0][in[0]] | kTo[o][1][in[1]] | kTo[o][2][in[2]];
    }
  std::memcpy(column, out, kCodeBytes);
}

void from_codes(uint8_t* column) {
  uint8_t out[kCodeBytes];
  for (int w = 0; w < 8; ++w)
    for (int i = 0; i < 64; ++i) {
      const uint8_t in[3] = {column[64 * (3 * w) + i], column[64 * (3 * w + 1) + i],
                             column[64 * (3 * w + 2) + i]};
      for (int s = 0; s < 3; ++s)
        out[64 * source_word(static_cast<Source>(s), w) + i] =
            kFrom[s][0][in[0]] | kFrom[s][1][in[1]] | kFrom[s][2][in[2]];
    }
  std::memcpy(column, out, kCodeBytes);
}

}  // namespace insitu::q3k_group_codes
