// Tree-walking Jinja2 renderer with jinja2's scoping (for-loops and macros open scopes, if
// does not), sandbox attribute rules, and hard limits so hostile templates cannot hang or
// exhaust memory.
#pragma once

#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace insitu::chat::jinja {

struct RenderLimits {
  size_t max_output_bytes = 64u << 20;  // also caps every string built while rendering
  size_t max_items = 1u << 22;          // elements of any list built while rendering
  int max_call_depth = 64;              // nested macro calls
  int max_recursion = 1500;             // nested evaluation frames of any kind
  uint64_t max_steps = 200'000'000;     // evaluation steps (loop iterations, nodes, work)
};

class Scope {
 public:
  explicit Scope(std::shared_ptr<Scope> parent = nullptr) : parent_(std::move(parent)) {}
  const Value* find(const std::string& name) const;
  void set(const std::string& name, Value v);
  const std::shared_ptr<Scope>& parent() const { return parent_; }

 private:
  std::shared_ptr<Scope> parent_;
  std::vector<std::pair<std::string, Value>> vars_;
};

class Interpreter {
 public:
  Interpreter(const RenderLimits& limits, std::function<std::time_t()> clock);
  ~Interpreter();

  // Renders `body` with `context` as the template's root variables.
  std::string render(const Body& body, std::shared_ptr<Scope> context);

  // Operations filters, tests and methods share with the evaluator.
  Value call(const Value& callee, CallArgs& args);
  Value getattr(const Value& obj, const std::string& name);
  Value getitem(const Value& obj, const Value& key);
  std::vector<Value> iterate(const Value& v);  // Python iter(); undefined is empty
  Value make_namespace();                      // tracked so cycles are broken after render
  void charge(uint64_t steps);                 // counts work against max_steps
  void check_string(size_t bytes) const;       // LimitError past max_output_bytes
  void check_items(size_t n) const;            // LimitError past max_items
  Value binop(const std::string& op, const Value& a, const Value& b) {
    return eval_binary(op, a, b);
  }
  std::time_t now() const { return clock_(); }
  const RenderLimits& limits() const { return limits_; }

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  struct Frame;

  Flow exec_body(const Body& body, const std::shared_ptr<Scope>& scope);
  Flow exec(const Stmt& s, const std::shared_ptr<Scope>& scope);
  void exec_for(const Stmt& s, const std::shared_ptr<Scope>& scope);
  void assign(const Expr& target, Value v, Scope& scope);
  std::string capture(const Body& body, const std::shared_ptr<Scope>& scope);
  Value apply_filters(const Expr& chain, Value input, Scope& scope);

  Value eval(const Expr& e, Scope& scope);
  Value eval_call(const Expr& e, Scope& scope);
  void eval_args(const Expr& e, Scope& scope, CallArgs& out);
  Value eval_binary(const std::string& op, const Value& a, const Value& b);
  Value eval_compare(const Expr& e, Scope& scope);
  Value eval_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
  Value lookup(const std::string& name, Scope& scope);
  Value make_macro(std::shared_ptr<MacroDef> def, const std::shared_ptr<Scope>& closure);
  Value invoke_macro(const MacroDef& def, const std::weak_ptr<Scope>& closure, CallArgs& args);
  void append(const std::string& s);

  RenderLimits limits_;
  std::function<std::time_t()> clock_;
  std::string* out_ = nullptr;
  std::shared_ptr<Scope> root_;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
  int recursion_ = 0;
  int line_ = 0;  // template line of the node being evaluated, for error messages
  std::vector<std::shared_ptr<Namespace>> namespaces_;
  std::vector<std::shared_ptr<LoopState>> loops_;
};

// Methods of str, dict and list that the sandbox allows; `found` is false when `obj` has no
// such method (the caller then falls back to item lookup).
Value call_method(Interpreter& in, const Value& obj, const std::string& name, CallArgs& args,
                  bool* found);
bool has_method(const Value& obj, const std::string& name);
// The template globals: range, namespace, dict, joiner, cycler-free subset, raise_exception,
// strftime_now. Returns undefined when `name` is not one.
Value lookup_global(const std::string& name);
// Python's printf-style formatting: fmt % args (used by "%" on strings and the format filter).
std::string percent_format(Interpreter& in, const std::string& fmt, const Value& args);
// str.format with positional and keyword arguments.
std::string str_format(Interpreter& in, const std::string& fmt, CallArgs& args);

}  // namespace insitu::chat::jinja
