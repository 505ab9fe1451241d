// libFuzzer target for the ONNX engine: protobuf limits, import (topological sort, attributes,
// captures), onnx::checker and shape inference, then — when the model loads and its inputs
// have small fixed shapes — one run with zero-filled inputs, so kernels meet hostile
// attributes and shapes too. Budgets are small enough for libFuzzer's malloc limit.
#include <cstring>

#include "torchless/engine.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace torchless;
  EngineOptions options;
  options.max_tensor_bytes = 32 << 20;
  options.max_run_bytes = 128 << 20;
  auto engine = Engine::from_bytes(std::span(reinterpret_cast<const std::byte*>(data), size), options, "fuzz.onnx");
  if (!engine) return 0;
  std::vector<std::pair<std::string, Tensor>> inputs;
  for (const TensorInfo& in : engine->inputs()) {
    if (!in.rank_known || !in.dtype_known || in.shape.size() > 6) return 0;
    int64_t n = 1;
    for (int64_t d : in.shape) {
      if (d < 0 || d > 4096) return 0;
      n *= d;
    }
    if (n > 4096 || dtype_size(in.dtype) > 8) return 0;
    auto s = Storage::allocate(static_cast<size_t>(n) * dtype_size(in.dtype));
    if (!s) return 0;
    auto t = Tensor::contiguous_over(*s, in.dtype, in.shape);
    if (!t) return 0;
    inputs.emplace_back(in.name, *t);
  }
  (void)engine->run(inputs);
  return 0;
}
