// insitu bench: prompt-processing (pp) and generation (tg) tokens/s like llama-bench; --json
// prints records with llama-bench's field names so the two tools' results compare directly.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "cli/command.h"
#include "cli/common_options.h"
#include "cli/quant_options.h"
#include "core/cpu_features.h"
#include "kernels/matmul_precision.h"
#include "model/model.h"

namespace insitu::cli {
namespace {

struct BenchOptions {
  ModelOptions model;
  QuantOptions quant;
  std::vector<int64_t> n_prompt{512};
  std::vector<int64_t> n_gen{128};
  int reps = 3;
  bool json = false;
};

struct Record {
  int64_t n_prompt, n_gen;
  std::vector<double> samples;  // tokens/s per repetition
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// pp: one batched forward of n random tokens; tg: n single-token steps after one token.
double measure(Model& m, int64_t n_prompt, int64_t n_gen, std::mt19937& rng) {
  const int64_t V = m.config().vocab_size;
  std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(V - 1));
  KvCache cache = m.make_cache(std::max<int64_t>(n_prompt, n_gen + 1));
  std::vector<float> logits(V);
  if (n_prompt > 0) {
    std::vector<int32_t> ids(n_prompt);
    for (auto& id : ids) id = tok(rng);
    const auto t0 = std::chrono::steady_clock::now();
    m.forward(ids, 0, cache, logits.data(), false);
    return n_prompt / seconds_since(t0);
  }
  int32_t id = tok(rng);
  m.forward(std::span(&id, 1), 0, cache, logits.data(), false);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n_gen; ++i) {
    id = tok(rng);
    m.forward(std::span(&id, 1), i + 1, cache, logits.data(), false);
  }
  return n_gen / seconds_since(t0);
}

// What the run measures, named after the request rather than one tensor's storage type (the
// K-quant mixes store some tensors of a q4k request as q6k). `type`: the requested type's
// canonical name, or the checkpoint dtype when nothing is quantized; `table` adds " (mix)" when
// the mix rules raised tensors and " + topology" when a topology file chose types.
struct QuantLabel {
  std::string type, table;
};
QuantLabel quant_label(const Model& m, const QuantPolicy& policy) {
  bool mixed = false, topology = false;
  for (const TensorPlan& p : m.quant_plan()) {
    mixed |= p.quantize && p.mixed;
    topology |= p.quantize && p.from_topology;
  }
  QuantLabel l;
  if (policy.default_type)
    l.type = quant_info(*policy.default_type).name;
  else if (topology)
    l.type = "topology";
  else  // unquantized: every matrix keeps the checkpoint dtype
    l.type = quant_info(m.weights().embedding.type).name;
  l.table = l.type;
  if (mixed) l.table += " (mix)";
  if (topology && policy.default_type) l.table += " + topology";
  return l;
}

int run(const BenchOptions& o) {
  int64_t ctx = 1;
  for (int64_t p : o.n_prompt) ctx = std::max(ctx, p);
  for (int64_t g : o.n_gen) ctx = std::max(ctx, g + 1);
  const QuantPolicy policy = resolve_quant_policy(o.quant, o.model.model, ctx);
  auto model = Model::load(o.model.model, {.n_threads = o.model.threads, .quant = policy});
  if (!o.json) std::fprintf(stderr, "%s\n", model->load_summary().to_string().c_str());
  const int threads = model->pool().size();
  std::mt19937 rng(42);
  std::vector<Record> records;
  for (int64_t p : o.n_prompt) records.push_back({p, 0, {}});
  for (int64_t g : o.n_gen) records.push_back({0, g, {}});
  for (auto& r : records) {
    if (r.n_prompt == 0 && r.n_gen == 0) continue;
    measure(*model, std::min<int64_t>(r.n_prompt, 16), std::min<int64_t>(r.n_gen, 4),
            rng);  // warm-up
    for (int i = 0; i < o.reps; ++i) r.samples.push_back(measure(*model, r.n_prompt, r.n_gen, rng));
  }
  const QuantLabel label = quant_label(*model, policy);
  const std::string name = std::filesystem::path(o.model.model).filename().string();
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  if (!o.json)
    std::printf(
        "matmul precision: %s\n| model | type | threads | test | t/s |\n|---|---|---|---|---|\n",
        std::string(matmul_precision_name(matmul_precision())).c_str());
  for (const auto& r : records) {
    if (r.samples.empty()) continue;
    double mean = 0, var = 0;
    for (double s : r.samples) mean += s;
    mean /= r.samples.size();
    for (double s : r.samples) var += (s - mean) * (s - mean);
    const double stddev = r.samples.size() > 1 ? std::sqrt(var / (r.samples.size() - 1)) : 0.0;
    const std::string test =
        r.n_prompt ? "pp" + std::to_string(r.n_prompt) : "tg" + std::to_string(r.n_gen);
    if (o.json) {
      out.push_back({{"model_filename", o.model.model},
                     {"model_type", model->config().model_type},
                     {"type", label.type},
                     {"type_label", label.table},
                     {"model_size", model->load_summary().loaded_bytes},  // as llama-bench
                     {"n_threads", threads},
                     {"n_prompt", r.n_prompt},
                     {"n_gen", r.n_gen},
                     {"avg_ts", mean},
                     {"stddev_ts", stddev},
                     {"samples_ts", r.samples},
                     {"cpu_isa", std::string(isa_name(active_isa()))},
                     {"matmul_precision", std::string(matmul_precision_name(matmul_precision()))}});
    } else {
      std::printf("| %s | %s | %d | %s | %.2f ± %.2f |\n", name.c_str(), label.table.c_str(),
                  threads, test.c_str(), mean, stddev);
    }
  }
  if (o.json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

RunFn setup(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  add_model_options(app, o->model, /*with_context=*/false);
  add_quant_options(app, o->quant);
  app.add_option("-p,--n-prompt", o->n_prompt, "prompt lengths to test (0 to skip)")
      ->delimiter(',');
  app.add_option("-n,--n-gen", o->n_gen, "generation lengths to test (0 to skip)")->delimiter(',');
  app.add_option("-r,--repetitions", o->reps, "repetitions per test")->check(CLI::Range(1, 1000));
  app.add_flag("--json", o->json, "print JSON records (llama-bench field names)");
  return [o] { return run(*o); };
}

}  // namespace

INSITU_COMMAND(bench, "bench", "measure prompt and generation speed", setup);

}  // namespace insitu::cli
