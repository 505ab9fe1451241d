// src/serve/image.h — the image pipeline of `torchless serve`: JPEG/PNG bytes -> the model's
// float input, equal bit for bit to torchvision 0.14 + Pillow 9.4 (specs/serving.md section 4):
//
//   Image.open(f).convert("RGB"), Resize(256), CenterCrop(224), ToTensor(), Normalize(mean, std)
//
// Decoders: libturbojpeg 2.1.5 (accurate integer IDCT, fancy upsampling, as Pillow) and libspng
// 0.7.3; the resize is a port of Pillow's 8-bit bilinear Resample.c, computed only for the pixels
// the center crop keeps. The image size is read from the header and checked against the limits
// before any pixel buffer exists. Every function is thread-safe (decoder state is per call).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "torchless/error.h"

namespace torchless::serve {

// The "preprocessing" of kind "image" of torchless.json (section 3.2), with the image limits of
// section 6.3. Defaults: torchvision's ImageNet pipeline.
struct ImagePreprocess {
  int resize = 256;        // shorter side -> resize, longer side scaled (0 = no resize)
  int center_crop = 224;   // square crop; must be > 0 (the model input has a fixed size)
  float scale = 255.0f;    // ToTensor's divisor
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f}, std{0.229f, 0.224f, 0.225f};
  bool grayscale = false;  // color "L": one channel as Pillow's convert("L"), using mean[0], std[0]
  bool nhwc = false;       // layout NHWC instead of NCHW
  uint64_t max_pixels = 40'000'000;
  uint32_t max_side = 16384;
};

struct ImageInfo {
  uint32_t width = 0, height = 0;
  bool png = false;  // else JPEG
};

// Floats preprocess_image writes: channels * center_crop^2.
size_t image_tensor_elements(const ImagePreprocess& p);

// Reads the signature and the header only (no pixel buffer). Errors, whose message() is the
// HTTP detail text:
//   kUnsupported   neither JPEG nor PNG, or a CMYK/YCCK JPEG: "unsupported image format; expected JPEG or PNG"
//   kCorrupt       unreadable header: "cannot decode image: <decoder message>"
//   kLimitExceeded "image 20000x15000 exceeds the limit of 40000000 pixels" (or "... of 16384 pixels per side")
Result<ImageInfo> probe_image(std::span<const std::byte> file, const ImagePreprocess& p);

// probe_image, then decode, resize, center crop and normalize straight into `out`, which holds
// image_tensor_elements(p) floats in C,H,W order (H,W,C with p.nhwc). A corrupt or truncated
// image is kCorrupt; a bad ImagePreprocess is kInvalidArgument. `out` is unspecified on error.
Status preprocess_image(std::span<const std::byte> file, const ImagePreprocess& p, float* out);

}  // namespace torchless::serve
