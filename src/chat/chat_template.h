// Chat templates: renders a model's Jinja2 chat template the way transformers'
// apply_chat_template does (jinja2 ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
// loopcontrols, raise_exception, strftime_now, tojson with ensure_ascii=False).
//
// The template is parsed once; render() may be called many times, concurrently.
#pragma once

#include <ctime>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_interp.h"

namespace insitu::chat {

class ChatTemplate {
 public:
  // Loads <dir>/chat_template.jinja, else <dir>/chat_template.json, else the "chat_template"
  // of <dir>/tokenizer_config.json (a string, or a list of {name, template}); special tokens
  // (bos_token, eos_token, ...) come from tokenizer_config.json, as strings or {content: ...}.
  static ChatTemplate from_dir(const std::string& model_dir);

  explicit ChatTemplate(std::string source);
  // Several named templates; "default" is used unless tools are given and "tool_use" exists.
  explicit ChatTemplate(const std::vector<std::pair<std::string, std::string>>& named);

  // messages: list of {role, content, ...}; tools: list of tool schemas or null;
  // extra_context: further template variables (enable_thinking, date_string, ...).
  // Throws insitu::Error(kInvalidArgument) with the Python-style error ("TypeError: ...",
  // "TemplateError: <raise_exception message>") and the template line.
  std::string render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                     bool add_generation_prompt,
                     const nlohmann::ordered_json& extra_context = {}) const;

  const std::optional<std::string>& bos_token() const { return bos_token_; }
  const std::optional<std::string>& eos_token() const { return eos_token_; }
  void set_bos_token(std::optional<std::string> t) { bos_token_ = std::move(t); }
  void set_eos_token(std::optional<std::string> t) { eos_token_ = std::move(t); }
  // Other special tokens passed to the template (unk_token, pad_token, ...), by name.
  void set_special_token(const std::string& name, const std::string& value);

  // Forces one named template ("default", "tool_use", ...); empty restores automatic choice.
  void select(const std::string& name);
  std::vector<std::string> template_names() const;
  const std::string& source() const;  // of the template render() would use without tools

  // The clock strftime_now reads (tests pin it); defaults to std::time.
  void set_clock(std::function<std::time_t()> clock) { clock_ = std::move(clock); }
  void set_limits(const jinja::RenderLimits& limits) { limits_ = limits; }

 private:
  struct Compiled {
    std::string name;
    std::string source;
    std::shared_ptr<const jinja::Body> body;
  };
  const Compiled& pick(bool have_tools) const;

  std::vector<Compiled> templates_;
  std::string selected_;
  std::optional<std::string> bos_token_, eos_token_;
  std::vector<std::pair<std::string, std::string>> special_tokens_;
  std::function<std::time_t()> clock_;
  jinja::RenderLimits limits_;
};

}  // namespace insitu::chat
