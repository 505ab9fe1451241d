// torchless convert IN OUT [--to torch|safetensors] [--strip-prefix [P]] [--dtype T] [--only REGEX]
//                          [--shard-size SIZE] [--key K]
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <regex>

#include "commands.h"
#include "progress.h"
#include "torchless/convert.h"

namespace torchless::cli {
namespace {

int usage(const std::string& message) {
  std::cerr << "torchless convert: " << message << "\n";
  return 2;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "500MB", "2GB", "1GiB", "1.5GB", "123456" -> bytes (huggingface_hub: KB/MB/GB/TB are powers of
// 10, KiB/MiB/GiB/TiB powers of 2). 0 when unparsable or not positive.
uint64_t parse_size(const std::string& text) {
  size_t unit_at = 0;
  while (unit_at < text.size() && (std::isdigit(static_cast<unsigned char>(text[unit_at])) || text[unit_at] == '.'))
    ++unit_at;
  if (unit_at == 0) return 0;
  char* end = nullptr;
  const std::string number = text.substr(0, unit_at);
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) return 0;
  const std::string unit = lower(text.substr(unit_at));
  double scale;
  if (unit == "" || unit == "b") scale = 1;
  else if (unit == "kb") scale = 1e3;
  else if (unit == "mb") scale = 1e6;
  else if (unit == "gb") scale = 1e9;
  else if (unit == "tb") scale = 1e12;
  else if (unit == "kib") scale = 0x1p10;
  else if (unit == "mib") scale = 0x1p20;
  else if (unit == "gib") scale = 0x1p30;
  else if (unit == "tib") scale = 0x1p40;
  else return 0;
  const double bytes = std::floor(value * scale);
  return bytes >= 1 && bytes < 0x1p63 ? static_cast<uint64_t>(bytes) : 0;
}

// The output format from --to, else from OUT's extension.
std::optional<SaveFormat> output_format(const ConvertArgs& args) {
  if (args.to == "torch") return SaveFormat::kTorch;
  if (args.to == "safetensors") return SaveFormat::kSafetensors;
  const size_t dot = args.out.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : lower(args.out.substr(dot));
  if (ext == ".safetensors") return SaveFormat::kSafetensors;
  if (ext == ".pt" || ext == ".pth" || ext == ".bin" || ext == ".ckpt") return SaveFormat::kTorch;
  return std::nullopt;
}

}  // namespace

int convert(const ConvertArgs& args) {
  ConvertOptions options;
  const auto format = output_format(args);
  if (!format) return usage("cannot tell the output format from '" + args.out + "': use --to torch|safetensors");
  options.save.format = *format;
  if (!args.shard_size.empty() && !(options.save.shard_size = parse_size(args.shard_size)))
    return usage("--shard-size: expected a size like 500MB, 2GB, 1GiB or a number of bytes, got '" +
                 args.shard_size + "'");
  if (!args.dtype.empty()) {
    const auto dtype = dtype_from_name(args.dtype);
    if (!dtype || !dtype_is_floating(*dtype)) return usage("--dtype: not a floating dtype: '" + args.dtype + "'");
    options.cast_floats = true;
    options.dtype = *dtype;
  }
  if (args.strip_given && args.strip_prefix.empty()) options.load.strip_prefix = true;
  options.strip_prefix = args.strip_prefix;
  try {  // a bad --only is a usage error, found before any work
    std::regex(args.only, std::regex::ECMAScript);
  } catch (const std::regex_error&) {
    return usage("--only: not a valid regular expression: '" + args.only + "'");
  }
  options.only = args.only;
  options.load.key = args.key;

  // One bar per phase: "cast" while --dtype converts tensors, "write" as the output grows.
  std::optional<Progress> bar;
  auto phase = [&bar](const char* label) {
    return [&bar, label](uint64_t done, uint64_t total) {
      if (!bar || bar->label() != label) bar.emplace(label, total);
      bar->set(done);
    };
  };
  if (options.cast_floats) options.progress = phase("cast");
  options.save.progress = phase("write");
  options.save.warn = [](const std::string& w) { std::cerr << "torchless: warning: " << w << "\n"; };
  const Status st = torchless::convert(args.in, args.out, options);
  bar.reset();
  if (!st) return report(st.error());
  return 0;
}

}  // namespace torchless::cli
