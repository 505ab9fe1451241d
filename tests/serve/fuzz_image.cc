// libFuzzer target for the image pipeline (src/serve/image.h): any bytes must give a typed
// refusal or a fully written, finite tensor, with small limits so that no input may make the
// decoders allocate much. Each input runs under two settings: RGB NCHW with a resize (the
// ImageNet pipeline, scaled down to 64 -> 56 to keep runs fast: same code paths), and grey NHWC
// with no resize and a crop larger than small images (padding).
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <span>
#include <vector>

#include "serve/image.h"

namespace {

using namespace torchless::serve;
using torchless::Error;

void check(std::span<const std::byte> bytes, const ImagePreprocess& p) {
  auto info = probe_image(bytes, p);
  std::vector<float> out(image_tensor_elements(p), std::numeric_limits<float>::quiet_NaN());
  auto st = preprocess_image(bytes, p, out.data());
  if (!info && info.error().code() == Error::Code::kInternal) abort();
  if (!st) {
    const auto code = st.error().code();
    if (code == Error::Code::kInternal || code == Error::Code::kInvalidArgument) abort();
    // a refusal the probe made must be the one preprocess makes (the server relies on the probe)
    if (!info && info.error().code() != code) abort();
    return;
  }
  if (!info) abort();  // decoded, so the header was fine
  for (float v : out)
    if (!std::isfinite(v)) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  ImagePreprocess rgb;
  rgb.resize = 64;
  rgb.center_crop = 56;
  rgb.max_pixels = 1 << 20;
  rgb.max_side = 4096;
  check(bytes, rgb);
  ImagePreprocess grey = rgb;
  grey.resize = 0;
  grey.center_crop = 48;
  grey.grayscale = true;
  grey.nhwc = true;
  check(bytes, grey);
  return 0;
}
