// insitu tokenize: prints the token ids of TEXT under a model directory's tokenizer.json, on
// one line separated by spaces. Needs only the tokenizer files, not the weights.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/common_options.h"
#include "tokenizer/tokenizer.h"

namespace insitu::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string text;
  bool special = false;
};

int run(const TokenizeOptions& o) {
  Tokenizer tok = Tokenizer::from_dir(o.model);
  std::vector<int32_t> ids = tok.encode(o.text, o.special);
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) line.push_back(' ');
    line += std::to_string(ids[i]);
  }
  std::printf("%s\n", line.c_str());
  return 0;
}

RunFn setup(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  add_model_source_option(app, o->model,
                          "directory holding tokenizer.json, or hub id org/name[@revision]");
  app.add_flag("--special", o->special,
               "add the special tokens of the post-processor (e.g. BOS), as add_special_tokens");
  app.add_option("text", o->text, "text to tokenize")->required();
  return [o] { return run(*o); };
}

}  // namespace

INSITU_COMMAND(tokenize, "tokenize", "print the token ids of a text", setup);

}  // namespace insitu::cli
