#include "chat/jinja_parser.h"

#include <algorithm>
#include <initializer_list>

#include "chat/jinja_lexer.h"

namespace insitu::chat::jinja {

namespace {

// Bounds on nesting so that neither parsing nor evaluation can exhaust the C++ stack.
constexpr int kMaxParseDepth = 150;
constexpr int kMaxExprDepth = 300;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  Body parse_all() {
    Body body = subparse({});
    return body;
  }

 private:
  // ---- token stream --------------------------------------------------------------------
  const Token& cur() const { return toks_[pos_]; }
  const Token& look() const { return toks_[std::min(pos_ + 1, toks_.size() - 1)]; }
  const Token& next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool is_op(const char* op) const { return cur().type == Tok::kOp && cur().value == op; }
  bool is_name(const char* name) const { return cur().type == Tok::kName && cur().value == name; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    next();
    return true;
  }

  [[noreturn]] void error(const std::string& msg, int line = 0) const {
    JinjaError e("TemplateSyntaxError", msg);
    e.line = line ? line : cur().line;
    throw e;
  }

  std::string token_text(const Token& t) const {
    if (t.type == Tok::kName || t.type == Tok::kOp || t.type == Tok::kInt || t.type == Tok::kFloat)
      return t.value;
    return describe(t);
  }

  void expect_op(const char* op) {
    if (!skip_op(op))
      error(std::string("expected token '") + op + "', got '" + token_text(cur()) + "'");
  }
  void expect_name(const char* name) {
    if (!skip_name(name))
      error(std::string("expected token '") + name + "', got '" + token_text(cur()) + "'");
  }
  std::string expect_identifier() {
    if (cur().type != Tok::kName) error("expected token 'name', got '" + token_text(cur()) + "'");
    return next().value;
  }
  void expect_block_end() {
    if (cur().type != Tok::kBlockEnd)
      error("expected token 'end of statement block', got '" + token_text(cur()) + "'");
    next();
  }

