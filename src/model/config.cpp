#include "model/config.h"

#include <cmath>

#include "core/error.h"
#include "core/mapped_file.h"

namespace insitu {
namespace {

using json = nlohmann::json;

struct FieldReader {
  const json& j;
  const std::string& path;

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw Error(ErrorCode::kCorruptFile, path + ": field '" + field + "' " + what);
  }
  bool has(const char* k) const { return j.contains(k) && !j[k].is_null(); }
  int64_t req_int(const char* k) const {
    if (!has(k)) throw Error(ErrorCode::kNotFound, path + ": missing required field '" + k + "'");
    return as_int(j[k], k);
  }
  int64_t opt_int(const char* k, int64_t def) const { return has(k) ? as_int(j[k], k) : def; }
  double opt_num(const char* k, double def) const {
    if (!has(k)) return def;
    if (!j[k].is_number()) fail(k, "must be a number");
    return j[k].get<double>();
  }
  bool opt_bool(const char* k, bool def) const {
    if (!has(k)) return def;
    if (!j[k].is_boolean()) fail(k, "must be a boolean");
    return j[k].get<bool>();
  }
  std::string opt_str(const char* k, const std::string& def) const {
    if (!has(k)) return def;
    if (!j[k].is_string()) fail(k, "must be a string");
    return j[k].get<std::string>();
  }
  int64_t as_int(const json& v, const std::string& k) const {
    if (!v.is_number_integer()) fail(k, "must be an integer");
    int64_t x = v.get<int64_t>();
    if (x < 0) fail(k, "must not be negative");
    return x;
  }
  std::vector<int64_t> int_list(const char* k) const {
    std::vector<int64_t> out;
    if (!has(k)) return out;
    if (j[k].is_array()) {
      for (const auto& v : j[k]) out.push_back(as_int(v, k));
    } else {
      out.push_back(as_int(j[k], k));
    }
    return out;
  }
};

// Fills a RopeConfig from a transformers-5 rope_parameters entry or a transformers-4
// rope_scaling dict (which carries no theta).
void read_rope_dict(const json& d, const std::string& path, const std::string& where,
                    RopeConfig* rope) {
  if (!d.is_object())
    throw Error(ErrorCode::kCorruptFile, path + ": '" + where + "' must be an object");
  FieldReader r{d, path};
  std::string type = r.opt_str("rope_type", r.opt_str("type", rope->type));
  if (type == "su") type = "longrope";  // legacy Phi-3 spelling
  static const char* kKnown[] = {"default", "linear", "dynamic", "llama3", "yarn", "longrope"};
  bool known = false;
  for (const char* k : kKnown) known |= type == k;
  if (!known)
    throw Error(ErrorCode::kUnsupported, path + ": " + where + ".rope_type '" + type +
                                             "' is not supported (default, linear, dynamic, "
                                             "llama3, yarn, longrope)");
  rope->type = type;
  rope->theta = r.opt_num("rope_theta", rope->theta);
  rope->factor = r.opt_num("factor", rope->factor);
  rope->partial_rotary_factor = r.opt_num("partial_rotary_factor", rope->partial_rotary_factor);
  rope->low_freq_factor = r.opt_num("low_freq_factor", rope->low_freq_factor);
  rope->high_freq_factor = r.opt_num("high_freq_factor", rope->high_freq_factor);
  rope->original_max_position_embeddings =
      r.opt_int("original_max_position_embeddings", rope->original_max_position_embeddings);
  rope->beta_fast = r.opt_num("beta_fast", rope->beta_fast);
  rope->beta_slow = r.opt_num("beta_slow", rope->beta_slow);
  if (r.has("attention_factor")) rope->attention_factor = r.opt_num("attention_factor", 1.0);
  if (r.has("mscale")) rope->mscale = r.opt_num("mscale", 1.0);
  if (r.has("mscale_all_dim")) rope->mscale_all_dim = r.opt_num("mscale_all_dim", 0.0);
  rope->truncate = r.opt_bool("truncate", rope->truncate);
  auto read_list = [&](const char* k, std::vector<double>* out) {
    if (!r.has(k)) return;
    if (!d[k].is_array()) r.fail(where + "." + k, "must be a list of numbers");
    out->clear();
    for (const auto& v : d[k]) {
      if (!v.is_number()) r.fail(where + "." + k, "must be a list of numbers");
      out->push_back(v.get<double>());
    }
  };
  read_list("short_factor", &rope->short_factor);
  read_list("long_factor", &rope->long_factor);
}

void read_rope(const json& j, const std::string& path, ModelConfig* c) {
  FieldReader r{j, path};
  RopeConfig base;
  base.theta = r.opt_num("rope_theta", 10000.0);
  base.partial_rotary_factor = r.opt_num("partial_rotary_factor", 1.0);
  base.original_max_position_embeddings = r.opt_int("original_max_position_embeddings", 0);
  c->rope_full = base;
  c->rope_sliding = base;
  if (r.has("rope_parameters")) {  // transformers 5
    const json& rp = j["rope_parameters"];
    const bool per_type =
        rp.is_object() && (rp.contains("full_attention") || rp.contains("sliding_attention"));
    if (per_type) {
      if (rp.contains("full_attention"))
        read_rope_dict(rp["full_attention"], path, "rope_parameters.full_attention", &c->rope_full);
      if (rp.contains("sliding_attention"))
        read_rope_dict(rp["sliding_attention"], path, "rope_parameters.sliding_attention",
                       &c->rope_sliding);
      else
        c->rope_sliding = c->rope_full;
    } else {
      read_rope_dict(rp, path, "rope_parameters", &c->rope_full);
      c->rope_sliding = c->rope_full;
    }
    return;
  }
  if (r.has("rope_scaling")) {  // transformers 4
    read_rope_dict(j["rope_scaling"], path, "rope_scaling", &c->rope_full);
  }
  // Gemma 3 (transformers 4): sliding layers use a separate base and no scaling.
  c->rope_sliding = c->rope_full;
  if (r.has("rope_local_base_freq")) {
    c->rope_sliding = base;
    c->rope_sliding.theta = r.opt_num("rope_local_base_freq", base.theta);
  }
}

}  // namespace

