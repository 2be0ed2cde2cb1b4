#include "chat/jinja_value.h"

#include <algorithm>
#include <cmath>

#include "chat/jinja_strings.h"

namespace insitu::chat::jinja {

void fail(const char* type, const std::string& message) {
  throw JinjaError(type, message);
}

Value Value::undefined(std::string hint) {
  Value v;
  v.str_ = std::move(hint);
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}

Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}

Value Value::number(double d) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.f_ = d;
  return v;
}

Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.str_ = std::move(s);
  return v;
}

static int children_depth(const std::vector<Value>& items) {
  int d = 0;
  for (const Value& x : items) d = std::max(d, x.depth());
  return d;
}

Value Value::list(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::kList;
  auto l = std::make_shared<List>();
  l->depth = children_depth(items) + 1;
  if (l->depth > kMaxValueDepth) fail("LimitError", "containers nested too deeply");
  l->items = std::move(items);
  v.obj_ = std::move(l);
  return v;
}

Value Value::tuple(std::vector<Value> items) {
  Value v = list(std::move(items));
  v.tuple_ = true;
  return v;
}

Value Value::generator(std::vector<Value> items, const char* type) {
  Value v = list(std::move(items));
  v.as_list().gen_type = type;
  return v;
}

bool Value::is_generator() const {
  return kind_ == Kind::kList && as_list().gen_type != nullptr;
}

Value Value::dict(std::shared_ptr<Dict> d) {
  int depth = 0;
  for (auto& [k, x] : d->items) depth = std::max({depth, k.depth(), x.depth()});
  d->depth = depth + 1;
  if (d->depth > kMaxValueDepth) fail("LimitError", "containers nested too deeply");
  Value v;
  v.kind_ = Kind::kDict;
  v.obj_ = std::move(d);
  return v;
}

Value Value::dict() {
  return dict(std::make_shared<Dict>());
}

Value Value::ns(std::shared_ptr<Namespace> n) {
  Value v;
  v.kind_ = Kind::kNamespace;
  v.obj_ = std::move(n);
  return v;
}

Value Value::loop(std::shared_ptr<LoopState> l) {
  Value v;
  v.kind_ = Kind::kLoop;
  v.obj_ = std::move(l);
  return v;
}

Value Value::callable(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn) {
  Value v;
  v.kind_ = Kind::kCallable;
  v.obj_ = std::make_shared<Callable>(Callable{std::move(name), std::move(fn)});
  return v;
}

Value Value::from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return none();
    case nlohmann::ordered_json::value_t::boolean: return boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return integer(static_cast<int64_t>(u));
      return number(static_cast<double>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return number(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(from_json(x));
      return list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      auto d = std::make_shared<Dict>();
      d->items.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it)
        d->items.emplace_back(string(it.key()), from_json(it.value()));
      return dict(std::move(d));
    }
    default: return none();  // binary / discarded: not produced by JSON text
  }
}

double Value::as_double() const {
  switch (kind_) {
    case Kind::kFloat: return f_;
    case Kind::kInt: return static_cast<double>(i_);
    case Kind::kBool: return b_ ? 1.0 : 0.0;
    default: return 0.0;
  }
}

int Value::depth() const {
  if (kind_ == Kind::kList) return as_list().depth;
  if (kind_ == Kind::kDict) return as_dict().depth;
  return 0;
}

const Value* Dict::find(const Value& key) const {
  for (const auto& kv : items)
    if (equals(kv.first, key)) return &kv.second;
  return nullptr;
}

const Value* Dict::find(const std::string& key) const {
  for (const auto& kv : items)
    if (kv.first.is_string() && kv.first.str() == key) return &kv.second;
  return nullptr;
}

void Dict::set(Value key, Value value) {
  for (auto& kv : items) {
    if (equals(kv.first, key)) {
      kv.second = std::move(value);
      return;
    }
  }
  items.emplace_back(std::move(key), std::move(value));
}

const Value* Namespace::find(const std::string& name) const {
  for (const auto& kv : attrs)
    if (kv.first == name) return &kv.second;
  return nullptr;
}

