// Jinja2's builtin filters, plus transformers' tojson.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "chat/jinja_args.h"
#include "chat/jinja_interp.h"
#include "chat/jinja_parser.h"
#include "chat/jinja_strings.h"

namespace insitu::chat::jinja {

namespace {

Value str_value(std::string s) {
  return Value::string(std::move(s));
}

// jinja2's make_attrgetter: "a.b.0" walks getitem per dotted part; digits index lists.
Value attr_get(Interpreter& in, const Value& item, const Value& attribute, const Value* dflt) {
  std::vector<Value> parts;
  if (attribute.is_string()) {
    for (const std::string& p : py_split(attribute.str(), std::string("."), -1, false)) {
      bool digits = !p.empty() && p.find_first_not_of("0123456789") == std::string::npos;
      parts.push_back(digits && p.size() < 18 ? Value::integer(std::stoll(p)) : Value::string(p));
    }
  } else {
    parts.push_back(attribute);
  }
  Value cur = item;
  for (const Value& p : parts) {
    cur = in.getitem(cur, p);
    if (dflt && !dflt->is_none() && cur.is_undefined()) cur = *dflt;
  }
  return cur;
}

Value lower_if_str(const Value& v) {
  return v.is_string() ? Value::string(py_lower(v.str())) : v;
}

int64_t length_of(const Value& v) {
  switch (v.kind()) {
    case Kind::kString: return static_cast<int64_t>(utf8_length(v.str()));
    case Kind::kList:
      if (v.is_generator()) break;
      return static_cast<int64_t>(v.as_list().items.size());
    case Kind::kDict: return static_cast<int64_t>(v.as_dict().items.size());
    case Kind::kUndefined: return 0;
    case Kind::kLoop: return static_cast<int64_t>(v.as_loop().items->items.size());
    default: break;
  }
  fail("TypeError", "object of type '" + type_name(v) + "' has no len()");
}

void stable_sort_values(Interpreter& in, std::vector<Value>& items, std::vector<Value>& keys,
                        bool reverse) {
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  in.charge(items.size() * 8);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return reverse ? compare(keys[b], keys[a], "<") < 0 : compare(keys[a], keys[b], "<") < 0;
  });
  std::vector<Value> sorted;
  sorted.reserve(items.size());
  for (size_t i : order) sorted.push_back(std::move(items[i]));
  items = std::move(sorted);
}

// ---- string filters ----------------------------------------------------------------------

Value f_trim(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("trim", args, {"chars"});
  std::optional<std::string> chars;
  if (b.has(0) && !b.get(0)->is_none()) chars = b.get_str(0, "");
  return str_value(py_strip(to_str(v), chars, true, true));
}

Value f_upper(Interpreter&, const Value& v, CallArgs&) {
  return str_value(py_upper(to_str(v)));
}
Value f_lower(Interpreter&, const Value& v, CallArgs&) {
  return str_value(py_lower(to_str(v)));
}
Value f_capitalize(Interpreter&, const Value& v, CallArgs&) {
  return str_value(py_capitalize(to_str(v)));
}

Value f_title(Interpreter&, const Value& v, CallArgs&) {
  // jinja2 splits on runs of [-\s({\[<] and capitalises the first character of each piece.
  std::u32string u = decode_utf8(to_str(v));
  std::string out;
  bool at_start = true;
  for (char32_t c : u) {
    bool sep = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py_isspace(c);
    if (sep) {
      append_utf8(out, c);
      at_start = true;
    } else {
      append_utf8(out, at_start ? py_toupper(c) : py_tolower(c));
      at_start = false;
    }
  }
  return str_value(out);
}

Value f_string(Interpreter&, const Value& v, CallArgs&) {
  return str_value(to_str(v));
}
Value f_safe(Interpreter&, const Value& v, CallArgs&) {
  return str_value(to_str(v));
}
Value f_pprint(Interpreter&, const Value& v, CallArgs&) {
  return str_value(repr(v));
}

