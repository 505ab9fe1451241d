#include "serve/repository.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "serve/datatype.h"

namespace torchless::serve {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr uint64_t kMaxConfigBytes = 1 << 20;
constexpr uint64_t kMaxLabelsBytes = 16 << 20;

Error config_error(const std::string& path, const std::string& msg) {
  return Error(Error::Code::kInvalidArgument, msg).path(path);
}

Result<std::string> read_text(const std::string& path, uint64_t max_bytes) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) return Error(Error::Code::kIo, "cannot read: " + ec.message()).path(path);
  if (size > max_bytes)
    return Error(Error::Code::kLimitExceeded, "file too large").path(path).limit("serve.max_config_bytes", max_bytes, size);
  std::ifstream in(path, std::ios::binary);
  std::string text(size, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(size)))
    return Error(Error::Code::kIo, "cannot read").path(path);
  return text;
}

bool valid_model_name(const std::string& name) {
  static const std::regex re("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$");
  return std::regex_match(name, re);
}

// Positive integers without leading zeros.
std::optional<int> version_number(const std::string& s) {
  if (s.empty() || s.size() > 9 || s[0] == '0') return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  return std::stoi(s);
}

// Refuses keys outside `allowed` (typos surface at load time).
Status check_keys(const json& obj, std::initializer_list<const char*> allowed, const std::string& where,
                  const std::string& path) {
  if (!obj.is_object()) return config_error(path, where + " must be an object");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (const char* a : allowed) ok |= it.key() == a;
    if (!ok) return config_error(path, "unknown key \"" + escape(it.key()) + "\" in " + where);
  }
  return {};
}

template <class T>
Status get(const json& obj, const char* key, T& out, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    return config_error(path, std::string("\"") + key + "\" has the wrong type");
  }
  return {};
}

Result<std::vector<TensorConfig>> parse_tensors(const json& arr, const char* key, const std::string& path) {
  if (!arr.is_array()) return config_error(path, std::string("\"") + key + "\" must be an array");
  std::vector<TensorConfig> out;
  for (const json& t : arr) {
    if (auto s = check_keys(t, {"name", "datatype", "shape"}, key, path); !s) return s.error();
    TensorConfig c;
    std::string datatype = "FP32";
    if (auto s = get(t, "name", c.name, path); !s) return s.error();
    if (auto s = get(t, "datatype", datatype, path); !s) return s.error();
    if (auto s = get(t, "shape", c.shape, path); !s) return s.error();
    auto dt = dtype_from_oip(datatype);
    if (!dt) return config_error(path, "unsupported datatype \"" + escape(datatype) + "\" of " + c.name);
    c.dtype = *dt;
    for (int64_t d : c.shape)
      if (d < -1) return config_error(path, "negative dimension in the shape of " + c.name);
    out.push_back(std::move(c));
  }
  return out;
}

