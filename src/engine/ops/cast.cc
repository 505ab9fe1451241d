// Cast: x converted to the type of the `to` attribute (cast.h). Opset 1 names the type as a string
// ("FLOAT", "INT64", ...), later opsets by its TensorProto code; 9 adds string conversions (not
// supported: there are no string tensors), 13 bfloat16.
#include "engine/ops/cast.h"
#include "engine/proto.h"

namespace torchless::engine {

void cast_run(Kernel& k) {
  const Attr* to = k.node.attr("to");
  if (!to) fail(Error::Code::kInvalidArgument, "the `to` attribute is missing");
  int code = 0;
  if (to->type == Attr::Type::kString) {
    onnx::TensorProto_DataType parsed;
    if (!onnx::TensorProto_DataType_Parse(to->s, &parsed))
      fail(Error::Code::kInvalidArgument, "`to` names no data type: '" + to->s + "'");
    code = parsed;
  } else {
    code = static_cast<int>(to->i);
  }
  if (code == onnx::TensorProto::STRING) fail(Error::Code::kUnsupported, "Cast to string is not implemented");
  if (code == onnx::TensorProto::UNDEFINED) fail(Error::Code::kInvalidArgument, "`to` is UNDEFINED");
  cast_to(k, k.in(0), onnx_dtype(code));
}

}  // namespace torchless::engine
