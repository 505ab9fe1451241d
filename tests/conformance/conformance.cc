// torchless-conformance: runs the ONNX backend test data (Debian's libonnx-testdata) through
// the engine and compares with the ONNX backend rule: same dtype and shape, NaN where the
// reference has NaN, equal infinities, |out - ref| <= atol + rtol * |ref| (rtol 1e-3, atol
// 1e-7). Integers and bools compare exactly. Like ONNX's runner, bfloat16 data stored as
// UINT16 is compared as 16-bit codes.
//
//   torchless-conformance --data DIR [--suites node,simple,...] [--skip FILE] [--ratchet FILE]
//                         [--report FILE.json] [--filter SUBSTRING] [--write-ratchet FILE] [--all]
//
// A case is SUITE/NAME (node/test_abs). Skip file lines: "CASE  KIND  reason..."; ratchet
// file lines: "CASE". Prints the pass rate over the runnable (not skipped) cases, then
// "conformance: N passed, M failed" over the ratchet cases (every one must pass) plus skip-file
// errors; with --all over every runnable case (for data our own generators make).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/check.h"
#include "core/file.h"
#include "engine/kernel.h"
#include "engine/model.h"
#include "engine/proto.h"
#include "onnx/onnx-data.pb.h"

namespace fs = std::filesystem;
using namespace torchless;
using namespace torchless::engine;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// One test_data_set_N/{input,output}_K.pb, read as the model's type for that slot says.
Val read_value(const fs::path& file, const onnx::TypeProto& type) {
  const std::string bytes = read_all(file);
  TensorDecoder decoder("", {});
  auto tensor_of = [&](onnx::TensorProto& t, int declared) {
    Tensor x = decoder.read(t);
    // bfloat16 stored as UINT16 (specs 2.4): reinterpret the codes.
    if (declared == onnx::TensorProto::BFLOAT16 && x.dtype() == DType::kUInt16)
      x = unwrap(Tensor::contiguous_over(x.storage(), DType::kBFloat16, x.shape()));
    return x;
  };
  switch (type.value_case()) {
    case onnx::TypeProto::kSequenceType: {
      onnx::SequenceProto s;
      if (!s.ParseFromString(bytes)) corrupt("not a SequenceProto");
      const int elem = type.sequence_type().elem_type().tensor_type().elem_type();
      std::vector<Tensor> items;
      for (onnx::TensorProto& t : *s.mutable_tensor_values()) items.push_back(tensor_of(t, elem));
      return Val::sequence(std::move(items), onnx_dtype_if(elem).value_or(DType::kFloat32));
    }
    case onnx::TypeProto::kOptionalType: {
      onnx::OptionalProto o;
      if (!o.ParseFromString(bytes)) corrupt("not an OptionalProto");
      const auto& et = type.optional_type().elem_type();
      if (o.has_tensor_value()) return Val::of(tensor_of(*o.mutable_tensor_value(), et.tensor_type().elem_type()));
      if (o.has_sequence_value()) {
        std::vector<Tensor> items;
        const int elem = et.sequence_type().elem_type().tensor_type().elem_type();
        for (onnx::TensorProto& t : *o.mutable_sequence_value()->mutable_tensor_values())
          items.push_back(tensor_of(t, elem));
        return Val::sequence(std::move(items), onnx_dtype_if(elem).value_or(DType::kFloat32));
      }
      return Val{};
    }
    default: {
      onnx::TensorProto t;
      if (!t.ParseFromString(bytes)) corrupt("not a TensorProto");
      return Val::of(tensor_of(t, type.tensor_type().elem_type()));
    }
  }
}

double as_double(const Tensor& t, int64_t i) {
  double r = 0;
  Node dummy;
  dispatch(AllTypes{}, t.dtype(), dummy, [&]<class T>() { r = static_cast<double>(load(data<T>(t)[i])); });
  return r;
}