Status parse_preprocessing(const json& p, ModelConfig& c, const std::string& path) {
  if (auto s = check_keys(p, {"kind", "input", "raw_input", "resize", "center_crop", "interpolation", "scale", "mean",
                              "std", "color", "layout", "exif_transpose"},
                          "preprocessing", path);
      !s)
    return s;
  std::string kind = "none", interpolation = "bilinear", color = "RGB", layout = "NCHW";
  bool exif = false;
  ImagePreprocess& ip = c.image_preprocess;
  std::vector<float> mean, stdv;
  for (Status s : {get(p, "kind", kind, path), get(p, "input", c.image_input, path), get(p, "raw_input", c.raw_input, path),
                   get(p, "resize", ip.resize, path), get(p, "center_crop", ip.center_crop, path),
                   get(p, "interpolation", interpolation, path), get(p, "scale", ip.scale, path),
                   get(p, "mean", mean, path), get(p, "std", stdv, path), get(p, "color", color, path),
                   get(p, "layout", layout, path), get(p, "exif_transpose", exif, path)})
    if (!s) return s;
  if (kind == "none") return {};
  if (kind != "image") return config_error(path, "preprocessing.kind must be \"image\" or \"none\"");
  c.image = true;
  if (interpolation != "bilinear") return config_error(path, "preprocessing.interpolation: only \"bilinear\" is implemented");
  if (exif) return config_error(path, "preprocessing.exif_transpose is not implemented");
  if (color != "RGB" && color != "L") return config_error(path, "preprocessing.color must be \"RGB\" or \"L\"");
  if (layout != "NCHW" && layout != "NHWC") return config_error(path, "preprocessing.layout must be \"NCHW\" or \"NHWC\"");
  ip.grayscale = color == "L";
  ip.nhwc = layout == "NHWC";
  const size_t channels = ip.grayscale ? 1 : 3;
  if (!mean.empty()) {
    if (mean.size() != channels) return config_error(path, "preprocessing.mean needs one value per channel");
    std::copy(mean.begin(), mean.end(), ip.mean.begin());
  }
  if (!stdv.empty()) {
    if (stdv.size() != channels) return config_error(path, "preprocessing.std needs one value per channel");
    std::copy(stdv.begin(), stdv.end(), ip.std.begin());
  }
  if (ip.center_crop <= 0 || ip.center_crop > 16384 || ip.resize < 0 || ip.resize > 16384 || !(ip.scale > 0))
    return config_error(path, "preprocessing: center_crop must be in 1..16384, resize in 0..16384, scale > 0");
  for (size_t i = 0; i < channels; ++i)
    if (!(ip.std[i] != 0)) return config_error(path, "preprocessing.std must not be 0");
  return {};
}

Status parse_postprocessing(const json& p, ModelConfig& c, const std::string& path) {
  if (auto s = check_keys(p, {"output", "kind", "labels", "softmax", "top_k"}, "postprocessing", path); !s) return s;
  for (Status s : {get(p, "kind", c.post_kind, path), get(p, "output", c.post_output, path),
                   get(p, "labels", c.labels_file, path), get(p, "softmax", c.softmax, path),
                   get(p, "top_k", c.top_k, path)})
    if (!s) return s;
  if (c.post_kind != "none" && c.post_kind != "argmax" && c.post_kind != "top_k")
    return config_error(path, "postprocessing.kind must be \"none\", \"argmax\" or \"top_k\"");
  if (c.top_k < 1 || c.top_k > 1000) return config_error(path, "postprocessing.top_k must be in 1..1000");
  return {};
}

Status parse_batching(const json& p, ModelConfig& c, const std::string& path) {
  if (auto s = check_keys(p, {"max_queue_delay_us", "preferred_batch_sizes", "max_queue_size", "queue_timeout_us"},
                          "dynamic_batching", path);
      !s)
    return s;
  for (Status s : {get(p, "max_queue_delay_us", c.batching.max_queue_delay_us, path),
                   get(p, "preferred_batch_sizes", c.batching.preferred_batch_sizes, path),
                   get(p, "max_queue_size", c.batching.max_queue_size, path),
                   get(p, "queue_timeout_us", c.batching.queue_timeout_us, path)})
    if (!s) return s;
  if (c.batching.max_queue_delay_us > 10'000'000) return config_error(path, "max_queue_delay_us is at most 10 s");
  if (c.batching.max_queue_size < 1) return config_error(path, "max_queue_size must be at least 1");
  return {};
}