Value f_escape(Interpreter&, const Value& v, CallArgs&) {
  std::string out;
  for (char c : to_str(v)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return str_value(out);
}

Value f_replace(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("replace", args, {"old", "new", "count"});
  std::string s = to_str(v), old = to_str(b.get(0, Value::string(""))),
              repl = to_str(b.get(1, Value::string("")));
  int64_t count = b.get_int(2, -1);
  if (!repl.empty()) {
    int64_t hits = old.empty() ? static_cast<int64_t>(utf8_length(s)) + 1 : py_count(s, old);
    if (count >= 0) hits = std::min(hits, count);
    in.check_string(s.size() + static_cast<size_t>(hits) * repl.size());
  }
  in.charge(s.size() / 64);
  return str_value(py_replace(s, old, repl, count));
}

Value f_indent(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("indent", args, {"width", "first", "blank"});
  std::string indention;
  Value w = b.get(0, Value::integer(4));
  if (w.is_string()) {
    indention = w.str();
  } else {
    int64_t n = b.get_int(0, 4);
    in.check_string(static_cast<size_t>(std::max<int64_t>(n, 0)));
    indention.assign(static_cast<size_t>(std::max<int64_t>(n, 0)), ' ');
  }
  bool first = b.get_bool(1, false), blank = b.get_bool(2, false);
  std::string s = to_str(v) + "\n";  // jinja2's quirk so that splitlines keeps a last empty line
  std::vector<std::string> lines = py_splitlines(s, false);
  in.check_string(s.size() + lines.size() * indention.size());
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + indention : "") + lines[i];
  } else if (!lines.empty()) {
    rv = lines[0];
    for (size_t i = 1; i < lines.size(); ++i)
      rv += "\n" + (lines[i].empty() ? lines[i] : indention + lines[i]);
  }
  if (first) rv = indention + rv;
  return str_value(rv);
}

Value f_center(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("center", args, {"width"});
  int64_t width = b.get_int(0, 80);
  in.check_string(static_cast<size_t>(std::max<int64_t>(width, 0)));
  std::string s = to_str(v);
  int64_t n = static_cast<int64_t>(utf8_length(s));
  if (width <= n) return str_value(s);
  int64_t total = width - n, left = total / 2 + (total & width & 1);
  return str_value(std::string(static_cast<size_t>(left), ' ') + s +
                   std::string(static_cast<size_t>(total - left), ' '));
}

Value f_truncate(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("truncate", args, {"length", "killwords", "end", "leeway"});
  std::u32string s = decode_utf8(to_str(v));
  int64_t length = b.get_int(0, 255), leeway = b.get_int(3, 5);
  bool killwords = b.get_bool(1, false);
  std::u32string end = decode_utf8(b.get_str(2, "..."));
  if (length < static_cast<int64_t>(end.size()))
    fail("AssertionError", "expected length >= " + std::to_string(end.size()));
  if (leeway < 0) fail("AssertionError", "expected leeway >= 0");
  if (static_cast<int64_t>(s.size()) <= length + leeway) return str_value(encode_utf8(s));
  std::u32string head = s.substr(0, static_cast<size_t>(length - static_cast<int64_t>(end.size())));
  if (!killwords) {
    size_t sp = head.rfind(U' ');
    if (sp != std::u32string::npos) head = head.substr(0, sp);
  }
  return str_value(encode_utf8(head + end));
}

