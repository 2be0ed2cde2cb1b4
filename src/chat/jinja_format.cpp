// Python string formatting: printf-style `fmt % args` (the "%" operator and the format
// filter) and str.format with the format-spec mini-language.
#include <cmath>
#include <cstdio>

#include "chat/jinja_interp.h"
#include "chat/jinja_strings.h"

namespace insitu::chat::jinja {

namespace {

std::string pad_cp(const std::string& s, int64_t width, char fill_align, const std::string& fill) {
  int64_t n = static_cast<int64_t>(utf8_length(s));
  if (width <= n) return s;
  int64_t total = width - n;
  int64_t left = fill_align == '<' ? 0 : fill_align == '^' ? total / 2 : total;
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (int64_t i = 0; i < total - left; ++i) out += fill;
  return out;
}

double real_arg(const Value& v, char conv) {
  if (v.is_number()) return v.as_double();
  fail("TypeError",
       std::string("%") + conv + " format: a real number is required, not " + type_name(v));
}

int64_t int_arg(const Value& v, char conv) {
  if (v.is_int() || v.is_bool()) return v.as_int();
  if (v.is_float() && (conv == 'd' || conv == 'i' || conv == 'u')) {
    double d = v.as_double();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18)
      fail("OverflowError", "cannot convert float to integer");
    return static_cast<int64_t>(d);
  }
  fail("TypeError",
       std::string("%") + conv + " format: an integer is required, not " + type_name(v));
}

}  // namespace

