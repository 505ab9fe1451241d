// src/serve/repository.h — the model repository and `torchless.json` (specs/serving.md 3).
//
//   models/NAME/torchless.json      optional for ONNX: inputs and outputs come from the graph
//   models/NAME/labels.txt          class names (lines, or a JSON array)
//   models/NAME/1/model.onnx        numbered versions
//
// scan_repository() accepts a repository (folders of models), one model folder (what KServe
// mounts at /mnt/models) or a single model file, and returns what to load (command-line
// settings of ServeOptions applied over the files'): the parsed config
// of each model and its version files. It reads, never writes. Unknown config keys are
// refused so that typos surface at start-up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "serve/batcher.h"
#include "serve/image.h"
#include "torchless/dtype.h"
#include "torchless/error.h"
#include "torchless/serve.h"

namespace torchless::serve {

// An input or output as torchless.json declares it; shape excludes the batch dimension when
// the model is batched; -1 marks a variable dimension.
struct TensorConfig {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
};

struct ModelConfig {
  std::string name;
  std::string platform = "onnx";          // "onnx" or "torchscript"
  std::string default_model_filename;     // "" = the single model.onnx / model.pt
  std::optional<int> max_batch_size;      // unset: 32 when the graph's batch dim is dynamic, else 0
  std::vector<TensorConfig> inputs, outputs;

  // "preprocessing": {"kind": "image", ...}
  bool image = false;
  std::string image_input;                // the tensor input the pixels go to ("" = the first)
  std::string raw_input = "image";        // the BYTES input of the OIP metadata
  ImagePreprocess image_preprocess;

  // "postprocessing": {"kind": "argmax" | "top_k", ...}
  std::string post_kind = "none";
  std::string post_output;                // "" = the first output
  std::string labels_file;                // relative to the model folder
  bool softmax = true;
  int top_k = 1;

  BatchingConfig batching;                // max_batch_size is resolved at load time
  int threads_per_instance = 1;

  // "version_policy": {"latest": N} | "all" | {"specific": [...]}
  enum class Policy { kLatest, kAll, kSpecific } policy = Policy::kLatest;
  int latest = 1;
  std::vector<int> specific;

  std::vector<int> warmup_batch_sizes;
  std::optional<bool> predict;            // "predict": {"enabled": ...}
  std::string predict_output;
};

struct ModelSource {
  std::string folder;                     // the model's folder ("" for a single file)
  ModelConfig config;
  std::vector<std::pair<int, std::string>> versions;  // (version, model file), ascending, per the policy
  std::vector<std::string> labels;        // read from labels_file, if any
  std::optional<Error> error;             // the folder could not be read (only with exit_on_error off)
};

Result<ModelConfig> parse_model_config(const std::string& text, const std::string& path);
Result<std::vector<ModelSource>> scan_repository(const std::string& path, const ServeOptions& overrides);

}  // namespace torchless::serve
