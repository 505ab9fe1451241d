// DFT (opset 17): the discrete Fourier transform along `axis` (default 1) of a real [..., 1]
// or complex [..., 2] input; the output is complex [..., 2]. dft_length (optional input) zero-pads
// or cuts the signal; onesided=1 keeps the first floor(n/2)+1 bins; inverse=1 uses e^(+i...) and
// divides by n. Computed directly in double.
#include "engine/ops/signal.h"

namespace torchless::engine {

void dft_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const int64_t rank = static_cast<int64_t>(x.ndim());
  if (rank < 2 || (x.shape().back() != 1 && x.shape().back() != 2))
    fail(Error::Code::kInvalidArgument, "the input must end in a dimension of 1 (real) or 2 (complex)");
  const int64_t axis = norm_axis(k.node.attr_int("axis", 1), rank, k.node);
  if (axis == rank - 1) fail(Error::Code::kInvalidArgument, "the axis cannot be the last (complex) dimension");
  const bool inverse = k.node.attr_int("inverse", 0) != 0, onesided = k.node.attr_int("onesided", 0) != 0;
  if (inverse && onesided) fail(Error::Code::kInvalidArgument, "onesided and inverse cannot both be set");
  const int64_t dim = x.shape()[static_cast<size_t>(axis)];
  const int64_t n = k.has_input(1) ? int_scalar(k, 1) : dim;
  if (n < 1) fail(Error::Code::kInvalidArgument, "dft_length must be positive");
  const int64_t bins = onesided ? n / 2 + 1 : n;
  std::vector<int64_t> shape = x.shape();
  shape[static_cast<size_t>(axis)] = bins;
  shape.back() = 2;
  const int64_t comp = x.shape().back();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape()[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < rank - 1; ++d) inner *= x.shape()[static_cast<size_t>(d)];
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    const T* src = data<T>(x);
    T* dst = mut<T>(k.out(0, x.dtype(), shape));
    std::vector<std::complex<double>> in(static_cast<size_t>(std::min(n, dim))), out(static_cast<size_t>(bins));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        for (size_t j = 0; j < in.size(); ++j) {
          const T* p = src + ((o * dim + static_cast<int64_t>(j)) * inner + i) * comp;
          in[j] = {static_cast<double>(load(p[0])), comp == 2 ? static_cast<double>(load(p[1])) : 0.0};
        }
        dft_1d(in, n, inverse, out);
        for (size_t f = 0; f < out.size(); ++f) {
          T* q = dst + ((o * bins + static_cast<int64_t>(f)) * inner + i) * 2;
          q[0] = store<T>(out[f].real());
          q[1] = store<T>(out[f].imag());
        }
      }
  });
}

}  // namespace torchless::engine
