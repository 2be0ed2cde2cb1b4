// Python methods of str, dict and list that templates call (s.strip(), d.items(), ...), and
// the template globals (range, namespace, raise_exception, strftime_now, ...).
#include <algorithm>
#include <cstring>
#include <ctime>
#include <optional>
#include <unordered_map>

#include "chat/jinja_args.h"
#include "chat/jinja_interp.h"
#include "chat/jinja_strings.h"

namespace insitu::chat::jinja {

namespace {

const char* const kStrMethods[] = {
    "strip",     "lstrip",       "rstrip",      "split",   "rsplit",     "splitlines", "startswith",
    "endswith",  "upper",        "lower",       "title",   "capitalize", "swapcase",   "replace",
    "find",      "rfind",        "index",       "rindex",  "count",      "join",       "format",
    "isdigit",   "isalpha",      "isalnum",     "isspace", "isupper",    "islower",    "isnumeric",
    "isdecimal", "zfill",        "center",      "ljust",   "rjust",      "partition",  "rpartition",
    "casefold",  "removeprefix", "removesuffix"};
const char* const kDictMethods[] = {"items", "keys",    "values",     "get",    "copy",
                                    "pop",   "popitem", "setdefault", "update", "clear"};
const char* const kListMethods[] = {"index", "count",  "copy",    "append", "extend", "insert",
                                    "pop",   "remove", "reverse", "sort",   "clear"};
// Mutating methods exist but ImmutableSandboxedEnvironment refuses to call them.
const char* const kUnsafe[] = {"pop",    "popitem", "setdefault", "update",  "clear", "append",
                               "extend", "insert",  "remove",     "reverse", "sort"};

template <size_t N>
bool in_list(const char* const (&list)[N], const std::string& name) {
  for (const char* m : list)
    if (name == m) return true;
  return false;
}

std::optional<std::string> opt_str(const ArgBinder& b, size_t i, const char* what) {
  const Value* v = b.get(i);
  if (!v || v->is_none()) return std::nullopt;
  if (!v->is_string()) fail("TypeError", std::string(what) + " arg must be None or str");
  return v->str();
}

// Byte offset of code point `cp` (Python index semantics, negatives count from the end).
size_t cp_to_byte(const std::string& s, int64_t cp, size_t n_cp) {
  if (cp < 0) cp = std::max<int64_t>(0, cp + static_cast<int64_t>(n_cp));
  if (cp >= static_cast<int64_t>(n_cp)) return s.size();
  size_t i = 0;
  for (int64_t k = 0; k < cp; ++k) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  }
  return i;
}

int64_t byte_to_cp(const std::string& s, size_t b) {
  int64_t n = 0;
  for (size_t i = 0; i < b && i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
  return n;
}

Value find_impl(const std::string& s, CallArgs& args, bool reverse, bool raise, const char* fn) {
  ArgBinder b(fn, args, {"sub", "start", "end"});
  std::string sub = b.get_str(0, "");
  if (!b.has(0)) fail("TypeError", std::string(fn) + "() takes at least 1 argument (0 given)");
  size_t n_cp = utf8_length(s);
  size_t lo = b.has(1) && !b.get(1)->is_none() ? cp_to_byte(s, b.get_int(1, 0), n_cp) : 0;
  size_t hi = b.has(2) && !b.get(2)->is_none() ? cp_to_byte(s, b.get_int(2, 0), n_cp) : s.size();
  size_t pos = std::string::npos;
  if (lo <= hi && hi - lo >= sub.size()) {
    std::string_view view(s.data() + lo, hi - lo);
    size_t p = reverse ? view.rfind(sub) : view.find(sub);
    if (p != std::string_view::npos) pos = p + lo;
  }
  if (pos == std::string::npos) {
    if (raise) fail("ValueError", "substring not found");
    return Value::integer(-1);
  }
  return Value::integer(byte_to_cp(s, pos));
}

bool affix_match(const std::string& s, const Value& what, bool prefix, const char* fn) {
  auto one = [&](const Value& v) {
    if (!v.is_string())
      fail("TypeError",
           std::string(fn) + " first arg must be str or a tuple of str, not " + type_name(v));
    const std::string& a = v.str();
    if (a.size() > s.size()) return false;
    return prefix ? s.compare(0, a.size(), a) == 0
                  : s.compare(s.size() - a.size(), a.size(), a) == 0;
  };
  if (what.is_tuple()) {
    for (const Value& v : what.as_list().items)
      if (one(v)) return true;
    return false;
  }
  return one(what);
}

std::string pad(const std::string& s, int64_t width, const std::string& fill, int where) {
  int64_t n = static_cast<int64_t>(utf8_length(s));
  if (width <= n) return s;
  int64_t total = width - n;
  int64_t left = where < 0 ? 0 : where > 0 ? total : total / 2 + (total & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (int64_t i = 0; i < total - left; ++i) out += fill;
  return out;
}

template <typename Pred>
Value all_chars(const std::string& s, Pred pred) {
  std::u32string u = decode_utf8(s);
  if (u.empty()) return Value::boolean(false);
  for (char32_t c : u)
    if (!pred(c)) return Value::boolean(false);
  return Value::boolean(true);
}

Value str_method(Interpreter& in, const std::string& s, const std::string& name, CallArgs& args) {
  in.charge(s.size() / 64);
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    ArgBinder b(name.c_str(), args, {"chars"});
    return Value::string(
        py_strip(s, opt_str(b, 0, name.c_str()), name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    ArgBinder b(name.c_str(), args, {"sep", "maxsplit"});
    std::optional<std::string> sep = opt_str(b, 0, "sep");
    if (sep && sep->empty()) fail("ValueError", "empty separator");
    std::vector<Value> parts;
    for (std::string& p : py_split(s, sep, b.get_int(1, -1), name == "rsplit"))
      parts.push_back(Value::string(std::move(p)));
    return Value::list(std::move(parts));
  }
  if (name == "splitlines") {
    ArgBinder b("splitlines", args, {"keepends"});
    std::vector<Value> parts;
    for (std::string& p : py_splitlines(s, b.get_bool(0, false)))
      parts.push_back(Value::string(std::move(p)));
    return Value::list(std::move(parts));
  }
  if (name == "startswith" || name == "endswith") {
    ArgBinder b(name.c_str(), args, {"prefix", "start", "end"});
    if (!b.has(0)) fail("TypeError", name + "() takes at least 1 argument (0 given)");
    std::string view = s;
    if (b.has(1) || b.has(2)) {
      size_t n_cp = utf8_length(s);
      size_t lo = b.has(1) && !b.get(1)->is_none() ? cp_to_byte(s, b.get_int(1, 0), n_cp) : 0;
      size_t hi =
          b.has(2) && !b.get(2)->is_none() ? cp_to_byte(s, b.get_int(2, 0), n_cp) : s.size();
      if (lo > hi) return Value::boolean(false);
      view = s.substr(lo, hi - lo);
    }
    return Value::boolean(affix_match(view, *b.get(0), name == "startswith", name.c_str()));
  }
  if (name == "upper") return Value::string(py_upper(s));
  if (name == "lower" || name == "casefold") return Value::string(py_lower(s));
  if (name == "title") return Value::string(py_title(s));
  if (name == "capitalize") return Value::string(py_capitalize(s));
  if (name == "swapcase") {
    std::string out;
    for (char32_t c : decode_utf8(s))
      append_utf8(out, py_isupper(c) ? py_tolower(c) : py_islower(c) ? py_toupper(c) : c);
    return Value::string(out);
  }
  if (name == "replace") {
    ArgBinder b("replace", args, {"old", "new", "count"});
    if (!b.has(0) || !b.has(1)) fail("TypeError", "replace() takes at least 2 arguments");
    std::string old = b.get_str(0, ""), repl = b.get_str(1, "");
    int64_t count = b.get_int(2, -1);
    if (!repl.empty()) {
      int64_t hits = old.empty() ? static_cast<int64_t>(utf8_length(s)) + 1 : py_count(s, old);
      if (count >= 0) hits = std::min(hits, count);
      in.check_string(s.size() + static_cast<size_t>(hits) * repl.size());
    }
    return Value::string(py_replace(s, old, repl, count));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex")
    return find_impl(s, args, name[0] == 'r', name.find("index") != std::string::npos,
                     name.c_str());
  if (name == "count") {
    ArgBinder b("count", args, {"sub"});
    return Value::integer(py_count(s, b.get_str(0, "")));
  }
  if (name == "join") {
    ArgBinder b("join", args, {"iterable"});
    if (!b.has(0)) fail("TypeError", "join() takes exactly one argument (0 given)");
    std::string out;
    std::vector<Value> items = in.iterate(*b.get(0));
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string())
        fail("TypeError", "sequence item " + std::to_string(i) + ": expected str instance, " +
                              type_name(items[i]) + " found");
      if (i) out += s;
      out += items[i].str();
      in.check_string(out.size());
    }
    return Value::string(std::move(out));
  }
  if (name == "format") return Value::string(str_format(in, s, args));
  if (name == "isdigit" || name == "isdecimal" || name == "isnumeric")
    return all_chars(s, py_isdigit);
  if (name == "isalpha") return all_chars(s, py_isalpha);
  if (name == "isalnum")
    return all_chars(s, [](char32_t c) { return py_isalpha(c) || py_isdigit(c); });
  if (name == "isspace") return all_chars(s, py_isspace);
  if (name == "isupper" || name == "islower") {
    bool upper = name == "isupper", any = false;
    for (char32_t c : decode_utf8(s)) {
      if (upper ? py_islower(c) : py_isupper(c)) return Value::boolean(false);
      any |= upper ? py_isupper(c) : py_islower(c);
    }
    return Value::boolean(any);
  }
  if (name == "zfill" || name == "center" || name == "ljust" || name == "rjust") {
    ArgBinder b(name.c_str(), args, {"width", "fillchar"});
    int64_t width = b.get_int(0, 0);
    in.check_string(static_cast<size_t>(std::max<int64_t>(width, 0)) * 4);
    if (name == "zfill") {
      std::string body = s, sign;
      if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
        sign = body.substr(0, 1);
        body = body.substr(1);
      }
      return Value::string(sign + pad(body, width - static_cast<int64_t>(sign.size()), "0", -1));
    }
    std::string fill = b.get_str(1, " ");
    if (utf8_length(fill) != 1)
      fail("TypeError", "The fill character must be exactly one character long");
    return Value::string(pad(s, width, fill, name == "center" ? 0 : name == "ljust" ? 1 : -1));
  }
  if (name == "partition" || name == "rpartition") {
    ArgBinder b(name.c_str(), args, {"sep"});
    std::string sep = b.get_str(0, "");
    if (sep.empty()) fail("ValueError", "empty separator");
    size_t p = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (p == std::string::npos) {
      return name == "partition"
                 ? Value::tuple({Value::string(s), Value::string(""), Value::string("")})
                 : Value::tuple({Value::string(""), Value::string(""), Value::string(s)});
    }
    return Value::tuple({Value::string(s.substr(0, p)), Value::string(sep),
                         Value::string(s.substr(p + sep.size()))});
  }
  if (name == "removeprefix" || name == "removesuffix") {
    ArgBinder b(name.c_str(), args, {"affix"});
    std::string a = b.get_str(0, "");
    bool pre = name == "removeprefix";
    if (!a.empty() && affix_match(s, Value::string(a), pre, name.c_str()))
      return Value::string(pre ? s.substr(a.size()) : s.substr(0, s.size() - a.size()));
    return Value::string(s);
  }
  fail("AttributeError", "'str' object has no attribute '" + name + "'");
}

Value dict_method(const Value& d, const std::string& name, CallArgs& args) {
  const Dict& dict = d.as_dict();
  if (name == "items" || name == "keys" || name == "values") {
    ArgBinder b(name.c_str(), args, {});
    std::vector<Value> out;
    out.reserve(dict.items.size());
    for (const auto& [k, v] : dict.items) {
      if (name == "items")
        out.push_back(Value::tuple({k, v}));
      else
        out.push_back(name == "keys" ? k : v);
    }
    return Value::list(std::move(out));
  }
  if (name == "get") {
    ArgBinder b("get", args, {"key", "default"});
    if (!b.has(0)) fail("TypeError", "get expected at least 1 argument, got 0");
    if (!is_hashable(*b.get(0)))
      fail("TypeError", "unhashable type: '" + type_name(*b.get(0)) + "'");
    if (const Value* v = dict.find(*b.get(0))) return *v;
    return b.get(1, Value::none());
  }
  if (name == "copy") {
    ArgBinder b("copy", args, {});
    return Value::dict(std::make_shared<Dict>(dict));
  }
  fail("AttributeError", "'dict' object has no attribute '" + name + "'");
}

Value list_method(Interpreter& in, const Value& l, const std::string& name, CallArgs& args) {
  const auto& items = l.as_list().items;
  if (name == "index" || name == "count") {
    ArgBinder b(name.c_str(), args, {"value"});
    if (!b.has(0)) fail("TypeError", name + "() takes exactly one argument (0 given)");
    in.charge(items.size());
    int64_t n = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!equals(items[i], *b.get(0))) continue;
      if (name == "index") return Value::integer(static_cast<int64_t>(i));
      ++n;
    }
    if (name == "index") fail("ValueError", repr(*b.get(0)) + " is not in list");
    return Value::integer(n);
  }
  if (name == "copy") return l.is_tuple() ? Value::tuple(items) : Value::list(items);
  fail("AttributeError", "'" + type_name(l) + "' object has no attribute '" + name + "'");
}

}  // namespace

