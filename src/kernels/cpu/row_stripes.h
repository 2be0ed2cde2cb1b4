// Row order and prefetch distance of the decode kernels (every ISA): which rows of a thread's
// chunk one block of R rows takes, and how far ahead each row stream is prefetched. Plain C++.
#pragma once

#include <cstddef>
#include <cstdint>

namespace insitu::kernels {

// The row blocks of one thread's chunk [r0, r1) for a decode kernel that computes R rows at
// once. The chunk is cut into R contiguous stripes and block i takes row i of every stripe, so
// the R rows of a block are R separate DRAM streams rather than R adjacent rows. Adjacent rows
// of a short matrix row (2048 columns: 1-2 KB) are one sequential stream, which this host reads
// at 17-21 GB/s against 22-31 for four interleaved ones; with stripes the 1B model's decode
// matrices stream 20-35% faster end to end (docs/performance.md, "Session 6 update").
// block(r, rs, next, ahead): rows r + j * rs (j < R), prefetching rows next + j * rs (j < ahead);
// single(...): the same for the rows left over (R = 1).
template <int R, class Block, class Single>
inline void for_each_row_stripe_block(int64_t r0, int64_t r1, Block&& block, Single&& single) {
  const int64_t q = (r1 - r0) / R;  // rows per stripe
  for (int64_t i = 0; i < q; ++i) block(r0 + i, q, r0 + i + 1, i + 1 < q ? R : 0);
  for (int64_t r = r0 + R * q; r < r1; ++r) single(r, int64_t{1}, r + 1, r + 1 < r1 ? 1 : 0);
}

// How far ahead of what they compute the decode kernels prefetch each DRAM stream: 2 KB covers
// the latency at a stream's share of the bandwidth without keeping lines waiting in L1 (measured
// in the AVX-512 row-group kernels, prefetch_columns_ahead, and the fused kernels' long rows,
// fused_rows).
constexpr size_t kPrefetchAheadBytes = 2048;

}  // namespace insitu::kernels
