// Matching a --quant value against the UQFF files of one artifact folder or repo, as the
// reference does (reference-system.md §1.7): shard names "<prefix>-<N>.uqff", numeric
// shorthands expanded in the non-Metal order (4 -> q4k, then afq4), and uqff_report.json
// groups. Pure functions over a flat file listing, so folders and hub repos share them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace insitu::hub {

inline constexpr const char* kUqffReport = "uqff_report.json";

// "q4k-3.uqff" -> ("q4k", 3): the stem split at its last '-', the suffix a decimal number.
std::optional<std::pair<std::string, uint64_t>> parse_uqff_shard(const std::string& name);
// "<prefix>-0.uqff", "<prefix>-1.uqff", ... while present (always from 0, up to the first
// gap); [first] when `first` is not a shard name or no such run exists.
std::vector<std::string> expand_uqff_shards(const std::string& first,
                                            const std::vector<std::string>& listing);
// Numeric shorthand: the first "<type>-0.uqff" present in expand order; a type name (any
// alias): "<canonical name>-0.uqff" if present; else nullopt.
std::optional<std::string> resolve_uqff_shorthand(const std::string& input,
                                                  const std::vector<std::string>& listing);

struct UqffGroup {
  std::string quant;                // the report's name, or the shard prefix
  std::vector<std::string> shards;  // in load order
};

// Parses and validates uqff_report.json against the listing: outputs non-empty; each quant
// non-empty and unique (case-insensitively); each output has shards that exist in the listing;
// no shard in two outputs. Throws Error(kCorruptFile) naming `where`.
std::vector<UqffGroup> parse_uqff_report(const std::string& text,
                                         const std::vector<std::string>& listing,
                                         const std::string& where);

// The group `input` selects: with a report, by shard file name, by quant name
// (case-insensitive) or by shorthand on "<quant>-0.uqff"; without one, by shorthand on the
// listing, expanded to its shard run. nullopt: nothing matches.
std::optional<UqffGroup> match_uqff(const std::string& input,
                                    const std::vector<std::string>& listing,
                                    const std::optional<std::vector<UqffGroup>>& report);

// An artifact repo/folder: its basename ends in "-uqff" (any case), or it holds
// uqff_report.json or residual.safetensors, or .uqff files but no source weights.
bool is_uqff_artifact(const std::string& basename, const std::vector<std::string>& listing);

// The .uqff names of a listing, for messages.
std::vector<std::string> uqff_files(const std::vector<std::string>& listing);

}  // namespace insitu::hub
