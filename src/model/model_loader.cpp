// Model::load: config -> architecture -> checkpoint -> weights bound through the tensor table.
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "core/error.h"
#include "core/half.h"
#include "model/model.h"

namespace insitu {

uint8_t* ModelWeights::allocate(size_t bytes) {
  void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!p) throw Error(ErrorCode::kOutOfMemory, "cannot allocate " + std::to_string(bytes) + " bytes");
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
    case DType::kBF16: for (size_t i = 0; i < out.size(); ++i) out[i] = bf16_to_f32(p16[i]); break;
    case DType::kF16: for (size_t i = 0; i < out.size(); ++i) out[i] = f16_to_f32(p16[i]); break;
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

}  // namespace

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
      throw Error(ErrorCode::kCorruptFile,
                  dir + "/config.json: sliding layers are configured but 'sliding_window' is missing");
  if (c.intermediate_size == 0 && c.num_experts == 0)
    throw Error(ErrorCode::kNotFound, dir + "/config.json: missing required field 'intermediate_size'");
  m->rope_full_ = Rope(c.rope_full, c.head_dim, c.max_position_embeddings);
  m->rope_sliding_ = Rope(c.rope_sliding, c.head_dim, c.max_position_embeddings);
  m->checkpoint_ = Checkpoint::open(dir);
  m->pool_ = std::make_unique<ThreadPool>(options.n_threads);
  m->bind_weights();
  return m;
}

void Model::bind_weights() {
  const ModelConfig& c = config_;
  weights_.layers.assign(c.num_layers, LayerWeights{});
  for (auto& l : weights_.layers) l.experts.resize(c.num_experts);
  for (const TensorSpec& spec : arch_->tensors(c)) {
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
    LayerWeights* L = spec.layer >= 0 ? &weights_.layers[spec.layer] : nullptr;
    ExpertWeights* E = spec.expert >= 0 ? &L->experts[spec.expert] : nullptr;
    auto mat = [&] { return to_matrix(*t, dir_); };
    auto vec = [&] { return to_f32_vector(*t, dir_); };
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
  }
}

KvCache Model::make_cache(int64_t capacity) const {
  return KvCache(config_.num_layers, capacity, config_.num_kv_heads * config_.head_dim);
}

}  // namespace insitu
