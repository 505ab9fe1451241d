// torchless/save.h — writing files that PyTorch and the safetensors world load.
//
//   torchless::save(checkpoint_value, "ckpt.pt");               // torch.load() reads it
//   torchless::save_state_dict(sd, "model.safetensors", {.format = SaveFormat::kSafetensors});
//
// Every write is atomic: the bytes go to a temporary file in the same directory, which is
// fsynced and renamed over the final name, then the directory is fsynced. An interrupted
// write never leaves a truncated file under the final name.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "torchless/error.h"
#include "torchless/load.h"
#include "torchless/tensor.h"
#include "torchless/value.h"

namespace torchless {

enum class SaveFormat {
  kTorch,        // torch.save's zip layout (formats.md 1.5): torch.load(weights_only=True) accepts it
  kSafetensors,  // header padded to 8 bytes, reference ordering, __metadata__ {"format": "pt"}
};

struct SaveOptions {
  SaveFormat format = SaveFormat::kTorch;
  // safetensors __metadata__ entries (besides "format": "pt").
  std::vector<std::pair<std::string, std::string>> metadata;
  // > 0: write Hugging Face shards of at most this many bytes next to `path`
  // (model-00001-of-00003.safetensors + model.safetensors.index.json, or the .bin equivalent
  // pytorch_model-00001-of-00003.bin + pytorch_model.bin.index.json); `path` names the index's
  // stem (model.safetensors / pytorch_model.bin).
  uint64_t shard_size = 0;
  // Called as the output grows with (bytes written, bytes to write in all), for a progress bar;
  // the last call has done == total.
  std::function<void(uint64_t, uint64_t)> progress;
  // Called with each caveat about the file written, e.g. content that torch 1.13's
  // weights_only=True loader refuses (Python floats, bytes) or that only torch 2.x reads
  // (uint16/32/64, float8 and complex32 tensors, written with _rebuild_tensor_v3).
  std::function<void(const std::string&)> warn;
};

// Saves any Value tree made of the kinds torch's weights_only loader understands (dicts,
// OrderedDicts with _metadata, lists, tuples, ints, floats, bools, strings, bytes, None,
// tensors): a checkpoint dict with epoch, loss, optimizer state and nested extras. Tensors
// sharing a storage are written once and stay shared after torch.load. Torch format only.
// Tensors of the 12 classic dtypes are written as torch 1.13 writes them; uint16/32/64,
// float8 and complex32 tensors as torch 2.x does (_rebuild_tensor_v3 over an UntypedStorage),
// which torch 1.13 cannot load (options.warn says so).
Status save(const Value& root, const std::string& path, const SaveOptions& options = {});

// Saves a flat name -> tensor mapping (an OrderedDict for torch; safetensors; shards).
Status save_state_dict(const StateDict& state_dict, const std::string& path, const SaveOptions& options = {});

// Saves one tensor as .npy (v1, little-endian, C order, 64-byte aligned data).
Status save_npy(const Tensor& tensor, const std::string& path);

}  // namespace torchless
