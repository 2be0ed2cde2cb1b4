// The decoder forward pass shared by every architecture; ArchSpec traits and the config
// select the variants (sandwich norms, q/k norms, fused projections, MoE, soft-capping,
// sliding windows). Batched: all tokens of a step go through each matmul together.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "core/error.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/vec_ops.h"
#include "model/model.h"

namespace insitu {
namespace {

struct Dims {
  int64_t T, H, n_heads, n_kv, hd, q_dim, kv_dim;
};

float* floats(kernels::ThreadScratch& s, int64_t n) {
  return static_cast<float*>(s.get(static_cast<size_t>(n) * sizeof(float)));
}

// Attention's per-thread buffers: a token block's query rows and their scores (kept for the
// thread's life: 16 x group x context floats at most).
thread_local kernels::ThreadScratch t_attn_q, t_attn_scores;
// Most tokens per attention task: their query rows share each key block's transpose in the
// scores kernel (which pays from 8 rows: 2 tokens of a 4-head group), and a row scores at most
// 15 keys outside its own range (past its position; with a sliding window, also before it).
constexpr int64_t kAttnTokens = 16;

void add_bias(const Linear& l, float* y, int64_t T) {
  if (!l.bias.empty())
    for (int64_t t = 0; t < T; ++t)
      add_f32(y + t * l.w.rows, l.bias.data(), y + t * l.w.rows, l.w.rows);
}

// y[T, rows] = x[T, cols] W^T (+ bias)
void linear(const Linear& l, const float* x, int64_t T, float* y, ThreadPool& pool) {
  matmul(l.w, x, T, y, pool);
  add_bias(l, y, T);
}

// The same for 2-3 projections of one input (q, k, v; gate, up): one pass (matmul_group).
template <size_t N>
void linear_group(const Linear* const (&ls)[N], const float* x, int64_t T, float* const (&ys)[N],
                  ThreadPool& pool) {
  const WeightMatrix* ws[N];
  for (size_t i = 0; i < N; ++i) ws[i] = &ls[i]->w;
  matmul_group(ws, x, T, ys, pool);
  for (size_t i = 0; i < N; ++i) add_bias(*ls[i], ys[i], T);
}

void rmsnorm_rows(const float* x, const std::vector<float>& w, float eps, float offset, float* out,
                  int64_t T, int64_t n) {
  for (int64_t t = 0; t < T; ++t) rmsnorm_f32(x + t * n, w.data(), eps, offset, out + t * n, n);
}

void activate(Activation act, float* gate, const float* up, int64_t n) {
  if (act == Activation::kSilu) {
    silu_mul_f32(gate, up, n);
  } else {
    gelu_tanh_mul_f32(gate, up, n);
  }
}

// out[T, hidden] = down(act(gate(x)) * up(x)) for one dense MLP (or one expert).
void mlp(const Linear& gate, const Linear& up, const Linear& gate_up, const Linear& down,
         Activation act, const float* x, int64_t T, float* out, ThreadPool& pool,
         ForwardWorkspace& ws) {
  const int64_t I = gate_up.present() ? gate_up.w.rows / 2 : gate.w.rows;
  float* g = floats(ws.gate, T * I);
  float* u = floats(ws.up, T * I);
  if (gate_up.present()) {
    float* gu = floats(ws.fused, T * 2 * I);
    linear(gate_up, x, T, gu, pool);
    for (int64_t t = 0; t < T; ++t) {
      std::memcpy(g + t * I, gu + t * 2 * I, I * sizeof(float));
      std::memcpy(u + t * I, gu + t * 2 * I + I, I * sizeof(float));
    }
  } else {
    linear_group({&gate, &up}, x, T, {g, u}, pool);
  }
  for (int64_t t = 0; t < T; ++t) activate(act, g + t * I, u + t * I, I);
  linear(down, g, T, out, pool);
}

// Sparse MoE: softmax over the router logits, top-k experts per token, optional
// renormalisation; tokens are grouped per expert so each expert runs one batched matmul.
void moe(const LayerWeights& L, const ModelConfig& c, bool renormalize, const float* x, int64_t T,
         float* out, ThreadPool& pool, ForwardWorkspace& ws) {
  const int64_t E = c.num_experts, K = c.num_experts_per_tok, H = c.hidden_size;
  std::vector<float> probs(T * E);
  matmul(L.router, x, T, probs.data(), pool);
  std::vector<std::vector<std::pair<int64_t, float>>> routed(E);  // expert -> (token, weight)
  std::vector<int64_t> order(E);
  for (int64_t t = 0; t < T; ++t) {
    float* p = probs.data() + t * E;
    softmax_f32(p, E);
    std::iota(order.begin(), order.end(), 0);
    // torch.topk: largest first; stable on ties (lower index first).
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
    float sum = 0;
    for (int64_t k = 0; k < K; ++k) sum += p[order[k]];
    for (int64_t k = 0; k < K; ++k) {
      const float w = renormalize ? p[order[k]] / sum : p[order[k]];
      routed[order[k]].push_back({t, w});
    }
  }
  std::fill(out, out + T * H, 0.0f);
  std::vector<float> xs, ys;
  for (int64_t e = 0; e < E; ++e) {
    const auto& toks = routed[e];
    if (toks.empty()) continue;
    const int64_t n = static_cast<int64_t>(toks.size());
    xs.resize(n * H);
    ys.resize(n * H);
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(&xs[i * H], x + toks[i].first * H, H * sizeof(float));
    const ExpertWeights& ew = L.experts[e];
    mlp(ew.gate, ew.up, Linear{}, ew.down, c.activation, xs.data(), n, ys.data(), pool, ws);
    for (int64_t i = 0; i < n; ++i)
      axpy_f32(toks[i].second, &ys[i * H], out + toks[i].first * H, H);
  }
}

}  // namespace

void Model::forward(std::span<const int32_t> tokens, int64_t n_past, KvCache& cache, float* logits,
                    bool all_logits) {
  const ModelConfig& c = config_;
  const BlockTraits& tr = arch_->traits;
  const int64_t T = static_cast<int64_t>(tokens.size());
  if (T == 0) return;
  if (n_past < 0 || n_past + T > cache.capacity())
    throw Error(ErrorCode::kInvalidArgument, "context overflow: " + std::to_string(n_past + T) +
                                                 " tokens exceed the cache of " +
                                                 std::to_string(cache.capacity()));
  const Dims d{T,
               c.hidden_size,
               c.num_heads,
               c.num_kv_heads,
               c.head_dim,
               c.num_heads * c.head_dim,
               c.num_kv_heads * c.head_dim};
  const float eps = static_cast<float>(c.rms_norm_eps);
  const float off = tr.norm_weight_offset;
  ThreadPool& pool = *pool_;

  ForwardWorkspace& ws = workspace_;
  float* x = floats(ws.x, T * d.H);
  float* xn = floats(ws.xn, T * d.H);
  float* q = floats(ws.q, T * d.q_dim);
  float* k = floats(ws.k, T * d.kv_dim);
  float* v = floats(ws.v, T * d.kv_dim);
  float* attn = floats(ws.attn, T * d.q_dim);
  float* tmp = floats(ws.tmp, T * d.H);
  for (int64_t t = 0; t < T; ++t) {
    if (tokens[t] < 0 || tokens[t] >= c.vocab_size)
      throw Error(ErrorCode::kInvalidArgument, "token id " + std::to_string(tokens[t]) +
                                                   " out of range for vocab size " +
                                                   std::to_string(c.vocab_size));
    dequantize_row(weights_.embedding, tokens[t], x + t * d.H);
  }
  if (tr.scale_embeddings) {
    const float s = std::sqrt(static_cast<float>(d.H));
    scale_f32(x, s, T * d.H);
  }

  // Rotary tables for this step, per layer type.
  std::vector<float> cos_full, sin_full, cos_sw, sin_sw;
  rope_full_.tables(n_past, T, n_past + T, &cos_full, &sin_full);
  rope_sliding_.tables(n_past, T, n_past + T, &cos_sw, &sin_sw);

  const float scale = c.attention_scale();
  const int64_t group = d.n_heads / d.n_kv;

  for (int64_t li = 0; li < c.num_layers; ++li) {
    const LayerWeights& L = weights_.layers[li];
    const bool sliding = c.layer_is_sliding[li];
    rmsnorm_rows(x, L.attn_norm, eps, off, xn, T, d.H);

    if (L.qkv.present()) {
      float* qkv = floats(ws.fused, T * (d.q_dim + 2 * d.kv_dim));
      linear(L.qkv, xn, T, qkv, pool);
      const int64_t w = d.q_dim + 2 * d.kv_dim;
      for (int64_t t = 0; t < T; ++t) {
        std::memcpy(&q[t * d.q_dim], &qkv[t * w], d.q_dim * 4);
        std::memcpy(&k[t * d.kv_dim], &qkv[t * w + d.q_dim], d.kv_dim * 4);
        std::memcpy(&v[t * d.kv_dim], &qkv[t * w + d.q_dim + d.kv_dim], d.kv_dim * 4);
      }
    } else {
      linear_group({&L.q, &L.k, &L.v}, xn, T, {q, k, v}, pool);
    }
    const Rope& rope = sliding ? rope_sliding_ : rope_full_;
    const std::vector<float>& cs = sliding ? cos_sw : cos_full;
    const std::vector<float>& sn = sliding ? sin_sw : sin_full;
    const int64_t half = rope.rotary_dim() / 2;
    for (int64_t t = 0; t < T; ++t) {
      float* qt = &q[t * d.q_dim];
      float* kt = &k[t * d.kv_dim];
      if (tr.qk_norm) {
        for (int64_t h = 0; h < d.n_heads; ++h)
          rmsnorm_f32(qt + h * d.hd, L.q_norm.data(), eps, off, qt + h * d.hd, d.hd);
        for (int64_t h = 0; h < d.n_kv; ++h)
          rmsnorm_f32(kt + h * d.hd, L.k_norm.data(), eps, off, kt + h * d.hd, d.hd);
      }
      rope.apply(qt, d.n_heads, d.hd, &cs[t * half], &sn[t * half]);
      rope.apply(kt, d.n_kv, d.hd, &cs[t * half], &sn[t * half]);
      std::memcpy(cache.k(li, n_past + t), kt, d.kv_dim * 4);
      std::memcpy(cache.v(li, n_past + t), &v[t * d.kv_dim], d.kv_dim * 4);
    }

    // Causal attention per kv head, for a block of up to kAttnTokens tokens per task: the
    // `group` query heads of each token that share the kv head are scored together, so each
    // cached key/value row is loaded once for all of them. Rows of a block are scored over one
    // key range (the block's widest); each row's softmax and values take only its own keys.
    // Blocks shrink when there would be under 4 tasks per thread (a short chunk of a long
    // context on a model with few kv heads), down to one token per task.
    const int64_t window = sliding ? *c.sliding_window : 0;
    const std::optional<double> cap = c.attn_logit_softcapping;
    const int64_t block =
        std::clamp<int64_t>(T * d.n_kv / (4 * static_cast<int64_t>(pool.size())), 1, kAttnTokens);
    const int64_t n_blocks = (T + block - 1) / block;
    const auto first_key = [&](int64_t pos) {
      return window > 0 ? std::max<int64_t>(0, pos - window + 1) : int64_t{0};
    };
    pool.parallel_for(n_blocks * d.n_kv, 1, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t t0 = i / d.n_kv * block, kvh = i % d.n_kv;
        const int64_t t1 = std::min(T, t0 + block), rows = (t1 - t0) * group;
        const int64_t lo = first_key(n_past + t0), n = n_past + t1 - lo;
        // One token's query rows are contiguous in q; a block's are gathered.
        const float* qb = &q[t0 * d.q_dim + kvh * group * d.hd];
        if (t1 - t0 > 1) {
          float* gathered = floats(t_attn_q, rows * d.hd);
          for (int64_t t = t0; t < t1; ++t)
            std::memcpy(gathered + (t - t0) * group * d.hd, &q[t * d.q_dim + kvh * group * d.hd],
                        group * d.hd * sizeof(float));
          qb = gathered;
        }
        float* scores = floats(t_attn_scores, rows * n);
        attention_scores_f32(qb, rows, d.hd, cache.k(li, lo) + kvh * d.hd, d.kv_dim, n, scores);
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t pos = n_past + t, j0 = first_key(pos) - lo, j1 = pos - lo + 1;
          for (int64_t g = 0; g < group; ++g) {
            float* row = scores + ((t - t0) * group + g) * n;
            float* sg = row + j0;
            const int64_t nk = j1 - j0;
            if (cap) {
              for (int64_t j = 0; j < nk; ++j)
                sg[j] = static_cast<float>(std::tanh(sg[j] * scale / *cap) * *cap);
            } else {
              scale_f32(sg, scale, nk);
            }
            softmax_f32(sg, nk);
          }
          attention_values_f32(scores + (t - t0) * group * n + j0, n, group, d.hd,
                               cache.v(li, lo + j0) + kvh * d.hd, d.kv_dim, j1 - j0,
                               &attn[t * d.q_dim + kvh * group * d.hd]);
        }
      }
    });
    linear(L.o, attn, T, tmp, pool);
    if (tr.sandwich_norms) rmsnorm_rows(tmp, L.post_attn_norm, eps, off, tmp, T, d.H);
    add_f32(x, tmp, x, T * d.H);

    rmsnorm_rows(x, L.ffn_norm, eps, off, xn, T, d.H);
    if (c.layer_has_moe(li)) {
      const bool renorm = tr.moe_renormalize_always || c.norm_topk_prob;
      moe(L, c, renorm, xn, T, tmp, pool, ws);
    } else {
      mlp(L.gate, L.up, L.gate_up, L.down, c.activation, xn, T, tmp, pool, ws);
    }
    if (tr.sandwich_norms) rmsnorm_rows(tmp, L.post_ffn_norm, eps, off, tmp, T, d.H);
    add_f32(x, tmp, x, T * d.H);
  }

  const int64_t first = all_logits ? 0 : T - 1;
  const int64_t n_out = T - first;
  rmsnorm_rows(x + first * d.H, weights_.output_norm, eps, off, xn, n_out, d.H);
  matmul(weights_.output, xn, n_out, logits, pool);
  if (c.final_logit_softcapping) {
    const double cap = *c.final_logit_softcapping;
    for (int64_t i = 0; i < n_out * c.vocab_size; ++i)
      logits[i] = static_cast<float>(std::tanh(logits[i] / cap) * cap);
  }
}

}  // namespace insitu
