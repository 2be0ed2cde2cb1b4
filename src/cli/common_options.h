// Options shared by several subcommands (model directory, threads, context, sampling), so each
// flag is spelled and documented once.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "runtime/sampler.h"

namespace insitu::cli {

struct ModelOptions {
  std::string model;
  int threads = 0;
  int64_t context = 0;  // 0: min(max_position_embeddings, 4096)
};

void add_model_options(CLI::App& app, ModelOptions& o, bool with_context = true);
void add_sampling_options(CLI::App& app, SamplingParams& p);
// Resolves the context length: the flag, else the model's limit capped at 4096.
int64_t resolve_context(const ModelOptions& o, int64_t max_position_embeddings);

}  // namespace insitu::cli