Value f_wordcount(Interpreter&, const Value& v, CallArgs&) {
  int64_t n = 0;
  bool in_word = false;
  for (char32_t c : decode_utf8(to_str(v))) {
    bool w = c == '_' || py_isalpha(c) || py_isdigit(c);
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::integer(n);
}

Value f_format(Interpreter& in, const Value& v, CallArgs& args) {
  if (!args.pos.empty() && !args.kw.empty())
    fail("FilterArgumentError", "can't handle positional and keyword arguments at the same time");
  if (!args.kw.empty()) {
    auto d = std::make_shared<Dict>();
    for (auto& [k, x] : args.kw) d->set(Value::string(k), x);
    return str_value(percent_format(in, to_str(v), Value::dict(d)));
  }
  return str_value(percent_format(in, to_str(v), Value::tuple(args.pos)));
}

Value f_tojson(Interpreter& in, const Value& v, CallArgs& args) {
  // transformers: json.dumps(x, ensure_ascii=ensure_ascii, indent=indent,
  //                          separators=separators, sort_keys=sort_keys), ensure_ascii=False.
  ArgBinder b("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonStyle style;
  style.sort_keys = b.get_bool(3, false);
  if (b.has(1) && !b.get(1)->is_none()) {
    style.use_indent = true;
    style.item_sep = ",";
    const Value& ind = *b.get(1);
    if (ind.is_string()) {
      style.indent = ind.str();
    } else {
      int64_t n = b.get_int(1, 0);
      in.check_string(static_cast<size_t>(std::max<int64_t>(n, 0)));
      style.indent.assign(static_cast<size_t>(std::max<int64_t>(n, 0)), ' ');
    }
  }
  if (b.has(2) && !b.get(2)->is_none()) {
    const Value& sep = *b.get(2);
    if (!sep.is_list() || sep.as_list().items.size() != 2 || !sep.as_list().items[0].is_string() ||
        !sep.as_list().items[1].is_string())
      fail("ValueError", "separators must be a (item_separator, key_separator) pair");
    style.item_sep = sep.as_list().items[0].str();
    style.key_sep = sep.as_list().items[1].str();
  }
  std::string out = to_json(v, style);
  in.charge(out.size() / 64);
  in.check_string(out.size());
  if (b.get_bool(0, false)) {  // ensure_ascii: \uXXXX escapes, surrogate pairs above U+FFFF
    std::string ascii;
    char buf[16];
    for (char32_t c : decode_utf8(out)) {
      if (c < 0x80) {
        ascii.push_back(static_cast<char>(c));
      } else if (c <= 0xFFFF) {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
        ascii += buf;
      } else {
        char32_t x = c - 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (x >> 10)),
                      static_cast<unsigned>(0xDC00 + (x & 0x3FF)));
        ascii += buf;
      }
    }
    out = std::move(ascii);
  }
  return str_value(out);
}

// ---- numbers -----------------------------------------------------------------------------

Value f_abs(Interpreter&, const Value& v, CallArgs&) {
  if (v.is_float()) return Value::number(std::fabs(v.as_double()));
  if (v.is_int() || v.is_bool()) {
    if (v.as_int() == INT64_MIN) fail("OverflowError", "integer overflow");
    return Value::integer(std::llabs(v.as_int()));
  }
  fail("TypeError", "bad operand type for abs(): '" + type_name(v) + "'");
}

// Python float() of a string: decimal literal with optional exponent, or inf/nan.
bool parse_py_float(const std::string& text, double* out) {
  std::string s = py_strip(text, std::nullopt, true, true), clean;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 >= s.size() || !isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !isdigit(static_cast<unsigned char>(s[i + 1])))
        return false;
      continue;
    }
    clean.push_back(s[i]);
  }
  if (clean.empty()) return false;
  std::string low = py_lower(clean);
  size_t p = (low[0] == '+' || low[0] == '-') ? 1 : 0;
  std::string rest = low.substr(p);
  if (rest == "inf" || rest == "infinity" || rest == "nan") {
    *out = std::strtod(low.c_str(), nullptr);
    return true;
  }
  bool digits = false;
  size_t i = p;
  while (i < low.size() && isdigit(static_cast<unsigned char>(low[i]))) ++i, digits = true;
  if (i < low.size() && low[i] == '.') {
    ++i;
    while (i < low.size() && isdigit(static_cast<unsigned char>(low[i]))) ++i, digits = true;
  }
  if (!digits) return false;
  if (i < low.size() && low[i] == 'e') {
    ++i;
    if (i < low.size() && (low[i] == '+' || low[i] == '-')) ++i;
    size_t e0 = i;
    while (i < low.size() && isdigit(static_cast<unsigned char>(low[i]))) ++i;
    if (i == e0) return false;
  }
  if (i != low.size()) return false;
  *out = std::strtod(low.c_str(), nullptr);
  return true;
}

