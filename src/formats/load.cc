// open(), load(), load_state_dict(): detection, dispatch to one reader, flattening, and the
// state-dict lookup of formats.md section 6.
#include <sys/stat.h>

#include <algorithm>

#include "core/check.h"
#include "formats/detect.h"
#include "formats/flatten.h"
#include "formats/readers.h"
#include "torchless/load.h"

namespace torchless {

const char* format_name(Format f) {
  switch (f) {
    case Format::kTorchZip: return "torch-zip";
    case Format::kTorchLegacy: return "torch-legacy";
    case Format::kTorchScript: return "torchscript";
    case Format::kSafetensors: return "safetensors";
    case Format::kHfSharded: return "hf-sharded";
    case Format::kOnnx: return "onnx";
    case Format::kNpy: return "npy";
  }
  return "unknown";
}

Result<Format> detect_format(const std::string& path) {
  return guard("detect", path, [&] {
    auto file = unwrap(MappedFile::open(path, true));
    return formats::detect(*file);
  });
}

namespace {

formats::ReadResult read_any(const formats::FilePtr& file, const LoadOptions& options) {
  switch (formats::detect(*file)) {
    case Format::kTorchZip:
    case Format::kTorchScript: return formats::read_torch_zip(file, options);
    case Format::kTorchLegacy: return formats::read_torch_legacy(file, options);
    case Format::kSafetensors: return formats::read_safetensors(file, options);
    case Format::kHfSharded: return formats::read_hf_index(file, options);
    case Format::kNpy: return formats::read_npy(file, options);
    case Format::kOnnx: return formats::read_onnx(file, options);
  }
  fail(Error::Code::kInternal, "unhandled format");
}

// Is every value of this dict a tensor under a string key (a state dict)?
size_t state_dict_size(const Value& v) {
  if (!v.is_dict()) return 0;
  size_t n = 0;
  for (const auto& [k, t] : v.as_dict().items) {
    if (!k.is_string() || !t.is_tensor()) return 0;
    ++n;
  }
  return n;
}

// Does `v` hold model weights: a module object or a non-empty state dict (or, where an empty
// model is acceptable, an empty dict)?
bool holds_weights(const Value& v, bool allow_empty) {
  return formats::is_module(v) || state_dict_size(v) > 0 || (allow_empty && v.is_dict() && v.as_dict().items.empty());
}

StateDict tensors_of(const Value& v, const Limits& limits) {
  StateDict out;
  if (formats::is_module(v)) {
    formats::module_state_dict(v, "", out, limits);
  } else {
    for (const auto& [k, t] : v.as_dict().items) out.emplace_back(k.as_string(), t.as_tensor());
  }
  return out;
}

// The prefix (module. / _orig_mod., possibly repeated) shared by every key, or "".
std::string shared_wrapper_prefix(const StateDict& sd) {
  if (sd.empty()) return "";
  std::string prefix;
  for (;;) {
    bool extended = false;
    for (const char* p : {"module.", "_orig_mod."}) {
      const std::string cand = prefix + p;
      if (std::all_of(sd.begin(), sd.end(), [&](const auto& e) { return e.first.starts_with(cand); })) {
        prefix = cand;
        extended = true;
        break;
      }
    }
    if (!extended) return prefix;
  }
}

StateDict find_state_dict(const LoadedFile& file, const LoadOptions& options) {
  switch (file.format) {
    case Format::kTorchZip:
    case Format::kTorchLegacy: break;
    default: return file.tensors;
  }
  const Value& root = file.root;
  if (!options.key.empty()) {
    const Value* v = root.is_dict() ? root.as_dict().find(options.key) : nullptr;
    if (!v) fail(Error::Code::kNotFound, "no key '" + escape(options.key) + "' at the top of the file");
    if (!holds_weights(*v, /*allow_empty=*/true))
      fail(Error::Code::kInvalidArgument, "key '" + escape(options.key) + "' does not hold a state dict");
    return tensors_of(*v, options.limits);
  }
  // A root state dict maps names to tensors only, so it cannot also hold one of the keys below.
  if (holds_weights(root, /*allow_empty=*/true)) return tensors_of(root, options.limits);
  if (root.is_dict()) {
    for (const char* key : {"model_state_dict", "state_dict", "model", "module", "net"}) {
      const Value* v = root.as_dict().find(key);
      if (v && holds_weights(*v, /*allow_empty=*/false)) return tensors_of(*v, options.limits);
    }
    std::string candidates;
    for (const auto& [k, v] : root.as_dict().items) {
      if (!k.is_string()) continue;
      const size_t n = state_dict_size(v);
      const std::string what = n ? std::to_string(n) + " tensors" : v.is_tensor() ? "a tensor" : v.kind_name();
      candidates += (candidates.empty() ? "" : ", ") + escape(k.as_string(), 64) + " (" + what + ")";
    }
    fail(Error::Code::kNotFound, "no state dict found; top-level keys: " + candidates + "; pick one with a key");
  }
  fail(Error::Code::kNotFound, std::string("no state dict found: the file holds a ") + root.kind_name());
}

// A Hugging Face model directory stands for its weights, looked up in the order transformers'
// from_pretrained uses; any other path is itself.
std::string weights_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return path;
  const std::string dir = path.ends_with('/') ? path : path + "/";
  for (const char* name : {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                           "pytorch_model.bin.index.json"})
    if (::stat((dir + name).c_str(), &st) == 0 && S_ISREG(st.st_mode)) return dir + name;
  // hostile-inputs FMT-03: any other directory is not a file to read.
  fail(Error::Code::kUnsupported, "not a regular file: a directory without model.safetensors(.index.json) or "
                                  "pytorch_model.bin(.index.json)");
}

}  // namespace

Result<LoadedFile> open(const std::string& path_or_dir, const LoadOptions& options) {
  return guard(nullptr, path_or_dir, [&] {
    const std::string path = weights_path(path_or_dir);
    auto file = unwrap(MappedFile::open(path, options.map));
    formats::ReadResult r = read_any(file, options);
    r.file.path = path;
    if (!r.named) {
      try {
        formats::flatten(r.file, options.limits, file->size());
      } catch (Error& e) {
        throw std::move(e.member(r.root_member));
      }
    }
    const std::string prefix = shared_wrapper_prefix(r.file.tensors);
    if (!prefix.empty())
      r.file.warnings.push_back("every tensor name starts with '" + prefix +
                                "' (a training wrapper such as DataParallel or torch.compile); convert --strip-prefix removes it");
    return std::move(r.file);
  });
}

Result<Value> load(const std::string& path, const LoadOptions& options) {
  auto f = open(path, options);
  if (!f) return std::move(f).error();
  return std::move(f->root);
}

Result<StateDict> load_state_dict(const std::string& path, const LoadOptions& options) {
  auto f = open(path, options);
  if (!f) return std::move(f).error();
  return guard(nullptr, path, [&] {
    StateDict sd = find_state_dict(*f, options);
    if (options.strip_prefix) {
      const std::string prefix = shared_wrapper_prefix(sd);
      for (auto& e : sd) e.first.erase(0, prefix.size());
    }
    return sd;
  });
}

}  // namespace torchless
