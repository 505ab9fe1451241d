// STFT (opset 17): DFTs of frames of a real [batch, len, 1] or complex [batch, len, 2] signal,
// frames starting every frame_step samples; the frame length is frame_length or the window's
// length (the window, ones when absent, multiplies each frame). onesided=1 (the default) keeps
// floor(n/2)+1 bins. Output [batch, frames, bins, 2].
#include "engine/ops/signal.h"

namespace torchless::engine {

void stft_run(Kernel& k) {
  const Tensor& x = k.in(0);
  if (x.ndim() != 3 || (x.shape()[2] != 1 && x.shape()[2] != 2))
    fail(Error::Code::kInvalidArgument, "the signal must be [batch, length, 1 or 2]");
  const int64_t batch = x.shape()[0], len = x.shape()[1], comp = x.shape()[2];
  const int64_t step = int_scalar(k, 1);
  if (step < 1) fail(Error::Code::kInvalidArgument, "frame_step must be positive");
  std::vector<double> window;
  if (k.has_input(2)) {
    const Tensor& w = k.in(2);
    if (w.ndim() != 1) fail(Error::Code::kInvalidArgument, "the window must be 1-D");
    window.resize(static_cast<size_t>(w.numel()));
    dispatch(FloatTypes{}, w.dtype(), k.node, [&]<class T>() {
      for (size_t i = 0; i < window.size(); ++i) window[i] = static_cast<double>(load(data<T>(w)[i]));
    });
  }
  int64_t n = static_cast<int64_t>(window.size());
  if (k.has_input(3)) {
    n = int_scalar(k, 3);
    if (!window.empty() && static_cast<int64_t>(window.size()) != n)
      fail(Error::Code::kInvalidArgument, "frame_length does not match the window's length");
  } else if (window.empty()) {
    fail(Error::Code::kInvalidArgument, "STFT needs a window or a frame_length");
  }
  if (n < 1 || n > len) fail(Error::Code::kInvalidArgument, "the frame length must be in [1, signal length]");
  if (window.empty()) window.assign(static_cast<size_t>(n), 1.0);
  const bool onesided = k.node.attr_int("onesided", 1) != 0;
  const int64_t bins = onesided ? n / 2 + 1 : n, frames = (len - n) / step + 1;
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    const T* src = data<T>(x);
    T* dst = mut<T>(k.out(0, x.dtype(), {batch, frames, bins, 2}));
    std::vector<std::complex<double>> in(static_cast<size_t>(n)), out(static_cast<size_t>(bins));
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t f = 0; f < frames; ++f) {
        for (int64_t j = 0; j < n; ++j) {
          const T* p = src + (b * len + f * step + j) * comp;
          const double re = static_cast<double>(load(p[0])), im = comp == 2 ? static_cast<double>(load(p[1])) : 0.0;
          in[static_cast<size_t>(j)] = std::complex<double>(re, im) * window[static_cast<size_t>(j)];
        }
        dft_1d(in, n, false, out);
        for (int64_t q = 0; q < bins; ++q) {
          T* o = dst + ((b * frames + f) * bins + q) * 2;
          o[0] = store<T>(out[static_cast<size_t>(q)].real());
          o[1] = store<T>(out[static_cast<size_t>(q)].imag());
        }
      }
  });
}

}  // namespace torchless::engine
