// --quant / --isq / --isq-organization / --topology, shared by run, bench, perplexity, logits.
// Every value is validated (and the topology file parsed) before any weight is read.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "model/isq/quant_plan.h"

namespace insitu::cli {

struct QuantOptions {
  std::string quant;         // artifact selector with ISQ fallback, or "auto"
  std::string isq;           // force in-situ quantization
  std::string organization = "default";
  std::string topology;      // YAML file
  bool pure = false;         // no K-quant mixes
};

void add_quant_options(CLI::App& app, QuantOptions& o);

// Resolves the flags into a policy. `context` is the KV-cache length --quant auto budgets for.
// Prints what --quant auto chose to stderr.
QuantPolicy resolve_quant_policy(const QuantOptions& o, const std::string& model_dir,
                                 int64_t context);

}  // namespace insitu::cli