Value f_float(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("float", args, {"default"});
  if (v.is_number()) return Value::number(v.as_double());
  double d;
  if (v.is_string() && parse_py_float(v.str(), &d)) return Value::number(d);
  return b.get(0, Value::number(0.0));
}

Value f_int(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("int", args, {"default", "base"});
  Value dflt = b.get(0, Value::integer(0));
  int64_t base = b.get_int(1, 10);
  if (v.is_int() || v.is_bool()) return Value::integer(v.as_int());
  if (v.is_float()) {
    double d = v.as_double();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return dflt;
    return Value::integer(static_cast<int64_t>(d));
  }
  if (!v.is_string()) return dflt;
  std::string s = py_strip(v.str(), std::nullopt, true, true), clean;
  for (char c : s)
    if (c != '_') clean.push_back(c);
  if (!clean.empty() && base >= 2 && base <= 36) {
    size_t p = (clean[0] == '+' || clean[0] == '-') ? 1 : 0;
    std::string digits = clean.substr(p);
    if (digits.size() > 2 && digits[0] == '0' &&
        ((base == 16 && (digits[1] | 32) == 'x') || (base == 8 && (digits[1] | 32) == 'o') ||
         (base == 2 && (digits[1] | 32) == 'b')))
      digits = digits.substr(2);
    errno = 0;
    char* end = nullptr;
    long long x = digits.empty() || digits[0] == '+' || digits[0] == '-'
                      ? 0
                      : std::strtoll(digits.c_str(), &end, static_cast<int>(base));
    if (end && *end == '\0' && errno == 0) return Value::integer(clean[0] == '-' ? -x : x);
  }
  double d;
  if (parse_py_float(v.str(), &d) && std::isfinite(d) && std::fabs(d) < 9.2e18)
    return Value::integer(static_cast<int64_t>(d));
  return dflt;
}

Value f_round(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("round", args, {"precision", "method"});
  int64_t prec = b.get_int(0, 0);
  std::string method = b.get_str(1, "common");
  if (method != "common" && method != "ceil" && method != "floor")
    fail("FilterArgumentError", "method must be common, ceil or floor");
  if (!v.is_number())
    fail("TypeError", "type " + type_name(v) + " doesn't define __round__ method");
  if (method == "common") {
    if (v.is_int() || v.is_bool()) return Value::integer(v.as_int());  // round(int, n) is an int
    double d = v.as_double();
    if (!std::isfinite(d) || prec > 300) return Value::number(d);
    if (prec < -300) return Value::number(std::copysign(0.0, d));
    // Correctly rounded decimal (half-even on the exact binary value), as CPython's round.
    if (prec >= 0) {
      char buf[512];
      std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(prec), d);
      return Value::number(std::strtod(buf, nullptr));
    }
    double scale = std::pow(10.0, static_cast<double>(-prec));
    return Value::number(std::nearbyint(d / scale) * scale);
  }
  double scale = std::pow(10.0, static_cast<double>(prec));
  double d = v.as_double() * scale;
  return Value::number((method == "ceil" ? std::ceil(d) : std::floor(d)) / scale);
}

// ---- sequences ---------------------------------------------------------------------------

Value f_length(Interpreter&, const Value& v, CallArgs&) {
  return Value::integer(length_of(v));
}

Value f_list(Interpreter& in, const Value& v, CallArgs&) {
  return Value::list(in.iterate(v));
}

Value f_first(Interpreter& in, const Value& v, CallArgs&) {
  if (v.is_sequence()) {
    if (!v.as_list().items.empty()) return v.as_list().items.front();
  } else {
    std::vector<Value> items = in.iterate(v);
    if (!items.empty()) return items.front();
  }
  return Value::undefined("No first item, sequence was empty.");
}

