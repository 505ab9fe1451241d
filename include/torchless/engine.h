// torchless/engine.h — run ONNX models on the CPU.
//
//   auto engine = torchless::Engine::open("model.onnx");      // load, check, import
//   if (!engine) { /* engine.error(): code + message naming the file and node */ }
//   auto out = engine->run({{"input", tensor}});              // one Tensor per graph output
//
// open() parses the protobuf under size limits, resolves external data only inside the
// model's directory, runs onnx::checker and ONNX shape inference (with data propagation), and
// imports the graph into the engine's own IR; an op, domain or opset the engine does not
// implement is refused there (kUnsupported naming the node), not at the first run. An Engine
// is immutable after open(): run() may be called from several threads at once.
//
// Inputs are Tensors of any layout (they are made contiguous); every input without an
// initializer of the same name must be given. Dynamic dimensions (batch, sequence length)
// take the sizes of the given tensors; each run checks them against the declared ones.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "torchless/error.h"
#include "torchless/tensor.h"

namespace torchless {

namespace engine {
class Model;
}

struct EngineOptions {
  int threads = 0;                                  // intra-op threads; 0 = one per core
  uint64_t max_model_bytes = uint64_t{2} << 30;     // onnx.max_model_bytes (protobuf part)
  uint64_t max_tensor_bytes = uint64_t{16} << 30;   // request budget: bytes of any one tensor
  uint64_t max_run_bytes = uint64_t{64} << 30;      // request budget: bytes allocated in one run
  bool check = true;                                // run onnx::checker at open()
  bool reference_kernels = false;                   // only the plain reference kernels (testing)
};

// A graph input or output as the model declares it. A dimension is its size, or -1 when it
// is dynamic (then dim_names holds its symbol, e.g. "batch", or "" when unnamed). A rank that
// the model leaves unknown is rank_known == false.
struct TensorInfo {
  std::string name;
  DType dtype = DType::kFloat32;
  bool dtype_known = true;
  bool rank_known = true;
  std::vector<int64_t> shape;
  std::vector<std::string> dim_names;
};

class Engine {
 public:
  // Loads a model file; external data files are looked up next to it.
  static Result<Engine> open(const std::string& path, const EngineOptions& options = {});
  // Loads a model from bytes (an HTTP upload); external data is refused.
  static Result<Engine> from_bytes(std::span<const std::byte> bytes, const EngineOptions& options = {},
                                   const std::string& name = "<bytes>");

  const std::vector<TensorInfo>& inputs() const;   // the inputs run() needs (not initializers)
  const std::vector<TensorInfo>& outputs() const;
  int64_t opset() const;                            // ai.onnx opset the model imports
  const std::string& producer() const;              // "pytorch 1.13.1", ...

  // Runs the graph. Inputs are matched by name; the result holds the graph outputs in order.
  Result<std::vector<Tensor>> run(const std::vector<std::pair<std::string, Tensor>>& inputs) const;

 private:
  explicit Engine(std::shared_ptr<const engine::Model> m) : model_(std::move(m)) {}
  std::shared_ptr<const engine::Model> model_;
};

}  // namespace torchless
