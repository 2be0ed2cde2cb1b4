#include "chat/jinja_lexer.h"

#include <cerrno>
#include <cstdlib>
#include <optional>

#include "chat/jinja_strings.h"
#include "chat/jinja_value.h"

namespace insitu::chat::jinja {

namespace {

[[noreturn]] void syntax_error(const std::string& msg, int line) {
  JinjaError e("TemplateSyntaxError", msg);
  e.line = line;
  throw e;
}

bool all_space(std::string_view s) {
  if (s.empty()) return false;
  if (is_ascii(s)) {
    for (char c : s)
      if (!py_isspace(static_cast<unsigned char>(c))) return false;
    return true;
  }
  for (char32_t c : decode_utf8(s))
    if (!py_isspace(c)) return false;
  return true;
}

std::string rstrip_space(std::string_view s) {
  return py_strip(s, std::nullopt, false, true);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}
bool is_hex(char c) {
  return is_digit(c) || ((c | 32) >= 'a' && (c | 32) <= 'f');
}

class Lexer {
 public:
  explicit Lexer(std::string src) : src_(std::move(src)) {}

  std::vector<Token> run() {
    const size_t n = src_.size();
    while (pos_ < n) {
      size_t q = pos_;
      while (true) {
        q = src_.find('{', q);
        if (q == std::string::npos || q + 1 >= n) {
          q = std::string::npos;
          break;
        }
        char k = src_[q + 1];
        if (k == '{' || k == '%' || k == '#') break;
        ++q;
      }
      if (q == std::string::npos) {
        emit_data(std::string_view(src_).substr(pos_));
        advance(n);
        break;
      }
      lex_tag(q);
    }
    Token eof{Tok::kEof, "", line_};
    tokens_.push_back(eof);
    return std::move(tokens_);
  }

 private:
  void advance(size_t to) {
    for (size_t i = pos_; i < to; ++i)
      if (src_[i] == '\n') ++line_;
    pos_ = to;
  }

  void emit_data(std::string_view text) {
    if (!text.empty()) tokens_.push_back(Token{Tok::kData, std::string(text), line_});
  }

  void emit(Tok type, std::string value) {
    tokens_.push_back(Token{type, std::move(value), line_});
  }

  // Text before a tag gets the whitespace control of that tag: "-" strips all whitespace,
  // lstrip_blocks strips the spaces between a line start and a block or comment tag.
  std::string control_text(std::string_view text, char sign, bool is_variable) {
    if (sign == '-') return rstrip_space(text);
    if (sign != '+' && !is_variable) {
      size_t nl = text.rfind('\n');
      size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting_) && all_space(text.substr(l_pos)))
        return std::string(text.substr(0, l_pos));
    }
    return std::string(text);
  }

  size_t skip_space(size_t p) const {
    while (p < src_.size() && py_isspace(static_cast<unsigned char>(src_[p]))) ++p;
    return p;
  }

  void lex_tag(size_t q) {
    const size_t n = src_.size();
    char kind = src_[q + 1];
    size_t after = q + 2;
    char sign = (after < n && (src_[after] == '-' || src_[after] == '+')) ? src_[after] : 0;
    std::string_view text = std::string_view(src_).substr(pos_, q - pos_);
    if (kind == '%') {
      size_t j = skip_space(after + (sign ? 1 : 0));
      if (src_.compare(j, 3, "raw") == 0) {
        size_t k = skip_space(j + 3);
        size_t end = std::string::npos;
        if (src_.compare(k, 3, "-%}") == 0)
          end = skip_space(k + 3);
        else if (src_.compare(k, 2, "%}") == 0)
          end = k + 2;
        if (end != std::string::npos) {
          emit_data(control_text(text, sign, false));
          advance(end);
          line_starting_ = src_[end - 1] == '\n';
          lex_raw();
          return;
        }
      }
    }
    emit_data(control_text(text, sign, kind == '{'));
    advance(q);
    line_starting_ = false;
    int start_line = line_;
    if (kind == '#') {
      size_t body = after + (sign ? 1 : 0);
      size_t close = src_.find("#}", body);
      if (close == std::string::npos) syntax_error("Missing end of comment tag", start_line);
      size_t end = close + 2;
      char esign = (close > body && (src_[close - 1] == '-' || src_[close - 1] == '+'))
                       ? src_[close - 1]
                       : 0;
      if (esign == '-')
        end = skip_space(end);
      else if (esign == 0 && end < n && src_[end] == '\n')
        ++end;  // trim_blocks
      advance(end);
      line_starting_ = src_[end - 1] == '\n';
      return;
    }
    emit(kind == '{' ? Tok::kVarBegin : Tok::kBlockBegin, kind == '{' ? "{{" : "{%");
    advance(after + (sign ? 1 : 0));
    lex_inside(kind == '{', start_line);
  }