// "" when they agree, else what differs.
std::string compare(const Tensor& out, const Tensor& ref) {
  if (out.dtype() != ref.dtype())
    return "dtype " + std::string(dtype_name(out.dtype())) + ", expected " + std::string(dtype_name(ref.dtype()));
  if (out.shape() != ref.shape()) return "shape " + shape_text(out.shape()) + ", expected " + shape_text(ref.shape());
  // bfloat16 compares as 16-bit codes with the usual tolerance (the uint16 arrays ONNX's runner sees).
  const bool codes = ref.dtype() == DType::kBFloat16;
  const bool exact = !codes && !dtype_is_floating(ref.dtype());
  auto value = [&](const Tensor& t, int64_t i) { return codes ? double(data<uint16_t>(t)[i]) : as_double(t, i); };
  const int64_t n = ref.numel();
  for (int64_t i = 0; i < n; ++i) {
    const double a = value(out, i), b = value(ref, i);
    bool ok;
    if (std::isnan(b)) ok = std::isnan(a);
    else if (std::isinf(b)) ok = a == b;
    else if (exact) ok = a == b;
    else ok = std::fabs(a - b) <= 1e-7 + 1e-3 * std::fabs(b);
    if (!ok) {
      std::ostringstream s;
      s.precision(9);
      s << "element " << i << ": " << a << ", expected " << b;
      return s.str();
    }
  }
  return "";
}

std::string compare(const Val& out, const Val& ref) {
  if (out.kind != ref.kind) return "value kind differs";
  if (ref.kind == Val::Kind::kTensor) return compare(out.tensor, ref.tensor);
  if (ref.kind == Val::Kind::kSequence) {
    if (out.seq.size() != ref.seq.size())
      return "sequence of " + std::to_string(out.seq.size()) + ", expected " + std::to_string(ref.seq.size());
    for (size_t i = 0; i < ref.seq.size(); ++i)
      if (auto d = compare(out.seq[i], ref.seq[i]); !d.empty()) return "item " + std::to_string(i) + ": " + d;
  }
  return "";
}

// Runs one case directory; "" on success, else the reason.
std::string run_case(const fs::path& dir) {
  const std::string path = (dir / "model.onnx").string();
  auto file = unwrap(MappedFile::open(path, true));
  const auto* bytes = reinterpret_cast<const uint8_t*>(file->data());
  auto proto = parse_model(bytes, file->size(), uint64_t{2} << 30);
  auto model = Model::load(bytes, file->size(), path, EngineOptions{});
  std::set<std::string> inits;
  for (const auto& t : proto->graph().initializer()) inits.insert(t.name());
  std::vector<const onnx::TypeProto*> in_types, out_types;
  for (const auto& x : proto->graph().input())
    if (!inits.count(x.name())) in_types.push_back(&x.type());
  for (const auto& x : proto->graph().output()) out_types.push_back(&x.type());

  std::vector<fs::path> sets;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) return "no test data";
  for (const fs::path& set : sets) {
    std::vector<Val> inputs(in_types.size());
    for (size_t i = 0; i < in_types.size(); ++i) {
      const fs::path f = set / ("input_" + std::to_string(i) + ".pb");
      if (fs::exists(f)) inputs[i] = read_value(f, *in_types[i]);
    }
    std::vector<Val> outs = model->run(std::move(inputs));
    for (size_t i = 0; i < out_types.size(); ++i) {
      const Val ref = read_value(set / ("output_" + std::to_string(i) + ".pb"), *out_types[i]);
      if (auto d = compare(outs[i], ref); !d.empty())
        return set.filename().string() + " output " + std::to_string(i) + ": " + d;
    }
  }
  return "";
}