Status parse_policy(const json& p, ModelConfig& c, const std::string& path) {
  if (p.is_string() && p.get<std::string>() == "all") {
    c.policy = ModelConfig::Policy::kAll;
    return {};
  }
  if (p.is_object() && p.size() == 1 && p.contains("latest") && p["latest"].is_number_integer()) {
    c.policy = ModelConfig::Policy::kLatest;
    c.latest = p["latest"].get<int>();
    if (c.latest < 1) return config_error(path, "version_policy.latest must be at least 1");
    return {};
  }
  if (p.is_object() && p.size() == 1 && p.contains("specific")) {
    c.policy = ModelConfig::Policy::kSpecific;
    if (auto s = get(p, "specific", c.specific, path); !s) return s;
    if (c.specific.empty()) return config_error(path, "version_policy.specific must list versions");
    return {};
  }
  return config_error(path, "version_policy must be {\"latest\": N}, \"all\" or {\"specific\": [...]}");
}

Result<std::vector<std::string>> read_labels(const std::string& file) {
  auto text = read_text(file, kMaxLabelsBytes);
  if (!text) return text.error();
  std::vector<std::string> labels;
  const std::string& t = text.value();
  size_t first = t.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && t[first] == '[') {
    json arr = json::parse(t, nullptr, false);
    if (arr.is_discarded() || !arr.is_array()) return config_error(file, "labels: not a JSON array of strings");
    for (const json& l : arr) {
      if (!l.is_string()) return config_error(file, "labels: not a JSON array of strings");
      labels.push_back(l.get<std::string>());
    }
    return labels;
  }
  size_t at = 0;
  while (at < t.size()) {
    size_t nl = t.find('\n', at);
    std::string line = t.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    labels.push_back(std::move(line));
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  if (!labels.empty() && labels.back().empty()) labels.pop_back();  // the final newline
  return labels;
}

bool is_model_file(const fs::path& p) { return p.extension() == ".onnx" || p.extension() == ".pt"; }

// One model folder: its config, versions and labels.
Result<ModelSource> scan_model(const fs::path& folder, std::string name) {
  ModelSource src;
  src.folder = folder.string();
  const fs::path cfg = folder / "torchless.json";
  std::error_code ec;
  if (fs::is_regular_file(cfg, ec)) {
    auto text = read_text(cfg.string(), kMaxConfigBytes);
    if (!text) return text.error();
    auto c = parse_model_config(text.value(), cfg.string());
    if (!c) return c.error();
    src.config = std::move(c).value();
    if (!src.config.name.empty() && src.config.name != name)
      return config_error(cfg.string(), "\"name\" is \"" + escape(src.config.name) + "\" but the folder is \"" +
                                            escape(name) + "\"");
  }
  src.config.name = std::move(name);
  if (!valid_model_name(src.config.name))
    return config_error(src.folder, "model name \"" + escape(src.config.name) +
                                        "\" must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$");
  std::vector<std::pair<int, std::string>> all;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    auto v = version_number(entry.path().filename().string());
    if (!v || !entry.is_directory()) continue;
    fs::path file;
    if (!src.config.default_model_filename.empty()) {
      file = entry.path() / src.config.default_model_filename;
    } else {
      for (const char* n : {"model.onnx", "model.pt"})
        if (fs::is_regular_file(entry.path() / n)) {
          if (!file.empty())
            return config_error(entry.path().string(), "both model.onnx and model.pt; set default_model_filename");
          file = entry.path() / n;
        }
    }
    if (file.empty() || !fs::is_regular_file(file))
      return config_error(entry.path().string(), "no model file (model.onnx, model.pt or default_model_filename)");
    all.emplace_back(*v, file.string());
  }
  if (ec) return Error(Error::Code::kIo, "cannot list: " + ec.message()).path(src.folder);
  std::sort(all.begin(), all.end());
  if (all.empty()) return config_error(src.folder, "no version folders (1/, 2/, ...)");
  const ModelConfig& c = src.config;
  if (c.policy == ModelConfig::Policy::kAll)
    src.versions = all;
  else if (c.policy == ModelConfig::Policy::kLatest)
    src.versions.assign(all.end() - std::min<ptrdiff_t>(c.latest, std::ssize(all)), all.end());
  else
    for (int v : c.specific) {
      auto it = std::find_if(all.begin(), all.end(), [v](const auto& p) { return p.first == v; });
      if (it == all.end()) return config_error(src.folder, "version_policy names version " + std::to_string(v) + ", which does not exist");
      src.versions.push_back(*it);
    }
  return src;
}

