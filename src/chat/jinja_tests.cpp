// Jinja2's builtin tests (`x is defined`, `x is divisibleby 3`, ...).
#include <cmath>
#include <unordered_map>

#include "chat/jinja_args.h"
#include "chat/jinja_interp.h"
#include "chat/jinja_parser.h"
#include "chat/jinja_strings.h"

namespace insitu::chat::jinja {

namespace {

const Value& arg0(const CallArgs& args, const char* test) {
  if (args.pos.empty()) fail("TypeError", std::string(test) + "() missing 1 required argument");
  return args.pos[0];
}

bool t_defined(Interpreter&, const Value& v, CallArgs&) {
  return !v.is_undefined();
}
bool t_undefined(Interpreter&, const Value& v, CallArgs&) {
  return v.is_undefined();
}
bool t_none(Interpreter&, const Value& v, CallArgs&) {
  return v.is_none();
}
bool t_boolean(Interpreter&, const Value& v, CallArgs&) {
  return v.is_bool();
}
bool t_true(Interpreter&, const Value& v, CallArgs&) {
  return v.is_bool() && v.as_bool();
}
bool t_false(Interpreter&, const Value& v, CallArgs&) {
  return v.is_bool() && !v.as_bool();
}
bool t_integer(Interpreter&, const Value& v, CallArgs&) {
  return v.is_int();
}
bool t_float(Interpreter&, const Value& v, CallArgs&) {
  return v.is_float();
}
bool t_number(Interpreter&, const Value& v, CallArgs&) {
  return v.is_number();
}
bool t_string(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string();
}
bool t_mapping(Interpreter&, const Value& v, CallArgs&) {
  return v.is_dict();
}
bool t_callable(Interpreter&, const Value& v, CallArgs&) {
  return v.is_callable();
}

// iter() works on str, list, tuple, dict and on jinja2's Undefined (which iterates as empty).
bool t_iterable(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined() || v.kind() == Kind::kLoop;
}

// len() plus __getitem__: str, list, tuple, dict, and Undefined again.
bool t_sequence(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string() || v.is_sequence() || v.is_dict() || v.is_undefined();
}

bool t_sameas(Interpreter&, const Value& v, CallArgs& args) {
  const Value& o = arg0(args, "sameas");
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case Kind::kNone:
    case Kind::kUndefined: return true;
    case Kind::kBool: return v.as_bool() == o.as_bool();
    case Kind::kInt: return v.as_int() == o.as_int();  // CPython caches small ints; close enough
    case Kind::kFloat: return false;
    case Kind::kString: return v.str() == o.str();
    default: return v.identity() == o.identity();
  }
}

bool t_escaped(Interpreter&, const Value&, CallArgs&) {
  return false;
}  // no Markup values

int64_t int_value(const Value& v, const char* test) {
  if (v.is_undefined()) fail("UndefinedError", v.str());
  if (v.is_int() || v.is_bool()) return v.as_int();
  fail("TypeError", std::string(test) + ": unsupported operand type '" + type_name(v) + "'");
}

bool t_odd(Interpreter&, const Value& v, CallArgs&) {
  if (v.is_float()) return std::fmod(std::fabs(v.as_double()), 2.0) == 1.0;
  return (int_value(v, "odd") & 1) != 0;
}

bool t_even(Interpreter&, const Value& v, CallArgs&) {
  if (v.is_float()) return std::fmod(std::fabs(v.as_double()), 2.0) == 0.0;
  return (int_value(v, "even") & 1) == 0;
}

bool t_divisibleby(Interpreter&, const Value& v, CallArgs& args) {
  const Value& d = arg0(args, "divisibleby");
  if (v.is_float() || d.is_float()) {
    if (d.as_double() == 0.0) fail("ZeroDivisionError", "float modulo");
    return std::fmod(v.as_double(), d.as_double()) == 0.0;
  }
  int64_t x = int_value(v, "divisibleby"), y = int_value(d, "divisibleby");
  if (y == 0) fail("ZeroDivisionError", "integer division or modulo by zero");
  if (y == -1) return true;
  return x % y == 0;
}

bool t_eq(Interpreter&, const Value& v, CallArgs& args) {
  return equals(v, arg0(args, "eq"));
}
bool t_ne(Interpreter&, const Value& v, CallArgs& args) {
  return !equals(v, arg0(args, "ne"));
}

int ordered(const Value& a, const Value& b, const char* op) {
  if (a.is_undefined()) fail("UndefinedError", a.str());
  if (b.is_undefined()) fail("UndefinedError", b.str());
  return compare(a, b, op);
}

bool t_lt(Interpreter&, const Value& v, CallArgs& args) {
  return ordered(v, arg0(args, "lt"), "<") < 0;
}
bool t_le(Interpreter&, const Value& v, CallArgs& args) {
  return ordered(v, arg0(args, "le"), "<=") <= 0;
}
bool t_gt(Interpreter&, const Value& v, CallArgs& args) {
  return ordered(v, arg0(args, "gt"), ">") > 0;
}
bool t_ge(Interpreter&, const Value& v, CallArgs& args) {
  return ordered(v, arg0(args, "ge"), ">=") >= 0;
}

bool t_in(Interpreter& in, const Value& v, CallArgs& args) {
  const Value& seq = arg0(args, "in");
  if (seq.is_string()) {
    if (!v.is_string())
      fail("TypeError", "'in <string>' requires string as left operand, not " + type_name(v));
    return seq.str().find(v.str()) != std::string::npos;
  }
  if (seq.is_generator()) {
    for (const Value& x : in.iterate(seq))
      if (equals(x, v)) return true;
    return false;
  }
  if (seq.is_list()) {
    for (const Value& x : seq.as_list().items)
      if (equals(x, v)) return true;
    return false;
  }
  if (seq.is_dict()) return seq.as_dict().find(v) != nullptr;
  if (seq.is_undefined()) return false;
  fail("TypeError", "argument of type '" + type_name(seq) + "' is not iterable");
}

bool t_lower(Interpreter&, const Value& v, CallArgs&) {
  std::string s = to_str(v);
  return py_lower(s) == s && py_upper(s) != s;
}

bool t_upper(Interpreter&, const Value& v, CallArgs&) {
  std::string s = to_str(v);
  return py_upper(s) == s && py_lower(s) != s;
}

bool t_filter(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string() && find_filter(v.str()) != nullptr;
}

bool t_test(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string() && find_test(v.str()) != nullptr;
}

}  // namespace

