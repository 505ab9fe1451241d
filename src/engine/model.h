// A loaded model: the imported graph plus what the public Engine reports. Immutable after
// load(); run() keeps all state on its own stack, so concurrent runs are safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/ir.h"
#include "engine/value.h"
#include "torchless/engine.h"

namespace torchless::engine {

class Model {
 public:
  // Parses (proto.h), checks (onnx::checker), infers shapes (advisory) and imports. `path` is
  // the model file (for external data and messages); empty for bytes.
  static std::shared_ptr<const Model> load(const uint8_t* data, uint64_t size, const std::string& path,
                                           const EngineOptions& options);

  // Runs the main graph; inputs are in the order of `inputs` (absent optional ones kNone).
  std::vector<Val> run(std::vector<Val> inputs) const;

  Graph graph;
  std::vector<TensorInfo> inputs, outputs;
  int64_t opset = 0;
  std::string producer;
  std::string path;
  EngineOptions options;
  std::vector<std::string> warnings;  // e.g. what ONNX shape inference reported
  int threads = 1;                    // options.threads, 0 resolved to the cores available
};

}  // namespace torchless::engine