  void lex_raw() {
    const size_t n = src_.size();
    size_t r = pos_;
    while (true) {
      r = src_.find("{%", r);
      if (r == std::string::npos) syntax_error("Missing end of raw directive", line_);
      size_t a = r + 2;
      char sign = (a < n && (src_[a] == '-' || src_[a] == '+')) ? src_[a] : 0;
      size_t j = skip_space(a + (sign ? 1 : 0));
      if (src_.compare(j, 6, "endraw") == 0) {
        size_t k = skip_space(j + 6);
        size_t end = std::string::npos;
        if (src_.compare(k, 3, "+%}") == 0)
          end = k + 3;
        else if (src_.compare(k, 3, "-%}") == 0)
          end = skip_space(k + 3);
        else if (src_.compare(k, 2, "%}") == 0)
          end = (k + 2 < n && src_[k + 2] == '\n') ? k + 3 : k + 2;
        if (end != std::string::npos) {
          emit_data(control_text(std::string_view(src_).substr(pos_, r - pos_), sign, false));
          advance(end);
          line_starting_ = src_[end - 1] == '\n';
          return;
        }
      }
      ++r;
    }
  }

  void lex_inside(bool is_variable, int start_line) {
    const size_t n = src_.size();
    std::vector<char> balance;
    while (true) {
      if (pos_ >= n) {
        syntax_error(is_variable ? "unexpected end of template, expected 'end of print statement'."
                                 : "unexpected end of template, expected 'end of statement block'.",
                     start_line);
      }
      if (balance.empty()) {
        size_t end = std::string::npos;
        if (is_variable) {
          if (src_.compare(pos_, 3, "-}}") == 0)
            end = skip_space(pos_ + 3);
          else if (src_.compare(pos_, 2, "}}") == 0)
            end = pos_ + 2;
        } else {
          if (src_.compare(pos_, 3, "+%}") == 0)
            end = pos_ + 3;
          else if (src_.compare(pos_, 3, "-%}") == 0)
            end = skip_space(pos_ + 3);
          else if (src_.compare(pos_, 2, "%}") == 0)
            end = (pos_ + 2 < n && src_[pos_ + 2] == '\n') ? pos_ + 3 : pos_ + 2;
        }
        if (end != std::string::npos) {
          emit(is_variable ? Tok::kVarEnd : Tok::kBlockEnd, is_variable ? "}}" : "%}");
          advance(end);
          line_starting_ = src_[end - 1] == '\n';
          return;
        }
      }
      char c = src_[pos_];
      if (py_isspace(static_cast<unsigned char>(c))) {
        advance(skip_space(pos_));
        continue;
      }
      if (is_digit(c)) {
        lex_number();
        continue;
      }
      if (is_name_start(c)) {
        size_t e = pos_;
        while (e < n && is_name_char(src_[e])) ++e;
        emit(Tok::kName, src_.substr(pos_, e - pos_));
        advance(e);
        continue;
      }
      if (c == '\'' || c == '"') {
        lex_string();
        continue;
      }
      static const char* kOps[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/",
                                   "*",  "%",  "~",  "[",  "]",  "(",  ")", "{", "}",
                                   "<",  ">",  "=",  ".",  ":",  "|",  ",", ";"};
      const char* op = nullptr;
      for (const char* o : kOps) {
        if (src_.compare(pos_, std::char_traits<char>::length(o), o) == 0) {
          op = o;
          break;
        }
      }
      if (!op)
        syntax_error(std::string("unexpected char ") + py_repr_string(std::string(1, c)), line_);
      std::string o(op);
      if (o == "(" || o == "[" || o == "{") {
        balance.push_back(o == "(" ? ')' : o == "[" ? ']' : '}');
      } else if (o == ")" || o == "]" || o == "}") {
        if (balance.empty()) syntax_error("unexpected '" + o + "'", line_);
        if (balance.back() != o[0])
          syntax_error("unexpected '" + o + "', expected '" + std::string(1, balance.back()) + "'",
                       line_);
        balance.pop_back();
      }
      emit(Tok::kOp, o);
      advance(pos_ + o.size());
    }
  }

  // Digits with optional '_' separators; returns the end position, or npos if none.
  size_t digits(size_t p, bool (*ok)(char)) const {
    size_t e = p;
    if (e >= src_.size() || !ok(src_[e])) return std::string::npos;
    while (e < src_.size()) {
      if (ok(src_[e])) {
        ++e;
      } else if (src_[e] == '_' && e + 1 < src_.size() && ok(src_[e + 1])) {
        e += 2;
      } else {
        break;
      }
    }
    return e;
  }