Value f_last(Interpreter& in, const Value& v, CallArgs&) {
  if (!v.is_sequence() && !v.is_string() && !v.is_dict() && !v.is_undefined())
    fail("TypeError", "'" + type_name(v) + "' object is not reversible");
  std::vector<Value> items = in.iterate(v);
  if (!items.empty()) return items.back();
  return Value::undefined("No last item, sequence was empty.");
}

Value f_reverse(Interpreter& in, const Value& v, CallArgs&) {
  if (v.is_string()) {
    std::u32string u = decode_utf8(v.str());
    std::reverse(u.begin(), u.end());
    return str_value(encode_utf8(u));
  }
  if (!v.is_sequence() && !v.is_dict()) {  // reversed() fails, jinja2 falls back to list()
    std::vector<Value> items = in.iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  std::vector<Value> items = in.iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::generator(std::move(items),
                          v.is_dict() ? "dict_reversekeyiterator" : "list_reverseiterator");
}

Value f_join(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("join", args, {"d", "attribute"});
  std::string sep = to_str(b.get(0, Value::string("")));
  std::string out;
  std::vector<Value> items = in.iterate(v);
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += to_str(b.has(1) && !b.get(1)->is_none() ? attr_get(in, items[i], *b.get(1), nullptr)
                                                   : items[i]);
    in.check_string(out.size());
  }
  in.charge(out.size() / 64);
  return str_value(out);
}

Value f_items(Interpreter&, const Value& v, CallArgs&) {
  if (v.is_undefined()) return Value::list({});
  if (!v.is_dict()) fail("TypeError", "Can only get item pairs from a mapping.");
  std::vector<Value> out;
  for (const auto& [k, x] : v.as_dict().items) out.push_back(Value::tuple({k, x}));
  return Value::generator(std::move(out));
}

