// libFuzzer target: parses arbitrary template text and renders it against a fixed
// conversation, with and without tools. Errors must surface as insitu::Error; anything else
// (a crash, a hang, another exception type) is a bug. Limits keep every input bounded.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "chat/chat_template.h"
#include "core/error.h"

namespace {

const nlohmann::ordered_json& messages() {
  static const auto* m = new nlohmann::ordered_json(nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "R\u00e9sum\u00e9 \u2713 \ud83e\udd99\n  indented\ttab"},
    {"role": "assistant", "content": "<think>hm</think>4.", "tool_calls": [
      {"id": "call_0001", "type": "function",
       "function": {"name": "add", "arguments": {"a": 1, "b": 2.5}}}]},
    {"role": "tool", "content": "3.5", "tool_call_id": "call_0001"},
    {"role": "user", "content": "And 3+3?"}
  ])"));
  return *m;
}

const nlohmann::ordered_json& tools() {
  static const auto* t = new nlohmann::ordered_json(nlohmann::ordered_json::parse(R"([
    {"type": "function", "function": {"name": "add", "description": "Adds numbers",
     "parameters": {"type": "object", "properties": {
       "a": {"type": "number", "description": "first"},
       "b": {"type": ["number", "null"], "enum": [1, 2], "default": 0}},
     "required": ["a"]}}}
  ])"));
  return *t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 32768) return 0;
  std::string source(reinterpret_cast<const char*>(data), size);
  insitu::chat::jinja::RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_items = 1 << 16;
  limits.max_steps = 200000;
  limits.max_call_depth = 32;
  limits.max_recursion = 600;
  try {
    insitu::chat::ChatTemplate tpl(source);
    tpl.set_limits(limits);
    tpl.set_clock([] { return static_cast<std::time_t>(1795780800); });
    tpl.set_bos_token("<s>");
    tpl.set_eos_token("</s>");
    try {
      tpl.render(messages(), nullptr, true);
    } catch (const insitu::Error&) {
    }
    tpl.render(messages(), tools(), false, {{"enable_thinking", false}});
  } catch (const insitu::Error&) {
  }
  return 0;
}
