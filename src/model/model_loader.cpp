// Model::load: config -> architecture -> checkpoint -> weights bound through the tensor table.
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <string_view>

#include "core/error.h"
#include "core/half.h"
#include "core/memory_stats.h"
#include "model/model.h"
#include "quant/fast/fast_quant.h"
#include "quant/layout/row_groups.h"

namespace insitu {

namespace {
// Decode streams every weight once per token; with 4 KiB pages that is a TLB miss per 4 KiB.
// Asks the kernel for transparent huge pages on the 2 MiB-aligned interior of a fresh (not yet
// touched) allocation; hosts with THP off or "never" simply ignore it. INSITU_THP=0 skips it
// (A/B runs).
void advise_huge_pages(void* p, size_t bytes) {
  static const bool enabled = [] {
    const char* v = std::getenv("INSITU_THP");
    return !(v && std::string_view(v) == "0");
  }();
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const auto begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (enabled && end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}
}  // namespace

uint8_t* ModelWeights::allocate(size_t bytes) {
  void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!p)
    throw Error(ErrorCode::kOutOfMemory, "cannot allocate " + std::to_string(bytes) + " bytes");
  advise_huge_pages(p, bytes);
  storage.emplace_back(static_cast<uint8_t*>(p), [](uint8_t* q) { std::free(q); });
  return storage.back().get();
}

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}

std::vector<float> to_f32_vector(const TensorInfo& t, const std::string& where) {
  std::vector<float> out(t.numel());
  const auto* p16 = reinterpret_cast<const uint16_t*>(t.data);
  switch (t.dtype) {
    case DType::kF32: std::memcpy(out.data(), t.data, out.size() * 4); break;
    case DType::kBF16:
      for (size_t i = 0; i < out.size(); ++i) out[i] = bf16_to_f32(p16[i]);
      break;
    case DType::kF16:
      for (size_t i = 0; i < out.size(); ++i) out[i] = f16_to_f32(p16[i]);
      break;
    default:
      throw Error(ErrorCode::kUnsupported, where + ": tensor '" + t.name + "' has dtype " +
                                               std::string(dtype_name(t.dtype)) +
                                               "; expected F32, F16 or BF16");
  }
  return out;
}

WeightMatrix to_matrix(const TensorInfo& t, const std::string& where) {
  WeightMatrix w;
  w.rows = t.shape[0];
  w.cols = t.shape[1];
  w.data = t.data;
  switch (t.dtype) {
    case DType::kF32: w.type = QuantType::kF32; break;
    case DType::kF16: w.type = QuantType::kF16; break;
    case DType::kBF16: w.type = QuantType::kBF16; break;
    default:
      throw Error(ErrorCode::kUnsupported, where + ": tensor '" + t.name + "' has dtype " +
                                               std::string(dtype_name(t.dtype)) +
                                               "; expected F32, F16 or BF16");
  }
  return w;
}