Value f_dictsort(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("dictsort", args, {"case_sensitive", "by", "reverse"});
  bool cs = b.get_bool(0, false), rev = b.get_bool(2, false);
  std::string by = b.get_str(1, "key");
  if (by != "key" && by != "value")
    fail("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
  if (!v.is_dict())
    fail("AttributeError", "'" + type_name(v) + "' object has no attribute 'items'");
  std::vector<Value> items, keys;
  for (const auto& [k, x] : v.as_dict().items) {
    items.push_back(Value::tuple({k, x}));
    const Value& key = by == "key" ? k : x;
    keys.push_back(cs ? key : lower_if_str(key));
  }
  stable_sort_values(in, items, keys, rev);
  return Value::list(std::move(items));
}

Value f_sort(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("sort", args, {"reverse", "case_sensitive", "attribute"});
  bool rev = b.get_bool(0, false), cs = b.get_bool(1, false);
  std::vector<Value> items = in.iterate(v), keys;
  for (const Value& x : items) {
    Value k = b.has(2) && !b.get(2)->is_none() ? attr_get(in, x, *b.get(2), nullptr) : x;
    keys.push_back(cs ? k : lower_if_str(k));
  }
  stable_sort_values(in, items, keys, rev);
  return Value::list(std::move(items));
}

Value f_unique(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("unique", args, {"case_sensitive", "attribute"});
  bool cs = b.get_bool(0, false);
  std::vector<Value> out, seen;
  for (const Value& x : in.iterate(v)) {
    Value k = b.has(1) && !b.get(1)->is_none() ? attr_get(in, x, *b.get(1), nullptr) : x;
    if (!cs) k = lower_if_str(k);
    if (!is_hashable(k)) fail("TypeError", "unhashable type: '" + type_name(k) + "'");
    in.charge(seen.size());
    bool dup = false;
    for (const Value& s : seen) dup = dup || equals(s, k);
    if (dup) continue;
    seen.push_back(k);
    out.push_back(x);
  }
  return Value::generator(std::move(out));
}

Value min_max(Interpreter& in, const Value& v, CallArgs& args, bool is_max) {
  ArgBinder b(is_max ? "max" : "min", args, {"case_sensitive", "attribute"});
  bool cs = b.get_bool(0, false);
  std::vector<Value> items = in.iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key;
  for (size_t i = 0; i < items.size(); ++i) {
    Value k =
        b.has(1) && !b.get(1)->is_none() ? attr_get(in, items[i], *b.get(1), nullptr) : items[i];
    if (!cs) k = lower_if_str(k);
    if (i == 0 || (is_max ? compare(k, best_key, ">") > 0 : compare(k, best_key, "<") < 0)) {
      best = i;
      best_key = k;
    }
  }
  return items[best];
}

Value f_min(Interpreter& in, const Value& v, CallArgs& a) {
  return min_max(in, v, a, false);
}
Value f_max(Interpreter& in, const Value& v, CallArgs& a) {
  return min_max(in, v, a, true);
}

Value f_sum(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("sum", args, {"attribute", "start"});
  Value acc = b.get(1, Value::integer(0));
  for (const Value& x : in.iterate(v))
    acc = in.binop("+", acc,
                   b.has(0) && !b.get(0)->is_none() ? attr_get(in, x, *b.get(0), nullptr) : x);
  return acc;
}

Value f_batch(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("batch", args, {"linecount", "fill_with"});
  int64_t n = b.get_int(0, 0);
  if (n <= 0) fail("ValueError", "batch size must be positive");
  std::vector<Value> out, cur;
  for (Value& x : in.iterate(v)) {
    cur.push_back(std::move(x));
    if (static_cast<int64_t>(cur.size()) == n)
      out.push_back(Value::list(std::move(cur))), cur.clear();
  }
  if (!cur.empty()) {
    if (b.has(1) && !b.get(1)->is_none()) {
      in.check_items(static_cast<size_t>(n));
      while (static_cast<int64_t>(cur.size()) < n) cur.push_back(*b.get(1));
    }
    out.push_back(Value::list(std::move(cur)));
  }
  return Value::generator(std::move(out));
}

Value f_slice(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("slice", args, {"slices", "fill_with"});
  int64_t slices = b.get_int(0, 0);
  if (slices <= 0) fail("ValueError", "slice count must be positive");
  in.check_items(static_cast<size_t>(slices));
  std::vector<Value> seq = in.iterate(v);
  int64_t length = static_cast<int64_t>(seq.size());
  int64_t per = length / slices, extra = length % slices, offset = 0;
  std::vector<Value> out;
  for (int64_t i = 0; i < slices; ++i) {
    int64_t start = offset + i * per;
    if (i < extra) ++offset;
    int64_t end = offset + (i + 1) * per;
    std::vector<Value> part(seq.begin() + start, seq.begin() + end);
    if (b.has(1) && !b.get(1)->is_none() && i >= extra) part.push_back(*b.get(1));
    out.push_back(Value::list(std::move(part)));
  }
  return Value::generator(std::move(out));
}

Value f_default(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("default", args, {"default_value", "boolean"});
  if (v.is_undefined() || (b.get_bool(1, false) && !truthy(v))) return b.get(0, Value::string(""));
  return v;
}

Value f_attr(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("attr", args, {"name"});
  return in.getattr(v, b.get_str(0, ""));
}

// select / reject / selectattr / rejectattr share jinja2's select_or_reject.
Value select_or_reject(Interpreter& in, const Value& v, CallArgs& args, bool want,
                       bool lookup_attr) {
  size_t off = lookup_attr ? 1 : 0;
  if (lookup_attr && args.pos.empty())
    fail("FilterArgumentError", "Missing parameter for attribute name");
  TestFn test = nullptr;
  CallArgs test_args;
  if (args.pos.size() > off) {
    const Value& name = args.pos[off];
    if (!name.is_string()) fail("TypeError", "test name must be a string");
    test = find_test(name.str());
    if (!test) fail("TemplateRuntimeError", "No test named '" + name.str() + "'.");
    test_args.pos.assign(args.pos.begin() + static_cast<long>(off) + 1, args.pos.end());
    test_args.kw = args.kw;
  }
  std::vector<Value> out;
  if (!truthy(v)) return Value::generator({});  // jinja2 skips falsy inputs, None included
  for (const Value& x : in.iterate(v)) {
    Value probe = lookup_attr ? attr_get(in, x, args.pos[0], nullptr) : x;
    CallArgs ta = test_args;
    bool ok = test ? test(in, probe, ta) : truthy(probe);
    if (ok == want) out.push_back(x);
  }
  return Value::generator(std::move(out));
}

Value f_select(Interpreter& in, const Value& v, CallArgs& a) {
  return select_or_reject(in, v, a, true, false);
}
Value f_reject(Interpreter& in, const Value& v, CallArgs& a) {
  return select_or_reject(in, v, a, false, false);
}
Value f_selectattr(Interpreter& in, const Value& v, CallArgs& a) {
  return select_or_reject(in, v, a, true, true);
}
Value f_rejectattr(Interpreter& in, const Value& v, CallArgs& a) {
  return select_or_reject(in, v, a, false, true);
}

Value f_map(Interpreter& in, const Value& v, CallArgs& args) {
  std::vector<Value> out;
  if (args.pos.empty()) {
    const Value* attribute = nullptr;
    const Value* dflt = nullptr;
    for (const auto& [k, x] : args.kw) {
      if (k == "attribute")
        attribute = &x;
      else if (k == "default")
        dflt = &x;
      else
        fail("FilterArgumentError", "Unexpected keyword argument '" + k + "'");
    }
    if (!attribute) fail("FilterArgumentError", "map requires a filter argument");
    if (!truthy(v)) return Value::generator({});
    for (const Value& x : in.iterate(v)) out.push_back(attr_get(in, x, *attribute, dflt));
    return Value::generator(std::move(out));
  }
  if (!args.pos[0].is_string()) fail("TypeError", "filter name must be a string");
  FilterFn f = find_filter(args.pos[0].str());
  if (!f) fail("TemplateRuntimeError", "No filter named '" + args.pos[0].str() + "'.");
  CallArgs rest;
  rest.pos.assign(args.pos.begin() + 1, args.pos.end());
  rest.kw = args.kw;
  if (!truthy(v)) return Value::generator({});
  for (const Value& x : in.iterate(v)) {
    CallArgs a = rest;
    out.push_back(f(in, x, a));
  }
  return Value::generator(std::move(out));
}

}  // namespace