std::string percent_format(Interpreter& in, const std::string& fmt, const Value& args) {
  std::vector<Value> positional;
  const Dict* mapping = nullptr;
  if (args.is_tuple()) {
    positional = args.as_list().items;
  } else {
    positional.push_back(args);
    if (args.is_dict()) mapping = &args.as_dict();
  }
  size_t next_arg = 0;
  bool used_mapping = false;
  std::string out;
  auto take = [&]() -> const Value& {
    if (next_arg >= positional.size()) fail("TypeError", "not enough arguments for format string");
    return positional[next_arg++];
  };
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    size_t start = i++;
    if (i >= fmt.size()) fail("ValueError", "incomplete format");
    if (fmt[i] == '%') {
      out.push_back('%');
      continue;
    }
    const Value* value = nullptr;
    if (fmt[i] == '(') {
      size_t close = fmt.find(')', i);
      if (close == std::string::npos) fail("ValueError", "incomplete format key");
      if (!mapping) fail("TypeError", "format requires a mapping");
      std::string key = fmt.substr(i + 1, close - i - 1);
      value = mapping->find(key);
      if (!value) fail("KeyError", py_repr_string(key));
      used_mapping = true;
      i = close + 1;
    }
    std::string flags;
    while (i < fmt.size() && std::string("-+ #0").find(fmt[i]) != std::string::npos)
      flags.push_back(fmt[i++]);
    int64_t width = -1, prec = -1;
    auto number = [&](int64_t& dst) {
      if (i < fmt.size() && fmt[i] == '*') {
        const Value& w = take();
        if (!w.is_int()) fail("TypeError", "* wants int");
        dst = w.as_int();
        ++i;
        return;
      }
      if (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') {
        dst = 0;
        while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') {
          dst = dst * 10 + (fmt[i++] - '0');
          if (dst > 1000000) fail("ValueError", "width too big");
        }
      }
    };
    number(width);
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      prec = 0;
      number(prec);
    }
    while (i < fmt.size() && (fmt[i] == 'h' || fmt[i] == 'l' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) fail("ValueError", "incomplete format");
    char conv = fmt[i];
    if (!value) value = &take();
    if (width > 0) in.check_string(static_cast<size_t>(width));
    if (prec > 0) in.check_string(static_cast<size_t>(prec));
    bool left = flags.find('-') != std::string::npos;
    std::string piece;
    switch (conv) {
      case 's':
      case 'r':
      case 'a': {
        std::string s = conv == 's' ? to_str(*value) : repr(*value);
        if (prec >= 0) {
          std::u32string u = decode_utf8(s);
          if (static_cast<int64_t>(u.size()) > prec)
            s = encode_utf8(u.substr(0, static_cast<size_t>(prec)));
        }
        piece = pad_cp(s, width, left ? '<' : '>', " ");
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        int64_t v = int_arg(*value, conv);
        std::string spec = "%" + flags + (width >= 0 ? std::to_string(width) : "") +
                           (prec >= 0 ? "." + std::to_string(prec) : "") + "ll" +
                           (conv == 'i' || conv == 'u' ? 'd' : conv);
        std::vector<char> buf(static_cast<size_t>(std::max<int64_t>(width, prec)) + 64);
        if (conv == 'x' || conv == 'X' || conv == 'o') {
          // Python formats negative hex/octal as a signed magnitude, C as two's complement.
          unsigned long long mag = v < 0 ? 0ull - static_cast<unsigned long long>(v) : v;
          std::string uspec = spec;
          std::snprintf(buf.data(), buf.size(), uspec.c_str(), mag);
          piece = buf.data();
          if (conv == 'o' && flags.find('#') != std::string::npos) {
            size_t z = piece.find_first_not_of(' ');
            if (z != std::string::npos && piece.compare(z, 1, "0") == 0 && mag != 0)
              piece.insert(z + 1, "o");
          }
          if (v < 0) {
            size_t z = piece.find_first_not_of(' ');
            piece.insert(z == std::string::npos ? 0 : z, "-");
            if (z != std::string::npos && z > 0 && piece[0] == ' ') piece.erase(0, 1);
          }
        } else {
          std::snprintf(buf.data(), buf.size(), spec.c_str(), static_cast<long long>(v));
          piece = buf.data();
        }
        break;
      }
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G': {
        double d = real_arg(*value, conv);
        std::string spec = "%" + flags + (width >= 0 ? std::to_string(width) : "") +
                           (prec >= 0 ? "." + std::to_string(prec) : "") + conv;
        std::vector<char> buf(static_cast<size_t>(std::max<int64_t>(width, prec)) + 400);
        std::snprintf(buf.data(), buf.size(), spec.c_str(), d);
        piece = buf.data();
        break;
      }
      case 'c': {
        std::string s;
        if (value->is_int()) {
          int64_t cp = value->as_int();
          if (cp < 0 || cp > 0x10FFFF) fail("OverflowError", "%c arg not in range(0x110000)");
          append_utf8(s, static_cast<char32_t>(cp));
        } else if (value->is_string() && utf8_length(value->str()) == 1) {
          s = value->str();
        } else {
          fail("TypeError", "%c requires int or char");
        }
        piece = pad_cp(s, width, left ? '<' : '>', " ");
        break;
      }
      default: {
        char buf[96];
        std::snprintf(buf, sizeof buf, "unsupported format character '%c' (0x%x) at index %zu",
                      conv, static_cast<unsigned char>(conv), i);
        (void)start;
        fail("ValueError", buf);
      }
    }
    out += piece;
    in.check_string(out.size());
  }
  if (!used_mapping && !mapping && next_arg < positional.size())
    fail("TypeError", "not all arguments converted during string formatting");
  return out;
}

namespace {

std::string group_digits(const std::string& digits, char sep) {
  std::string out;
  int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    if (i && (n - i) % 3 == 0) out.push_back(sep);
    out.push_back(digits[i]);
  }
  return out;
}

