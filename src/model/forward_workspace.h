// Model::forward's activation buffers, kept by the model between calls. Fresh zero-filled
// vectors per call (and, for the MLP's, per layer) page-faulted and cleared 32 MB per layer at
// 512 tokens of the 1B model: perf put ~4% of pp512 in page faults, clear_page and memset, and
// reusing them raised pp512 q8_0 by 8-30% (4 alternated runs). A model runs one forward pass at
// a time (it also owns the one thread pool the pass runs on).
#pragma once

#include "kernels/thread_scratch.h"

namespace insitu {

struct ForwardWorkspace {
  // [T, hidden] residual stream, its normed copy and the block outputs; the projections;
  // the MLP's gate and up, and a fused projection's output (qkv or gate_up).
  kernels::ThreadScratch x, xn, tmp, q, k, v, attn, gate, up, fused;
};

}  // namespace insitu