// Command-line settings over the file's.
Status apply_overrides(ModelSource& src, const ServeOptions& o) {
  ModelConfig& c = src.config;
  if (o.max_batch_size) c.max_batch_size = *o.max_batch_size;
  if (o.max_queue_delay_us) c.batching.max_queue_delay_us = *o.max_queue_delay_us;
  if (o.max_queue_size) c.batching.max_queue_size = *o.max_queue_size;
  if (o.queue_timeout_us) c.batching.queue_timeout_us = *o.queue_timeout_us;
  if (o.threads_per_instance) c.threads_per_instance = *o.threads_per_instance;
  if (o.preprocess == "imagenet") {
    c.image = true;
    c.image_preprocess = ImagePreprocess{};  // Resize(256), CenterCrop(224), ImageNet mean/std
  }
  if (!o.labels.empty()) {
    c.labels_file = o.labels;
    if (c.post_kind == "none") c.post_kind = "argmax";
  }
  if (!c.labels_file.empty()) {
    fs::path lf = c.labels_file;
    if (lf.is_relative() && !src.folder.empty() && o.labels.empty()) lf = fs::path(src.folder) / lf;
    auto labels = read_labels(lf.string());
    if (!labels) return labels.error();
    src.labels = std::move(labels).value();
  }
  return {};
}

}  // namespace

Result<ModelConfig> parse_model_config(const std::string& text, const std::string& path) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return config_error(path, "not valid JSON");
  if (auto s = check_keys(j, {"name", "platform", "default_model_filename", "max_batch_size", "inputs", "outputs",
                              "preprocessing", "postprocessing", "dynamic_batching", "instances",
                              "threads_per_instance", "version_policy", "warmup", "predict"},
                          "torchless.json", path);
      !s)
    return s.error();
  ModelConfig c;
  int max_batch = -1;
  for (Status s : {get(j, "name", c.name, path), get(j, "platform", c.platform, path),
                   get(j, "default_model_filename", c.default_model_filename, path),
                   get(j, "max_batch_size", max_batch, path), get(j, "instances", c.batching.instances, path),
                   get(j, "threads_per_instance", c.threads_per_instance, path)})
    if (!s) return s.error();
  if (j.contains("max_batch_size")) {
    if (max_batch < 0 || max_batch > 1 << 16) return config_error(path, "max_batch_size must be in 0..65536");
    c.max_batch_size = max_batch;
  }
  if (c.platform != "onnx" && c.platform != "torchscript")
    return config_error(path, "platform must be \"onnx\" or \"torchscript\"");
  if (c.default_model_filename.find('/') != std::string::npos || c.default_model_filename == ".." )
    return config_error(path, "default_model_filename must be a file name");
  if (c.batching.instances < 1 || c.batching.instances > 64) return config_error(path, "instances must be in 1..64");
  if (c.threads_per_instance < 1 || c.threads_per_instance > 256)
    return config_error(path, "threads_per_instance must be in 1..256");
  if (j.contains("inputs")) {
    auto t = parse_tensors(j["inputs"], "inputs", path);
    if (!t) return t.error();
    c.inputs = std::move(t).value();
  }
  if (j.contains("outputs")) {
    auto t = parse_tensors(j["outputs"], "outputs", path);
    if (!t) return t.error();
    c.outputs = std::move(t).value();
  }
  if (j.contains("preprocessing"))
    if (auto s = parse_preprocessing(j["preprocessing"], c, path); !s) return s.error();
  if (j.contains("postprocessing"))
    if (auto s = parse_postprocessing(j["postprocessing"], c, path); !s) return s.error();
  if (j.contains("dynamic_batching"))
    if (auto s = parse_batching(j["dynamic_batching"], c, path); !s) return s.error();
  if (j.contains("version_policy"))
    if (auto s = parse_policy(j["version_policy"], c, path); !s) return s.error();
  if (j.contains("warmup")) {
    if (auto s = check_keys(j["warmup"], {"batch_sizes"}, "warmup", path); !s) return s.error();
    if (auto s = get(j["warmup"], "batch_sizes", c.warmup_batch_sizes, path); !s) return s.error();
    for (int b : c.warmup_batch_sizes)
      if (b < 1 || b > 1 << 16) return config_error(path, "warmup.batch_sizes must be positive");
  }
  if (j.contains("predict")) {
    if (auto s = check_keys(j["predict"], {"enabled", "output"}, "predict", path); !s) return s.error();
    bool enabled = false;
    if (auto s = get(j["predict"], "enabled", enabled, path); !s) return s.error();
    if (j["predict"].contains("enabled")) c.predict = enabled;
    if (auto s = get(j["predict"], "output", c.predict_output, path); !s) return s.error();
  }
  return c;
}

