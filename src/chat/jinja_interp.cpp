#include "chat/jinja_interp.h"

#include <algorithm>
#include <cmath>

#include "chat/jinja_strings.h"

namespace insitu::chat::jinja {

const Value* Scope::find(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent_.get())
    for (const auto& kv : s->vars_)
      if (kv.first == name) return &kv.second;
  return nullptr;
}

void Scope::set(const std::string& name, Value v) {
  for (auto& kv : vars_) {
    if (kv.first == name) {
      kv.second = std::move(v);
      return;
    }
  }
  vars_.emplace_back(name, std::move(v));
}

struct Interpreter::Frame {
  explicit Frame(Interpreter& in) : in_(in) {
    if (++in_.recursion_ > in_.limits_.max_recursion) {
      --in_.recursion_;
      fail("RecursionError", "maximum recursion depth exceeded");
    }
  }
  ~Frame() { --in_.recursion_; }
  Interpreter& in_;
};

Interpreter::Interpreter(const RenderLimits& limits, std::function<std::time_t()> clock)
    : limits_(limits), clock_(std::move(clock)) {}

Interpreter::~Interpreter() {
  // Namespaces (and loop objects) are the only mutable values, so every reference cycle runs
  // through one of them: emptying them frees the cycles.
  for (auto& ns : namespaces_) ns->attrs.clear();
  for (auto& l : loops_) l->last_changed = Value();
}

std::string Interpreter::render(const Body& body, std::shared_ptr<Scope> context) {
  root_ = std::move(context);
  std::string out;
  out_ = &out;
  try {
    exec_body(body, root_);
  } catch (JinjaError& e) {
    if (!e.line) e.line = line_;
    out_ = nullptr;
    throw;
  }
  out_ = nullptr;
  return out;
}

void Interpreter::charge(uint64_t steps) {
  steps_ += steps;
  if (steps_ > limits_.max_steps) fail("LimitError", "template exceeded its evaluation step limit");
}

void Interpreter::check_string(size_t bytes) const {
  if (bytes > limits_.max_output_bytes)
    fail("LimitError", "string of " + std::to_string(bytes) + " bytes exceeds the output limit");
}

void Interpreter::check_items(size_t n) const {
  if (n > limits_.max_items)
    fail("LimitError", "list of " + std::to_string(n) + " items exceeds the limit");
}

void Interpreter::append(const std::string& s) {
  out_->append(s);
  if (out_->size() > limits_.max_output_bytes) fail("LimitError", "rendered output too large");
}

Value Interpreter::make_namespace() {
  auto ns = std::make_shared<Namespace>();
  namespaces_.push_back(ns);
  return Value::ns(std::move(ns));
}

// ---- statements --------------------------------------------------------------------------

