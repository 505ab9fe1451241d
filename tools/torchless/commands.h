// The CLI's subcommands. main.cc parses the command line (CLI11) and calls one of these; each
// only calls the library and prints. Exit codes: 0 success, 1 failure, 2 usage error.
#pragma once

#include <string>

#include "torchless/error.h"

namespace torchless::cli {

struct InspectArgs {
  std::string file;
  bool json = false;
  bool sha256 = false;
  bool permissive = false;
};
int inspect(const InspectArgs& args);

struct BenchLoadArgs {
  std::string file;
  bool json = false;
  int runs = 5;
};
int bench_load(const BenchLoadArgs& args);

// "torchless: error [corrupt]: <message>" on stderr; returns 1.
int report(const Error& e);

}  // namespace torchless::cli
