// Attribute and item lookup, iteration, slicing and the arithmetic operators, with Python's
// semantics as jinja2's sandbox exposes them.
#include <cmath>

#include "chat/jinja_interp.h"
#include "chat/jinja_strings.h"

namespace insitu::chat::jinja {

namespace {

[[noreturn]] void undefined_use(const Value& v) {
  fail("UndefinedError", v.str());
}

Value bound_method(const Value& obj, const std::string& name) {
  return Value::callable(name, [obj, name](Interpreter& in, CallArgs& args) {
    bool found = false;
    return call_method(in, obj, name, args, &found);
  });
}

Value loop_attr(Interpreter& in, const Value& loop, const std::string& name) {
  (void)in;
  LoopState& l = loop.as_loop();
  const auto& items = l.items->items;
  const int64_t n = static_cast<int64_t>(items.size());
  const int64_t i = static_cast<int64_t>(l.index0);
  if (name == "index") return Value::integer(i + 1);
  if (name == "index0") return Value::integer(i);
  if (name == "revindex") return Value::integer(n - i);
  if (name == "revindex0") return Value::integer(n - i - 1);
  if (name == "first") return Value::boolean(i == 0);
  if (name == "last") return Value::boolean(i == n - 1);
  if (name == "length") return Value::integer(n);
  if (name == "depth") return Value::integer(1);
  if (name == "depth0") return Value::integer(0);
  if (name == "previtem")
    return i > 0 ? items[i - 1] : Value::undefined("there is no previous item");
  if (name == "nextitem")
    return i + 1 < n ? items[i + 1] : Value::undefined("there is no next item");
  std::shared_ptr<LoopState> state = loop.loop_ptr();
  if (name == "cycle") {
    return Value::callable("cycle", [state](Interpreter&, CallArgs& args) {
      if (args.pos.empty()) fail("TypeError", "no items for cycling given");
      return args.pos[state->index0 % args.pos.size()];
    });
  }
  if (name == "changed") {
    return Value::callable("changed", [state](Interpreter&, CallArgs& args) {
      Value now = Value::list(args.pos);
      if (state->has_changed && equals(state->last_changed, now)) return Value::boolean(false);
      state->last_changed = now;
      state->has_changed = true;
      return Value::boolean(true);
    });
  }
  return Value::undefined("'LoopContext object' has no attribute '" + name + "'");
}

}  // namespace

Value Interpreter::getattr(const Value& obj, const std::string& name) {
  if (!name.empty() && name[0] == '_')  // the sandbox hides private and dunder attributes
    return Value::undefined("access to attribute '" + name + "' of '" + type_name(obj) +
                            "' object is unsafe.");
  switch (obj.kind()) {
    case Kind::kUndefined: undefined_use(obj);
    case Kind::kDict: {
      if (has_method(obj, name)) return bound_method(obj, name);
      if (const Value* v = obj.as_dict().find(name)) return *v;
      break;
    }
    case Kind::kNamespace: {
      if (const Value* v = obj.as_ns().find(name)) return *v;
      break;
    }
    case Kind::kLoop: return loop_attr(*this, obj, name);
    case Kind::kString:
    case Kind::kList:
      if (has_method(obj, name)) return bound_method(obj, name);
      break;
    default: break;
  }
  return Value::undefined(missing_attr_hint(obj, Value::string(name)));
}

Value Interpreter::getitem(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case Kind::kUndefined: undefined_use(obj);
    case Kind::kDict: {
      if (is_hashable(key))
        if (const Value* v = obj.as_dict().find(key)) return *v;
      if (key.is_string() && has_method(obj, key.str())) return bound_method(obj, key.str());
      break;
    }
    case Kind::kList: {
      if (obj.is_generator()) break;
      if (key.is_int() || key.is_bool()) {
        const auto& items = obj.as_list().items;
        int64_t i = key.as_int();
        int64_t n = static_cast<int64_t>(items.size());
        if (i < 0) i += n;
        if (i >= 0 && i < n) return items[static_cast<size_t>(i)];
      } else if (key.is_string() && has_method(obj, key.str())) {
        return bound_method(obj, key.str());
      }
      break;
    }
    case Kind::kString: {
      if (key.is_int() || key.is_bool()) {
        int64_t i = key.as_int();
        if (is_ascii(obj.str())) {
          int64_t n = static_cast<int64_t>(obj.str().size());
          if (i < 0) i += n;
          if (i >= 0 && i < n) return Value::string(obj.str().substr(static_cast<size_t>(i), 1));
        } else {
          std::u32string u = decode_utf8(obj.str());
          int64_t n = static_cast<int64_t>(u.size());
          if (i < 0) i += n;
          if (i >= 0 && i < n)
            return Value::string(encode_utf8(u.substr(static_cast<size_t>(i), 1)));
        }
      } else if (key.is_string() && has_method(obj, key.str())) {
        return bound_method(obj, key.str());
      }
      break;
    }
    case Kind::kNamespace:
    case Kind::kLoop:
      if (key.is_string()) return getattr(obj, key.str());
      break;
    default: break;
  }
  return Value::undefined(missing_attr_hint(obj, key));
}

