// torchless inspect FILE [--json] [--sha256] [--permissive]
#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "commands.h"
#include "progress.h"
#include "torchless/load.h"

namespace torchless::cli {
namespace {

using Json = nlohmann::ordered_json;

Json scalar_json(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kBool: return v.as_bool();
    case Value::Kind::kInt: return v.as_int();
    case Value::Kind::kBigInt: return v.as_big_int();  // exact, as a decimal string
    case Value::Kind::kFloat: return v.as_float();
    case Value::Kind::kString: return v.as_string();
    default: return nullptr;
  }
}

std::string shape_text(const Tensor& t) {
  std::string s = "[";
  for (size_t i = 0; i < t.ndim(); ++i) s += (i ? ", " : "") + std::to_string(t.shape()[i]);
  return s + "]";
}

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string value_text(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNone: return "None";
    case Value::Kind::kBool: return v.as_bool() ? "True" : "False";
    case Value::Kind::kInt: return std::to_string(v.as_int());
    case Value::Kind::kBigInt: return v.as_big_int();
    case Value::Kind::kFloat: {  // the shortest text that reads back as the same double
      char buf[32];
      for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v.as_float());
        if (std::strtod(buf, nullptr) == v.as_float()) break;
      }
      return buf;
    }
    case Value::Kind::kString: return "'" + escape(v.as_string(), 200) + "'";
    default: return v.kind_name();
  }
}

}  // namespace

int inspect(const InspectArgs& args) {
  LoadOptions opts;
  opts.permissive = args.permissive;
  opts.verify_crc = args.sha256;  // every byte is read anyway: check the CRCs first (ZIP-10)
  auto file = open(args.file, opts);
  if (!file) return report(file.error());

  // Hashes are computed once, up front, under a progress bar (they read every byte).
  std::vector<std::string> hashes;
  if (args.sha256) {
    uint64_t total = 0;
    for (const auto& [name, t] : file->tensors) total += t.nbytes();
    Progress progress("sha256", total);
    for (const auto& [name, t] : file->tensors) {
      hashes.push_back(sha256_hex(t));
      progress.add(t.nbytes());
    }
  }

  if (args.json) {
    Json out;
    size_t i = 0;
    out["format"] = format_name(file->format);
    Json tensors = Json::array();
    for (const auto& [name, t] : file->tensors) {
      Json e;
      e["name"] = name;
      e["dtype"] = std::string(dtype_name(t.dtype()));
      e["shape"] = t.shape();
      if (args.sha256) e["sha256"] = hashes[i++];
      tensors.push_back(std::move(e));
    }
    out["tensors"] = std::move(tensors);
    Json values = Json::object();
    for (const auto& [name, v] : file->values) values[name] = scalar_json(v);
    out["values"] = std::move(values);
    if (!file->warnings.empty()) out["warnings"] = file->warnings;
    std::cout << out.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
    return 0;
  }

  std::printf("%s  (%s)\n", file->path.c_str(), format_name(file->format));
  size_t width = 4, dtype_width = 5;
  for (const auto& [name, t] : file->tensors) {
    width = std::max(width, name.size());
    dtype_width = std::max(dtype_width, dtype_name(t.dtype()).size());
  }
  width = std::min<size_t>(width, 60);
  uint64_t total_bytes = 0, total_numel = 0;
  size_t i = 0;
  if (!file->tensors.empty()) {
    std::printf("\n%-*s  %-*s %-20s %10s%s\n", static_cast<int>(width), "name", static_cast<int>(dtype_width), "dtype",
                "shape", "size",
                args.sha256 ? "  sha256" : "");
    for (const auto& [name, t] : file->tensors) {
      total_bytes += t.nbytes();
      total_numel += static_cast<uint64_t>(t.numel());
      std::printf("%-*s  %-*s %-20s %10s%s%s\n", static_cast<int>(width), escape(name, 200).c_str(),
                  static_cast<int>(dtype_width), std::string(dtype_name(t.dtype())).c_str(), shape_text(t).c_str(),
                  human_bytes(t.nbytes()).c_str(), args.sha256 ? "  " : "",
                  args.sha256 ? hashes[i++].c_str() : "");
    }
  }
  std::printf("\n%zu tensors, %" PRIu64 " elements, %s\n", file->tensors.size(), total_numel,
              human_bytes(total_bytes).c_str());
  if (!file->values.empty()) {
    std::printf("\nvalues:\n");
    for (const auto& [name, v] : file->values)
      std::printf("  %s = %s\n", escape(name, 200).c_str(), value_text(v).c_str());
  }
  if (!file->warnings.empty()) {
    std::printf("\nwarnings:\n");
    for (const auto& w : file->warnings) std::printf("  - %s\n", w.c_str());
  }
  return 0;
}

}  // namespace torchless::cli