Result<std::vector<ModelSource>> scan_repository(const std::string& path, const ServeOptions& o) {
  std::error_code ec;
  const fs::path p = path;
  std::vector<ModelSource> out;
  if (fs::is_regular_file(p, ec)) {
    // Single-file mode: name = the file stem, version 1, everything from the graph.
    if (!is_model_file(p)) return config_error(path, "expected a .onnx or .pt file, a model folder or a repository");
    ModelSource src;
    src.config.name = o.model_name.empty() ? p.stem().string() : o.model_name;
    src.config.platform = p.extension() == ".pt" ? "torchscript" : "onnx";
    if (!valid_model_name(src.config.name))
      return config_error(path, "model name \"" + escape(src.config.name) +
                                    "\" must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$ (use --model-name)");
    src.versions.emplace_back(1, p.string());
    if (auto s = apply_overrides(src, o); !s) return s.error();
    out.push_back(std::move(src));
    return out;
  }
  if (!fs::is_directory(p, ec)) return Error(Error::Code::kNotFound, "no such file or folder").path(path);
  // A single model folder has torchless.json or numbered version folders.
  bool single = fs::is_regular_file(p / "torchless.json", ec);
  for (const auto& e : fs::directory_iterator(p, ec))
    if (e.is_directory() && version_number(e.path().filename().string())) single = true;
  if (single) {
    const fs::path abs = fs::absolute(p).lexically_normal();  // "models/mlp/" has an empty filename
    std::string name = !o.model_name.empty() ? o.model_name
                       : abs.has_filename()  ? abs.filename().string()
                                             : abs.parent_path().filename().string();
    auto src = scan_model(p, std::move(name));
    if (!src) return src.error();
    if (auto s = apply_overrides(src.value(), o); !s) return s.error();
    out.push_back(std::move(src).value());
    return out;
  }
  std::vector<fs::path> folders;
  for (const auto& e : fs::directory_iterator(p, ec))
    if (e.is_directory() && e.path().filename().string()[0] != '.') folders.push_back(e.path());
  if (ec) return Error(Error::Code::kIo, "cannot list: " + ec.message()).path(path);
  std::sort(folders.begin(), folders.end());
  for (const fs::path& f : folders) {
    auto src = scan_model(f, f.filename().string());
    Status s = src ? apply_overrides(src.value(), o) : Status(src.error());
    if (s) {
      out.push_back(std::move(src).value());
      continue;
    }
    if (o.exit_on_error) return s.error();
    ModelSource failed;  // reported not ready; the others are served
    failed.folder = f.string();
    failed.config.name = f.filename().string();
    failed.error = s.error();
    out.push_back(std::move(failed));
  }
  if (out.empty()) return config_error(path, "the repository has no model folders");
  return out;
}

}  // namespace torchless::serve