std::vector<Value> Interpreter::iterate(const Value& v) {
  std::vector<Value> out;
  switch (v.kind()) {
    case Kind::kUndefined: return out;
    case Kind::kList:
      if (v.is_generator()) {
        if (v.as_list().consumed) return out;
        v.as_list().consumed = true;
      }
      out = v.as_list().items;
      break;
    case Kind::kDict:
      out.reserve(v.as_dict().items.size());
      for (const auto& kv : v.as_dict().items) out.push_back(kv.first);
      break;
    case Kind::kString:
      if (is_ascii(v.str())) {
        for (char c : v.str()) out.push_back(Value::string(std::string(1, c)));
      } else {
        for (char32_t c : decode_utf8(v.str())) {
          std::string s;
          append_utf8(s, c);
          out.push_back(Value::string(std::move(s)));
        }
      }
      break;
    default: fail("TypeError", "'" + type_name(v) + "' object is not iterable");
  }
  charge(out.size());
  return out;
}

Value Interpreter::eval_slice(const Value& obj, const Value& start, const Value& stop,
                              const Value& step) {
  if (obj.is_undefined()) undefined_use(obj);
  if (!obj.is_sequence() && !obj.is_string())
    return Value::undefined("'" + type_name(obj) + "' object is not subscriptable");
  for (const Value* b : {&start, &stop, &step})
    if (!b->is_none() && !b->is_int() && !b->is_bool())
      return Value::undefined("slice indices must be integers or None");
  int64_t st = step.is_none() ? 1 : step.as_int();
  if (st == 0) fail("ValueError", "slice step cannot be zero");
  std::u32string u;
  bool ascii = obj.is_string() && is_ascii(obj.str());
  if (obj.is_string() && !ascii) u = decode_utf8(obj.str());
  int64_t n = obj.is_list() ? static_cast<int64_t>(obj.as_list().items.size())
              : ascii       ? static_cast<int64_t>(obj.str().size())
                            : static_cast<int64_t>(u.size());
  int64_t lower = st > 0 ? 0 : -1, upper = st > 0 ? n : n - 1;
  auto clamp = [&](const Value& b, int64_t dflt) {
    if (b.is_none()) return dflt;
    int64_t x = b.as_int();
    if (x < 0) {
      x += n;
      if (x < lower) x = lower;
    } else if (x > upper) {
      x = upper;
    }
    return x;
  };
  int64_t a = clamp(start, st > 0 ? lower : upper);
  int64_t z = clamp(stop, st > 0 ? upper : lower);
  std::vector<size_t> idx;
  if (st > 0) {
    for (int64_t i = a; i < z; i += st) idx.push_back(static_cast<size_t>(i));
  } else {
    for (int64_t i = a; i > z; i += st) idx.push_back(static_cast<size_t>(i));
  }
  charge(idx.size());
  if (obj.is_list()) {
    std::vector<Value> items;
    items.reserve(idx.size());
    for (size_t i : idx) items.push_back(obj.as_list().items[i]);
    return obj.is_tuple() ? Value::tuple(std::move(items)) : Value::list(std::move(items));
  }
  std::string s;
  if (ascii) {
    for (size_t i : idx) s.push_back(obj.str()[i]);
  } else {
    for (size_t i : idx) append_utf8(s, u[i]);
  }
  return Value::string(std::move(s));
}

namespace {

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
  fail("TypeError", "unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" +
                        type_name(b) + "'");
}

bool is_intlike(const Value& v) {
  return v.is_int() || v.is_bool();
}

[[noreturn]] void overflow() {
  fail("OverflowError", "integer overflow (insitu integers are 64-bit)");
}

int64_t checked_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) overflow();
  return r;
}

int64_t checked_sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) overflow();
  return r;
}

int64_t checked_mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) overflow();
  return r;
}

Value repeat(Interpreter& in, const Value& seq, int64_t times) {
  if (times <= 0) return seq.is_string() ? Value::string("") : Value::list({});
  if (seq.is_string()) {
    if (seq.str().empty()) return seq;
    const size_t sz = seq.str().size();
    in.check_string(static_cast<uint64_t>(times) > SIZE_MAX / sz ? SIZE_MAX : sz * times);
    in.charge(static_cast<uint64_t>(times) * seq.str().size() / 64);
    std::string out;
    out.reserve(seq.str().size() * static_cast<size_t>(times));
    for (int64_t i = 0; i < times; ++i) out += seq.str();
    return Value::string(std::move(out));
  }
  const auto& items = seq.as_list().items;
  if (items.empty()) return seq;
  in.check_items(static_cast<uint64_t>(times) > SIZE_MAX / items.size() ? SIZE_MAX
                                                                        : items.size() * times);
  in.charge(static_cast<uint64_t>(times) * items.size());
  std::vector<Value> out;
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

double py_fmod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0.0 && ((b < 0) != (m < 0))) m += b;
  return m;
}

