// In-situ quantization at load: the policy (promotion, shape fallback, moqe, topology), the
// claim that kernels add no error of their own, and bad requests failing before any read.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/error.h"
#include "kernels/matmul_precision.h"
#include "model/model.h"
#include "quant/policy/quant_value.h"
#include "reference_logits.h"
#include "test_paths.h"

namespace insitu {
namespace {

std::string demo() {
  return test::source_dir() + "/models/demo-llama-14m";
}
std::string tiny(const std::string& a) {
  return test::shared_dir() + "/models/tiny/" + a;
}

std::vector<float> logits_of(Model& m, const std::vector<int32_t>& ids) {
  std::vector<float> out(ids.size() * m.config().vocab_size);
  KvCache cache = m.make_cache(static_cast<int64_t>(ids.size()));
  m.forward(ids, 0, cache, out.data(), true);
  return out;
}

// The same logits computed one token at a time, so every matmul takes the decode (GEMV) path
// with its own activation rounding, where logits_of exercises the prefill (GEMM) kernels.
std::vector<float> decode_logits_of(Model& m, const std::vector<int32_t>& ids) {
  const int64_t vocab = m.config().vocab_size;
  std::vector<float> out(ids.size() * vocab);
  KvCache cache = m.make_cache(static_cast<int64_t>(ids.size()));
  for (size_t i = 0; i < ids.size(); ++i)
    m.forward(std::span<const int32_t>(&ids[i], 1), static_cast<int64_t>(i), cache,
              out.data() + i * vocab, true);
  return out;
}

LoadOptions isq(QuantType t) {
  LoadOptions o;
  o.n_threads = 2;
  o.quant.default_type = t;
  return o;
}

const TensorPlan& plan_for(const Model& m, const std::string& name) {
  for (const auto& p : m.quant_plan())
    if (p.spec->name == name) return p;
  throw std::runtime_error("no plan for " + name);
}

// Under MatmulPrecision::kExact, logits of an ISQ model equal (1e-4 relative L2) those of the
// same model with its quantized weights dequantized to f32: the fast kernels add no error of
// their own. Under kAuto (the default) the kernels round activations (kernels/
// matmul_precision.h); what that adds must stay a small fraction of the error the
// quantization itself causes (dequantized model vs the original bf16 model): at most 20%, so
// that the total error grows by at most 2% (independent errors add in quadrature).
constexpr double kRoundingShareOfQuantError = 0.2;

TEST(Isq, KernelsAddNoErrorOfTheirOwn) {
  const auto refs =
      test::read_json(test::shared_dir() + "/models/trained-llama-14m-refs/refs.json");
  const auto ids = refs["chat"]["prompt_ids"].get<std::vector<int32_t>>();
  LoadOptions dense;
  dense.n_threads = 2;
  const auto original = logits_of(*Model::load(demo(), dense), ids);
  for (const auto& row : all_quant_types()) {
    if (quant_is_dense(row.type)) continue;
    auto m = Model::load(demo(), isq(row.type));
    // [0] prefill (all tokens at once: GEMM kernels), [1] decode (one token at a time: GEMV).
    std::vector<float> exact[2], rounded[2];
    for (int path = 0; path < 2; ++path) {
      const auto run = [&] { return path == 0 ? logits_of(*m, ids) : decode_logits_of(*m, ids); };
      {
        MatmulPrecisionScope p(MatmulPrecision::kExact);
        exact[path] = run();
      }
      MatmulPrecisionScope p(MatmulPrecision::kAuto);
      rounded[path] = run();
    }
    m->dequantize_weights();
    const auto reference = logits_of(*m, ids);
    const double quant_err = test::relative_l2(reference, original);
    double err[2], rounding_err[2];
    for (int path = 0; path < 2; ++path) {
      err[path] = test::relative_l2(exact[path], reference);
      rounding_err[path] = test::relative_l2(rounded[path], reference);
      EXPECT_LE(err[path], 1e-4) << row.name << (path == 0 ? " prefill" : " decode");
      EXPECT_LE(rounding_err[path], kRoundingShareOfQuantError * quant_err)
          << row.name << (path == 0 ? " prefill" : " decode");
    }
    std::printf(
        "%-6s vs dequantized f32: exact kernels %.2e / %.2e, auto kernels %.2e / %.2e "
        "(prefill / decode; quantization itself %.2e)\n",
        std::string(row.name).c_str(), err[0], err[1], rounding_err[0], rounding_err[1], quant_err);
  }
}

TEST(Isq, PromotesEmbeddingAndTiedHeadAndQuantizesLinears) {
  auto m = Model::load(demo(), isq(QuantType::kQ4K));
  EXPECT_EQ(plan_for(*m, "model.embed_tokens.weight").type, QuantType::kQ6K);
  EXPECT_TRUE(plan_for(*m, "model.embed_tokens.weight").promoted);
  EXPECT_EQ(plan_for(*m, "model.layers.0.self_attn.q_proj.weight").type, QuantType::kQ4K);
  EXPECT_FALSE(plan_for(*m, "model.norm.weight").quantize);
  EXPECT_EQ(m->weights().output.data, m->weights().embedding.data);  // tied head reuses it
  EXPECT_LT(m->load_summary().loaded_bytes, m->load_summary().source_bytes / 3);
}

// The default K-quant policy is llama.cpp's Q4_K_M mix: attn_v and ffn_down of the layers
// use_more_bits() picks (2 and 3 of 4) get q6k; llama.cpp's file has q4_k x24, q6_k x5.
TEST(Isq, Q4kUsesTheQ4KMMixUnlessPure) {
  auto m = Model::load(demo(), isq(QuantType::kQ4K));
  EXPECT_EQ(m->weights().layers[0].down.w.type, QuantType::kQ4K);
  EXPECT_EQ(m->weights().layers[1].v.w.type, QuantType::kQ4K);
  EXPECT_EQ(m->weights().layers[2].v.w.type, QuantType::kQ6K);
  EXPECT_EQ(m->weights().layers[3].down.w.type, QuantType::kQ6K);
  EXPECT_EQ(m->weights().layers[3].o.w.type, QuantType::kQ4K);
  std::map<std::string, int64_t> counts;
  for (const auto& tc : m->load_summary().types) counts[tc.type] = tc.tensors;
  EXPECT_EQ(counts, (std::map<std::string, int64_t>{{"q4k", 24}, {"q6k", 5}}));
  LoadOptions pure = isq(QuantType::kQ4K);
  pure.quant.pure = true;
  auto p = Model::load(demo(), pure);
  EXPECT_EQ(p->weights().layers[3].down.w.type, QuantType::kQ4K);
}

TEST(Isq, Q2kAndQ3kFollowLlamaCppMixes) {
  // llama.cpp: Q2_K = q2_k x16, q3_k x8, q4_k x4 (+ q6_k embedding); Q3_K_M = q3_k x16,
  // q4_k x10, q5_k x2 (+ q6_k embedding).
  auto count = [](QuantType t) {
    auto m = Model::load(demo(), isq(t));
    std::map<std::string, int64_t> c;
    for (const auto& tc : m->load_summary().types) c[tc.type] = tc.tensors;
    return c;
  };
  EXPECT_EQ(count(QuantType::kQ2K),
            (std::map<std::string, int64_t>{{"q2k", 16}, {"q3k", 8}, {"q4k", 4}, {"q6k", 1}}));
  EXPECT_EQ(count(QuantType::kQ3K),
            (std::map<std::string, int64_t>{{"q3k", 16}, {"q4k", 10}, {"q5k", 2}, {"q6k", 1}}));
}

TEST(Isq, ShapeFallbackIsRecordedWhenBlocksDoNotFit) {
  // Hidden size 128 cannot hold 256-element K-quant blocks: q4k falls back to q4_1.
  auto m = Model::load(tiny("llama"), isq(QuantType::kQ4K));
  const auto& p = plan_for(*m, "model.layers.0.mlp.up_proj.weight");
  EXPECT_EQ(p.requested, QuantType::kQ4K);
  EXPECT_EQ(p.type, QuantType::kQ4_1);
  EXPECT_FALSE(m->load_summary().fallbacks.empty());
  // down_proj rows are 256 long: q4k fits there.
  EXPECT_EQ(plan_for(*m, "model.layers.0.mlp.down_proj.weight").type, QuantType::kQ4K);
}

TEST(Isq, MoqeQuantizesOnlyExpertWeights) {
  for (const std::string arch : {"mixtral", "qwen3_moe"}) {
    LoadOptions o = isq(QuantType::kQ8_0);
    o.quant.organization = IsqOrganization::kMoqe;
    auto m = Model::load(tiny(arch), o);
    int experts = 0;
    for (const auto& p : m->quant_plan()) {
      const bool expert = p.spec->expert >= 0;
      EXPECT_EQ(p.quantize, expert) << arch << " " << p.spec->name;
      experts += expert;
    }
    EXPECT_EQ(experts, 2 * 4 * 3) << arch;
    EXPECT_EQ(m->weights().embedding.type, QuantType::kBF16);
  }
}

TEST(Isq, MoqeOnADenseModelIsAnError) {
  LoadOptions o = isq(QuantType::kQ8_0);
  o.quant.organization = IsqOrganization::kMoqe;
  EXPECT_THROW(Model::load(tiny("llama"), o), Error);
}

TEST(Isq, TopologyPinsLayersAndNames) {
  LoadOptions o;
  o.quant.default_type = QuantType::kQ4K;
  o.quant.topology = Topology::from_yaml(
      "0-2: {isq: q8_0}\n"
      "3: {isq: q2k}\n"
      "'/mlp\\.down_proj/': {isq: q6k}\n",
      "test.yml");
  auto m = Model::load(demo(), o);
  EXPECT_EQ(plan_for(*m, "model.layers.0.self_attn.q_proj.weight").type, QuantType::kQ8_0);
  EXPECT_EQ(plan_for(*m, "model.layers.1.mlp.up_proj.weight").type, QuantType::kQ8_0);
  EXPECT_EQ(plan_for(*m, "model.layers.2.mlp.up_proj.weight").type, QuantType::kQ4K);
  EXPECT_EQ(plan_for(*m, "model.layers.3.self_attn.o_proj.weight").type, QuantType::kQ2K);
  for (int l = 0; l < 4; ++l)  // the regex beats the ranges
    EXPECT_EQ(plan_for(*m, "model.layers." + std::to_string(l) + ".mlp.down_proj.weight").type,
              QuantType::kQ6K);
  // The summary shows exactly these types: q8_0 q4k q2k q6k (+ promoted embedding q6k).
  std::set<std::string> types;
  for (const auto& tc : m->load_summary().types) types.insert(tc.type);
  EXPECT_EQ(types, (std::set<std::string>{"q8_0", "q4k", "q2k", "q6k"}));
}

TEST(Isq, TopologyErrorsNameTheLine) {
  auto expect_line = [](const std::string& yaml, const std::string& needle) {
    try {
      Topology::from_yaml(yaml, "t.yml");
      ADD_FAILURE() << "no error for: " << yaml;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_line("0-4: {isq: q4k}\n8-2: {isq: q8_0}\n", "t.yml:2:");
  expect_line("0-4: {isq: q4k}\n4-8: {isq: q9k}\n", "t.yml:2:");
  expect_line("0-4: {isq: q4k}\n'/[/': {isq: q4k}\n", "t.yml:2:");
  expect_line("0-4: {isq: q4k}\n5: {isq: q4k, device: cuda[0]}\n", "t.yml:2:");
  expect_line("0-4: {isq: q4k\n", "t.yml:");
  expect_line("abc: {isq: q4k}\n", "t.yml:1:");
}

TEST(QuantValue, ShorthandsNamesAndErrorsListChoices) {
  EXPECT_EQ(parse_quant_value("4", Backend::kCpu, "--isq").type, QuantType::kQ4K);
  EXPECT_EQ(parse_quant_value("8", Backend::kCpu, "--isq").type, QuantType::kQ8_0);
  EXPECT_EQ(parse_quant_value("4", Backend::kMetal, "--isq").type, QuantType::kAfq4);
  EXPECT_EQ(parse_quant_value("5", Backend::kMetal, "--isq").type, QuantType::kQ5K);
  EXPECT_EQ(parse_quant_value("Q4_K", Backend::kCpu, "--isq").type, QuantType::kQ4K);
  EXPECT_TRUE(parse_quant_value("AUTO", Backend::kCpu, "--quant").is_auto);
  try {
    parse_quant_value("q9k", Backend::kCpu, "--isq");
    FAIL();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("--isq 'q9k'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("q4k"), std::string::npos) << msg;
    EXPECT_NE(msg.find("mxfp4"), std::string::npos) << msg;
  }
  EXPECT_THROW(parse_quant_value("auto", Backend::kCpu, "--isq", false), Error);
  EXPECT_THROW(parse_quant_value("7", Backend::kCpu, "--isq"), Error);
  EXPECT_THROW(parse_quant_value("bf16", Backend::kCpu, "--isq"), Error);
}

}  // namespace
}  // namespace insitu
