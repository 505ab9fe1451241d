// torchless run MODEL --input NAME=FILE.npy ... [--output-dir DIR] [--threads N]
// torchless bench infer MODEL [--input NAME=FILE.npy ...] [--batch N] [--threads N] [--seconds S] [--json]
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>

#include "commands.h"
#include "torchless/engine.h"
#include "torchless/load.h"
#include "torchless/save.h"

namespace torchless::cli {
namespace {

using Clock = std::chrono::steady_clock;
using Inputs = std::vector<std::pair<std::string, Tensor>>;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

Error usage(std::string message) { return Error(Error::Code::kInvalidArgument, std::move(message)); }

// NAME=FILE.npy pairs, each file read as its one tensor.
Result<Inputs> read_inputs(const std::vector<std::string>& specs) {
  Inputs inputs;
  for (const std::string& spec : specs) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) return usage("--input takes NAME=FILE.npy, got '" + spec + "'");
    const std::string path = spec.substr(eq + 1);
    auto file = open(path);
    if (!file) return std::move(file).error();
    if (file->format != Format::kNpy || file->tensors.size() != 1)
      return Error(Error::Code::kInvalidArgument, path + " is not a .npy file");
    inputs.emplace_back(spec.substr(0, eq), file->tensors[0].second);
  }
  return inputs;
}

// NAME with every character outside [A-Za-z0-9._-] replaced by '_' (DESIGN.md).
std::string file_name(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  return s;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// `t` repeated n times along dimension 0 (a batch of one made into a batch of n).
Tensor repeat_batch(const Tensor& t, int64_t n) {
  std::vector<int64_t> shape = t.shape();
  shape[0] *= n;
  const size_t bytes = t.nbytes();
  Storage s = Storage::allocate(bytes * static_cast<size_t>(n)).value();
  for (int64_t i = 0; i < n; ++i) std::memcpy(s.mutable_data() + bytes * static_cast<size_t>(i), t.data(), bytes);
  return Tensor::contiguous_over(std::move(s), t.dtype(), std::move(shape)).value();
}

// A random tensor for an input the user did not give: dynamic dims are `batch` for the first
// and 1 elsewhere; floats uniform in [-1, 1), integers 0, bools false.
Tensor random_input(const TensorInfo& info, int64_t batch, std::mt19937& rng) {
  std::vector<int64_t> shape = info.shape;
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] < 0) shape[d] = d == 0 ? batch : 1;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  Storage s = Storage::allocate(static_cast<size_t>(n) * dtype_size(info.dtype)).value();
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  if (info.dtype == DType::kFloat32)
    for (int64_t i = 0; i < n; ++i) reinterpret_cast<float*>(s.mutable_data())[i] = u(rng);
  else if (info.dtype == DType::kFloat64)
    for (int64_t i = 0; i < n; ++i) reinterpret_cast<double*>(s.mutable_data())[i] = u(rng);
  return Tensor::contiguous_over(std::move(s), info.dtype, std::move(shape)).value();
}

// The elements of `t` as doubles (the dtypes outputs usually have), or empty.
std::vector<double> values(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  auto fill = [&]<class T>() {
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(reinterpret_cast<const T*>(t.data())[i]);
  };
  switch (t.dtype()) {
    case DType::kFloat32: fill.template operator()<float>(); break;
    case DType::kFloat64: fill.template operator()<double>(); break;
    case DType::kInt64: fill.template operator()<int64_t>(); break;
    case DType::kInt32: fill.template operator()<int32_t>(); break;
    case DType::kUInt8: case DType::kBool: fill.template operator()<uint8_t>(); break;
    case DType::kInt8: fill.template operator()<int8_t>(); break;
    default: v.clear();
  }
  return v;
}

// --print: the values (up to 64) and, per row of the last axis, the index of the largest.
void print_values(const Tensor& t) {
  const std::vector<double> v = values(t);
  if (v.empty()) return;
  std::printf("  values:");
  for (size_t i = 0; i < std::min<size_t>(v.size(), 64); ++i) std::printf(" %.6g", v[i]);
  std::printf("%s\n", v.size() > 64 ? " ..." : "");
  const size_t row = t.ndim() ? static_cast<size_t>(t.shape().back()) : 1;
  if (row < 2) return;
  std::printf("  argmax:");
  for (size_t r = 0; r < std::min<size_t>(v.size() / row, 64); ++r)
    std::printf(" %td", std::max_element(v.begin() + r * row, v.begin() + (r + 1) * row) - (v.begin() + r * row));
  std::printf("\n");
}

}  // namespace

