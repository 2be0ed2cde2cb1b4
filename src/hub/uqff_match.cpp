#include "hub/uqff_match.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "quant/registry.h"

namespace insitu::hub {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool listed(const std::vector<std::string>& listing, const std::string& name) {
  return std::find(listing.begin(), listing.end(), name) != listing.end();
}

// The reference's IsqBits::expand() order in a non-Metal build: the K-quant (or q8_0) first,
// then the AFQ type of the same width, which a Metal machine would have written.
std::vector<std::string> expand_numeric(const std::string& n) {
  if (n == "2") return {"q2k", "afq2"};
  if (n == "3") return {"q3k", "afq3"};
  if (n == "4") return {"q4k", "afq4"};
  if (n == "5") return {"q5k"};
  if (n == "6") return {"q6k", "afq6"};
  if (n == "8") return {"q8_0", "afq8"};
  return {};
}

}  // namespace

std::optional<std::pair<std::string, uint64_t>> parse_uqff_shard(const std::string& name) {
  const size_t slash = name.find_last_of('/');
  std::string stem = slash == std::string::npos ? name : name.substr(slash + 1);
  if (const size_t dot = stem.find_last_of('.'); dot != std::string::npos && dot > 0)
    stem = stem.substr(0, dot);
  const size_t dash = stem.find_last_of('-');
  if (dash == std::string::npos || dash + 1 == stem.size()) return std::nullopt;
  uint64_t index = 0;
  for (size_t i = dash + 1; i < stem.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(stem[i])) || i - dash > 19) return std::nullopt;
    index = index * 10 + static_cast<uint64_t>(stem[i] - '0');
  }
  return std::make_pair(stem.substr(0, dash), index);
}

std::vector<std::string> expand_uqff_shards(const std::string& first,
                                            const std::vector<std::string>& listing) {
  const auto shard = parse_uqff_shard(first);
  if (!shard) return {first};
  std::vector<std::string> out;
  for (uint64_t i = 0;; ++i) {
    const std::string name = shard->first + "-" + std::to_string(i) + ".uqff";
    if (!listed(listing, name)) break;
    out.push_back(name);
  }
  if (out.empty()) return {first};
  return out;
}

std::optional<std::string> resolve_uqff_shorthand(const std::string& input,
                                                  const std::vector<std::string>& listing) {
  const std::string v = lower(input);
  std::vector<std::string> types = expand_numeric(v);
  if (types.empty()) {
    const auto t = parse_quant_type(v);
    if (!t || quant_is_dense(*t)) return std::nullopt;
    types.push_back(std::string(quant_info(*t).name));
  }
  for (const auto& type : types)
    if (listed(listing, type + "-0.uqff")) return type + "-0.uqff";
  return std::nullopt;
}

std::vector<UqffGroup> parse_uqff_report(const std::string& text,
                                         const std::vector<std::string>& listing,
                                         const std::string& where) {
  auto bad = [&](const std::string& why) {
    return Error(ErrorCode::kCorruptFile, where + ": " + why);
  };
  std::vector<UqffGroup> groups;
  try {
    const auto j = nlohmann::json::parse(text);
    const auto& outputs = j.at("outputs");
    if (!outputs.is_array() || outputs.empty()) throw bad("'outputs' is empty");
    std::set<std::string> quants, shards;
    for (const auto& o : outputs) {
      UqffGroup g;
      g.quant = o.at("quant").get<std::string>();
      if (g.quant.empty()) throw bad("an output has an empty 'quant'");
      if (!quants.insert(lower(g.quant)).second) throw bad("quant '" + g.quant + "' appears twice");
      g.shards = o.at("shards").get<std::vector<std::string>>();
      if (g.shards.empty()) throw bad("output '" + g.quant + "' lists no shards");
      for (const auto& s : g.shards) {
        if (!listed(listing, s)) throw bad("shard " + s + " of '" + g.quant + "' is missing");
        if (!shards.insert(s).second) throw bad("shard " + s + " belongs to two outputs");
      }
      groups.push_back(std::move(g));
    }
  } catch (const nlohmann::json::exception& e) {
    throw bad(std::string("malformed report: ") + e.what());
  }
  return groups;
}

std::optional<UqffGroup> match_uqff(const std::string& input,
                                    const std::vector<std::string>& listing,
                                    const std::optional<std::vector<UqffGroup>>& report) {
  if (report) {
    for (const auto& g : *report)
      if (listed(g.shards, input)) return g;
    for (const auto& g : *report)
      if (lower(g.quant) == lower(input)) return g;
    std::vector<std::string> aliases;
    for (const auto& g : *report) aliases.push_back(lower(g.quant) + "-0.uqff");
    if (auto alias = resolve_uqff_shorthand(input, aliases)) {
      for (const auto& g : *report)
        if (lower(g.quant) + "-0.uqff" == *alias) return g;
    }
  }
  std::optional<std::string> first;
  if (ends_with(input, ".uqff") && listed(listing, input))
    first = input;
  else
    first = resolve_uqff_shorthand(input, listing);
  if (!first) return std::nullopt;
  UqffGroup g;
  g.shards = expand_uqff_shards(*first, listing);
  const auto shard = parse_uqff_shard(*first);
  g.quant = shard ? shard->first : *first;
  return g;
}

bool is_uqff_artifact(const std::string& basename, const std::vector<std::string>& listing) {
  if (ends_with(lower(basename), "-uqff")) return true;
  bool uqff = false, weights = false;
  for (const auto& f : listing) {
    if (f == kUqffReport || f == "residual.safetensors") return true;
    uqff |= ends_with(f, ".uqff");
    weights |= ends_with(f, ".safetensors") || ends_with(f, ".pth") || ends_with(f, ".pt") ||
               ends_with(f, ".bin");
  }
  return uqff && !weights;
}

std::vector<std::string> uqff_files(const std::vector<std::string>& listing) {
  std::vector<std::string> out;
  for (const auto& f : listing)
    if (ends_with(f, ".uqff")) out.push_back(f);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace insitu::hub
