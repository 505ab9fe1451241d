// The readers behind open(): one function per format, each throwing Error (check.h) and
// returning what it read. load.cc detects the format, calls one of these, then flattens the
// object tree into LoadedFile::tensors / values (flatten.h) unless the reader named the
// tensors itself (TorchScript, whose state-dict names come from the module classes).
#pragma once

#include <memory>
#include <string>

#include "core/file.h"
#include "torchless/load.h"

namespace torchless {
class ZipReader;
}

namespace torchless::formats {

using FilePtr = std::shared_ptr<const MappedFile>;

// What a reader hands back: the file (format, root, warnings, maybe tensors) and whether
// `tensors` is already final.
struct ReadResult {
  LoadedFile file;
  bool named = false;       // true: the reader filled file.tensors itself
  std::string root_member;  // the member file.root was read from ("archive/data.pkl"), if any
};

// torch.save zip archives (state dicts, checkpoints, whole-model pickles) and TorchScript
// archives (same container; told apart by constants.pkl); .npz archives go on to read_npz.
ReadResult read_torch_zip(const FilePtr& file, const LoadOptions& options);
// torch.save(_use_new_zipfile_serialization=False): five pickles then raw storages.
ReadResult read_torch_legacy(const FilePtr& file, const LoadOptions& options);
ReadResult read_safetensors(const FilePtr& file, const LoadOptions& options);
// A Hugging Face *.index.json; shards are opened relative to the index's directory.
ReadResult read_hf_index(const FilePtr& index, const LoadOptions& options);
ReadResult read_npy(const FilePtr& file, const LoadOptions& options);
// An .npz: an opened zip whose members all end in ".npy" (read_torch_zip hands it over);
// one tensor per member, named as numpy.load names it (the member name without ".npy").
ReadResult read_npz(const ZipReader& zip, const LoadOptions& options);
// The initializers of an ONNX model (name -> tensor).
ReadResult read_onnx(const FilePtr& file, const LoadOptions& options);

}  // namespace torchless::formats
