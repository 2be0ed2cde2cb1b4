// Subcommand registry for the `insitu` binary. Each file in cli/commands/ registers itself with
// INSITU_COMMAND(name, description, setup): `setup` adds the subcommand's options to its CLI11
// App and returns the function that runs it. The CLI sources are linked straight into the
// executable (not a static library), so the registrations are never dropped by the linker.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace insitu::cli {

using RunFn = std::function<int()>;
using SetupFn = std::function<RunFn(CLI::App&)>;

struct Command {
  std::string name;
  std::string description;
  SetupFn setup;
};

std::vector<Command>& command_registry();

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string description, SetupFn setup) {
    command_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

#define INSITU_COMMAND(ident, name, description, setup) \
  static ::insitu::cli::CommandRegistrar insitu_command_##ident(name, description, setup)

}  // namespace insitu::cli
