// torchless — the command-line tool. Parsing only; the work is in the library.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.h"

int main(int argc, char** argv) {
  using namespace torchless::cli;
  CLI::App app{"torchless: read, convert, inspect, run and serve PyTorch models without Python"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "torchless 0.1.0");

  InspectArgs inspect_args;
  auto* inspect_cmd = app.add_subcommand("inspect", "List the tensors and values inside a model file");
  inspect_cmd->add_option("FILE", inspect_args.file, "any supported file (format detected from its bytes)")->required();
  inspect_cmd->add_flag("--json", inspect_args.json, "print one JSON object");
  inspect_cmd->add_flag("--sha256", inspect_args.sha256, "add the SHA-256 of every tensor's C-contiguous bytes");
  inspect_cmd->add_flag("--permissive", inspect_args.permissive,
                        "record calls a pickle would make (os.system, eval, ...) as inert objects instead of refusing");

  auto* bench_cmd = app.add_subcommand("bench", "Measure load or inference speed");
  bench_cmd->require_subcommand(1);
  BenchLoadArgs load_args;
  auto* load_cmd = bench_cmd->add_subcommand("load", "Time opening a file and reading every tensor byte");
  load_cmd->add_option("FILE", load_args.file, "any supported file")->required();
  load_cmd->add_flag("--json", load_args.json, "print one JSON object");
  load_cmd->add_option("--runs", load_args.runs, "timed runs (median reported)")->check(CLI::PositiveNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (*inspect_cmd) return inspect(inspect_args);
  if (*load_cmd) return bench_load(load_args);
  return 2;
}