bool has_method(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case Kind::kString: return in_list(kStrMethods, name);
    case Kind::kDict: return in_list(kDictMethods, name);
    case Kind::kList:
      if (obj.is_generator()) return false;
      if (obj.is_tuple()) return name == "index" || name == "count";
      return in_list(kListMethods, name);
    default: return false;
  }
}

Value call_method(Interpreter& in, const Value& obj, const std::string& name, CallArgs& args,
                  bool* found) {
  *found = has_method(obj, name);
  if (!*found) return Value();
  if ((obj.is_dict() || obj.is_list()) && in_list(kUnsafe, name))
    fail("SecurityError",
         "access to attribute '" + name + "' of '" + type_name(obj) + "' object is unsafe.");
  if (obj.is_string()) return str_method(in, obj.str(), name, args);
  if (obj.is_dict()) return dict_method(obj, name, args);
  return list_method(in, obj, name, args);
}

// ---- globals -----------------------------------------------------------------------------

namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

Value g_range(Interpreter& in, CallArgs& args) {
  if (!args.kw.empty()) fail("TypeError", "range() takes no keyword arguments");
  if (args.pos.empty() || args.pos.size() > 3)
    fail("TypeError", "range expected 1 to 3 arguments, got " + std::to_string(args.pos.size()));
  for (const Value& v : args.pos)
    if (!v.is_int() && !v.is_bool())
      fail("TypeError", "'" + type_name(v) + "' object cannot be interpreted as an integer");
  int64_t start = 0, stop, step = 1;
  if (args.pos.size() == 1) {
    stop = args.pos[0].as_int();
  } else {
    start = args.pos[0].as_int();
    stop = args.pos[1].as_int();
    if (args.pos.size() == 3) step = args.pos[2].as_int();
  }
  if (step == 0) fail("ValueError", "range() arg 3 must not be zero");
  // Count without overflow: work in long double is exact enough for the limit check.
  long double span = static_cast<long double>(stop) - static_cast<long double>(start);
  long double count = span / static_cast<long double>(step);
  if (count > kMaxRange)
    fail("OverflowError",
         "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  std::vector<Value> out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    out.push_back(Value::integer(i));
    if (static_cast<int64_t>(out.size()) > kMaxRange) break;
  }
  in.charge(out.size());
  return Value::list(std::move(out));
}

