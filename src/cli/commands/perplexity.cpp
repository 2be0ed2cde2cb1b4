// insitu perplexity: exp(mean NLL) of a text file, protocol in runtime/perplexity.h.
#include "runtime/perplexity.h"

#include <cstdio>

#include "cli/command.h"
#include "cli/common_options.h"
#include "cli/quant_options.h"
#include "core/mapped_file.h"
#include "tokenizer/tokenizer.h"

namespace insitu::cli {
namespace {

struct PerplexityOptions {
  ModelOptions model;
  QuantOptions quant;
  std::string file;
  int64_t ctx = 512;
  int64_t max_windows = 0;
};

int run(const PerplexityOptions& o) {
  const std::string text = read_text_file(o.file);
  Tokenizer tok = Tokenizer::from_dir(o.model.model);
  auto model = Model::load(
      o.model.model,
      {.n_threads = o.model.threads, .quant = resolve_quant_policy(o.quant, o.model.model, o.ctx)});
  std::fprintf(stderr, "%s\n", model->load_summary().to_string().c_str());
  std::vector<int32_t> ids = tok.encode(text, /*add_special_tokens=*/false);
  if (o.max_windows > 0 && static_cast<int64_t>(ids.size()) > o.max_windows * o.ctx)
    ids.resize(o.max_windows * o.ctx);
  std::fprintf(stderr, "[%s: %zu tokens, windows of %lld]\n", o.file.c_str(), ids.size(),
               static_cast<long long>(o.ctx));
  const PerplexityResult r = perplexity(*model, ids, o.ctx, [](int64_t w, int64_t n, double ppl) {
    if ((w + 1) % 16 == 0 || w + 1 == n)
      std::fprintf(stderr, "\r[%lld/%lld] ppl %.4f", static_cast<long long>(w + 1),
                   static_cast<long long>(n), ppl);
  });
  std::fprintf(stderr, "\n[%lld tokens scored in %.2f s, %.0f tok/s]\n",
               static_cast<long long>(r.scored_tokens), r.seconds, r.windows * o.ctx / r.seconds);
  std::printf("perplexity: %.4f (windows %lld, ctx %lld, mean nll %.6f)\n", r.ppl,
              static_cast<long long>(r.windows), static_cast<long long>(o.ctx), r.mean_nll);
  return 0;
}

RunFn setup(CLI::App& app) {
  auto o = std::make_shared<PerplexityOptions>();
  add_model_options(app, o->model, /*with_context=*/false);
  add_quant_options(app, o->quant);
  app.add_option("-f,--file", o->file, "text file to score")->required();
  app.add_option("-c,--ctx", o->ctx, "window length in tokens")->check(CLI::Range(2, 1 << 20));
  app.add_option("--chunks", o->max_windows, "score at most this many windows (0 = all)")
      ->check(CLI::NonNegativeNumber);
  return [o] { return run(*o); };
}

}  // namespace

INSITU_COMMAND(perplexity, "perplexity", "perplexity of a text file", setup);

}  // namespace insitu::cli
