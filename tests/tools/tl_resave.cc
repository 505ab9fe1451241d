// tl_resave IN OUT [--repeat N]: torchless::load(IN), then torchless::save(root, OUT) in the
// torch format. The interop suite (tests/interop/run_writeback.py) feeds it files torch wrote
// and torch.load()s what comes out; bench/compare_save.py times the save with --repeat.
// Each save goes to a fresh OUT (an existing one is removed first, untimed: replacing a big
// file costs its page-cache teardown, whoever writes). Prints the best save time as
// `save_ms=<ms>` on stdout; errors go to stderr
// as `tl_resave: load|save [code]: message`, exit 1.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

#include "torchless/load.h"
#include "torchless/save.h"

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 5 && std::strcmp(argv[3], "--repeat") == 0)) {
    std::fprintf(stderr, "usage: tl_resave IN OUT [--repeat N]\n");
    return 2;
  }
  const int repeat = argc == 5 ? std::max(1, std::atoi(argv[4])) : 1;
  auto root = torchless::load(argv[1]);
  if (!root) {
    std::fprintf(stderr, "tl_resave: load [%s]: %s\n", torchless::code_name(root.error().code()),
                 root.error().to_string().c_str());
    return 1;
  }
  double best = 1e300;
  for (int i = 0; i < repeat; ++i) {
    ::unlink(argv[2]);
    const auto t0 = std::chrono::steady_clock::now();
    auto st = torchless::save(*root, argv[2]);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!st) {
      std::fprintf(stderr, "tl_resave: save [%s]: %s\n", torchless::code_name(st.error().code()),
                   st.error().to_string().c_str());
      return 1;
    }
    best = std::min(best, ms);
  }
  std::printf("save_ms=%.3f\n", best);
  return 0;
}
