// The Jinja2 value model: Python objects as a Jinja2 sandbox sees them.
//
// Values have Python reference semantics: lists, dicts, namespaces and callables are shared
// through shared_ptr, and only namespaces (and loop state) are ever mutated, because the
// template environment of transformers is jinja2's ImmutableSandboxedEnvironment.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace insitu::chat::jinja {

class Interpreter;
class Value;

// A Python-level exception raised while rendering: `type` is the Python class name
// ("TypeError", "UndefinedError", "TemplateError", ...), which ends up in the message.
class JinjaError : public std::runtime_error {
 public:
  JinjaError(std::string type, const std::string& message)
      : std::runtime_error(message), type_(std::move(type)) {}
  const std::string& type() const { return type_; }
  int line = 0;  // template line, once known

 private:
  std::string type_;
};

[[noreturn]] void fail(const char* type, const std::string& message);

enum class Kind : uint8_t {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,  // also tuples (Value::is_tuple)
  kDict,
  kNamespace,
  kLoop,
  kCallable,
};

struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};

struct List;
struct Dict;
struct Namespace;
struct LoopState;
struct Callable;

class Value {
 public:
  Value() = default;  // undefined without a hint
  static Value undefined(std::string hint);
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double d);
  static Value string(std::string s);
  static Value list(std::vector<Value> items);
  static Value tuple(std::vector<Value> items);
  // A one-shot Python iterator (what jinja2's map/select/... filters return): iterable once,
  // always truthy, without len() and not JSON serializable. `type` is its Python type name.
  static Value generator(std::vector<Value> items, const char* type = "generator");
  static Value dict(std::shared_ptr<Dict> d);
  static Value dict();
  static Value ns(std::shared_ptr<Namespace> n);
  static Value loop(std::shared_ptr<LoopState> l);
  static Value callable(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn);
  static Value from_json(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || is_bool(); }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_tuple() const { return kind_ == Kind::kList && tuple_; }
  bool is_generator() const;
  // A real list or tuple (not a generator): indexable, sized, serializable.
  bool is_sequence() const { return kind_ == Kind::kList && !is_generator(); }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_callable() const { return kind_ == Kind::kCallable; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }
  double as_double() const;                        // int, bool or float
  const std::string& str() const { return str_; }  // string value, or the undefined hint
  List& as_list() const { return *static_cast<List*>(obj_.get()); }
  Dict& as_dict() const { return *static_cast<Dict*>(obj_.get()); }
  Namespace& as_ns() const { return *static_cast<Namespace*>(obj_.get()); }
  LoopState& as_loop() const { return *static_cast<LoopState*>(obj_.get()); }
  Callable& as_callable() const { return *static_cast<Callable*>(obj_.get()); }
  std::shared_ptr<Namespace> ns_ptr() const { return std::static_pointer_cast<Namespace>(obj_); }
  std::shared_ptr<LoopState> loop_ptr() const { return std::static_pointer_cast<LoopState>(obj_); }
  const void* identity() const { return obj_.get(); }

  // Nesting depth of containers (1 for a flat list); scalars and namespaces count 0.
  int depth() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool tuple_ = false;
  union {
    bool b_;
    int64_t i_ = 0;
    double f_;
  };
  std::string str_;
  std::shared_ptr<void> obj_;
};

struct List {
  std::vector<Value> items;
  int depth = 1;
  const char* gen_type = nullptr;  // non-null for generators
  bool consumed = false;           // generators iterate once
};

struct Dict {
  std::vector<std::pair<Value, Value>> items;
  int depth = 1;
  const Value* find(const Value& key) const;
  const Value* find(const std::string& key) const;
  void set(Value key, Value value);  // keeps the first insertion position, like Python
};

struct Namespace {
  std::vector<std::pair<std::string, Value>> attrs;
  const Value* find(const std::string& name) const;
  void set(const std::string& name, Value value);
};

struct LoopState {
  std::shared_ptr<List> items;
  size_t index0 = 0;
  Value last_changed;  // loop.changed() memory; undefined until first call
  bool has_changed = false;
};

struct Callable {
  std::string name;
  std::function<Value(Interpreter&, CallArgs&)> fn;
};

// Maximum nesting of containers and of recursive conversions (repr, tojson, comparisons).
inline constexpr int kMaxValueDepth = 400;

bool truthy(const Value& v);
std::string type_name(const Value& v);  // Python's type(v).__name__
std::string to_str(const Value& v);     // Python str(v); undefined prints as ""
std::string repr(const Value& v);       // Python repr(v)
bool equals(const Value& a, const Value& b);
int compare(const Value& a, const Value& b, const char* op);  // <0, 0, >0; TypeError if unordered
bool is_hashable(const Value& v);
// Separators and indentation of json.dumps (transformers' tojson: ensure_ascii=False).
struct JsonStyle {
  bool use_indent = false;
  std::string indent;           // one level, when use_indent
  std::string item_sep = ", ";  // json.dumps uses "," when indenting
  std::string key_sep = ": ";
  bool sort_keys = false;
};
std::string to_json(const Value& v, const JsonStyle& style);
// Undefined hint text for a failed lookup, as jinja2 words it.
std::string missing_attr_hint(const Value& obj, const Value& name);

}  // namespace insitu::chat::jinja
