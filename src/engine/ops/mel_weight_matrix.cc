// MelWeightMatrix (opset 17): a [floor(dft_length/2)+1, num_mel_bins] matrix of triangular
// filters (peak 1) evenly spaced on the mel scale mel(f) = 2595 log10(1 + f/700) between
// lower_edge_hertz and upper_edge_hertz, with band edges at spectrogram bins
// floor((dft_length + 1) * f / sample_rate) (as the ONNX reference computes them).
#include "engine/ops/signal.h"

namespace torchless::engine {

void mel_weight_matrix_run(Kernel& k) {
  const int64_t mels = int_scalar(k, 0), dft = int_scalar(k, 1), rate = int_scalar(k, 2);
  const double lo = k.scalar(3), hi = k.scalar(4);
  if (mels < 1 || dft < 1 || rate < 1)
    fail(Error::Code::kInvalidArgument, "num_mel_bins, dft_length and sample_rate must be positive");
  const int64_t spec = dft / 2 + 1;
  const DType dt = output_datatype(k);
  auto mel = [](double f) { return 2595 * std::log10(1 + f / 700); };
  const double lo_mel = mel(lo), step = (mel(hi) - lo_mel) / static_cast<double>(mels + 2);
  std::vector<int64_t> edge(static_cast<size_t>(mels + 2));
  for (int64_t i = 0; i < mels + 2; ++i) {
    const double hz = 700 * (std::pow(10.0, (static_cast<double>(i) * step + lo_mel) / 2595) - 1);
    edge[static_cast<size_t>(i)] =
        static_cast<int64_t>(std::floor(static_cast<double>(dft + 1) * hz / static_cast<double>(rate)));
  }
  std::vector<double> out(static_cast<size_t>(numel({spec, mels})), 0.0);
  auto at = [&](int64_t row, int64_t col) -> double& {
    if (row < 0 || row >= spec) fail(Error::Code::kInvalidArgument, "a mel band edge falls outside the spectrogram");
    return out[static_cast<size_t>(row * mels + col)];
  };
  for (int64_t i = 0; i < mels; ++i) {
    const int64_t l = edge[static_cast<size_t>(i)], c = edge[static_cast<size_t>(i + 1)],
                  h = edge[static_cast<size_t>(i + 2)];
    if (c == l)
      at(c, i) = 1;
    else
      for (int64_t j = l; j <= c; ++j) at(j, i) = static_cast<double>(j - l) / static_cast<double>(c - l);
    if (h > c)
      for (int64_t j = c; j < h; ++j) at(j, i) = static_cast<double>(h - j) / static_cast<double>(h - c);
  }
  store_doubles(k, 0, dt, {spec, mels}, out);
}

}  // namespace torchless::engine