// Quantizes a checkpoint matrix into owned storage, in the layout the decode kernels read
// fastest (preferred_weight_layout). Workers take chunks of a few rows from a shared counter
// (not one fixed range each), so a thread slowed by other load never leaves the rest idle at
// the end of a tensor; each converts one row at a time to f32 (vectorized for bf16/f16), so
// scratch is one row (plus one 16-row group for the row-group layout) whatever the tensor
// size. quantize_row_fast gives exactly the reference quantizer's bytes.
WeightMatrix quantize_matrix(const WeightMatrix& src, QuantType type, ThreadPool& pool,
                             ModelWeights& weights) {
  WeightMatrix q;
  q.type = type;
  q.rows = src.rows;
  q.cols = src.cols;
  q.layout = preferred_weight_layout(type, src.rows, src.cols);
  const bool groups = q.layout == WeightLayout::kRowGroups;
  const size_t row_bytes = quant_row_bytes(type, src.cols);
  const size_t src_row_bytes = src.row_bytes();
  const bool dense = quant_is_dense(src.type);
  uint8_t* out = weights.allocate(row_bytes * src.rows);
  const int64_t chunk =
      groups ? kRowGroupRows : std::clamp<int64_t>(src.rows / (8 * pool.size()), 1, 16);
  std::atomic<int64_t> next{0};
  pool.run_on_all([&](int) {
    std::vector<float> row(src.cols);
    std::vector<uint8_t> group(groups ? kRowGroupRows * row_bytes : 0);
    for (int64_t r0; (r0 = next.fetch_add(chunk, std::memory_order_relaxed)) < src.rows;) {
      for (int64_t r = r0; r < std::min(src.rows, r0 + chunk); ++r) {
        if (dense)
          dense_row_to_f32(src.type, src.data + r * src_row_bytes, row.data(), src.cols);
        else
          dequantize_row(src, r, row.data());
        uint8_t* dst = groups ? group.data() + (r - r0) * row_bytes : out + r * row_bytes;
        quantize_row_fast(type, row.data(), dst, src.cols);
      }
      if (groups)
        pack_row_groups(type, group.data(), out + r0 * row_bytes, kRowGroupRows, src.cols);
    }
  });
  q.data = out;
  return q;
}

// A one-line progress bar on stderr: tensors and bytes read.
class LoadProgress {
 public:
  LoadProgress(bool enabled, size_t total_bytes, size_t total_tensors)
      : enabled_(enabled), total_bytes_(total_bytes), total_tensors_(total_tensors) {}
  void advance(size_t bytes) {
    done_bytes_ += bytes;
    ++done_tensors_;
    if (!enabled_) return;
    const int pct = total_bytes_ ? static_cast<int>(100.0 * done_bytes_ / total_bytes_) : 100;
    if (pct == last_pct_) return;
    last_pct_ = pct;
    const int filled = pct * 30 / 100;
    std::fprintf(stderr, "\r[%.*s%.*s] %3d%%  %zu/%zu tensors  %.2f/%.2f GB", filled,
                 "##############################", 30 - filled, "                              ",
                 pct, done_tensors_, total_tensors_, done_bytes_ / 1e9, total_bytes_ / 1e9);
  }
  void finish() {
    if (enabled_) std::fputc('\n', stderr);
  }

 private:
  bool enabled_;
  size_t total_bytes_, total_tensors_;
  size_t done_bytes_ = 0, done_tensors_ = 0;
  int last_pct_ = -1;
};

}  // namespace

void LoadSummary::add(const WeightMatrix& w) {
  const std::string name(quant_info(w.type).name);
  const size_t bytes = w.row_bytes() * w.rows;
  loaded_bytes += bytes;
  for (auto& tc : types)
    if (tc.type == name) {
      ++tc.tensors;
      tc.bytes += bytes;
      return;
    }
  types.push_back({name, 1, bytes});
}

std::string LoadSummary::to_string() const {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(2);
  o << "weights:";
  for (const auto& tc : types)
    o << " " << tc.type << " x" << tc.tensors << " (" << tc.bytes / 1e6 << " MB)";
  o << "\nsize: " << source_bytes / 1e6 << " MB in the checkpoint -> " << loaded_bytes / 1e6
    << " MB loaded; load " << seconds << " s; peak resident " << peak_resident_bytes / 1e6 << " MB";
  if (!fallbacks.empty()) {
    o << "\nfallbacks (" << fallbacks.size() << "):";
    for (const auto& f : fallbacks) o << "\n  " << f;
  }
  return o.str();
}

