// Topology files: per-layer and per-name quantization types (reference §2.8), YAML:
//
//   0-8:   {isq: q3k}          # decoder layers 0..7 (end exclusive)
//   12:    {isq: q8_0}         # layer 12
//   '/lm_head\..*/': {isq: q6k} # regex over the full tensor name
//
// Precedence: regex rules first (later declarations win), then layer ranges (the range with the
// larger end wins; equal ends: the later declaration). A `device:` key is accepted and must be
// `cpu` on this build.
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "quant/registry.h"

namespace insitu {

struct TopologyRule {
  // Either a regex or a layer range [first, end).
  std::optional<std::regex> pattern;
  std::string pattern_text;
  int64_t first = 0, end = 0;
  std::optional<QuantType> type;  // absent: device-only entry
  int declaration = 0;
  int line = 0;  // 1-based line in the file, for messages
};

class Topology {
 public:
  Topology() = default;
  // Throws Error(kInvalidArgument) naming the file and line of the problem.
  static Topology from_file(const std::string& path);
  static Topology from_yaml(const std::string& text, const std::string& path_for_messages);

  bool empty() const { return rules_.empty(); }
  // Every rule in declaration order (e.g. to check the types it names before loading).
  const std::vector<TopologyRule>& rules() const { return rules_; }
  // The winning rule's type for a tensor (layer -1 for model-level tensors), if any rule
  // matches and carries a type.
  std::optional<QuantType> type_for(const std::string& tensor_name, int layer) const;

 private:
  std::vector<TopologyRule> regex_rules_;  // in declaration order
  std::vector<TopologyRule> range_rules_;  // sorted by (end, declaration)
  std::vector<TopologyRule> rules_;
};

}  // namespace insitu