Value g_namespace(Interpreter& in, CallArgs& args) {
  Value ns = in.make_namespace();
  if (args.pos.size() > 1) fail("TypeError", "namespace expected at most 1 argument");
  if (args.pos.size() == 1) {
    if (!args.pos[0].is_dict()) fail("TypeError", "namespace() argument must be a mapping");
    for (const auto& [k, v] : args.pos[0].as_dict().items) ns.as_ns().set(to_str(k), v);
  }
  for (const auto& [k, v] : args.kw) ns.as_ns().set(k, v);
  return ns;
}

Value g_dict(Interpreter&, CallArgs& args) {
  auto d = std::make_shared<Dict>();
  if (args.pos.size() > 1) fail("TypeError", "dict expected at most 1 argument");
  if (args.pos.size() == 1) {
    if (args.pos[0].is_dict()) {
      *d = args.pos[0].as_dict();
    } else if (args.pos[0].is_list()) {
      for (const Value& pair : args.pos[0].as_list().items) {
        if (!pair.is_list() || pair.as_list().items.size() != 2)
          fail("ValueError", "dictionary update sequence element has wrong length");
        if (!is_hashable(pair.as_list().items[0])) fail("TypeError", "unhashable type");
        d->set(pair.as_list().items[0], pair.as_list().items[1]);
      }
    } else {
      fail("TypeError", "'" + type_name(args.pos[0]) + "' object is not iterable");
    }
  }
  for (const auto& [k, v] : args.kw) d->set(Value::string(k), v);
  return Value::dict(std::move(d));
}

