// --quant / --isq / --isq-organization / --topology / --device, shared by run, bench,
// perplexity, logits. Every value is validated (and the topology file parsed) before any weight
// is read; the device check even runs before a hub id is resolved (downloaded).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "model/isq/quant_plan.h"
#include "quant/backend.h"

namespace insitu::cli {

struct QuantOptions {
  std::string quant;         // artifact selector with ISQ fallback, or "auto"
  std::string isq;           // force in-situ quantization
  std::string organization = "default";
  std::string topology;      // YAML file
  bool pure = false;         // no K-quant mixes
  std::string device = "cpu";  // --device: cpu, cuda or metal
  Backend backend() const;
};

// Adds the options and a parse-complete callback on `app` running check_quant_device (so the
// command must not set its own parse_complete_callback); its error is printed as
// "insitu: error: ..." and ends the command with exit status 1.
void add_quant_options(CLI::App& app, QuantOptions& o);

// Checks the request against --device without reading any model file, in this order:
//   1. --quant/--isq parse with the device's numeric shorthands (4 is afq4 on metal);
//   2. the requested type and every type the --topology file names must run on the device
//      (the registry's backends column): "--isq f8q8: f8q8 is not supported on the cuda
//      backend (runs on: cpu); types for cuda: ...";
//   3. the device must be in this build: "--device cuda: this build has no CUDA backend".
// Types the plan derives (K-quant mixes, sensitive-tensor promotion, shape fallback) run
// wherever their source type does (tests/quant pins this), so they need no check.
// Throws Error(kUnsupported) for 2 and 3, Error(kInvalidArgument) for a bad value.
void check_quant_device(const QuantOptions& o);

// Resolves the flags into a policy. `context` is the KV-cache length --quant auto budgets for.
// Prints what --quant auto chose to stderr.
QuantPolicy resolve_quant_policy(const QuantOptions& o, const std::string& model_dir,
                                 int64_t context);

}  // namespace insitu::cli
