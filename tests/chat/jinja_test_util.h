// Helpers for the Jinja2 engine tests: render a template string with a JSON context.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "chat/chat_template.h"

namespace insitu::chat::test {

// Renders `source` with `context` as template variables (plus messages=[], tools=None, ...),
// with the clock pinned to 2026-11-27 12:00:00 UTC.
inline std::string render(const std::string& source,
                          const nlohmann::ordered_json& context = nlohmann::ordered_json::object(),
                          const jinja::RenderLimits& limits = {}) {
  ChatTemplate tpl(source);
  tpl.set_clock([] { return static_cast<std::time_t>(1795780800); });
  tpl.set_limits(limits);
  return tpl.render(nlohmann::ordered_json::array(), nullptr, false, context);
}

}  // namespace insitu::chat::test
