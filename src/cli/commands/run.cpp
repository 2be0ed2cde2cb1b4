// insitu run: chat with a model (interactive, or one turn with --prompt), streaming tokens to
// stdout and speed to stderr. --raw sends the prompt without the chat template.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "cli/quant_options.h"
#include "core/error.h"
#include "runtime/engine.h"
#include "runtime/session.h"

namespace insitu::cli {
namespace {

struct RunOptions {
  ModelOptions model;
  QuantOptions quant;
  SamplingParams sampling;
  std::string prompt;
  std::string system;
  bool raw = false;
  int64_t max_tokens = 256;
  bool quiet = false;
};

void print_stats(const GenerationStats& prefill, const GenerationStats& gen) {
  std::fprintf(stderr,
               "\n[prompt: %lld tokens, %.1f tok/s | generation: %lld tokens, %.1f tok/s]\n",
               static_cast<long long>(prefill.prompt_tokens),
               prefill.prompt_seconds > 0 ? prefill.prompt_tokens / prefill.prompt_seconds : 0.0,
               static_cast<long long>(gen.generated_tokens),
               gen.generation_seconds > 0 ? gen.generated_tokens / gen.generation_seconds : 0.0);
}

// One turn: prefill `ids`, stream the reply; returns the reply text.
std::string respond(Engine& engine, Session& session, const std::vector<int32_t>& ids,
                    const RunOptions& o) {
  GenerationStats prefill;
  session.prefill(ids, &prefill);
  GenerationOptions g;
  g.max_tokens = o.max_tokens;
  g.sampling = o.sampling;
  g.stop_ids = engine.eos_ids();
  StreamDecoder stream(engine.tokenizer());
  std::string reply;
  const GenerationStats gen = session.generate(g, [&](int32_t id) {
    const std::string piece = stream.push(id);
    reply += piece;
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  const std::string tail = stream.flush();
  reply += tail;
  std::fwrite(tail.data(), 1, tail.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  if (!o.quiet) print_stats(prefill, gen);
  return reply;
}

int run(RunOptions& o) {
  const int64_t ctx_flag = o.model.context > 0 ? o.model.context : 4096;
  LoadOptions load{.n_threads = o.model.threads,
                   .quant = resolve_quant_policy(o.quant, o.model.model, ctx_flag),
                   .progress = false};
  load.progress = !o.quiet && load.quant.active() && isatty(STDERR_FILENO);
  auto engine = Engine::load({.model_dir = o.model.model, .load = load});
  Model& model = engine->model();
  const int64_t ctx = resolve_context(o.model, model.config().max_position_embeddings);
  if (!o.quiet && load.quant.active())
    std::fprintf(stderr, "%s\n", model.load_summary().to_string().c_str());
  Session session(model, ctx);
  if (!o.quiet)
    std::fprintf(stderr, "[loaded %s: %s, %lld layers, in %.2f s; context %lld]\n",
                 o.model.model.c_str(), model.config().model_type.c_str(),
                 static_cast<long long>(model.config().num_layers), engine->load_seconds(),
                 static_cast<long long>(ctx));
  const chat::ChatTemplate* tmpl = engine->chat_template();
  if (!o.raw && !tmpl)
    throw Error(ErrorCode::kNotFound,
                o.model.model +
                    ": the model has no chat template "
                    "(chat_template.jinja or tokenizer_config.json); use --raw");
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});

  auto turn = [&](const std::string& user) {
    if (o.raw) return respond(*engine, session, engine->tokenizer().encode(user, true), o);
    messages.push_back({{"role", "user"}, {"content", user}});
    const std::string text = tmpl->render(messages, nullptr, true);
    const std::string reply = respond(*engine, session, engine->tokenizer().encode(text, false), o);
    messages.push_back({{"role", "assistant"}, {"content", reply}});
    return reply;
  };

  if (!o.prompt.empty()) {
    turn(o.prompt);
    return 0;
  }
  std::string line;
  for (;;) {
    std::fputs("> ", stderr);
    if (!std::getline(std::cin, line) || line == "/exit" || line == "/quit") break;
    if (line.empty()) continue;
    if (line == "/clear") {
      messages = nlohmann::ordered_json::array();
      if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
      continue;
    }
    turn(line);
  }
  return 0;
}

RunFn setup(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  add_model_options(app, o->model);
  add_sampling_options(app, o->sampling);
  add_quant_options(app, o->quant);
  app.add_option("-p,--prompt", o->prompt, "one turn with this prompt, then exit");
  app.add_option("--system", o->system, "system message for the chat");
  app.add_flag("--raw", o->raw, "send the prompt as-is, without the chat template");
  app.add_option("-n,--max-tokens", o->max_tokens, "maximum tokens per reply")
      ->check(CLI::PositiveNumber);
  app.add_flag("-q,--quiet", o->quiet, "no load or speed report on stderr");
  return [o] { return run(*o); };
}

}  // namespace

INSITU_COMMAND(run, "run", "chat with a model, or answer one --prompt", setup);

}  // namespace insitu::cli