std::string apply_spec(Interpreter& in, const Value& v, const std::string& spec) {
  if (spec.empty()) return to_str(v);
  std::u32string u = decode_utf8(spec);
  size_t i = 0;
  std::string fill = " ";
  char align = 0;
  auto is_align = [](char32_t c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (u.size() >= 2 && is_align(u[1])) {
    fill.clear();
    append_utf8(fill, u[0]);
    align = static_cast<char>(u[1]);
    i = 2;
  } else if (!u.empty() && is_align(u[0])) {
    align = static_cast<char>(u[0]);
    i = 1;
  }
  char sign = 0;
  if (i < u.size() && (u[i] == '+' || u[i] == '-' || u[i] == ' ')) sign = static_cast<char>(u[i++]);
  bool alt = false;
  if (i < u.size() && u[i] == '#') alt = true, ++i;
  if (i < u.size() && u[i] == '0') {
    if (!align) fill = "0", align = '=';
    ++i;
  }
  int64_t width = -1, prec = -1;
  while (i < u.size() && u[i] >= '0' && u[i] <= '9') {
    width = (width < 0 ? 0 : width) * 10 + static_cast<int64_t>(u[i++] - '0');
    if (width > 1000000) fail("ValueError", "Too many decimal digits in format string");
  }
  char grouping = 0;
  if (i < u.size() && (u[i] == ',' || u[i] == '_')) grouping = static_cast<char>(u[i++]);
  if (i < u.size() && u[i] == '.') {
    ++i;
    prec = 0;
    while (i < u.size() && u[i] >= '0' && u[i] <= '9') {
      prec = prec * 10 + static_cast<int64_t>(u[i++] - '0');
      if (prec > 1000000) fail("ValueError", "Too many decimal digits in format string");
    }
  }
  char type = 0;
  if (i < u.size()) type = static_cast<char>(u[i++]);
  if (i != u.size()) fail("ValueError", "Invalid format specifier");
  if (width > 0) in.check_string(static_cast<size_t>(width) * 4);
  if (prec > 0) in.check_string(static_cast<size_t>(prec));

  std::string body, prefix;
  if (v.is_string() || (!v.is_number() && (type == 0 || type == 's'))) {
    if (type != 0 && type != 's')
      fail("ValueError",
           std::string("Unknown format code '") + type + "' for object of type 'str'");
    body = to_str(v);
    if (prec >= 0) {
      std::u32string s = decode_utf8(body);
      if (static_cast<int64_t>(s.size()) > prec)
        body = encode_utf8(s.substr(0, static_cast<size_t>(prec)));
    }
    if (!align) align = '<';
  } else if (v.is_number()) {
    bool as_int =
        (v.is_int() || v.is_bool()) && (type == 0 || type == 'd' || type == 'x' || type == 'X' ||
                                        type == 'o' || type == 'b' || type == 'c' || type == 'n');
    if (as_int) {
      int64_t x = v.as_int();
      unsigned long long mag = x < 0 ? 0ull - static_cast<unsigned long long>(x) : x;
      if (type == 'c') {
        append_utf8(body, static_cast<char32_t>(mag & 0x1FFFFF));
      } else if (type == 'x' || type == 'X' || type == 'o' || type == 'b') {
        int base = type == 'o' ? 8 : type == 'b' ? 2 : 16;
        const char* digs = type == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
        do {
          body.insert(body.begin(), digs[mag % base]);
          mag /= base;
        } while (mag);
        if (alt) prefix = type == 'o' ? "0o" : type == 'b' ? "0b" : type == 'X' ? "0X" : "0x";
      } else {
        body = std::to_string(mag);
        if (grouping) body = group_digits(body, grouping);
      }
      if (x < 0)
        prefix = "-" + prefix;
      else if (sign == '+')
        prefix = "+" + prefix;
      else if (sign == ' ')
        prefix = " " + prefix;
    } else {
      double d = v.as_double();
      if (type == 0 && prec < 0) {
        body = v.is_float() ? py_float_repr(std::fabs(d)) : std::to_string(std::llabs(v.as_int()));
      } else {
        char t = type == 0 ? 'g' : type == 'n' ? 'g' : type;
        if (t != 'f' && t != 'F' && t != 'e' && t != 'E' && t != 'g' && t != 'G' && t != '%')
          fail("ValueError", std::string("Unknown format code '") + t + "' for object of type '" +
                                 type_name(v) + "'");
        double mag = std::fabs(d);
        if (t == '%') mag *= 100.0;
        std::string cspec = std::string("%") + (alt ? "#" : "") + "." +
                            std::to_string(prec < 0 ? 6 : prec) + (t == '%' ? 'f' : t);
        std::vector<char> buf(static_cast<size_t>(std::max<int64_t>(prec, 0)) + 400);
        std::snprintf(buf.data(), buf.size(), cspec.c_str(), mag);
        body = buf.data();
        if (t == '%') body += "%";
        if (grouping) {
          size_t dot = body.find_first_not_of("0123456789");
          body = group_digits(body.substr(0, dot), grouping) +
                 (dot == std::string::npos ? "" : body.substr(dot));
        }
      }
      if (std::signbit(d) && !std::isnan(d))
        prefix = "-";
      else if (sign == '+')
        prefix = "+";
      else if (sign == ' ')
        prefix = " ";
    }
    if (!align) align = '>';
  } else {
    fail("TypeError", "unsupported format string passed to " + type_name(v) + ".__format__");
  }
  if (align == '=') {
    int64_t n = static_cast<int64_t>(utf8_length(prefix) + utf8_length(body));
    std::string padding;
    for (int64_t k = n; k < width; ++k) padding += fill;
    return prefix + padding + body;
  }
  return pad_cp(prefix + body, width, align, fill);
}

}  // namespace

