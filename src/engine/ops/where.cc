// Where: cond ? x : y elementwise, with numpy broadcasting of all three (opset 9; 16 adds
// bfloat16). cond is bool; x and y have one type, any.
#include "engine/kernel.h"

namespace torchless::engine {

void where_run(Kernel& k) {
  const Tensor& c = k.in(0);
  const Tensor& x = k.in(1);
  const Tensor& y = k.in(2);
  if (c.dtype() != DType::kBool)
    fail(Error::Code::kInvalidArgument, "condition must be bool, not " + std::string(dtype_name(c.dtype())));
  if (x.dtype() != y.dtype())
    fail(Error::Code::kInvalidArgument, "X and Y have different types " + std::string(dtype_name(x.dtype())) + " and " +
                                            std::string(dtype_name(y.dtype())));
  const std::vector<int64_t> shape = broadcast_shapes({c.shape(), x.shape(), y.shape()}, k.node);
  dispatch(AllTypes{}, x.dtype(), k.node, [&]<class T>() {
    Tensor& out = k.out(0, x.dtype(), shape);
    const bool* pc = data<bool>(c);
    const T* px = data<T>(x);
    const T* py = data<T>(y);
    T* po = mut<T>(out);
    for_each_broadcast<3>(
        shape,
        {broadcast_strides(c.shape(), shape), broadcast_strides(x.shape(), shape), broadcast_strides(y.shape(), shape)},
        [&](int64_t i, int64_t ic, int64_t ix, int64_t iy) { po[i] = pc[ic] ? px[ix] : py[iy]; });
  });
}

}  // namespace torchless::engine
