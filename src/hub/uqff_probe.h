// The UQFF probe behind `--quant V` (reference-system.md §1.4): before quantizing in situ,
// look for a pre-quantized UQFF artifact matching V in
//   a hub model:    the repo itself, then <uqff_org>/<name>-UQFF (the community repo);
//   a local folder: the folder itself, then its sibling "<folder>-UQFF".
// No match anywhere means in-situ quantization (the caller's fallback).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hub/http_client.h"
#include "hub/hub_options.h"
#include "hub/resolve.h"

namespace insitu::hub {

struct UqffArtifact {
  std::string location;  // a directory, or a hub repo "org/name"
  bool on_hub = false;
  std::string quant;                // the matched group: report name or shard prefix
  std::vector<std::string> shards;  // file names inside `location`
};

// `quant`: the raw --quant value ("4", "q4k", "Q4_K", ...). Throws Error(kNotFound) when the
// model itself is a UQFF artifact without a match (listing the .uqff files it has), and
// Error(kCorruptFile) for an invalid uqff_report.json. A community repo or sibling folder that
// exists but has no match prints a note on stderr and yields nullopt. `http` null: libcurl.
std::optional<UqffArtifact> find_uqff_artifact(const ResolvedModel& source,
                                               const std::string& quant, const HubOptions& options,
                                               HttpClient* http = nullptr);

}  // namespace insitu::hub
