// insitu: the command-line front end. Every subcommand lives in cli/commands/<name>.cpp.
// Errors from the library arrive as insitu::Error and become a one-line message and exit 1;
// bad flags exit 2 (CLI11's convention).
#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include "cli/command.h"
#include "core/error.h"

namespace insitu::cli {
std::vector<Command>& command_registry() {
  static std::vector<Command> registry;
  return registry;
}
}  // namespace insitu::cli

int main(int argc, char** argv) {
  using namespace insitu;
  CLI::App app{"insitu: run, quantize and serve LLMs at any bit width"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "insitu 0.1.0");
  std::map<CLI::App*, cli::RunFn> runners;
  for (auto& cmd : cli::command_registry()) {
    CLI::App* sub = app.add_subcommand(cmd.name, cmd.description);
    runners[sub] = cmd.setup(*sub);
  }
  // CLI11 reports an unknown subcommand as "A subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    std::string names;
    for (const auto& cmd : cli::command_registry()) {
      known |= cmd.name == argv[1];
      names += (names.empty() ? "" : ", ") + cmd.name;
    }
    if (!known) {
      std::fprintf(stderr, "insitu: unknown command '%s' (commands: %s)\n", argv[1], names.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
  } catch (const Error& e) {
    std::fprintf(stderr, "insitu: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "insitu: error: %s\n", e.what());
    return 1;
  }
  return 1;
}