void Namespace::set(const std::string& name, Value value) {
  for (auto& kv : attrs) {
    if (kv.first == name) {
      kv.second = std::move(value);
      return;
    }
  }
  attrs.emplace_back(name, std::move(value));
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool: return v.as_bool();
    case Kind::kInt: return v.as_int() != 0;
    case Kind::kFloat: return v.as_double() != 0.0;
    case Kind::kString: return !v.str().empty();
    case Kind::kList: return v.is_generator() || !v.as_list().items.empty();
    case Kind::kDict: return !v.as_dict().items.empty();
    default: return true;
  }
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList:
      if (v.is_generator()) return v.as_list().gen_type;
      return v.is_tuple() ? "tuple" : "list";
    case Kind::kDict: return "dict";
    case Kind::kNamespace: return "Namespace";
    case Kind::kLoop: return "LoopContext";
    case Kind::kCallable: return "function";
  }
  return "object";
}

namespace {

struct DepthGuard {
  explicit DepthGuard(int& d) : d_(d) {
    if (++d_ > kMaxValueDepth) {
      --d_;
      fail("RecursionError", "maximum recursion depth exceeded while converting a value");
    }
  }
  ~DepthGuard() { --d_; }
  int& d_;
};

thread_local int g_depth = 0;

void repr_into(std::string& out, const Value& v) {
  DepthGuard guard(g_depth);
  switch (v.kind()) {
    case Kind::kUndefined: out += "Undefined"; return;
    case Kind::kNone: out += "None"; return;
    case Kind::kBool: out += v.as_bool() ? "True" : "False"; return;
    case Kind::kInt: out += std::to_string(v.as_int()); return;
    case Kind::kFloat: out += py_float_repr(v.as_double()); return;
    case Kind::kString: out += py_repr_string(v.str()); return;
    case Kind::kList: {
      if (v.is_generator()) {
        out += "<" + type_name(v) + " object>";
        return;
      }
      const auto& items = v.as_list().items;
      out += v.is_tuple() ? "(" : "[";
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        repr_into(out, items[i]);
      }
      if (v.is_tuple() && items.size() == 1) out += ",";
      out += v.is_tuple() ? ")" : "]";
      return;
    }
    case Kind::kDict: {
      out += "{";
      bool first = true;
      for (const auto& [k, x] : v.as_dict().items) {
        if (!first) out += ", ";
        first = false;
        repr_into(out, k);
        out += ": ";
        repr_into(out, x);
      }
      out += "}";
      return;
    }
    case Kind::kNamespace: {
      out += "<Namespace {";
      bool first = true;
      for (const auto& [k, x] : v.as_ns().attrs) {
        if (!first) out += ", ";
        first = false;
        out += py_repr_string(k) + ": ";
        repr_into(out, x);
      }
      out += "}>";
      return;
    }
    case Kind::kLoop: {
      const LoopState& l = v.as_loop();
      out += "<LoopContext " + std::to_string(l.index0 + 1) + "/" +
             std::to_string(l.items->items.size()) + ">";
      return;
    }
    case Kind::kCallable: out += "<Macro '" + v.as_callable().name + "'>"; return;
  }
}

}  // namespace

std::string repr(const Value& v) {
  std::string out;
  repr_into(out, v);
  return out;
}

std::string to_str(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return "";
    case Kind::kString: return v.str();
    default: return repr(v);
  }
}

bool equals(const Value& a, const Value& b) {
  DepthGuard guard(g_depth);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNone: return true;
    case Kind::kString: return a.str() == b.str();
    case Kind::kList: {
      if (a.is_generator() || b.is_generator()) return a.identity() == b.identity();
      if (a.is_tuple() != b.is_tuple()) return false;
      const auto& x = a.as_list().items;
      const auto& y = b.as_list().items;
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!equals(x[i], y[i])) return false;
      return true;
    }
    case Kind::kDict: {
      const Dict& x = a.as_dict();
      const Dict& y = b.as_dict();
      if (x.items.size() != y.items.size()) return false;
      for (const auto& [k, val] : x.items) {
        const Value* other = y.find(k);
        if (!other || !equals(val, *other)) return false;
      }
      return true;
    }
    default: return a.identity() == b.identity();
  }
}