  struct DepthGuard {
    DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxParseDepth) p_.error("template nested too deeply");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  // ---- node helpers --------------------------------------------------------------------
  ExprPtr node(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  ExprPtr finish(ExprPtr e) {
    int d = 0;
    for (auto& c : e->children)
      if (c) d = std::max(d, c->depth);
    for (auto& c : e->args) d = std::max(d, c->depth);
    for (auto& [k, c] : e->kwargs) d = std::max(d, c->depth);
    if (e->star_args) d = std::max(d, e->star_args->depth);
    if (e->star_kwargs) d = std::max(d, e->star_kwargs->depth);
    e->depth = d + 1;
    if (e->depth > kMaxExprDepth) error("expression nested too deeply", e->line);
    return e;
  }

  ExprPtr binary(ExprKind kind, std::string op, ExprPtr l, ExprPtr r, int line) {
    auto e = node(kind, line);
    e->name = std::move(op);
    e->children.push_back(std::move(l));
    e->children.push_back(std::move(r));
    return finish(std::move(e));
  }

  // ---- statements ----------------------------------------------------------------------
  Body subparse(std::initializer_list<const char*> end_tokens) {
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == Tok::kData) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kText;
        s->line = t.line;
        s->text = t.value;
        body.push_back(std::move(s));
        next();
      } else if (t.type == Tok::kVarBegin) {
        int line = next().line;
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kOutput;
        s->line = line;
        s->expr = parse_tuple(false, true, {}, false);
        if (cur().type != Tok::kVarEnd)
          error("expected token 'end of print statement', got '" + token_text(cur()) + "'");
        next();
        body.push_back(std::move(s));
      } else if (t.type == Tok::kBlockBegin) {
        next();
        if (cur().type == Tok::kName) {
          for (const char* e : end_tokens)
            if (cur().value == e) return body;
        }
        StmtPtr s = parse_statement();
        if (s) body.push_back(std::move(s));
        expect_block_end();
      } else if (t.type == Tok::kEof) {
        if (end_tokens.size()) {
          std::string names;
          for (const char* e : end_tokens)
            names += (names.empty() ? "'" : " or '") + std::string(e) + "'";
          error("Unexpected end of template. Jinja was looking for the following tags: " + names +
                ".");
        }
        return body;
      } else {
        error("unexpected '" + token_text(t) + "'");
      }
    }
  }

  Body parse_statements(std::initializer_list<const char*> end_tokens, bool drop_needle) {
    skip_op(":");
    expect_block_end();
    Body body = subparse(end_tokens);
    if (drop_needle) next();
    return body;
  }

  StmtPtr parse_statement() {
    DepthGuard guard(*this);
    if (cur().type != Tok::kName) error("tag name expected");
    const std::string name = cur().value;
    int line = cur().line;
    if (name == "if") return parse_if();
    if (name == "for") return parse_for();
    if (name == "set") return parse_set();
    if (name == "macro") return parse_macro();
    if (name == "call") return parse_call_block();
    if (name == "filter") return parse_filter_block();
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) error("'" + name + "' outside of a loop", line);
      next();
      auto s = std::make_unique<Stmt>();
      s->kind = name == "break" ? StmtKind::kBreak : StmtKind::kContinue;
      s->line = line;
      return s;
    }
    if (name == "generation") {
      // transformers' AssistantTracker tag: marks assistant text, renders its body unchanged.
      next();
      auto s = std::make_unique<Stmt>();
      s->kind = StmtKind::kIf;
      s->line = line;
      s->conds.push_back(literal(Value::boolean(true), line));
      s->bodies.push_back(parse_statements({"endgeneration"}, true));
      return s;
    }
    error("Encountered unknown tag '" + name + "'.", line);
  }

  ExprPtr literal(Value v, int line) {
    auto e = node(ExprKind::kLiteral, line);
    e->literal = std::move(v);
    return e;
  }

  StmtPtr parse_if() {
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::kIf;
    s->line = next().line;
    while (true) {
      s->conds.push_back(parse_tuple(false, false, {}, false));
      s->bodies.push_back(parse_statements({"elif", "else", "endif"}, false));
      const Token& t = next();
      if (t.value == "elif") continue;
      if (t.value == "else") s->else_body = parse_statements({"endif"}, true);
      break;
    }
    return s;
  }

  StmtPtr parse_for() {
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::kFor;
    s->line = next().line;
    s->target = parse_assign_target(true, false, {"in"}, false);
    expect_name("in");
    s->expr = parse_tuple(false, false, {"recursive"}, false);
    if (skip_name("if")) s->cond = parse_expression(true);
    if (is_name("recursive")) error("recursive loops are not supported");
    ++loop_depth_;
    s->body = parse_statements({"endfor", "else"}, false);
    --loop_depth_;
    if (next().value == "else") s->else_body = parse_statements({"endfor"}, true);
    return s;
  }

  StmtPtr parse_set() {
    auto s = std::make_unique<Stmt>();
    s->line = next().line;
    s->target = parse_assign_target(true, false, {}, true);
    if (skip_op("=")) {
      s->kind = StmtKind::kSet;
      s->expr = parse_tuple(false, true, {}, false);
      return s;
    }
    if (s->target->kind != ExprKind::kName) error("can't use a block set on this target", s->line);
    s->kind = StmtKind::kSetBlock;
    s->text = s->target->name;
    s->expr = parse_filter(nullptr, false);
    s->body = parse_statements({"endset"}, true);
    return s;
  }

  void parse_signature(MacroDef& m) {
    expect_op("(");
    bool have_default = false;
    while (!is_op(")")) {
      if (!m.params.empty()) expect_op(",");
      if (is_op(")")) break;
      MacroParam p;
      p.name = expect_identifier();
      if (skip_op("=")) {
        p.default_value = parse_expression(true);
        have_default = true;
      } else if (have_default) {
        error("non-default argument follows default argument");
      }
      m.params.push_back(std::move(p));
    }
    expect_op(")");
  }

  StmtPtr parse_macro() {
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::kMacro;
    s->line = next().line;
    s->macro = std::make_shared<MacroDef>();
    s->macro->name = expect_identifier();
    parse_signature(*s->macro);
    int saved_loops = loop_depth_;
    loop_depth_ = 0;
    macro_stack_.push_back(s->macro.get());
    s->macro->body = parse_statements({"endmacro"}, true);
    macro_stack_.pop_back();
    loop_depth_ = saved_loops;
    return s;
  }

  StmtPtr parse_call_block() {
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::kCallBlock;
    s->line = next().line;
    s->macro = std::make_shared<MacroDef>();
    s->macro->name = "caller";
    if (is_op("(")) parse_signature(*s->macro);
    s->expr = parse_expression(true);
    if (s->expr->kind != ExprKind::kCall) error("expected call", s->line);
    int saved_loops = loop_depth_;
    loop_depth_ = 0;
    macro_stack_.push_back(s->macro.get());
    s->macro->body = parse_statements({"endcall"}, true);
    macro_stack_.pop_back();
    loop_depth_ = saved_loops;
    return s;
  }

  StmtPtr parse_filter_block() {
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::kFilterBlock;
    s->line = next().line;
    s->expr = parse_filter(nullptr, true);
    s->body = parse_statements({"endfilter"}, true);
    return s;
  }

  ExprPtr parse_assign_target(bool with_tuple, bool name_only,
                              std::initializer_list<const char*> extra_end, bool with_namespace) {
    int line = cur().line;
    if (with_namespace && cur().type == Tok::kName && look().type == Tok::kOp &&
        look().value == ".") {
      auto obj = node(ExprKind::kName, line);
      obj->name = next().value;
      next();  // '.'
      auto e = node(ExprKind::kGetattr, line);
      e->name = expect_identifier();
      e->children.push_back(finish(std::move(obj)));
      return finish(std::move(e));
    }
    ExprPtr target;
    if (name_only) {
      target = node(ExprKind::kName, line);
      target->name = expect_identifier();
      return finish(std::move(target));
    }
    target = with_tuple ? parse_tuple(true, true, extra_end, false) : parse_primary();
    auto check = [&](const Expr& e) {
      if (e.kind != ExprKind::kName) error("can't assign to this expression", line);
      if (e.name == "true" || e.name == "false" || e.name == "none" || e.name == "True" ||
          e.name == "False" || e.name == "None")
        error("can't assign to constant '" + e.name + "'", line);
    };
    if (target->kind == ExprKind::kTuple) {
      for (auto& c : target->children) check(*c);
    } else {
      check(*target);
    }
    return target;
  }

  // ---- expressions ---------------------------------------------------------------------
  ExprPtr parse_expression(bool with_condexpr) {
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr() {
    DepthGuard guard(*this);
    int line = cur().line;
    ExprPtr expr1 = parse_or();
    while (skip_name("if")) {
      ExprPtr expr2 = parse_or();
      ExprPtr expr3 = skip_name("else") ? parse_condexpr() : nullptr;
      auto e = node(ExprKind::kCondExpr, line);
      e->children.push_back(std::move(expr2));
      e->children.push_back(std::move(expr1));
      e->children.push_back(std::move(expr3));
      expr1 = finish(std::move(e));
    }
    return expr1;
  }

  ExprPtr parse_or() {
    int line = cur().line;
    ExprPtr left = parse_and();
    while (skip_name("or")) left = binary(ExprKind::kOr, "or", std::move(left), parse_and(), line);
    return left;
  }

  ExprPtr parse_and() {
    int line = cur().line;
    ExprPtr left = parse_not();
    while (skip_name("and"))
      left = binary(ExprKind::kAnd, "and", std::move(left), parse_not(), line);
    return left;
  }

  ExprPtr parse_not() {
    DepthGuard guard(*this);
    if (is_name("not")) {
      int line = next().line;
      auto e = node(ExprKind::kNot, line);
      e->children.push_back(parse_not());
      return finish(std::move(e));
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    int line = cur().line;
    ExprPtr expr = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().type == Tok::kOp &&
          (cur().value == "==" || cur().value == "!=" || cur().value == "<" ||
           cur().value == "<=" || cur().value == ">" || cur().value == ">=")) {
        op = next().value;
      } else if (skip_name("in")) {
        op = "in";
      } else if (is_name("not") && look().type == Tok::kName && look().value == "in") {
        next();
        next();
        op = "notin";
      } else {
        break;
      }
      if (!cmp) {
        cmp = node(ExprKind::kCompare, line);
        cmp->children.push_back(std::move(expr));
      }
      cmp->ops.push_back(op);
      cmp->children.push_back(parse_math1());
    }
    return cmp ? finish(std::move(cmp)) : std::move(expr);
  }

  ExprPtr parse_math1() {
    int line = cur().line;
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = next().value;
      left = binary(ExprKind::kBinary, op, std::move(left), parse_concat(), line);
    }
    return left;
  }

  ExprPtr parse_concat() {
    int line = cur().line;
    ExprPtr left = parse_math2();
    while (skip_op("~"))
      left = binary(ExprKind::kBinary, "~", std::move(left), parse_math2(), line);
    return left;
  }

  ExprPtr parse_math2() {
    int line = cur().line;
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = next().value;
      left = binary(ExprKind::kBinary, op, std::move(left), parse_pow(), line);
    }
    return left;
  }

  ExprPtr parse_pow() {
    int line = cur().line;
    ExprPtr left = parse_unary(true);
    while (skip_op("**"))
      left = binary(ExprKind::kBinary, "**", std::move(left), parse_unary(true), line);
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    int line = cur().line;
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      ExprKind kind = next().value == "-" ? ExprKind::kNeg : ExprKind::kPos;
      e = node(kind, line);
      e->children.push_back(parse_unary(false));
      e = finish(std::move(e));
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    DepthGuard guard(*this);
    const Token& t = cur();
    int line = t.line;
    switch (t.type) {
      case Tok::kName: {
        std::string n = next().value;
        if (n == "true" || n == "True") return literal(Value::boolean(true), line);
        if (n == "false" || n == "False") return literal(Value::boolean(false), line);
        if (n == "none" || n == "None") return literal(Value::none(), line);
        if (!macro_stack_.empty()) {
          MacroDef* m = macro_stack_.back();
          if (n == "varargs") m->uses_varargs = true;
          if (n == "kwargs") m->uses_kwargs = true;
          if (n == "caller") m->uses_caller = true;
        }
        auto e = node(ExprKind::kName, line);
        e->name = n;
        return e;
      }
      case Tok::kString: {
        std::string s = next().value;
        while (cur().type == Tok::kString) s += next().value;  // adjacent literals concatenate
        return literal(Value::string(std::move(s)), line);
      }
      case Tok::kInt: return literal(Value::integer(next().ival), line);
      case Tok::kFloat: return literal(Value::number(next().fval), line);
      case Tok::kOp:
        if (t.value == "(") {
          next();
          ExprPtr e = parse_tuple(false, true, {}, true);
          expect_op(")");
          return e;
        }
        if (t.value == "[") return parse_list();
        if (t.value == "{") return parse_dict();
        break;
      default: break;
    }
    error("unexpected '" + token_text(t) + "'");
  }

  bool is_tuple_end(std::initializer_list<const char*> extra_end) const {
    const Token& t = cur();
    if (t.type == Tok::kVarEnd || t.type == Tok::kBlockEnd || t.type == Tok::kEof) return true;
    if (t.type == Tok::kOp && t.value == ")") return true;
    if (t.type == Tok::kName)
      for (const char* e : extra_end)
        if (t.value == e) return true;
    return false;
  }

  ExprPtr parse_tuple(bool simplified, bool with_condexpr,
                      std::initializer_list<const char*> extra_end, bool explicit_parens) {
    int line = cur().line;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      if (simplified)
        items.push_back(parse_primary());
      else
        items.push_back(parse_expression(with_condexpr));
      if (is_op(","))
        is_tuple = true;
      else
        break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) error("Expected an expression, got '" + token_text(cur()) + "'");
    }
    auto e = node(ExprKind::kTuple, line);
    e->children = std::move(items);
    return finish(std::move(e));
  }

  ExprPtr parse_list() {
    auto e = node(ExprKind::kList, next().line);
    while (!is_op("]")) {
      if (!e->children.empty()) expect_op(",");
      if (is_op("]")) break;
      e->children.push_back(parse_expression(true));
    }
    expect_op("]");
    return finish(std::move(e));
  }

  ExprPtr parse_dict() {
    auto e = node(ExprKind::kDict, next().line);
    while (!is_op("}")) {
      if (!e->children.empty()) expect_op(",");
      if (is_op("}")) break;
      e->children.push_back(parse_expression(true));
      expect_op(":");
      e->children.push_back(parse_expression(true));
    }
    expect_op("}");
    return finish(std::move(e));
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      if (is_op(".") || is_op("["))
        e = parse_subscript(std::move(e));
      else if (is_op("("))
        e = parse_call(std::move(e));
      else
        break;
    }
    return e;
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    while (true) {
      if (is_op("|"))
        e = parse_filter(std::move(e), false);
      else if (is_name("is"))
        e = parse_test(std::move(e));
      else if (is_op("("))
        e = parse_call(std::move(e));
      else
        break;
    }
    return e;
  }

  ExprPtr parse_subscript(ExprPtr obj) {
    const Token& t = next();
    int line = t.line;
    if (t.value == ".") {
      if (cur().type == Tok::kName) {
        auto e = node(ExprKind::kGetattr, line);
        e->name = next().value;
        e->children.push_back(std::move(obj));
        return finish(std::move(e));
      }
      if (cur().type == Tok::kInt) {
        auto e = node(ExprKind::kGetitem, line);
        e->children.push_back(std::move(obj));
        e->children.push_back(literal(Value::integer(next().ival), line));
        return finish(std::move(e));
      }
      error("expected name or number");
    }
    std::vector<ExprPtr> args;
    while (!is_op("]")) {
      if (!args.empty()) expect_op(",");
      args.push_back(parse_subscribed());
    }
    expect_op("]");
    ExprPtr index;
    if (args.size() == 1) {
      index = std::move(args[0]);
    } else {
      index = node(ExprKind::kTuple, line);
      index->children = std::move(args);
      index = finish(std::move(index));
    }
    if (index->kind == ExprKind::kSlice) {
      // A lone slice: hang the object in front of its bounds.
      index->children.insert(index->children.begin(), std::move(obj));
      return finish(std::move(index));
    }
    auto e = node(ExprKind::kGetitem, line);
    e->children.push_back(std::move(obj));
    e->children.push_back(std::move(index));
    return finish(std::move(e));
  }

  ExprPtr parse_subscribed() {
    int line = cur().line;
    std::vector<ExprPtr> parts;  // start, stop, step
    if (is_op(":")) {
      next();
      parts.push_back(nullptr);
    } else {
      ExprPtr e = parse_expression(true);
      if (!is_op(":")) return e;
      next();
      parts.push_back(std::move(e));
    }
    if (is_op(":"))
      parts.push_back(nullptr);
    else if (!is_op("]") && !is_op(","))
      parts.push_back(parse_expression(true));
    else
      parts.push_back(nullptr);
    if (skip_op(":")) {
      if (!is_op("]") && !is_op(","))
        parts.push_back(parse_expression(true));
      else
        parts.push_back(nullptr);
    } else {
      parts.push_back(nullptr);
    }
    auto e = node(ExprKind::kSlice, line);
    e->children = std::move(parts);
    return finish(std::move(e));
  }

  void parse_call_args(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) {
        expect_op(",");
        if (is_op(")")) break;
      }
      first = false;
      if (skip_op("**")) {
        e.star_kwargs = parse_expression(true);
      } else if (skip_op("*")) {
        e.star_args = parse_expression(true);
      } else if (cur().type == Tok::kName && look().type == Tok::kOp && look().value == "=") {
        std::string key = next().value;
        next();
        e.kwargs.emplace_back(key, parse_expression(true));
      } else {
        if (!e.kwargs.empty() || e.star_kwargs)
          error("invalid syntax for function call expression");
        e.args.push_back(parse_expression(true));
      }
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto e = node(ExprKind::kCall, cur().line);
    e->children.push_back(std::move(callee));
    parse_call_args(*e);
    return finish(std::move(e));
  }

  ExprPtr parse_filter(ExprPtr input, bool start_inline) {
    while (is_op("|") || start_inline) {
      if (!start_inline) next();
      start_inline = false;
      int line = cur().line;
      std::string name = expect_identifier();
      while (skip_op(".")) name += "." + expect_identifier();
      auto e = node(ExprKind::kFilter, line);
      e->name = name;
      e->filter = find_filter(name);
      if (!e->filter) {
        JinjaError err("TemplateAssertionError", "No filter named '" + name + "'.");
        err.line = line;
        throw err;
      }
      e->children.push_back(std::move(input));
      if (is_op("(")) parse_call_args(*e);
      input = finish(std::move(e));
    }
    return input;
  }

  ExprPtr parse_test(ExprPtr input) {
    int line = next().line;  // 'is'
    auto e = node(ExprKind::kTest, line);
    e->negated = skip_name("not");
    std::string name = expect_identifier();
    while (skip_op(".")) name += "." + expect_identifier();
    e->name = name;
    e->test = find_test(name);
    if (!e->test) {
      JinjaError err("TemplateAssertionError", "No test named '" + name + "'.");
      err.line = line;
      throw err;
    }
    e->children.push_back(std::move(input));
    const Token& t = cur();
    if (is_op("(")) {
      parse_call_args(*e);
    } else if ((t.type == Tok::kName || t.type == Tok::kString || t.type == Tok::kInt ||
                t.type == Tok::kFloat ||
                (t.type == Tok::kOp && (t.value == "(" || t.value == "[" || t.value == "{"))) &&
               !(t.type == Tok::kName &&
                 (t.value == "else" || t.value == "or" || t.value == "and"))) {
      if (is_name("is")) error("You cannot chain multiple tests with is");
      e->args.push_back(parse_postfix(parse_primary()));
    }
    return finish(std::move(e));
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  std::vector<MacroDef*> macro_stack_;
};

}  // namespace

Body parse_template(std::string_view source) {
  return Parser(tokenize(source)).parse_all();
}

}  // namespace insitu::chat::jinja
