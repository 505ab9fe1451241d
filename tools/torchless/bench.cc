// torchless bench load FILE [--json] [--runs N]
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <vector>

#include "commands.h"
#include "torchless/load.h"

namespace torchless::cli {
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Reads every byte of every tensor (one load per 64-byte line is enough to fault every page
// in, but summing every 8-byte word keeps the compiler from skipping the reads).
uint64_t touch_all(const LoadedFile& f) {
  uint64_t sum = 0;
  for (const auto& [name, t] : f.tensors) {
    t.for_each_chunk([&](const std::byte* p, size_t n) {
      size_t i = 0;
      for (; i + 8 <= n; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, p + i, 8);
        sum += w;
      }
      for (; i < n; ++i) sum += static_cast<uint64_t>(p[i]);
    });
  }
  return sum;
}

// The sum of every byte read goes here, so the compiler cannot drop the reads.
volatile uint64_t sink = 0;

}  // namespace

int bench_load(const BenchLoadArgs& args) {
  std::vector<double> open_ms, read_ms;
  uint64_t bytes = 0;
  for (int run = 0; run <= args.runs; ++run) {  // run 0 warms the page cache
    const auto t0 = std::chrono::steady_clock::now();
    auto file = open(args.file);
    if (!file) return report(file.error());
    const double t_open = ms_since(t0);
    sink = touch_all(*file);
    const double t_all = ms_since(t0);
    if (run == 0) {
      for (const auto& [name, t] : file->tensors) bytes += t.nbytes();
      continue;
    }
    open_ms.push_back(t_open);
    read_ms.push_back(t_all);
  }
  const double o = median(open_ms), r = median(read_ms);
  if (args.json) {
    nlohmann::ordered_json j;
    j["file"] = args.file;
    j["bytes"] = bytes;
    j["runs"] = args.runs;
    j["open_ms"] = o;
    j["read_all_ms"] = r;
    j["read_gb_per_s"] = r > 0 ? static_cast<double>(bytes) / (r * 1e6) : 0.0;
    std::cout << j.dump() << "\n";
  } else {
    std::printf("%s: open %.3f ms, open + read all %.3f ms (%.2f GB/s), median of %d\n", args.file.c_str(),
                o, r, r > 0 ? static_cast<double>(bytes) / (r * 1e6) : 0.0, args.runs);
  }
  return 0;
}

}  // namespace torchless::cli