std::map<std::string, std::string> read_list(const std::string& path) {
  std::map<std::string, std::string> m;
  if (path.empty()) return m;
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    std::string name, rest;
    s >> name;
    std::getline(s, rest);
    const size_t b = rest.find_first_not_of(" \t");
    m[name] = b == std::string::npos ? "" : rest.substr(b);
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs libonnx-testdata through the torchless engine"};
  std::string data = "/usr/share/libonnx-testdata/data", suites = "node,pytorch-converted,pytorch-operator,simple";
  std::string skip_file, ratchet_file, report_file, filter, write_ratchet;
  bool verbose = false, all = false;
  app.add_option("--data", data, "the testdata directory");
  app.add_option("--suites", suites, "comma-separated suites");
  app.add_option("--skip", skip_file, "skip file: CASE KIND reason");
  app.add_option("--ratchet", ratchet_file, "cases that must pass");
  app.add_option("--report", report_file, "JSON report");
  app.add_option("--filter", filter, "only cases whose name contains this");
  app.add_option("--write-ratchet", write_ratchet, "write the passing cases here");
  app.add_flag("-v,--verbose", verbose, "print every failure");
  app.add_flag("--all", all, "every runnable case must pass (data made by our own generators)");
  CLI11_PARSE(app, argc, argv);

  const auto skips = read_list(skip_file);
  const auto ratchet = read_list(ratchet_file);
  nlohmann::json report = nlohmann::json::object();
  int total = 0, passed = 0, skipped = 0;
  std::set<std::string> seen, passing;
  std::stringstream ss(suites);
  for (std::string suite; std::getline(ss, suite, ',');) {
    std::vector<fs::path> cases;
    for (const auto& e : fs::directory_iterator(fs::path(data) / suite))
      if (e.is_directory()) cases.push_back(e.path());
    std::sort(cases.begin(), cases.end());
    for (const fs::path& c : cases) {
      const std::string name = suite + "/" + c.filename().string();
      if (!filter.empty() && name.find(filter) == std::string::npos) continue;
      seen.insert(name);
      ++total;
      if (auto it = skips.find(name); it != skips.end()) {
        ++skipped;
        report[name] = {{"status", "skipped"}, {"reason", it->second}};
        continue;
      }
      std::string why;
      try {
        why = run_case(c);
      } catch (const Error& e) {
        why = std::string("error [") + code_name(e.code()) + "]: " + e.to_string();
      } catch (const std::exception& e) {
        why = std::string("exception: ") + e.what();
      }
      if (why.empty()) {
        ++passed;
        passing.insert(name);
        report[name] = {{"status", "passed"}};
      } else {
        report[name] = {{"status", "failed"}, {"reason", why}};
        if (verbose) std::cout << "FAIL " << name << ": " << why << "\n";
      }
    }
  }
  const int runnable = total - skipped;
  std::printf("conformance: %d of %d runnable cases pass (%.1f%%); %d skipped, %d in all\n", passed, runnable,
              runnable ? 100.0 * passed / runnable : 0.0, skipped, total);
  if (!report_file.empty()) {
    nlohmann::json out = {{"passed", passed}, {"runnable", runnable}, {"skipped", skipped}, {"cases", report}};
    std::ofstream(report_file) << out.dump(1) << "\n";
  }
  if (!write_ratchet.empty()) {
    std::ofstream f(write_ratchet);
    f << "# Conformance cases that must keep passing (torchless-conformance --write-ratchet).\n";
    for (const auto& n : passing) f << n << "\n";
  }
  int ok = 0, bad = 0;
  if (all) {
    ok = passed;
    bad = runnable - passed;
    for (const auto& [name, v] : report.items())
      if (v["status"] == "failed") std::cout << "FAIL " << name << ": " << v["reason"].get<std::string>() << "\n";
  }
  for (const auto& [name, unused] : ratchet) {
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    if (passing.count(name)) ++ok;
    else {
      ++bad;
      std::cout << "RATCHET FAIL " << name << ": "
                << (report.contains(name) ? report[name].value("reason", std::string("not run")) : "not found") << "\n";
    }
  }
  for (const auto& [name, reason] : skips)
    if (filter.empty() && !seen.count(name)) {
      ++bad;
      std::cout << "SKIP FILE: " << name << " is not a case\n";
    } else if (reason.empty()) {
      ++bad;
      std::cout << "SKIP FILE: " << name << " has no reason\n";
    }
  std::printf("conformance: %d passed, %d failed\n", ok, bad);
  return bad ? 1 : 0;
}