FilterFn find_filter(const std::string& name) {
  static const std::unordered_map<std::string, FilterFn> filters = {
      {"abs", f_abs},
      {"attr", f_attr},
      {"batch", f_batch},
      {"capitalize", f_capitalize},
      {"center", f_center},
      {"count", f_length},
      {"d", f_default},
      {"default", f_default},
      {"dictsort", f_dictsort},
      {"e", f_escape},
      {"escape", f_escape},
      {"forceescape", f_escape},
      {"first", f_first},
      {"float", f_float},
      {"format", f_format},
      {"indent", f_indent},
      {"int", f_int},
      {"items", f_items},
      {"join", f_join},
      {"last", f_last},
      {"length", f_length},
      {"list", f_list},
      {"lower", f_lower},
      {"map", f_map},
      {"max", f_max},
      {"min", f_min},
      {"pprint", f_pprint},
      {"reject", f_reject},
      {"rejectattr", f_rejectattr},
      {"replace", f_replace},
      {"reverse", f_reverse},
      {"round", f_round},
      {"safe", f_safe},
      {"select", f_select},
      {"selectattr", f_selectattr},
      {"slice", f_slice},
      {"sort", f_sort},
      {"string", f_string},
      {"sum", f_sum},
      {"title", f_title},
      {"tojson", f_tojson},
      {"trim", f_trim},
      {"truncate", f_truncate},
      {"unique", f_unique},
      {"upper", f_upper},
      {"wordcount", f_wordcount},
  };
  auto it = filters.find(name);
  return it == filters.end() ? nullptr : it->second;
}

}  // namespace insitu::chat::jinja