TestFn find_test(const std::string& name) {
  static const std::unordered_map<std::string, TestFn> tests = {
      {"defined", t_defined},
      {"undefined", t_undefined},
      {"none", t_none},
      {"boolean", t_boolean},
      {"true", t_true},
      {"false", t_false},
      {"integer", t_integer},
      {"float", t_float},
      {"number", t_number},
      {"string", t_string},
      {"mapping", t_mapping},
      {"callable", t_callable},
      {"iterable", t_iterable},
      {"sequence", t_sequence},
      {"sameas", t_sameas},
      {"escaped", t_escaped},
      {"odd", t_odd},
      {"even", t_even},
      {"divisibleby", t_divisibleby},
      {"eq", t_eq},
      {"equalto", t_eq},
      {"==", t_eq},
      {"ne", t_ne},
      {"!=", t_ne},
      {"lt", t_lt},
      {"lessthan", t_lt},
      {"<", t_lt},
      {"le", t_le},
      {"<=", t_le},
      {"gt", t_gt},
      {"greaterthan", t_gt},
      {">", t_gt},
      {"ge", t_ge},
      {">=", t_ge},
      {"in", t_in},
      {"lower", t_lower},
      {"upper", t_upper},
      {"filter", t_filter},
      {"test", t_test},
  };
  auto it = tests.find(name);
  return it == tests.end() ? nullptr : it->second;
}

}  // namespace insitu::chat::jinja
