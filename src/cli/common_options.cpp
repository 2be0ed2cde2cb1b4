#include "cli/common_options.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "kernels/matmul_precision.h"

namespace insitu::cli {

void add_model_source_option(CLI::App& app, std::string& model, const std::string& help,
                             hub::ResolvedModel* source) {
  app.add_option("-m,--model", model, help)->required();
  // Resolution runs after CLI11 has handled --help and checked every option (a final callback
  // runs last in parse()), so a typo never triggers a download. CLI11 reports a RuntimeError
  // only through its exit code, so the message is printed here in main()'s format.
  app.final_callback([&model, source] {
    try {
      hub::ResolvedModel r = hub::resolve_model_source(model, hub::HubOptions::from_env());
      model = r.dir;
      if (source) *source = std::move(r);
    } catch (const Error& e) {
      std::fprintf(stderr, "insitu: error: %s\n", e.what());
      throw CLI::RuntimeError(1);
    }
  });
}

void add_model_options(CLI::App& app, ModelOptions& o, bool with_context) {
  add_model_source_option(app, o.model,
                          "Hugging Face model directory, or hub id org/name[@revision]", &o.source);
  app.add_option("-t,--threads", o.threads, "worker threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  // Process-wide, like the ISA cap: set as soon as the option is parsed (validated first).
  app.add_option_function<std::string>(
         "--matmul-precision",
         [](const std::string& v) { set_matmul_precision(*parse_matmul_precision(v)); },
         "activation rounding in quantized matmuls: auto (round below 7 bits per weight and "
         "for fp8/f8q8), "
         "exact (f32-grade), fast (always round); see docs/quantization.md")
      ->check(CLI::IsMember({"auto", "exact", "fast"}));
  if (with_context)
    app.add_option("-c,--ctx", o.context, "context length in tokens (default: model's, max 4096)")
        ->check(CLI::NonNegativeNumber);
}

void add_sampling_options(CLI::App& app, SamplingParams& p) {
  app.add_option("--temp,--temperature", p.temperature, "sampling temperature (0 = greedy)")
      ->check(CLI::Range(0.0f, 100.0f));
  app.add_option("--top-k", p.top_k, "keep the k most likely tokens (0 = off)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--top-p", p.top_p, "nucleus sampling mass (1 = off)")
      ->check(CLI::Range(0.0f, 1.0f));
  app.add_option("--min-p", p.min_p, "drop tokens below min_p x the top probability")
      ->check(CLI::Range(0.0f, 1.0f));
  app.add_option("--repeat-penalty", p.repetition_penalty, "repetition penalty (1 = off)")
      ->check(CLI::PositiveNumber);
  app.add_option("--presence-penalty", p.presence_penalty, "OpenAI presence penalty");
  app.add_option("--frequency-penalty", p.frequency_penalty, "OpenAI frequency penalty");
  app.add_option("--repeat-last-n", p.penalty_last_n, "tokens the penalties look back (0 = all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", p.seed, "random seed");
}

int64_t resolve_context(const ModelOptions& o, int64_t max_position_embeddings) {
  if (o.context > 0) return o.context;
  return std::min<int64_t>(max_position_embeddings, 4096);
}

}  // namespace insitu::cli
