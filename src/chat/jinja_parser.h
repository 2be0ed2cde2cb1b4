// Jinja2 parser: tokens to a statement tree, following jinja2's grammar and precedence
// (filters and tests bind tighter than arithmetic; "a if b" without else yields undefined).
#pragma once

#include <string_view>

#include "chat/jinja_ast.h"

namespace insitu::chat::jinja {

// Parses a whole template. Unknown tags, filters and tests and malformed syntax throw
// JinjaError("TemplateSyntaxError" / "TemplateAssertionError") with `line` set.
Body parse_template(std::string_view source);

// Registries the parser resolves names against (defined with the filters and tests).
FilterFn find_filter(const std::string& name);
TestFn find_test(const std::string& name);

}  // namespace insitu::chat::jinja