Interpreter::Flow Interpreter::exec_body(const Body& body, const std::shared_ptr<Scope>& scope) {
  for (const StmtPtr& s : body) {
    Flow f = exec(*s, scope);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

std::string Interpreter::capture(const Body& body, const std::shared_ptr<Scope>& scope) {
  std::string buf;
  std::string* saved = out_;
  out_ = &buf;
  try {
    exec_body(body, scope);
  } catch (...) {
    out_ = saved;
    throw;
  }
  out_ = saved;
  return buf;
}

Interpreter::Flow Interpreter::exec(const Stmt& s, const std::shared_ptr<Scope>& scope) {
  Frame frame(*this);
  charge(1);
  line_ = s.line;
  switch (s.kind) {
    case StmtKind::kText: append(s.text); return Flow::kNormal;
    case StmtKind::kOutput: append(to_str(eval(*s.expr, *scope))); return Flow::kNormal;
    case StmtKind::kIf:
      for (size_t i = 0; i < s.conds.size(); ++i)
        if (truthy(eval(*s.conds[i], *scope))) return exec_body(s.bodies[i], scope);
      return exec_body(s.else_body, scope);
    case StmtKind::kFor: exec_for(s, scope); return Flow::kNormal;
    case StmtKind::kSet: assign(*s.target, eval(*s.expr, *scope), *scope); return Flow::kNormal;
    case StmtKind::kSetBlock: {
      Value v = Value::string(capture(s.body, scope));
      if (s.expr) v = apply_filters(*s.expr, std::move(v), *scope);
      scope->set(s.text, std::move(v));
      return Flow::kNormal;
    }
    case StmtKind::kMacro:
      scope->set(s.macro->name, make_macro(s.macro, scope));
      return Flow::kNormal;
    case StmtKind::kCallBlock: {
      Value caller = make_macro(s.macro, scope);
      const Expr& call = *s.expr;
      Value callee = eval(*call.children[0], *scope);
      CallArgs args;
      eval_args(call, *scope, args);
      args.kw.emplace_back("caller", std::move(caller));
      append(to_str(this->call(callee, args)));
      return Flow::kNormal;
    }
    case StmtKind::kFilterBlock:
      append(to_str(apply_filters(*s.expr, Value::string(capture(s.body, scope)), *scope)));
      return Flow::kNormal;
    case StmtKind::kBreak: return Flow::kBreak;
    case StmtKind::kContinue: return Flow::kContinue;
  }
  return Flow::kNormal;
}

void Interpreter::exec_for(const Stmt& s, const std::shared_ptr<Scope>& scope) {
  std::vector<Value> items = iterate(eval(*s.expr, *scope));
  if (s.cond) {
    std::vector<Value> kept;
    for (Value& item : items) {
      charge(1);
      auto probe = std::make_shared<Scope>(scope);
      assign(*s.target, item, *probe);
      if (truthy(eval(*s.cond, *probe))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    exec_body(s.else_body, scope);
    return;
  }
  auto state = std::make_shared<LoopState>();
  state->items = std::make_shared<List>();
  state->items->items = std::move(items);
  loops_.push_back(state);
  Value loop = Value::loop(state);
  const size_t n = state->items->items.size();
  for (size_t i = 0; i < n; ++i) {
    charge(1);
    state->index0 = i;
    auto child = std::make_shared<Scope>(scope);
    assign(*s.target, state->items->items[i], *child);
    child->set("loop", loop);
    if (exec_body(s.body, child) == Flow::kBreak) break;
  }
}

void Interpreter::assign(const Expr& target, Value v, Scope& scope) {
  if (target.kind == ExprKind::kName) {
    scope.set(target.name, std::move(v));
    return;
  }
  if (target.kind == ExprKind::kTuple) {
    std::vector<Value> parts = iterate(v);
    size_t want = target.children.size();
    if (parts.size() < want)
      fail("ValueError", "not enough values to unpack (expected " + std::to_string(want) +
                             ", got " + std::to_string(parts.size()) + ")");
    if (parts.size() > want)
      fail("ValueError", "too many values to unpack (expected " + std::to_string(want) + ")");
    for (size_t i = 0; i < want; ++i) assign(*target.children[i], std::move(parts[i]), scope);
    return;
  }
  if (target.kind == ExprKind::kGetattr) {  // {% set ns.attr = ... %}
    Value obj = lookup(target.children[0]->name, scope);
    if (obj.kind() != Kind::kNamespace)
      fail("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
    obj.as_ns().set(target.name, std::move(v));
    return;
  }
  fail("TemplateRuntimeError", "cannot assign to this target");
}

Value Interpreter::apply_filters(const Expr& chain, Value input, Scope& scope) {
  // The chain is nested innermost-first; its innermost input slot is empty.
  Value base = chain.children[0] ? apply_filters(*chain.children[0], std::move(input), scope)
                                 : std::move(input);
  CallArgs args;
  eval_args(chain, scope, args);
  return chain.filter(*this, base, args);
}

// ---- macros ------------------------------------------------------------------------------

Value Interpreter::make_macro(std::shared_ptr<MacroDef> def,
                              const std::shared_ptr<Scope>& closure) {
  // The closure is weak: the scope usually holds the macro itself, and a strong reference
  // would leak the pair. A macro that outlives its scope falls back to the template root.
  std::weak_ptr<Scope> weak = closure;
  std::string name = def->name;
  return Value::callable(name, [def = std::move(def), weak](Interpreter& in, CallArgs& args) {
    return in.invoke_macro(*def, weak, args);
  });
}

Value Interpreter::invoke_macro(const MacroDef& def, const std::weak_ptr<Scope>& closure,
                                CallArgs& args) {
  if (call_depth_ >= limits_.max_call_depth)
    fail("RecursionError", "maximum macro call depth exceeded in '" + def.name + "'");
  charge(1);
  std::shared_ptr<Scope> parent = closure.lock();
  auto scope = std::make_shared<Scope>(parent ? parent : root_);
  const size_t np = def.params.size();
  if (args.pos.size() > np && !def.uses_varargs)
    fail("TypeError",
         "macro '" + def.name + "' takes not more than " + std::to_string(np) + " argument(s)");
  std::vector<bool> used(args.kw.size(), false);
  for (size_t i = 0; i < np; ++i) {
    const MacroParam& p = def.params[i];
    int kw_index = -1;
    for (size_t k = 0; k < args.kw.size(); ++k)
      if (args.kw[k].first == p.name) kw_index = static_cast<int>(k);
    if (i < args.pos.size()) {
      if (kw_index >= 0)
        fail("TypeError",
             "macro '" + def.name + "' got multiple values for argument '" + p.name + "'");
      scope->set(p.name, args.pos[i]);
    } else if (kw_index >= 0) {
      used[kw_index] = true;
      scope->set(p.name, args.kw[kw_index].second);
    } else if (p.default_value) {
      scope->set(p.name, eval(*p.default_value, *scope));
    } else {
      scope->set(p.name, Value::undefined("parameter '" + p.name + "' was not provided"));
    }
  }
  if (def.uses_caller) scope->set("caller", Value::undefined("No caller defined"));
  auto extra_kwargs = std::make_shared<Dict>();
  for (size_t k = 0; k < args.kw.size(); ++k) {
    if (used[k]) continue;
    bool is_param = false;
    for (const MacroParam& p : def.params) is_param |= p.name == args.kw[k].first;
    if (is_param) continue;  // bound positionally above and reported there
    if (args.kw[k].first == "caller" && def.uses_caller) {
      scope->set("caller", args.kw[k].second);
    } else if (def.uses_kwargs) {
      extra_kwargs->set(Value::string(args.kw[k].first), args.kw[k].second);
    } else {
      fail("TypeError",
           "macro '" + def.name + "' takes no keyword argument '" + args.kw[k].first + "'");
    }
  }
  if (def.uses_varargs) {
    std::vector<Value> rest;
    for (size_t i = np; i < args.pos.size(); ++i) rest.push_back(args.pos[i]);
    scope->set("varargs", Value::tuple(std::move(rest)));
  }
  if (def.uses_kwargs) scope->set("kwargs", Value::dict(extra_kwargs));
  ++call_depth_;
  std::string result;
  try {
    result = capture(def.body, scope);
  } catch (...) {
    --call_depth_;
    throw;
  }
  --call_depth_;
  return Value::string(std::move(result));
}

// ---- expressions -------------------------------------------------------------------------

Value Interpreter::lookup(const std::string& name, Scope& scope) {
  if (const Value* v = scope.find(name)) return *v;
  Value g = lookup_global(name);
  if (!g.is_undefined()) return g;
  return Value::undefined("'" + name + "' is undefined");
}

static Value undefined_use(const Value& v) {
  fail("UndefinedError", v.str());
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  charge(1);
  if (callee.is_callable()) return callee.as_callable().fn(*this, args);
  if (callee.is_undefined()) undefined_use(callee);
  fail("TypeError", "'" + type_name(callee) + "' object is not callable");
}

void Interpreter::eval_args(const Expr& e, Scope& scope, CallArgs& out) {
  for (const ExprPtr& a : e.args) out.pos.push_back(eval(*a, scope));
  if (e.star_args)
    for (Value& v : iterate(eval(*e.star_args, scope))) out.pos.push_back(std::move(v));
  for (const auto& [k, a] : e.kwargs) out.kw.emplace_back(k, eval(*a, scope));
  if (e.star_kwargs) {
    Value d = eval(*e.star_kwargs, scope);
    if (!d.is_dict()) fail("TypeError", "argument after ** must be a mapping, not " + type_name(d));
    for (const auto& [k, v] : d.as_dict().items) {
      if (!k.is_string()) fail("TypeError", "keywords must be strings");
      out.kw.emplace_back(k.str(), v);
    }
  }
}

Value Interpreter::eval_call(const Expr& e, Scope& scope) {
  const Expr& callee = *e.children[0];
  if (callee.kind == ExprKind::kGetattr) {
    Value obj = eval(*callee.children[0], scope);
    if (obj.is_undefined()) undefined_use(obj);
    if (has_method(obj, callee.name)) {  // Python attributes win over dict keys
      CallArgs args;
      eval_args(e, scope, args);
      bool found = false;
      charge(1);
      Value r = call_method(*this, obj, callee.name, args, &found);
      if (found) return r;
    }
    Value fn = getattr(obj, callee.name);
    CallArgs args;
    eval_args(e, scope, args);
    return call(fn, args);
  }
  Value fn = eval(callee, scope);
  CallArgs args;
  eval_args(e, scope, args);
  return call(fn, args);
}

Value Interpreter::eval(const Expr& e, Scope& scope) {
  Frame frame(*this);
  charge(1);
  if (e.line) line_ = e.line;
  switch (e.kind) {
    case ExprKind::kLiteral: return e.literal;
    case ExprKind::kName: return lookup(e.name, scope);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      items.reserve(e.children.size());
      for (const ExprPtr& c : e.children) items.push_back(eval(*c, scope));
      return e.kind == ExprKind::kList ? Value::list(std::move(items))
                                       : Value::tuple(std::move(items));
    }
    case ExprKind::kDict: {
      auto d = std::make_shared<Dict>();
      for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
        Value k = eval(*e.children[i], scope);
        if (!is_hashable(k)) fail("TypeError", "unhashable type: '" + type_name(k) + "'");
        d->set(std::move(k), eval(*e.children[i + 1], scope));
      }
      return Value::dict(std::move(d));
    }
    case ExprKind::kGetattr: return getattr(eval(*e.children[0], scope), e.name);
    case ExprKind::kGetitem:
      return getitem(eval(*e.children[0], scope), eval(*e.children[1], scope));
    case ExprKind::kSlice: {
      if (e.children.size() != 4) fail("TypeError", "slices are only supported as subscripts");
      Value obj = eval(*e.children[0], scope);
      Value parts[3];
      for (int i = 0; i < 3; ++i)
        parts[i] = e.children[i + 1] ? eval(*e.children[i + 1], scope) : Value::none();
      return eval_slice(obj, parts[0], parts[1], parts[2]);
    }
    case ExprKind::kCall: return eval_call(e, scope);
    case ExprKind::kFilter: {
      Value input = eval(*e.children[0], scope);
      CallArgs args;
      eval_args(e, scope, args);
      return e.filter(*this, input, args);
    }
    case ExprKind::kTest: {
      Value input = eval(*e.children[0], scope);
      CallArgs args;
      eval_args(e, scope, args);
      bool r = e.test(*this, input, args);
      return Value::boolean(e.negated ? !r : r);
    }
    case ExprKind::kNot: return Value::boolean(!truthy(eval(*e.children[0], scope)));
    case ExprKind::kNeg:
    case ExprKind::kPos: {
      Value v = eval(*e.children[0], scope);
      if (v.is_undefined()) undefined_use(v);
      if (v.is_float())
        return Value::number(e.kind == ExprKind::kNeg ? -v.as_double() : v.as_double());
      if (v.is_int() || v.is_bool()) {
        int64_t i = v.as_int();
        if (e.kind == ExprKind::kPos) return Value::integer(i);
        if (i == INT64_MIN) fail("OverflowError", "integer overflow");
        return Value::integer(-i);
      }
      fail("TypeError", std::string("bad operand type for unary ") +
                            (e.kind == ExprKind::kNeg ? "-" : "+") + ": '" + type_name(v) + "'");
    }
    case ExprKind::kAnd: {
      Value a = eval(*e.children[0], scope);
      return truthy(a) ? eval(*e.children[1], scope) : a;
    }
    case ExprKind::kOr: {
      Value a = eval(*e.children[0], scope);
      return truthy(a) ? a : eval(*e.children[1], scope);
    }
    case ExprKind::kBinary:
      return eval_binary(e.name, eval(*e.children[0], scope), eval(*e.children[1], scope));
    case ExprKind::kCompare: return eval_compare(e, scope);
    case ExprKind::kCondExpr:
      if (truthy(eval(*e.children[0], scope))) return eval(*e.children[1], scope);
      if (e.children[2]) return eval(*e.children[2], scope);
      return Value::undefined(
          "the inline if-expression evaluated to false and no else section "
          "was defined.");
  }
  return Value();
}

static bool contains(Interpreter& in, const Value& container, const Value& item) {
  if (container.is_generator()) {
    for (const Value& x : in.iterate(container))
      if (equals(x, item)) return true;
    return false;
  }
  switch (container.kind()) {
    case Kind::kString:
      if (!item.is_string())
        fail("TypeError", "'in <string>' requires string as left operand, not " + type_name(item));
      return container.str().find(item.str()) != std::string::npos;
    case Kind::kList:
      for (const Value& x : container.as_list().items)
        if (equals(x, item)) return true;
      return false;
    case Kind::kDict:
      if (!is_hashable(item)) fail("TypeError", "unhashable type: '" + type_name(item) + "'");
      return container.as_dict().find(item) != nullptr;
    case Kind::kUndefined: return false;  // iterating an undefined yields nothing
    default: fail("TypeError", "argument of type '" + type_name(container) + "' is not iterable");
  }
}

Value Interpreter::eval_compare(const Expr& e, Scope& scope) {
  Value left = eval(*e.children[0], scope);
  for (size_t i = 0; i < e.ops.size(); ++i) {
    Value right = eval(*e.children[i + 1], scope);
    const std::string& op = e.ops[i];
    bool r;
    if (op == "==") {
      r = equals(left, right);
    } else if (op == "!=") {
      r = !equals(left, right);
    } else if (op == "in") {
      r = contains(*this, right, left);
    } else if (op == "notin") {
      r = !contains(*this, right, left);
    } else {
      if (left.is_undefined()) undefined_use(left);
      if (right.is_undefined()) undefined_use(right);
      int c = compare(left, right, op.c_str());
      r = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
    }
    if (!r) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

}  // namespace insitu::chat::jinja
