// libFuzzer target for the image pipeline (src/serve/image.h): any bytes must give a typed
// refusal or a fully written, finite tensor, with small limits so that no input may make the
// decoders allocate much. Each input runs under two settings: the ImageNet pipeline, and grey
// NHWC with a crop larger than small images (padding) and no resize.
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
  ImagePreprocess imagenet;
  imagenet.max_pixels = 1 << 20;
  imagenet.max_side = 4096;
  check(bytes, imagenet);
  ImagePreprocess grey = imagenet;
  grey.resize = 0;
  grey.center_crop = 48;
  grey.grayscale = true;
  grey.nhwc = true;
  check(bytes, grey);
  return 0;
}
