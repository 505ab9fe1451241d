// torchless/load.h — reading every file PyTorch and the Hugging Face stack write.
//
//   auto file = torchless::open("model.pth");          // Result<LoadedFile>
//   if (!file) { std::cerr << file.error().to_string(); return 1; }
//   for (auto& [name, t] : file->state_dict) ...         // names as model.state_dict() gives
//
// The format is detected from the bytes, never from the extension. Nothing in a file is ever
// executed: pickles are read by a restricted VM that only builds data (value.h). Every size and
// offset is checked before use; refusals are typed Errors naming file, member and offset
// (specs/hostile-inputs.md). Tensors are zero-copy views into the mapped file where possible.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "torchless/error.h"
#include "torchless/tensor.h"
#include "torchless/value.h"

namespace torchless {

enum class Format {
  kTorchZip,     // torch.save, torch >= 1.6 (state dicts, checkpoints, whole-model pickles)
  kTorchLegacy,  // torch.save(_use_new_zipfile_serialization=False), torch < 1.6
  kTorchScript,  // torch.jit.save
  kSafetensors,
  kHfSharded,    // *.index.json over safetensors or .bin shards
  kOnnx,
  kNpy,
};
// "torch-zip", "torch-legacy", "torchscript", "safetensors", "hf-sharded", "onnx", "npy"
const char* format_name(Format f);

// Resource limits (specs/hostile-inputs.md section 4). Every refusal names the limit it hit.
struct Limits {
  uint64_t zip_max_entries = 262144;
  uint64_t zip_max_name_bytes = 1024;
  uint64_t zip_max_inflated_member_bytes = uint64_t{4} << 30;
  uint64_t zip_max_inflated_total_bytes = uint64_t{16} << 30;
  uint64_t pickle_max_bytes = uint64_t{256} << 20;
  uint64_t pickle_max_depth = 512;
  uint64_t pickle_max_memo = 4194304;
  uint64_t pickle_max_long_bytes = 16;
  uint64_t pickle_max_visit_nodes = 16777216;
  // Bytes of names and entries that flattening (LoadedFile::tensors / values) may produce;
  // 0 means 8 MiB + 4 x the file's size. Bounds what a small file sharing one subtree
  // many times can make the flattened listing cost.
  uint64_t flatten_max_bytes = 0;
  uint64_t tensor_max_ndim = 64;
  uint64_t tensor_max_numel = uint64_t{1} << 40;
  uint64_t safetensors_max_header_bytes = 100000000;
  uint64_t json_max_depth = 64;
  uint64_t index_max_shards = 10000;
  uint64_t index_max_bytes = uint64_t{64} << 20;
  uint64_t npy_max_header_bytes = 10000;
  uint64_t onnx_max_model_bytes = uint64_t{2} << 30;
};

struct LoadOptions {
  Limits limits;
  // Map tensor data from the file instead of copying it. The caller promises that the file is
  // not truncated while tensors are alive (a shrinking mapped file kills the process with
  // SIGBUS, hostile-inputs FMT-04). Off: every tensor is copied into owned memory.
  bool map = true;
  // Verify the CRC-32 of every zip member, including storages, before returning.
  bool verify_crc = false;
  // Instead of refusing a pickle that would call a non-allowlisted callable (os.system, eval,
  // ...), record the call as an inert Object (is_call = true) and add a warning. Nothing is
  // called either way. Used by `inspect --permissive` and `scan`.
  bool permissive = false;
  // load_state_dict: remove a `module.` / `_orig_mod.` prefix shared by every key.
  bool strip_prefix = false;
  // load_state_dict: the checkpoint key holding the weights ("" = find it, see formats.md 6).
  std::string key;
};

using StateDict = std::vector<std::pair<std::string, Tensor>>;

// One opened file: what the reader built and what it noticed.
struct LoadedFile {
  Format format = Format::kTorchZip;
  std::string path;
  // The object tree: the unpickled object (torch formats), a dict name -> tensor (safetensors,
  // shards, ONNX initializers), or the tensor (npy).
  Value root;
  // Flattened tensors by the names model.state_dict() would give for modules (whole-model
  // pickles, TorchScript) and by DESIGN.md's flattening rule for everything else
  // (`model_state_dict.fc1.weight`, `optimizer_state_dict.state.0.exp_avg`).
  StateDict tensors;
  // Non-tensor leaves (int, float, bool, string, None) under the same naming rule.
  std::vector<std::pair<std::string, Value>> values;
  // Things a user should know: inert objects, unreferenced members, a shared `module.` prefix.
  std::vector<std::string> warnings;
};

// Detects the format from the first bytes (and, for a JSON index, the content).
Result<Format> detect_format(const std::string& path);

// Opens and fully validates a file of any supported format. A directory (a Hugging Face
// model folder) opens its model.safetensors, model.safetensors.index.json, pytorch_model.bin
// or pytorch_model.bin.index.json, the first present, as transformers does.
Result<LoadedFile> open(const std::string& path, const LoadOptions& options = {});

// The unpickled object tree (or the format's equivalent) of `path`.
Result<Value> load(const std::string& path, const LoadOptions& options = {});

// The model weights inside any usual layout: a plain state dict, a checkpoint
// (`model_state_dict`, `state_dict`, `model`, `module`, `net`), a whole-model pickle, a
// TorchScript archive, safetensors, shards, ONNX initializers.
Result<StateDict> load_state_dict(const std::string& path, const LoadOptions& options = {});

}  // namespace torchless
