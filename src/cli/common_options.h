// Options shared by several subcommands (model directory, threads, context, sampling), so each
// flag is spelled and documented once.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "hub/resolve.h"
#include "runtime/sampler.h"

namespace insitu::cli {

struct ModelOptions {
  std::string model;  // after parsing: the directory to load (a hub id becomes its snapshot)
  hub::ResolvedModel source;
  int threads = 0;
  int64_t context = 0;  // 0: min(max_position_embeddings, 4096)
};

void add_model_options(CLI::App& app, ModelOptions& o, bool with_context = true);
// Adds the required -m/--model option: a local path (used exactly as given) or a hub id
// org/name[@revision]. Once the command line parsed, a hub id is resolved through the Hugging
// Face cache (downloading what is missing) and `model` becomes the snapshot directory; an
// error is printed as "insitu: error: ..." and ends the command with exit status 1.
void add_model_source_option(CLI::App& app, std::string& model, const std::string& help,
                             hub::ResolvedModel* source = nullptr);
void add_sampling_options(CLI::App& app, SamplingParams& p);
// Resolves the context length: the flag, else the model's limit capped at 4096.
int64_t resolve_context(const ModelOptions& o, int64_t max_position_embeddings);

}  // namespace insitu::cli
