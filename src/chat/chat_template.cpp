#include "chat/chat_template.h"

#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>

#include "chat/jinja_parser.h"
#include "core/error.h"

namespace insitu::chat {

namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

std::string read_text(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::kIo, "cannot open " + path.string());
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

ordered_json read_json(const fs::path& path) {
  try {
    return ordered_json::parse(read_text(path));
  } catch (const ordered_json::exception& e) {
    throw Error(ErrorCode::kCorruptFile, path.string() + ": invalid JSON: " + e.what());
  }
}

// A special token in tokenizer_config.json: "<s>", or an AddedToken object {"content": "<s>"}.
std::optional<std::string> token_text(const ordered_json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  return std::nullopt;
}

std::shared_ptr<const jinja::Body> compile(const std::string& name, const std::string& source) {
  try {
    return std::make_shared<const jinja::Body>(jinja::parse_template(source));
  } catch (const jinja::JinjaError& e) {
    throw Error(ErrorCode::kInvalidArgument, e.type() + ": " + e.what() + " (chat template '" +
                                                 name + "', line " + std::to_string(e.line) + ")");
  }
}

}  // namespace

ChatTemplate::ChatTemplate(std::string source) {
  Compiled c{"default", std::move(source), nullptr};
  c.body = compile(c.name, c.source);
  templates_.push_back(std::move(c));
}

ChatTemplate::ChatTemplate(const std::vector<std::pair<std::string, std::string>>& named) {
  if (named.empty()) throw Error(ErrorCode::kInvalidArgument, "no chat templates given");
  for (const auto& [name, source] : named)
    templates_.push_back(Compiled{name, source, compile(name, source)});
}

ChatTemplate ChatTemplate::from_dir(const std::string& model_dir) {
  const fs::path dir(model_dir);
  const fs::path cfg_path = dir / "tokenizer_config.json";
  ordered_json cfg = fs::exists(cfg_path) ? read_json(cfg_path) : ordered_json::object();
  if (!cfg.is_object())
    throw Error(ErrorCode::kCorruptFile, cfg_path.string() + ": expected a JSON object");

  std::optional<ChatTemplate> tpl;
  if (fs::exists(dir / "chat_template.jinja")) {
    tpl.emplace(read_text(dir / "chat_template.jinja"));
  } else if (fs::exists(dir / "chat_template.json")) {
    ordered_json j = read_json(dir / "chat_template.json");
    if (!j.is_object() || !j.contains("chat_template") || !j["chat_template"].is_string())
      throw Error(ErrorCode::kCorruptFile,
                  (dir / "chat_template.json").string() + ": field chat_template must be a string");
    tpl.emplace(j["chat_template"].get<std::string>());
  } else if (cfg.contains("chat_template") && cfg["chat_template"].is_string()) {
    tpl.emplace(cfg["chat_template"].get<std::string>());
  } else if (cfg.contains("chat_template") && cfg["chat_template"].is_array()) {
    std::vector<std::pair<std::string, std::string>> named;
    for (const auto& t : cfg["chat_template"]) {
      if (!t.is_object() || !t.contains("name") || !t.contains("template") ||
          !t["name"].is_string() || !t["template"].is_string())
        throw Error(ErrorCode::kCorruptFile,
                    cfg_path.string() + ": chat_template entries need string name and template");
      named.emplace_back(t["name"].get<std::string>(), t["template"].get<std::string>());
    }
    tpl.emplace(named);
  } else {
    throw Error(ErrorCode::kNotFound,
                "no chat template in " + model_dir +
                    " (looked for chat_template.jinja, chat_template.json and the chat_template "
                    "field of tokenizer_config.json)");
  }
  tpl->bos_token_ = token_text(cfg, "bos_token");
  tpl->eos_token_ = token_text(cfg, "eos_token");
  for (const char* key : {"unk_token", "pad_token", "sep_token", "cls_token", "mask_token"})
    if (auto t = token_text(cfg, key)) tpl->set_special_token(key, *t);
  return std::move(*tpl);
}

void ChatTemplate::set_special_token(const std::string& name, const std::string& value) {
  for (auto& kv : special_tokens_) {
    if (kv.first == name) {
      kv.second = value;
      return;
    }
  }
  special_tokens_.emplace_back(name, value);
}

void ChatTemplate::select(const std::string& name) {
  if (!name.empty()) {
    bool found = false;
    for (const Compiled& c : templates_) found |= c.name == name;
    if (!found) throw Error(ErrorCode::kNotFound, "no chat template named '" + name + "'");
  }
  selected_ = name;
}

std::vector<std::string> ChatTemplate::template_names() const {
  std::vector<std::string> names;
  for (const Compiled& c : templates_) names.push_back(c.name);
  return names;
}

const ChatTemplate::Compiled& ChatTemplate::pick(bool have_tools) const {
  // transformers: a named selection wins; with tools prefer "tool_use"; else "default".
  auto find = [&](const std::string& n) -> const Compiled* {
    for (const Compiled& c : templates_)
      if (c.name == n) return &c;
    return nullptr;
  };
  if (!selected_.empty()) return *find(selected_);
  if (templates_.size() == 1) return templates_[0];
  if (have_tools)
    if (const Compiled* c = find("tool_use")) return *c;
  if (const Compiled* c = find("default")) return *c;
  throw Error(ErrorCode::kInvalidArgument,
              "this model has several chat templates and none is named 'default'; select one");
}

const std::string& ChatTemplate::source() const {
  return pick(false).source;
}

std::string ChatTemplate::render(const ordered_json& messages, const ordered_json& tools,
                                 bool add_generation_prompt,
                                 const ordered_json& extra_context) const {
  using jinja::Value;
  const Compiled& tpl = pick(!tools.is_null());
  if (!extra_context.is_null() && !extra_context.is_object())
    throw Error(ErrorCode::kInvalidArgument, "chat template extra context must be a JSON object");
  try {
    auto context = std::make_shared<jinja::Scope>();
    // Same order as transformers: special tokens, then caller kwargs, then the fixed names.
    if (bos_token_) context->set("bos_token", Value::string(*bos_token_));
    if (eos_token_) context->set("eos_token", Value::string(*eos_token_));
    for (const auto& [k, v] : special_tokens_) context->set(k, Value::string(v));
    if (extra_context.is_object())
      for (auto it = extra_context.begin(); it != extra_context.end(); ++it)
        context->set(it.key(), Value::from_json(it.value()));
    context->set("messages", Value::from_json(messages));
    context->set("tools", Value::from_json(tools));
    context->set("documents", Value::none());
    context->set("add_generation_prompt", Value::boolean(add_generation_prompt));
    auto clock = clock_ ? clock_ : [] { return std::time(nullptr); };
    jinja::Interpreter interp(limits_, clock);
    return interp.render(*tpl.body, context);
  } catch (const jinja::JinjaError& e) {
    throw Error(ErrorCode::kInvalidArgument, e.type() + ": " + e.what() + " (chat template '" +
                                                 tpl.name + "', line " + std::to_string(e.line) +
                                                 ")");
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::kOutOfMemory,
                "out of memory rendering chat template '" + tpl.name + "'");
  } catch (const std::length_error&) {
    throw Error(ErrorCode::kOutOfMemory,
                "out of memory rendering chat template '" + tpl.name + "'");
  }
}

}  // namespace insitu::chat