std::string str_format(Interpreter& in, const std::string& fmt, CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      fail("ValueError", "Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    size_t j = i + 1;
    int depth = 1;
    while (j < fmt.size() && depth) {
      if (fmt[j] == '{')
        ++depth;
      else if (fmt[j] == '}')
        --depth;
      if (depth) ++j;
    }
    if (j >= fmt.size()) fail("ValueError", "Single '{' encountered in format string");
    std::string field = fmt.substr(i + 1, j - i - 1);
    i = j;
    std::string spec;
    char conv = 0;
    size_t colon = field.find(':');
    if (colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    size_t bang = field.find('!');
    if (bang != std::string::npos) {
      if (bang + 2 != field.size()) fail("ValueError", "expected ':' after conversion specifier");
      conv = field[bang + 1];
      field = field.substr(0, bang);
    }
    size_t k = 0;
    while (k < field.size() && field[k] != '.' && field[k] != '[') ++k;
    std::string arg_name = field.substr(0, k);
    Value value;
    if (arg_name.empty() || (arg_name.find_first_not_of("0123456789") == std::string::npos)) {
      size_t idx = arg_name.empty() ? auto_index++ : std::stoul(arg_name.substr(0, 9));
      if (idx >= args.pos.size())
        fail("IndexError", "Replacement index " + std::to_string(idx) +
                               " out of range for positional args tuple");
      value = args.pos[idx];
    } else {
      bool found = false;
      for (const auto& [name, v] : args.kw)
        if (name == arg_name) value = v, found = true;
      if (!found) fail("KeyError", py_repr_string(arg_name));
    }
    while (k < field.size()) {
      if (field[k] == '.') {
        size_t e = k + 1;
        while (e < field.size() && field[e] != '.' && field[e] != '[') ++e;
        value = in.getattr(value, field.substr(k + 1, e - k - 1));
        k = e;
      } else {
        size_t e = field.find(']', k);
        if (e == std::string::npos) fail("ValueError", "Missing ']' in format string");
        std::string key = field.substr(k + 1, e - k - 1);
        bool numeric = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
        value = in.getitem(
            value, numeric ? Value::integer(std::stoll(key.substr(0, 18))) : Value::string(key));
        k = e + 1;
      }
      if (value.is_undefined()) fail("UndefinedError", value.str());
    }
    if (conv == 'r' || conv == 'a')
      value = Value::string(repr(value));
    else if (conv == 's')
      value = Value::string(to_str(value));
    else if (conv)
      fail("ValueError", std::string("Unknown conversion specifier ") + conv);
    if (spec.find('{') != std::string::npos) {
      CallArgs nested = args;
      spec = str_format(in, spec, nested);
    }
    out += apply_spec(in, value, spec);
    in.check_string(out.size());
  }
  return out;
}

}  // namespace insitu::chat::jinja