double py_floordiv(double a, double b) {
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0.0 && ((b < 0) != (mod < 0))) div -= 1.0;
  if (div == 0.0) return std::copysign(0.0, a / b);
  double fl = std::floor(div);
  if (div - fl > 0.5) fl += 1.0;
  return fl;
}

}  // namespace

Value Interpreter::eval_binary(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string l = to_str(a), r = to_str(b);
    check_string(l.size() + r.size());
    charge((l.size() + r.size()) / 256);
    return Value::string(l + r);
  }
  if (a.is_undefined()) undefined_use(a);
  if (b.is_undefined()) undefined_use(b);
  const bool nums = a.is_number() && b.is_number();
  const bool ints = nums && is_intlike(a) && is_intlike(b);
  if (op == "+") {
    if (ints) return Value::integer(checked_add(a.as_int(), b.as_int()));
    if (nums) return Value::number(a.as_double() + b.as_double());
    if (a.is_string() && b.is_string()) {
      check_string(a.str().size() + b.str().size());
      charge((a.str().size() + b.str().size()) / 256);
      return Value::string(a.str() + b.str());
    }
    if (a.is_sequence() && b.is_sequence() && a.is_tuple() == b.is_tuple()) {
      const auto& x = a.as_list().items;
      const auto& y = b.as_list().items;
      check_items(x.size() + y.size());
      charge(x.size() + y.size());
      std::vector<Value> items(x);
      items.insert(items.end(), y.begin(), y.end());
      return a.is_tuple() ? Value::tuple(std::move(items)) : Value::list(std::move(items));
    }
    if (a.is_string() || a.is_list())
      fail("TypeError", "can only concatenate " + type_name(a) + " (not \"" + type_name(b) +
                            "\") to " + type_name(a));
    unsupported(op, a, b);
  }
  if (op == "-") {
    if (ints) return Value::integer(checked_sub(a.as_int(), b.as_int()));
    if (nums) return Value::number(a.as_double() - b.as_double());
    unsupported(op, a, b);
  }
  if (op == "*") {
    if (ints) return Value::integer(checked_mul(a.as_int(), b.as_int()));
    if (nums) return Value::number(a.as_double() * b.as_double());
    if ((a.is_string() || a.is_sequence()) && is_intlike(b)) return repeat(*this, a, b.as_int());
    if ((b.is_string() || b.is_sequence()) && is_intlike(a)) return repeat(*this, b, a.as_int());
    if (a.is_string() || a.is_list() || b.is_string() || b.is_list())
      fail("TypeError", "can't multiply sequence by non-int of type '" +
                            type_name(a.is_string() || a.is_list() ? b : a) + "'");
    unsupported(op, a, b);
  }
  if (op == "/") {
    if (!nums) unsupported(op, a, b);
    if (b.as_double() == 0.0) fail("ZeroDivisionError", "division by zero");
    return Value::number(a.as_double() / b.as_double());
  }
  if (op == "//") {
    if (!nums) unsupported(op, a, b);
    if (ints) {
      int64_t x = a.as_int(), y = b.as_int();
      if (y == 0) fail("ZeroDivisionError", "integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) fail("OverflowError", "integer overflow");
      int64_t q = x / y;
      if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
      return Value::integer(q);
    }
    if (b.as_double() == 0.0) fail("ZeroDivisionError", "float floor division by zero");
    return Value::number(py_floordiv(a.as_double(), b.as_double()));
  }
  if (op == "%") {
    if (a.is_string()) {
      std::string s = percent_format(*this, a.str(), b);
      return Value::string(std::move(s));
    }
    if (!nums) unsupported(op, a, b);
    if (ints) {
      int64_t x = a.as_int(), y = b.as_int();
      if (y == 0) fail("ZeroDivisionError", "integer modulo by zero");
      if (y == -1) return Value::integer(0);
      int64_t m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) m += y;
      return Value::integer(m);
    }
    if (b.as_double() == 0.0) fail("ZeroDivisionError", "float modulo");
    return Value::number(py_fmod(a.as_double(), b.as_double()));
  }
  if (op == "**") {
    if (!nums) unsupported(op, a, b);
    if (ints && b.as_int() >= 0) {
      int64_t base = a.as_int(), e = b.as_int(), acc = 1;
      while (e > 0) {
        if (e & 1) acc = checked_mul(acc, base);
        e >>= 1;
        if (e) base = checked_mul(base, base);
      }
      return Value::integer(acc);
    }
    double x = a.as_double(), y = b.as_double();
    if (x == 0.0 && y < 0) fail("ZeroDivisionError", "0.0 cannot be raised to a negative power");
    return Value::number(std::pow(x, y));
  }
  fail("TypeError", "unknown operator " + op);
}

}  // namespace insitu::chat::jinja
