// EyeLike: a 2-D tensor shaped like the input with ones on diagonal k (column - row == k) and
// zeros elsewhere, of the `dtype` attribute's type (default the input's).
#include "engine/ops/movement.h"
#include "engine/proto.h"

namespace torchless::engine {

void eye_like_run(Kernel& k) {
  const Tensor& x = k.in(0);
  if (x.ndim() != 2) fail(Error::Code::kInvalidArgument, "EyeLike needs a 2-D input");
  const DType t = k.node.attr("dtype") ? onnx_dtype(static_cast<int>(k.node.attr_int("dtype", 0))) : x.dtype();
  const int64_t diag = k.node.attr_int("k", 0);
  Tensor& y = k.out(0, t, x.shape());
  const int64_t rows = x.shape()[0], cols = x.shape()[1];
  dispatch(AllTypes{}, t, k.node, [&]<class T>() {
    T* p = mut<T>(y);
    for (int64_t i = 0; i < rows; ++i)
      if (diag >= -i && diag < cols - i) p[i * cols + i + diag] = store<T>(1);
  });
}

}  // namespace torchless::engine