std::unique_ptr<Model> Model::load(const std::string& dir, const LoadOptions& options) {
  std::unique_ptr<Model> m(new Model);
  m->dir_ = dir;
  m->config_ = load_model_config(dir);
  m->arch_ = &find_arch(m->config_.model_type);
  ModelConfig& c = m->config_;
  m->arch_->finalize_config(c);
  if (c.layer_is_sliding.empty()) c.layer_is_sliding.assign(c.num_layers, false);
  for (bool s : c.layer_is_sliding)
    if (s && !c.sliding_window)
      throw Error(
          ErrorCode::kCorruptFile,
          dir + "/config.json: sliding layers are configured but 'sliding_window' is missing");
  if (c.intermediate_size == 0 && c.num_experts == 0)
    throw Error(ErrorCode::kNotFound,
                dir + "/config.json: missing required field 'intermediate_size'");
  m->rope_full_ = Rope(c.rope_full, c.head_dim, c.max_position_embeddings);
  m->rope_sliding_ = Rope(c.rope_sliding, c.head_dim, c.max_position_embeddings);
  m->checkpoint_ = Checkpoint::open(dir);
  m->pool_ = std::make_unique<ThreadPool>(options.n_threads);
  const auto t0 = std::chrono::steady_clock::now();
  m->bind_weights(options);
  m->summary_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  m->summary_.peak_resident_bytes = peak_resident_bytes();
  return m;
}

void Model::bind_weights(const LoadOptions& options) {
  const ModelConfig& c = config_;
  weights_.layers.assign(c.num_layers, LayerWeights{});
  for (auto& l : weights_.layers) l.experts.resize(c.num_experts);
  specs_ = arch_->tensors(c);
  plan_ = plan_quantization(specs_, options.quant);  // validates the policy before any read
  // Every tensor is checked before any weight is read or quantized.
  std::vector<const TensorInfo*> infos(specs_.size(), nullptr);
  size_t total_source = 0;
  for (size_t i = 0; i < specs_.size(); ++i) {
    const TensorSpec& spec = specs_[i];
    const TensorInfo* t = checkpoint_.find(spec.name);
    if (!t && !spec.tied_to.empty()) t = checkpoint_.find(spec.tied_to);
    if (!t) {
      if (!spec.required) continue;
      throw Error(ErrorCode::kNotFound, dir_ + ": tensor '" + spec.name + "' (" +
                                            std::string(tensor_role_name(spec.role)) +
                                            ") is missing from the checkpoint");
    }
    if (t->shape != spec.shape)
      throw Error(ErrorCode::kCorruptFile, dir_ + ": tensor '" + t->name + "' has shape " +
                                               shape_str(t->shape) + ", config.json implies " +
                                               shape_str(spec.shape));
    infos[i] = t;
    if (t->name == spec.name) total_source += t->nbytes;
  }
  summary_ = LoadSummary{};
  summary_.source_bytes = total_source;
  LoadProgress progress(options.progress, total_source, specs_.size());
  std::map<std::string, WeightMatrix> bound_matrices;  // tied tensors are bound once
  for (size_t i = 0; i < specs_.size(); ++i) {
    const TensorSpec& spec = specs_[i];
    const TensorPlan& plan = plan_[i];
    const TensorInfo* t = infos[i];
    if (!t) continue;
    LayerWeights* L = spec.layer >= 0 ? &weights_.layers[spec.layer] : nullptr;
    ExpertWeights* E = spec.expert >= 0 ? &L->experts[spec.expert] : nullptr;
    auto mat = [&] {
      if (auto it = bound_matrices.find(t->name); it != bound_matrices.end()) return it->second;
      WeightMatrix w = to_matrix(*t, dir_);
      if (plan.quantize && plan.type != w.type) {
        w = quantize_matrix(w, plan.type, *pool_, weights_);
        checkpoint_.release(*t);
      }
      if (!plan.fallback.empty())
        summary_.fallbacks.push_back(spec.name + ": requested " +
                                     std::string(quant_info(plan.requested).name) + " -> " +
                                     (plan.quantize ? std::string(quant_info(plan.type).name)
                                                    : std::string(dtype_name(t->dtype))) +
                                     " (" + plan.fallback + ")");
      summary_.add(w);
      bound_matrices[t->name] = w;
      return w;
    };
    auto vec = [&] {
      std::vector<float> v = to_f32_vector(*t, dir_);
      summary_.loaded_bytes += v.size() * sizeof(float);
      return v;
    };
    switch (spec.role) {
      case TensorRole::kTokenEmbedding: weights_.embedding = mat(); break;
      case TensorRole::kOutput: weights_.output = mat(); break;
      case TensorRole::kOutputNorm: weights_.output_norm = vec(); break;
      case TensorRole::kAttnNorm: L->attn_norm = vec(); break;
      case TensorRole::kAttnQ: L->q.w = mat(); break;
      case TensorRole::kAttnK: L->k.w = mat(); break;
      case TensorRole::kAttnV: L->v.w = mat(); break;
      case TensorRole::kAttnQkv: L->qkv.w = mat(); break;
      case TensorRole::kAttnO: L->o.w = mat(); break;
      case TensorRole::kAttnQBias: L->q.bias = vec(); break;
      case TensorRole::kAttnKBias: L->k.bias = vec(); break;
      case TensorRole::kAttnVBias: L->v.bias = vec(); break;
      case TensorRole::kAttnOBias: L->o.bias = vec(); break;
      case TensorRole::kAttnQNorm: L->q_norm = vec(); break;
      case TensorRole::kAttnKNorm: L->k_norm = vec(); break;
      case TensorRole::kPostAttnNorm: L->post_attn_norm = vec(); break;
      case TensorRole::kFfnNorm: L->ffn_norm = vec(); break;
      case TensorRole::kPostFfnNorm: L->post_ffn_norm = vec(); break;
      case TensorRole::kFfnGate: L->gate.w = mat(); break;
      case TensorRole::kFfnUp: L->up.w = mat(); break;
      case TensorRole::kFfnGateUp: L->gate_up.w = mat(); break;
      case TensorRole::kFfnDown: L->down.w = mat(); break;
      case TensorRole::kFfnGateBias: L->gate.bias = vec(); break;
      case TensorRole::kFfnUpBias: L->up.bias = vec(); break;
      case TensorRole::kFfnDownBias: L->down.bias = vec(); break;
      case TensorRole::kMoeRouter: L->router = mat(); break;
      case TensorRole::kExpertGate: E->gate.w = mat(); break;
      case TensorRole::kExpertUp: E->up.w = mat(); break;
      case TensorRole::kExpertDown: E->down.w = mat(); break;
    }
    if (t->name == spec.name) progress.advance(t->nbytes);
  }
  progress.finish();
}

