// Jinja2 lexer with the whitespace rules of transformers' environment:
// trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False, default delimiters.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace insitu::chat::jinja {

enum class Tok : uint8_t {
  kData,        // literal template text (raw blocks included)
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,  // value already unescaped
  kInt,
  kFloat,
  kOp,  // value is the operator text: "+", "//", "(", "|", ...
  kEof,
};

struct Token {
  Tok type;
  std::string value;
  int line = 1;
  int64_t ival = 0;
  double fval = 0.0;
};

// Normalises newlines (\r\n and \r become \n), drops one trailing newline, and splits the
// template into tokens. Throws JinjaError("TemplateSyntaxError") with `line` set.
std::vector<Token> tokenize(std::string_view source);

const char* describe(const Token& t);  // "end of print statement", "name", ... for messages

}  // namespace insitu::chat::jinja
