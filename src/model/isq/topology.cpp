#include "model/isq/topology.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>

#include "core/error.h"
#include "core/mapped_file.h"
#include "quant/policy/quant_value.h"

namespace insitu {
namespace {

[[noreturn]] void fail(const std::string& path, int line, const std::string& what) {
  throw Error(ErrorCode::kInvalidArgument,
              path + ":" + std::to_string(line) + ": topology error: " + what);
}

bool parse_int(std::string_view s, int64_t* out) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && *out >= 0;
}

}  // namespace

Topology Topology::from_file(const std::string& path) {
  return from_yaml(read_text_file(path), path);
}

Topology Topology::from_yaml(const std::string& text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail(path, e.mark.line + 1, e.msg);
  }
  Topology t;
  if (root.IsNull()) return t;
  if (!root.IsMap())
    fail(path, root.Mark().line + 1, "the file must be a mapping of selector -> {isq: TYPE}");
  int decl = 0;
  for (const auto& kv : root) {
    const int line = kv.first.Mark().line + 1;
    if (!kv.first.IsScalar())
      fail(path, line, "selector must be a layer range, a layer, or /regex/");
    const std::string sel = kv.first.as<std::string>();
    TopologyRule rule;
    rule.declaration = decl++;
    rule.line = line;
    if (sel.size() >= 2 && sel.front() == '/' && sel.back() == '/') {
      rule.pattern_text = sel.substr(1, sel.size() - 2);
      try {
        rule.pattern = std::regex(rule.pattern_text, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        fail(path, line, "invalid regex '" + rule.pattern_text + "': " + e.what());
      }
    } else {
      const auto dash = sel.find('-');
      int64_t a = 0, b = 0;
      if (dash == std::string::npos) {
        if (!parse_int(sel, &a))
          fail(path, line, "selector '" + sel + "' is not A-B, N or /regex/");
        b = a + 1;
      } else if (!parse_int(std::string_view(sel).substr(0, dash), &a) ||
                 !parse_int(std::string_view(sel).substr(dash + 1), &b)) {
        fail(path, line, "selector '" + sel + "' is not A-B, N or /regex/");
      }
      if (b <= a)
        fail(path, line, "range '" + sel + "' is empty (end is exclusive and must exceed start)");
      rule.first = a;
      rule.end = b;
    }
    const YAML::Node& v = kv.second;
    if (!v.IsMap())
      fail(path, v.Mark().line + 1, "value of '" + sel + "' must be a mapping like {isq: q4k}");
    for (const auto& field : v) {
      const std::string key = field.first.as<std::string>();
      const int fline = field.first.Mark().line + 1;
      if (key == "isq") {
        try {
          rule.type =
              parse_quant_value(field.second.as<std::string>(), Backend::kCpu, "isq", false).type;
        } catch (const Error& e) {
          fail(path, fline, e.what());
        }
      } else if (key == "device") {
        const std::string dev = field.second.as<std::string>();
        if (dev != "cpu")
          fail(path, fline, "device '" + dev + "' is not available in this build (only cpu)");
      } else {
        fail(path, fline, "unknown key '" + key + "' (expected isq or device)");
      }
    }
    (rule.pattern ? t.regex_rules_ : t.range_rules_).push_back(rule);
    t.rules_.push_back(rule);
  }
  std::stable_sort(t.range_rules_.begin(), t.range_rules_.end(),
                   [](const TopologyRule& x, const TopologyRule& y) {
                     return x.end != y.end ? x.end < y.end : x.declaration < y.declaration;
                   });
  return t;
}

std::optional<QuantType> Topology::type_for(const std::string& name, int layer) const {
  for (auto it = regex_rules_.rbegin(); it != regex_rules_.rend(); ++it)
    if (std::regex_search(name, *it->pattern)) return it->type;
  if (layer >= 0)
    for (auto it = range_rules_.rbegin(); it != range_rules_.rend(); ++it)
      if (layer >= it->first && layer < it->end) return it->type;
  return std::nullopt;
}

}  // namespace insitu
