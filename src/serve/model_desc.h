// src/serve/model_desc.h — a served model as the HTTP protocols describe it: the OIP model
// metadata, the OpenAPI document's per-model examples and the /predict binding all read this.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace torchless::serve {

// One input or output. `datatype` is the OIP name ("FP32", "INT64", "BYTES"); `shape` includes
// the batch dimension when the model is batched, and -1 marks the batch and any other variable
// dimension (exactly what GET /v2/models/{name} shows).
struct TensorDesc {
  std::string name;
  std::string datatype;
  std::vector<int64_t> shape;
};

struct ModelDesc {
  std::string name;                   // ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$
  std::vector<std::string> versions;  // loaded versions, ascending ("1", "2")
  std::string platform;               // "onnx_onnxv1" or "pytorch_torchscript"
  std::vector<TensorDesc> inputs;     // tensor inputs, then the raw-image input if any
  std::vector<TensorDesc> outputs;
  std::string raw_image_input;        // "image" when the model has image preprocessing, else ""
  int max_batch_size = 0;             // 0: no batch dimension
  bool serves_predict = false;        // bound to POST /predict
  bool has_labels = false;            // argmax/top-k postprocessing with a labels file
};

}  // namespace torchless::serve
