// insitu logits: raw little-endian f32 logits [tokens, vocab] for given token ids, the tool to
// compare an engine against a reference.
#include <charconv>
#include <cstdio>

#include "cli/command.h"
#include "cli/common_options.h"
#include "cli/quant_options.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "model/model.h"

namespace insitu::cli {
namespace {

struct LogitsOptions {
  ModelOptions model;
  QuantOptions quant;
  std::string ids;
  std::string output;
};

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    int32_t v = 0;
    const auto [p, ec] = std::from_chars(s.data() + i, s.data() + j, v);
    if (ec != std::errc() || p != s.data() + j || v < 0)
      throw Error(ErrorCode::kInvalidArgument,
                  "--ids: '" + s.substr(i, j - i) + "' is not a token id (expected e.g. 3,17,42)");
    ids.push_back(v);
    i = j + 1;
  }
  if (ids.empty()) throw Error(ErrorCode::kInvalidArgument, "--ids: no token ids given");
  return ids;
}

int run(const LogitsOptions& o) {
  const std::vector<int32_t> ids = parse_ids(o.ids);
  auto model = Model::load(
      o.model.model,
      {.n_threads = o.model.threads,
       .quant = resolve_quant_policy(o.quant, o.model.model, static_cast<int64_t>(ids.size()))});
  const int64_t V = model->config().vocab_size;
  std::vector<float> logits(ids.size() * V);
  KvCache cache = model->make_cache(static_cast<int64_t>(ids.size()));
  model->forward(ids, 0, cache, logits.data(), /*all_logits=*/true);
  write_file_atomic(o.output, logits.data(), logits.size() * sizeof(float));
  std::fprintf(stderr, "[wrote %s: %zu x %lld f32]\n", o.output.c_str(), ids.size(),
               static_cast<long long>(V));
  return 0;
}

RunFn setup(CLI::App& app) {
  auto o = std::make_shared<LogitsOptions>();
  add_model_options(app, o->model, /*with_context=*/false);
  add_quant_options(app, o->quant);
  app.add_option("--ids", o->ids, "comma-separated token ids")->required();
  app.add_option("-o,--output", o->output, "output file (raw f32, [tokens, vocab])")->required();
  return [o] { return run(*o); };
}

}  // namespace

INSITU_COMMAND(logits, "logits", "write the logits of token ids as raw f32", setup);

}  // namespace insitu::cli