int run(const RunArgs& args) {
  EngineOptions options;
  options.threads = args.threads;
  auto engine = Engine::open(args.model, options);
  if (!engine) return report(engine.error());
  auto inputs = read_inputs(args.inputs);
  if (!inputs) return report(inputs.error());
  auto outputs = engine->run(*inputs);
  if (!outputs) return report(outputs.error());
  std::error_code ec;
  std::filesystem::create_directories(args.output_dir, ec);
  for (size_t i = 0; i < outputs->size(); ++i) {
    const Tensor& t = (*outputs)[i];
    const std::string name = engine->outputs()[i].name;
    const std::string path = (std::filesystem::path(args.output_dir) / (file_name(name) + ".npy")).string();
    if (auto st = save_npy(t, path); !st) return report(st.error());
    std::printf("%s: %s %s -> %s\n", name.c_str(), std::string(dtype_name(t.dtype())).c_str(),
                shape_str(t.shape()).c_str(), path.c_str());
    if (args.print) print_values(t);
  }
  return 0;
}

int bench_infer(const BenchInferArgs& args) {
  EngineOptions options;
  options.threads = args.threads;
  const auto t_load = Clock::now();
  auto engine = Engine::open(args.model, options);
  if (!engine) return report(engine.error());
  const double load_ms = ms_since(t_load);
  auto given = read_inputs(args.inputs);
  if (!given) return report(given.error());
  Inputs inputs;
  std::mt19937 rng(0);
  for (const TensorInfo& info : engine->inputs()) {
    auto it = std::find_if(given->begin(), given->end(), [&](const auto& p) { return p.first == info.name; });
    if (it == given->end()) {
      if (!info.rank_known || !info.dtype_known)
        return report(usage("input '" + info.name + "' has no declared shape: give it with --input"));
      inputs.emplace_back(info.name, random_input(info, args.batch, rng));
      continue;
    }
    Tensor t = it->second;
    const bool dynamic_batch = info.rank_known && !info.shape.empty() && info.shape[0] < 0;
    if (args.batch > 1 && dynamic_batch && t.ndim() > 0 && t.shape()[0] != args.batch) {
      if (t.shape()[0] != 1)
        return report(usage("input '" + info.name + "' has batch " + std::to_string(t.shape()[0]) +
                            "; --batch " + std::to_string(args.batch) + " repeats a batch of 1 only"));
      t = repeat_batch(t.contiguous().value(), args.batch);
    }
    inputs.emplace_back(info.name, t);
  }
  // Warm-up: at least 2 runs and 0.5 s (or the time budget when it is shorter).
  const auto t_warm = Clock::now();
  for (int i = 0; i < 2 || (ms_since(t_warm) < std::min(500.0, args.seconds * 1000) && i < 1000); ++i) {
    auto out = engine->run(inputs);
    if (!out) return report(out.error());
  }
  std::vector<double> times;
  const auto t_all = Clock::now();
  while (times.size() < 5 || (ms_since(t_all) < args.seconds * 1000 && times.size() < 100000)) {
    const auto t0 = Clock::now();
    auto out = engine->run(inputs);
    times.push_back(ms_since(t0));
    if (!out) return report(out.error());
  }
  std::sort(times.begin(), times.end());
  const size_t n = times.size();
  const double median = n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  const double p90 = times[std::min(n - 1, static_cast<size_t>(0.9 * static_cast<double>(n)))];
  double mean = 0;
  for (double t : times) mean += t / static_cast<double>(n);
  if (args.json) {
    nlohmann::ordered_json j;
    j["model"] = args.model;
    j["batch"] = args.batch;
    j["threads"] = args.threads;
    j["runs"] = n;
    j["median_ms"] = median;
    j["p90_ms"] = p90;
    j["min_ms"] = times.front();
    j["mean_ms"] = mean;
    j["load_ms"] = load_ms;
    std::cout << j.dump() << "\n";
  } else {
    std::printf("%s: median %.4f ms, p90 %.4f ms, min %.4f ms over %zu runs (batch %d, load %.1f ms)\n",
                args.model.c_str(), median, p90, times.front(), n, args.batch, load_ms);
  }
  return 0;
}

}  // namespace torchless::cli