bool ModelConfig::layer_has_moe(int64_t layer) const {
  if (num_experts == 0) return false;
  for (int64_t l : mlp_only_layers)
    if (l == layer) return false;
  return decoder_sparse_step > 0 && (layer + 1) % decoder_sparse_step == 0;
}

float ModelConfig::attention_scale() const {
  const double d = query_pre_attn_scalar ? *query_pre_attn_scalar : static_cast<double>(head_dim);
  return static_cast<float>(1.0 / std::sqrt(d));
}

ModelConfig parse_model_config(const json& j, const std::string& path) {
  if (!j.is_object()) throw Error(ErrorCode::kCorruptFile, path + ": not a JSON object");
  FieldReader r{j, path};
  ModelConfig c;
  c.raw = j;
  c.model_type = r.opt_str("model_type", "");
  if (c.model_type.empty())
    throw Error(ErrorCode::kNotFound, path + ": missing required field 'model_type'");
  c.hidden_size = r.req_int("hidden_size");
  c.num_layers = r.req_int("num_hidden_layers");
  c.num_heads = r.req_int("num_attention_heads");
  c.vocab_size = r.req_int("vocab_size");
  c.intermediate_size = r.opt_int("intermediate_size", 0);
  c.num_kv_heads = r.opt_int("num_key_value_heads", c.num_heads);
  if (c.num_heads == 0 || c.hidden_size == 0 || c.num_layers == 0 || c.vocab_size == 0)
    throw Error(ErrorCode::kCorruptFile,
                path +
                    ": hidden_size, num_hidden_layers, num_attention_heads and vocab_size "
                    "must be positive");
  c.head_dim = r.opt_int("head_dim", c.hidden_size / c.num_heads);
  if (c.num_kv_heads == 0 || c.num_heads % c.num_kv_heads != 0)
    throw Error(ErrorCode::kCorruptFile, path + ": num_attention_heads (" +
                                             std::to_string(c.num_heads) +
                                             ") must be a multiple of num_key_value_heads (" +
                                             std::to_string(c.num_kv_heads) + ")");
  c.max_position_embeddings = r.opt_int("max_position_embeddings", 2048);
  c.rms_norm_eps = r.opt_num("rms_norm_eps", 1e-6);
  c.tie_word_embeddings = r.opt_bool("tie_word_embeddings", false);
  c.attention_bias = r.opt_bool("attention_bias", false);
  c.mlp_bias = r.opt_bool("mlp_bias", false);
  c.dtype = r.opt_str("dtype", r.opt_str("torch_dtype", ""));
  const std::string act = r.opt_str("hidden_activation", r.opt_str("hidden_act", "silu"));
  if (act == "silu" || act == "swish") {
    c.activation = Activation::kSilu;
  } else if (act == "gelu_pytorch_tanh" || act == "gelu_new" || act == "gelu_fast") {
    c.activation = Activation::kGeluTanh;
  } else {
    throw Error(ErrorCode::kUnsupported, path + ": hidden_act '" + act + "' is not supported");
  }
  if (r.has("sliding_window")) c.sliding_window = r.opt_int("sliding_window", 0);
  if (r.has("attn_logit_softcapping"))
    c.attn_logit_softcapping = r.opt_num("attn_logit_softcapping", 0);
  if (r.has("final_logit_softcapping"))
    c.final_logit_softcapping = r.opt_num("final_logit_softcapping", 0);
  if (r.has("query_pre_attn_scalar"))
    c.query_pre_attn_scalar = r.opt_num("query_pre_attn_scalar", 0);

  if (r.has("layer_types")) {
    const json& lt = j["layer_types"];
    if (!lt.is_array() || static_cast<int64_t>(lt.size()) != c.num_layers)
      r.fail("layer_types", "must be a list with one entry per layer");
    for (const auto& t : lt) {
      if (!t.is_string()) r.fail("layer_types", "entries must be strings");
      const std::string s = t.get<std::string>();
      if (s != "sliding_attention" && s != "full_attention")
        r.fail("layer_types", "has unsupported entry '" + s + "'");
      c.layer_is_sliding.push_back(s == "sliding_attention");
    }
  }
  read_rope(j, path, &c);

  c.num_experts = r.opt_int("num_local_experts", r.opt_int("num_experts", 0));
  c.num_experts_per_tok = r.opt_int("num_experts_per_tok", 0);
  c.moe_intermediate_size = r.opt_int("moe_intermediate_size", c.intermediate_size);
  c.norm_topk_prob = r.opt_bool("norm_topk_prob", true);
  c.decoder_sparse_step = r.opt_int("decoder_sparse_step", 1);
  c.mlp_only_layers = r.int_list("mlp_only_layers");
  if (c.num_experts > 0 && (c.num_experts_per_tok == 0 || c.num_experts_per_tok > c.num_experts))
    r.fail("num_experts_per_tok", "must be between 1 and the number of experts");
  c.bos_token_ids = r.int_list("bos_token_id");
  c.eos_token_ids = r.int_list("eos_token_id");
  return c;
}

ModelConfig load_model_config(const std::string& model_dir) {
  const std::string path = model_dir + "/config.json";
  const std::string text = read_text_file(path);
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw Error(ErrorCode::kCorruptFile, path + ": not valid JSON");
  return parse_model_config(j, path);
}

}  // namespace insitu
