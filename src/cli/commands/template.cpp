// insitu template: renders a model directory's chat template for a conversation, exactly as
// transformers' apply_chat_template would, and prints the prompt with no added newline.
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "chat/chat_template.h"
#include "cli/command.h"
#include "cli/common_options.h"
#include "core/error.h"

namespace insitu::cli {
namespace {

struct TemplateOptions {
  std::string model;
  std::string messages;
  std::string tools;
  std::string context;
  std::string name;
  bool no_generation_prompt = false;
};

nlohmann::ordered_json read_json_file(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::kIo, std::string("cannot open ") + what + " file " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  try {
    return nlohmann::ordered_json::parse(ss.str());
  } catch (const nlohmann::ordered_json::exception& e) {
    throw Error(ErrorCode::kCorruptFile, path + ": invalid JSON: " + e.what());
  }
}

int run(const TemplateOptions& o) {
  chat::ChatTemplate tpl = chat::ChatTemplate::from_dir(o.model);
  if (!o.name.empty()) tpl.select(o.name);
  nlohmann::ordered_json messages = read_json_file(o.messages, "messages");
  // Accept a bare list or an object holding "messages" (and optionally "tools").
  nlohmann::ordered_json tools = nullptr;
  if (messages.is_object()) {
    if (messages.contains("tools")) tools = messages["tools"];
    messages = messages.value("messages", nlohmann::ordered_json());
  }
  if (!messages.is_array())
    throw Error(ErrorCode::kInvalidArgument, o.messages + ": expected a JSON list of messages");
  if (!o.tools.empty()) tools = read_json_file(o.tools, "tools");
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  if (!o.context.empty()) extra = read_json_file(o.context, "context");
  std::string prompt = tpl.render(messages, tools, !o.no_generation_prompt, extra);
  std::fwrite(prompt.data(), 1, prompt.size(), stdout);
  std::fflush(stdout);
  return 0;
}

RunFn setup(CLI::App& app) {
  auto o = std::make_shared<TemplateOptions>();
  add_model_source_option(
      app, o->model,
      "model directory (chat_template.jinja or tokenizer_config.json), or hub id org/name");
  app.add_option("--messages", o->messages, "JSON file: a list of {role, content} messages")
      ->required();
  app.add_option("--tools", o->tools, "JSON file: a list of tool schemas");
  app.add_option("--context", o->context,
                 "JSON file: an object of extra template variables (e.g. enable_thinking)");
  app.add_option("--template", o->name, "named template to use (e.g. tool_use)");
  app.add_flag("--no-generation-prompt", o->no_generation_prompt,
               "do not append the assistant turn header (add_generation_prompt=False)");
  return [o] { return run(*o); };
}

}  // namespace

INSITU_COMMAND(template_cmd, "template", "render a model's chat template for a conversation",
               setup);

}  // namespace insitu::cli