Value g_raise_exception(Interpreter&, CallArgs& args) {
  std::string msg = args.pos.empty() ? "" : to_str(args.pos[0]);
  fail("TemplateError", msg);
}

Value g_strftime_now(Interpreter& in, CallArgs& args) {
  ArgBinder b("strftime_now", args, {"format"});
  std::string fmt = b.get_str(0, "");
  if (fmt.size() > 4096) fail("ValueError", "strftime format too long");
  std::time_t t = in.now();
  std::tm tm{};
  localtime_r(&t, &tm);
  std::string out(fmt.size() * 32 + 64, '\0');
  size_t n = fmt.empty() ? 0 : std::strftime(out.data(), out.size(), fmt.c_str(), &tm);
  out.resize(n);
  return Value::string(out);
}

Value g_joiner(Interpreter&, CallArgs& args) {
  ArgBinder b("joiner", args, {"sep"});
  Value sep = b.get(0, Value::string(", "));
  auto used = std::make_shared<bool>(false);
  return Value::callable("joiner", [sep, used](Interpreter&, CallArgs&) {
    if (!*used) {
      *used = true;
      return Value::string("");
    }
    return sep;
  });
}

}  // namespace

Value lookup_global(const std::string& name) {
  static const auto* globals = new std::unordered_map<std::string, Value>{
      {"range", Value::callable("range", g_range)},
      {"namespace", Value::callable("namespace", g_namespace)},
      {"dict", Value::callable("dict", g_dict)},
      {"joiner", Value::callable("joiner", g_joiner)},
      {"raise_exception", Value::callable("raise_exception", g_raise_exception)},
      {"strftime_now", Value::callable("strftime_now", g_strftime_now)},
  };
  auto it = globals->find(name);
  return it == globals->end() ? Value() : it->second;
}

}  // namespace insitu::chat::jinja
