// SequenceEmpty (opset 11): an empty sequence of the `dtype` attribute's element type (float by default).
#include "engine/ops/seq.h"
#include "engine/proto.h"

namespace torchless::engine {

void sequence_empty_run(Kernel& k) {
  const int64_t code = k.node.attr_int("dtype", 1);
  const auto dt = onnx_dtype_if(static_cast<int>(code));
  if (!dt) fail(Error::Code::kUnsupported, "SequenceEmpty of ONNX element type " + std::to_string(code));
  k.set_out_val(0, Val::sequence({}, *dt));
}

}  // namespace torchless::engine