void Model::dequantize_weights() {
  std::map<const uint8_t*, WeightMatrix> done;  // tied matrices share storage
  auto convert = [&](WeightMatrix& w) {
    if (!w.data || quant_is_dense(w.type)) return;
    if (auto it = done.find(w.data); it != done.end()) {
      w = it->second;
      return;
    }
    WeightMatrix f = w;
    f.type = QuantType::kF32;
    f.layout = WeightLayout::kRows;
    uint8_t* out = weights_.allocate(static_cast<size_t>(w.rows) * w.cols * sizeof(float));
    for (int64_t r = 0; r < w.rows; ++r)
      insitu::dequantize_row(w, r, reinterpret_cast<float*>(out) + r * w.cols);
    f.data = out;
    done[w.data] = f;
    w = f;
  };
  convert(weights_.embedding);
  convert(weights_.output);
  for (auto& l : weights_.layers) {
    for (Linear* lin : {&l.q, &l.k, &l.v, &l.qkv, &l.o, &l.gate, &l.up, &l.gate_up, &l.down})
      convert(lin->w);
    convert(l.router);
    for (auto& e : l.experts)
      for (Linear* lin : {&e.gate, &e.up, &e.down}) convert(lin->w);
  }
}

KvCache Model::make_cache(int64_t capacity) const {
  return KvCache(config_.num_layers, capacity, config_.num_kv_heads * config_.head_dim);
}

}  // namespace insitu