int compare(const Value& a, const Value& b, const char* op) {
  DepthGuard guard(g_depth);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      double x = a.as_double(), y = b.as_double();
      return x < y ? -1 : (x > y ? 1 : 0);  // NaN compares as equal-ish: both false
    }
    int64_t x = a.as_int(), y = b.as_int();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    int c = a.str().compare(b.str());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_sequence() && b.is_sequence() && a.is_tuple() == b.is_tuple()) {
    const auto& x = a.as_list().items;
    const auto& y = b.as_list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (equals(x[i], y[i])) continue;
      return compare(x[i], y[i], op);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  fail("TypeError", std::string("'") + op + "' not supported between instances of '" +
                        type_name(a) + "' and '" + type_name(b) + "'");
}

bool is_hashable(const Value& v) {
  if (v.kind() == Kind::kDict) return false;
  if (v.kind() == Kind::kList) {
    if (v.is_generator()) return true;
    if (!v.is_tuple()) return false;
    for (const Value& x : v.as_list().items)
      if (!is_hashable(x)) return false;
  }
  return true;
}

namespace {

void json_key(std::string& out, const Value& k) {
  switch (k.kind()) {
    case Kind::kString: json_escape_into(out, k.str()); return;
    case Kind::kInt: out += "\"" + std::to_string(k.as_int()) + "\""; return;
    case Kind::kFloat: out += "\"" + py_float_repr(k.as_double()) + "\""; return;
    case Kind::kBool: out += k.as_bool() ? "\"true\"" : "\"false\""; return;
    case Kind::kNone: out += "\"null\""; return;
    default: fail("TypeError", "keys must be str, int, float, bool or None, not " + type_name(k));
  }
}

void json_into(std::string& out, const Value& v, const JsonStyle& st, int level) {
  const bool use_indent = st.use_indent;
  const std::string& indent = st.indent;
  const bool sort_keys = st.sort_keys;
  DepthGuard guard(g_depth);
  auto newline = [&](int lvl) {
    out.push_back('\n');
    for (int i = 0; i < lvl; ++i) out += indent;
  };
  switch (v.kind()) {
    case Kind::kNone: out += "null"; return;
    case Kind::kBool: out += v.as_bool() ? "true" : "false"; return;
    case Kind::kInt: out += std::to_string(v.as_int()); return;
    case Kind::kFloat: {
      double d = v.as_double();
      if (std::isnan(d))
        out += "NaN";
      else if (std::isinf(d))
        out += d < 0 ? "-Infinity" : "Infinity";
      else
        out += py_float_repr(d);
      return;
    }
    case Kind::kString: json_escape_into(out, v.str()); return;
    case Kind::kList: {
      if (v.is_generator())
        fail("TypeError", "Object of type " + type_name(v) + " is not JSON serializable");
      const auto& items = v.as_list().items;
      if (items.empty()) {
        out += "[]";
        return;
      }
      out += "[";
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += st.item_sep;
        if (use_indent) newline(level + 1);
        json_into(out, items[i], st, level + 1);
      }
      if (use_indent) newline(level);
      out += "]";
      return;
    }
    case Kind::kDict: {
      std::vector<const std::pair<Value, Value>*> items;
      for (const auto& kv : v.as_dict().items) items.push_back(&kv);
      if (items.empty()) {
        out += "{}";
        return;
      }
      if (sort_keys) {
        std::stable_sort(items.begin(), items.end(),
                         [](auto* a, auto* b) { return compare(a->first, b->first, "<") < 0; });
      }
      out += "{";
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += st.item_sep;
        if (use_indent) newline(level + 1);
        json_key(out, items[i]->first);
        out += st.key_sep;
        json_into(out, items[i]->second, st, level + 1);
      }
      if (use_indent) newline(level);
      out += "}";
      return;
    }
    default: fail("TypeError", "Object of type " + type_name(v) + " is not JSON serializable");
  }
}

}  // namespace

std::string to_json(const Value& v, const JsonStyle& style) {
  std::string out;
  json_into(out, v, style, 0);
  return out;
}

std::string missing_attr_hint(const Value& obj, const Value& name) {
  std::string obj_repr = obj.is_none() ? "None" : type_name(obj) + " object";
  if (name.is_string()) return "'" + obj_repr + "' has no attribute '" + name.str() + "'";
  return "'" + obj_repr + "' has no element " + repr(name);
}

}  // namespace insitu::chat::jinja