  void lex_number() {
    const size_t n = src_.size();
    size_t int_end = digits(pos_, is_digit);
    bool after_dot = pos_ > 0 && src_[pos_ - 1] == '.';
    // Float: digits then a fraction and/or an exponent (never directly after a '.').
    if (!after_dot) {
      size_t e = int_end;
      bool is_float = false;
      if (e < n && src_[e] == '.') {
        size_t f = digits(e + 1, is_digit);
        if (f != std::string::npos) {
          e = f;
          is_float = true;
        }
      }
      if (e < n && (src_[e] == 'e' || src_[e] == 'E')) {
        size_t x = e + 1;
        if (x < n && (src_[x] == '+' || src_[x] == '-')) ++x;
        size_t f = digits(x, is_digit);
        if (f != std::string::npos) {
          e = f;
          is_float = true;
        }
      }
      if (is_float) {
        std::string text;
        for (size_t i = pos_; i < e; ++i)
          if (src_[i] != '_') text.push_back(src_[i]);
        Token t{Tok::kFloat, text, line_};
        t.fval = std::strtod(text.c_str(), nullptr);
        tokens_.push_back(t);
        advance(e);
        return;
      }
    }
    int base = 10;
    size_t start = pos_, e = int_end;
    if (src_[pos_] == '0' && pos_ + 1 < n) {
      char p = static_cast<char>(src_[pos_ + 1] | 32);
      auto prefixed = [&](bool (*ok)(char)) {
        size_t x = pos_ + 2;
        if (x < n && src_[x] == '_') ++x;
        return digits(x, ok);
      };
      size_t pe = std::string::npos;
      if (p == 'x')
        pe = prefixed(is_hex), base = 16;
      else if (p == 'o')
        pe = prefixed([](char c) { return c >= '0' && c <= '7'; }), base = 8;
      else if (p == 'b')
        pe = prefixed([](char c) { return c == '0' || c == '1'; }), base = 2;
      if (pe != std::string::npos) {
        start = pos_ + 2;
        e = pe;
      } else {
        base = 10;
        // Python forbids leading zeros: "0" and "00" are fine, "01" lexes as 0 then 1.
        e = pos_ + 1;
        while (e < int_end && (src_[e] == '0' || src_[e] == '_')) ++e;
        while (e > pos_ + 1 && src_[e - 1] == '_') --e;
      }
    }
    std::string text;
    for (size_t i = start; i < e; ++i)
      if (src_[i] != '_') text.push_back(src_[i]);
    errno = 0;
    Token t{Tok::kInt, src_.substr(pos_, e - pos_), line_};
    unsigned long long v = std::strtoull(text.c_str(), nullptr, base);
    if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX))
      syntax_error("integer literal too large", line_);
    t.ival = static_cast<int64_t>(v);
    tokens_.push_back(t);
    advance(e);
  }

  void lex_string() {
    const size_t n = src_.size();
    char quote = src_[pos_];
    size_t i = pos_ + 1;
    std::string out;
    while (true) {
      if (i >= n) syntax_error("unexpected end of string", line_);
      char c = src_[i];
      if (c == quote) break;
      if (c != '\\') {
        out.push_back(c);
        ++i;
        continue;
      }
      if (i + 1 >= n) syntax_error("unexpected end of string", line_);
      char e = src_[i + 1];
      i += 2;
      switch (e) {
        case '\n': break;  // line continuation
        case '\\': out.push_back('\\'); break;
        case '\'': out.push_back('\''); break;
        case '"': out.push_back('"'); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'v': out.push_back('\v'); break;
        case 'x':
        case 'u':
        case 'U': {
          int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (i + len > n) syntax_error("truncated \\" + std::string(1, e) + " escape", line_);
          char32_t cp = 0;
          for (int k = 0; k < len; ++k) {
            char h = src_[i + k];
            if (!is_hex(h)) syntax_error("truncated \\" + std::string(1, e) + " escape", line_);
            cp = cp * 16 + static_cast<char32_t>(is_digit(h) ? h - '0' : (h | 32) - 'a' + 10);
          }
          if (cp > 0x10FFFF) syntax_error("illegal Unicode character", line_);
          append_utf8(out, cp);
          i += len;
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            char32_t cp = static_cast<char32_t>(e - '0');
            for (int k = 0; k < 2 && i < n && src_[i] >= '0' && src_[i] <= '7'; ++k, ++i)
              cp = cp * 8 + static_cast<char32_t>(src_[i] - '0');
            append_utf8(out, cp);
          } else {
            out.push_back('\\');  // unknown escapes stay as written
            --i;
          }
      }
    }
    emit(Tok::kString, out);
    advance(i + 1);
  }

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
  std::string src;
  src.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      src.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      src.push_back(source[i]);
    }
  }
  if (!src.empty() && src.back() == '\n') src.pop_back();  // keep_trailing_newline=False
  return Lexer(std::move(src)).run();
}

const char* describe(const Token& t) {
  switch (t.type) {
    case Tok::kData: return "template data";
    case Tok::kVarBegin: return "begin of print statement";
    case Tok::kVarEnd: return "end of print statement";
    case Tok::kBlockBegin: return "begin of statement block";
    case Tok::kBlockEnd: return "end of statement block";
    case Tok::kName: return "name";
    case Tok::kString: return "string";
    case Tok::kInt: return "integer";
    case Tok::kFloat: return "float";
    case Tok::kOp: return "operator";
    case Tok::kEof: return "end of template";
  }
  return "token";
}

}  // namespace insitu::chat::jinja
