// The CLI's subcommands. main.cc parses the command line (CLI11) and calls one of these; each
// only calls the library and prints. Exit codes: 0 success, 1 failure, 2 usage error.
#pragma once

#include <string>
#include <vector>

#include "torchless/error.h"
#include "torchless/serve.h"

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

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;  // NAME=FILE.npy
  std::string output_dir = ".";
  int threads = 0;
  bool print = false;  // also print the values and the argmax of each row
};
int run(const RunArgs& args);

struct BenchInferArgs {
  std::string model;
  std::vector<std::string> inputs;  // NAME=FILE.npy; the others are random
  int batch = 1;
  int threads = 0;
  double seconds = 3;
  bool json = false;
};
int bench_infer(const BenchInferArgs& args);

struct ConvertArgs {
  std::string in, out;
  std::string to;            // "torch", "safetensors" or "" (from OUT's extension)
  bool strip_given = false;  // --strip-prefix present (without a value: the shared module./_orig_mod.)
  std::string strip_prefix;
  std::string dtype;         // torch dtype name, "" = keep
  std::string only;          // ECMAScript regex
  std::string shard_size;    // "500MB", "2GB", "1GiB", plain bytes; "" = one file
  std::string key;           // checkpoint key holding the weights
};
int convert(const ConvertArgs& args);

struct DiffArgs {
  std::string a, b;
  double rtol = 1e-5, atol = 1e-8;
  bool json = false;
};
// Exit codes like diff(1): 0 equal, 1 different, 2 error (unreadable file included).
int diff(const DiffArgs& args);

struct CheckpointArgs {
  std::string action;  // "list", "latest" or "prune"
  std::string dir;
  int keep = 0;        // prune: the N newest stay
  bool json = false;
};
int checkpoint(const CheckpointArgs& args);

// `serve`: the options of the library's ServeOptions, plus the flags that are "unset" by default
// (-1) and durations written as "5", "5s" or "500ms".
struct ServeArgs {
  ServeOptions options;
  int max_batch_size = -1, threads_per_instance = -1;
  int64_t max_queue_delay_us = -1, max_queue_size = -1, queue_timeout_us = -1;
  std::string shutdown_delay = "0", drain_timeout = "25";
  std::string header_timeout = "10", body_timeout = "30", idle_timeout = "65", write_timeout = "30";
  std::string exit_on_error = "true";
};
int serve(ServeArgs& args);

struct HealthcheckArgs {
  std::string host = "127.0.0.1";
  int port = 8080;
  double timeout = 2;
};
// GET /v2/health/live: exit 0 when it answers 200, else 1 (the container HEALTHCHECK).
int healthcheck(const HealthcheckArgs& args);

// "torchless: error [corrupt]: <message>" on stderr; returns 1.
int report(const Error& e);

}  // namespace torchless::cli
