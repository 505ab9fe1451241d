// The image pipeline (image.h): decode with libturbojpeg / libspng into 8-bit pixels as Pillow's
// Image.open(f).convert("RGB" or "L") gives them, resize + center crop with a port of Pillow's
// Resample.c, normalize with a per-channel table. Compiled with -ffp-contract=off (no FMA): the
// double arithmetic of the resize coefficients and the float arithmetic of the normalization
// must round exactly as Pillow's C and PyTorch's kernels do.
#include "serve/image.h"

#include <spng.h>
#include <turbojpeg.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

namespace torchless::serve {
namespace {

using Code = Error::Code;

Error unsupported() { return Error(Code::kUnsupported, "unsupported image format; expected JPEG or PNG"); }
Error corrupt(std::string_view decoder_message) {
  return Error(Code::kCorrupt, "cannot decode image: " + std::string(decoder_message));
}

// Section 6.3: pixels first (the spec's example 20000x15000 breaks both limits), then sides.
Status check_limits(uint64_t w, uint64_t h, const ImagePreprocess& p) {
  const std::string dims = "image " + std::to_string(w) + "x" + std::to_string(h);
  if (w * h > p.max_pixels) {  // w, h < 2^32: no overflow
    Error e(Code::kLimitExceeded, dims + " exceeds the limit of " + std::to_string(p.max_pixels) + " pixels");
    return std::move(e.limit("image.max_pixels", p.max_pixels, w * h));
  }
  if (w > p.max_side || h > p.max_side) {
    Error e(Code::kLimitExceeded, dims + " exceeds the limit of " + std::to_string(p.max_side) + " pixels per side");
    return std::move(e.limit("image.max_side", p.max_side, std::max(w, h)));
  }
  return {};
}

Status check_options(const ImagePreprocess& p) {
  auto bad = [](const char* what) { return Error(Code::kInvalidArgument, std::string("image preprocessing: ") + what); };
  if (p.center_crop < 1 || p.center_crop > 16384) return bad("center_crop must be in [1, 16384]");
  if (p.resize < 0 || p.resize > 65536) return bad("resize must be in [0, 65536]");
  if (!(p.scale > 0.0f) || !std::isfinite(p.scale)) return bad("scale must be a positive number");
  for (int c = 0; c < (p.grayscale ? 1 : 3); ++c)
    if (p.std[c] == 0.0f || !std::isfinite(p.std[c]) || !std::isfinite(p.mean[c]))
      return bad("mean and std must be finite, std non-zero");
  return {};
}

// 8-bit pixels, interleaved, 1 (L) or 3 (RGB) channels.
struct Pixels {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> data;
};

// Pillow's rgb2l (Convert.c): L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, in place.
void rgb_to_luma(Pixels& px) {
  const size_t n = static_cast<size_t>(px.width) * px.height;
  uint8_t* d = px.data.data();
  for (size_t i = 0; i < n; ++i)
    d[i] = static_cast<uint8_t>((d[3 * i] * 19595 + d[3 * i + 1] * 38470 + d[3 * i + 2] * 7471 + 0x8000) >> 16);
  px.data.resize(n);
  px.channels = 1;
}

// ---- JPEG ------------------------------------------------------------------------------------

// A decompressor per call: cheap next to a decode, and thread-safe by construction.
struct Tj {
  tjhandle h = tjInitDecompress();
  Tj() = default;
  Tj(const Tj&) = delete;
  Tj& operator=(const Tj&) = delete;
  ~Tj() {
    if (h) tjDestroy(h);
  }
};

struct JpegHeader {
  int width = 0, height = 0, colorspace = -1;
};

Result<JpegHeader> jpeg_header(const Tj& tj, std::span<const std::byte> file) {
  if (!tj.h) return Error(Code::kInternal, "tjInitDecompress failed");
  JpegHeader hd;
  int subsamp = -1;
  tjDecompressHeader3(tj.h, reinterpret_cast<const unsigned char*>(file.data()), file.size(), &hd.width, &hd.height,
                      &subsamp, &hd.colorspace);
  // The return value mixes warnings (accepted, as by Pillow) and an unknown chroma subsampling
  // (which tjDecompress2 decodes fine) with real errors; the fields tell them apart: they are only
  // set once libjpeg has parsed the header.
  if (hd.width < 1 || hd.height < 1 || hd.colorspace < 0 || hd.colorspace > TJCS_YCCK)
    return corrupt(tjGetErrorStr2(tj.h));
  return hd;
}

// Pillow feeds libjpeg through a suspending source and refuses the image ("image file is
// truncated") when libjpeg wants bytes past the end; libturbojpeg instead warns and decodes the
// rest as grey. So: does the file reach an EOI marker, walking marker segments and skipping the
// entropy-coded data after each SOS as libjpeg does?
bool jpeg_reaches_eoi(std::span<const std::byte> file) {
  const auto* d = reinterpret_cast<const uint8_t*>(file.data());
  const size_t n = file.size();
  size_t i = 2;  // after SOI
  for (;;) {
    while (i < n && d[i] != 0xFF) ++i;  // libjpeg skips garbage before a marker (a warning)
    while (i < n && d[i] == 0xFF) ++i;  // fill bytes
    if (i >= n) return false;
    const uint8_t m = d[i++];
    if (m == 0xD9) return true;
    if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) continue;  // no length field
    if (n - i < 2) return false;
    const size_t len = size_t{d[i]} << 8 | d[i + 1];
    if (len < 2 || n - i < len) return false;
    i += len;
    if (m != 0xDA) continue;
    // Entropy-coded data ends at a marker other than a stuffed zero or a restart marker.
    for (;;) {
      while (i < n && d[i] != 0xFF) ++i;
      size_t j = i;
      while (j < n && d[j] == 0xFF) ++j;
      if (j >= n) return false;
      if (d[j] == 0x00 || (d[j] >= 0xD0 && d[j] <= 0xD7)) {
        i = j + 1;
        continue;
      }
      break;  // i is at the marker's 0xFF
    }
  }
}

// libturbojpeg reports a warning after which decoding went on and a fatal error that followed
// a warning the same way (-1, TJERR_WARNING). libjpeg stores the text of the first warning only
// and that of a fatal error always, so the message tells: these are libjpeg-turbo 2.1's JWRN_*
// texts, except "Premature end of JPEG file" (truncation, an error in Pillow).
bool is_libjpeg_warning(std::string_view msg) {
  static constexpr std::string_view kWarnings[] = {
      "Corrupt JPEG data:",  "Unknown Adobe color transform code", "Inconsistent progression sequence",
      "Warning:",            "Invalid SOS parameters for sequential JPEG", "Application transferred too many scanlines",
  };
  for (std::string_view w : kWarnings)
    if (msg.substr(0, w.size()) == w) return true;
  return false;
}

Result<Pixels> decode_jpeg(const Tj& tj, std::span<const std::byte> file, const JpegHeader& hd) {
  if (!jpeg_reaches_eoi(file)) return corrupt("image file is truncated");
  Pixels px;
  px.width = hd.width;
  px.height = hd.height;
  px.channels = hd.colorspace == TJCS_GRAY ? 1 : 3;
  px.data.resize(static_cast<size_t>(px.width) * px.height * px.channels);  // zeroed: nothing uninitialised escapes
  if (tjDecompress2(tj.h, reinterpret_cast<const unsigned char*>(file.data()), file.size(), px.data.data(), px.width,
                    0, px.height, px.channels == 1 ? TJPF_GRAY : TJPF_RGB, TJFLAG_LIMITSCANS) != 0) {
    const char* msg = tjGetErrorStr2(tj.h);
    if (tjGetErrorCode(tj.h) != TJERR_WARNING || !is_libjpeg_warning(msg)) return corrupt(msg);
  }
  return px;
}

// ---- PNG -------------------------------------------------------------------------------------

struct SpngFree {
  void operator()(spng_ctx* c) const { spng_ctx_free(c); }
};
using Spng = std::unique_ptr<spng_ctx, SpngFree>;

constexpr size_t kPngChunkLimit = size_t{16} << 20;  // one ancillary chunk (the body is at most 16 MiB)
constexpr size_t kPngCacheLimit = size_t{32} << 20;  // all stored ancillary chunks, inflated text included

uint32_t be32(const std::byte* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

Result<spng_ihdr> png_header(spng_ctx* ctx, std::span<const std::byte> file, const ImagePreprocess& p) {
  if (!ctx) return Error(Code::kInternal, "spng_ctx_new failed");
  const uint32_t side = std::min<uint32_t>(p.max_side, INT32_MAX);  // libspng's own bound is 2^31 - 1
  spng_set_image_limits(ctx, side, side);
  spng_set_chunk_limits(ctx, kPngChunkLimit, kPngCacheLimit);
  // Pillow refuses a bad CRC in any chunk before the image data (ancillary ones included) and
  // reads none after it; libspng, strict for both kinds, agrees, except that it also checks
  // the CRC of an IDAT followed by another (Pillow checks none): corrupt data either way.
  spng_set_crc_action(ctx, SPNG_CRC_ERROR, SPNG_CRC_ERROR);
  spng_set_png_buffer(ctx, file.data(), file.size());
  spng_ihdr ihdr{};
  if (int rc = spng_get_ihdr(ctx, &ihdr)) {
    // libspng refused the size after reading it from IHDR (signature, length and type checked):
    // report it with the numbers, as for an image inside libspng's limit but over ours.
    if ((rc == SPNG_EUSER_WIDTH || rc == SPNG_EUSER_HEIGHT) && file.size() >= 24) {
      Status lim = check_limits(be32(&file[16]), be32(&file[20]), p);
      if (!lim) return std::move(lim).error();
    }
    return corrupt(spng_strerror(rc));
  }
  return ihdr;
}

// Pillow's palette: the PLTE entries, then a grey ramp (index i -> (i, i, i)) for indices the
// PLTE does not define; libspng would give black for those.
Result<Pixels> decode_png_palette(spng_ctx* ctx, const spng_ihdr& ihdr, Pixels px) {
  spng_plte plte{};
  if (int rc = spng_get_plte(ctx, &plte)) return corrupt(spng_strerror(rc));
  uint8_t lut[256][3];
  for (int i = 0; i < 256; ++i) {
    if (static_cast<uint32_t>(i) < plte.n_entries)
      lut[i][0] = plte.entries[i].red, lut[i][1] = plte.entries[i].green, lut[i][2] = plte.entries[i].blue;
    else
      lut[i][0] = lut[i][1] = lut[i][2] = static_cast<uint8_t>(i);
  }
  size_t size = 0;
  if (int rc = spng_decoded_image_size(ctx, SPNG_FMT_PNG, &size)) return corrupt(spng_strerror(rc));
  std::vector<uint8_t> packed(size);  // rows of indices, packed for bit depths < 8
  if (int rc = spng_decode_image(ctx, packed.data(), size, SPNG_FMT_PNG, 0)) return corrupt(spng_strerror(rc));
  const int depth = ihdr.bit_depth, per_byte = 8 / depth, mask = (1 << depth) - 1;
  const size_t row_bytes = size / px.height;
  px.channels = 3;
  px.data.resize(static_cast<size_t>(px.width) * px.height * 3);
  for (int y = 0; y < px.height; ++y) {
    const uint8_t* row = packed.data() + y * row_bytes;
    uint8_t* out = px.data.data() + static_cast<size_t>(y) * px.width * 3;
    for (int x = 0; x < px.width; ++x) {
      const int shift = 8 - depth * (x % per_byte + 1);
      const uint8_t* e = lut[(row[x / per_byte] >> shift) & mask];
      out[3 * x] = e[0], out[3 * x + 1] = e[1], out[3 * x + 2] = e[2];
    }
  }
  return px;
}

Result<Pixels> decode_png(spng_ctx* ctx, const spng_ihdr& ihdr) {
  Pixels px;
  px.width = static_cast<int>(ihdr.width);
  px.height = static_cast<int>(ihdr.height);
  const size_t n = static_cast<size_t>(px.width) * px.height;
  if (ihdr.color_type == SPNG_COLOR_TYPE_INDEXED) return decode_png_palette(ctx, ihdr, std::move(px));
  if (ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE && ihdr.bit_depth == 16) {
    // Pillow opens 16-bit grey as mode "I" and convert() clamps it to [0, 255] (not >> 8).
    std::vector<uint16_t> raw(n);
    if (int rc = spng_decode_image(ctx, raw.data(), n * 2, SPNG_FMT_PNG, 0)) return corrupt(spng_strerror(rc));
    px.channels = 1;
    px.data.resize(n);
    for (size_t i = 0; i < n; ++i) px.data[i] = static_cast<uint8_t>(std::min<uint16_t>(raw[i], 255));
    return px;
  }
  // Grey 1-8 bit: scaled to 8 bits as Pillow's "1", "L;2", "L;4" unpackers do. Everything else
  // to RGB8: 16-bit samples keep their high byte, alpha is dropped without compositing, grey+alpha
  // is replicated, as Pillow's convert("RGB") does.
  const bool grey = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE;
  const int fmt = grey ? SPNG_FMT_G8 : SPNG_FMT_RGB8;
  px.channels = grey ? 1 : 3;
  size_t size = 0;
  if (int rc = spng_decoded_image_size(ctx, fmt, &size)) return corrupt(spng_strerror(rc));
  if (size != n * px.channels) return Error(Code::kInternal, "libspng: unexpected decoded size");
  px.data.resize(size);
  if (int rc = spng_decode_image(ctx, px.data.data(), size, fmt, 0)) return corrupt(spng_strerror(rc));
  return px;
}

// ---- resize (Pillow 9.4 Resample.c, 8 bits per channel, bilinear) ---------------------------

constexpr int kPrecisionBits = 32 - 8 - 2;

// The coefficients of output indices [first, last) of one axis resized from in_size to out_size:
// Pillow's precompute_coeffs + normalize_coeffs_8bpc, same operations in the same order.
struct Axis {
  int ksize = 0;
  std::vector<int> start, count;  // input window per output index
  std::vector<int32_t> k;         // ksize fixed-point weights per output index
};

double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

Axis axis_coeffs(int in_size, int out_size, int first, int last) {
  Axis a;
  const double scale = static_cast<double>(static_cast<float>(in_size) - 0.0f) / out_size;  // box (0, in_size) in float
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 1.0 * filterscale;
  a.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  const size_t m = static_cast<size_t>(last - first);
  a.start.resize(m);
  a.count.resize(m);
  a.k.assign(m * a.ksize, 0);
  std::vector<double> w(a.ksize);
  for (int xx = first; xx < last; ++xx) {
    const double center = 0.0 + (xx + 0.5) * scale;
    double ww = 0.0;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax = std::clamp(xmax - xmin, 0, a.ksize);
    for (int x = 0; x < xmax; ++x) {
      w[x] = bilinear_filter((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    int32_t* k = &a.k[(xx - first) * static_cast<size_t>(a.ksize)];
    for (int x = 0; x < xmax; ++x) {
      double v = ww != 0.0 ? w[x] / ww : w[x];
      k[x] = v < 0 ? static_cast<int32_t>(-0.5 + v * (1 << kPrecisionBits))
                   : static_cast<int32_t>(0.5 + v * (1 << kPrecisionBits));
    }
    a.start[xx - first] = xmin;
    a.count[xx - first] = xmax;
  }
  return a;
}

inline uint8_t clip8(int32_t acc) {
  const int32_t v = acc >> kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Rows [row0, row0 + nrows) of `src` (C channels), resampled horizontally to the output columns
// of `ax` (Pillow's ImagingResampleHorizontal_8bpc; the sums are exact integers).
template <int C>
void horizontal_pass(const uint8_t* src, size_t src_stride, int row0, int nrows, const Axis& ax, uint8_t* dst) {
  const size_t nx = ax.start.size();
  constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);
  for (int r = 0; r < nrows; ++r) {
    const uint8_t* in = src + static_cast<size_t>(row0 + r) * src_stride;
    uint8_t* out = dst + static_cast<size_t>(r) * nx * C;
    for (size_t i = 0; i < nx; ++i) {
      const int32_t* k = &ax.k[i * ax.ksize];
      const uint8_t* p = in + static_cast<size_t>(ax.start[i]) * C;
      const int n = ax.count[i];
      if constexpr (C == 3) {
        int32_t a0 = kHalf, a1 = kHalf, a2 = kHalf;
        for (int x = 0; x < n; ++x) {
          a0 += p[3 * x] * k[x];
          a1 += p[3 * x + 1] * k[x];
          a2 += p[3 * x + 2] * k[x];
        }
        out[3 * i] = clip8(a0), out[3 * i + 1] = clip8(a1), out[3 * i + 2] = clip8(a2);
      } else {
        int32_t a0 = kHalf;
        for (int x = 0; x < n; ++x) a0 += p[x] * k[x];
        out[i] = clip8(a0);
      }
    }
  }
}

// Center-crop offset of one axis: where output index 0 falls in the (resized) image. torchvision
// pads (zeros, (crop - size) // 2 before) when the crop is larger, else crops at
// round((size - crop) / 2) with Python's round-half-to-even.
int crop_offset(int size, int crop) {
  if (crop > size) return -((crop - size) / 2);
  const int d = size - crop;
  return d % 2 == 0 ? d / 2 : (d / 2) % 2 == 0 ? d / 2 : d / 2 + 1;
}

// Resize (shorter side -> p.resize) and center crop, computing only the kept pixels. The result
// is crop x crop x src.channels; padding is 0 as in torchvision's pad(fill=0).
Result<std::vector<uint8_t>> resize_crop(const Pixels& src, const ImagePreprocess& p) {
  const int C = src.channels, crop = p.center_crop;
  int rw = src.width, rh = src.height;
  if (p.resize > 0) {  // torchvision: new_long = int(size * long / short), in double
    const bool wide = src.width > src.height;
    const int64_t shorter = wide ? src.height : src.width, longer = wide ? src.width : src.height;
    const double nl = static_cast<double>(int64_t{p.resize} * longer) / static_cast<double>(shorter);
    if (nl > INT_MAX) return Error(Code::kLimitExceeded, "image: resized size out of range");
    (wide ? rw : rh) = static_cast<int>(nl);
    (wide ? rh : rw) = p.resize;
  }
  const int offx = crop_offset(rw, crop), offy = crop_offset(rh, crop);
  const int x0 = std::max(offx, 0), x1 = std::min(offx + crop, rw);  // kept columns of the resized image
  const int y0 = std::max(offy, 0), y1 = std::min(offy + crop, rh);
  const int nx = x1 - x0;
  const size_t src_stride = static_cast<size_t>(src.width) * C;
  std::vector<uint8_t> out(static_cast<size_t>(crop) * crop * C, 0);
  auto out_row = [&](int yy) { return out.data() + (static_cast<size_t>(yy - offy) * crop + (x0 - offx)) * C; };

  const bool need_h = rw != src.width, need_v = rh != src.height;
  Axis va;
  int r0 = y0, r1 = y1;  // input rows the vertical pass reads
  if (need_v) {
    va = axis_coeffs(src.height, rh, y0, y1);
    r0 = INT_MAX, r1 = 0;
    for (size_t i = 0; i < va.start.size(); ++i) {
      if (va.count[i] == 0) continue;
      r0 = std::min(r0, va.start[i]);
      r1 = std::max(r1, va.start[i] + va.count[i]);
    }
    if (r0 >= r1) r0 = r1 = 0;
  }
  // Rows r0..r1 after the horizontal pass (or the source's, starting at column x0).
  std::vector<uint8_t> tmp;
  const uint8_t* rows;
  size_t stride;
  if (need_h) {
    Axis ha = axis_coeffs(src.width, rw, x0, x1);
    tmp.resize(static_cast<size_t>(r1 - r0) * nx * C);
    if (C == 1)
      horizontal_pass<1>(src.data.data(), src_stride, r0, r1 - r0, ha, tmp.data());
    else
      horizontal_pass<3>(src.data.data(), src_stride, r0, r1 - r0, ha, tmp.data());
    rows = tmp.data();
    stride = static_cast<size_t>(nx) * C;
  } else {
    rows = src.data.data() + static_cast<size_t>(r0) * src_stride + static_cast<size_t>(x0) * C;
    stride = src_stride;
  }
  const size_t row_len = static_cast<size_t>(nx) * C;
  if (!need_v) {
    for (int yy = y0; yy < y1; ++yy) std::memcpy(out_row(yy), rows + (yy - r0) * stride, row_len);
    return out;
  }
  // Pillow's ImagingResampleVertical_8bpc, a whole output row at a time (integer sums: the
  // order of the terms does not matter).
  std::vector<int32_t> acc_buf(row_len);
  int32_t* __restrict acc = acc_buf.data();
  for (int yy = y0; yy < y1; ++yy) {
    const size_t i = yy - y0;
    const int32_t* k = &va.k[i * va.ksize];
    std::fill(acc, acc + row_len, 1 << (kPrecisionBits - 1));
    for (int y = 0; y < va.count[i]; ++y) {
      const uint8_t* __restrict in = rows + static_cast<size_t>(va.start[i] + y - r0) * stride;
      const int32_t ky = k[y];
      for (size_t j = 0; j < row_len; ++j) acc[j] += in[j] * ky;
    }
    uint8_t* o = out_row(yy);
    for (size_t j = 0; j < row_len; ++j) o[j] = clip8(acc[j]);
  }
  return out;
}

// ---- ToTensor + Normalize ----------------------------------------------------------------------

// ((float)v / scale - mean) / std in float32, as ToTensor's div(255) then Normalize's sub_ and
// div_ compute it: a true division each time, no FMA (this file is built with -ffp-contract=off).
void normalize(const std::vector<uint8_t>& px, int src_channels, const ImagePreprocess& p, float* out) {
  const int C = p.grayscale ? 1 : 3, crop = p.center_crop;
  float table[3][256];
  for (int c = 0; c < C; ++c)
    for (int v = 0; v < 256; ++v) {
      const float t = static_cast<float>(v) / p.scale;
      const float centred = t - p.mean[c];
      table[c][v] = centred / p.std[c];
    }
  const size_t n = static_cast<size_t>(crop) * crop;
  for (int c = 0; c < C; ++c) {
    const int sc = src_channels == 1 ? 0 : c;  // grey source, RGB output: replicated (Pillow's l2rgb)
    for (size_t i = 0; i < n; ++i) {
      const float v = table[c][px[i * src_channels + sc]];
      if (p.nhwc)
        out[i * C + c] = v;
      else
        out[c * n + i] = v;
    }
  }
}

enum class Kind { kJpeg, kPng, kOther };

Kind sniff(std::span<const std::byte> f) {
  static constexpr unsigned char kPngSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (f.size() >= 8 && std::memcmp(f.data(), kPngSig, 8) == 0) return Kind::kPng;
  if (f.size() >= 3 && f[0] == std::byte{0xFF} && f[1] == std::byte{0xD8} && f[2] == std::byte{0xFF}) return Kind::kJpeg;
  return Kind::kOther;
}

Status check_jpeg(const JpegHeader& hd, const ImagePreprocess& p) {
  if (hd.colorspace == TJCS_CMYK || hd.colorspace == TJCS_YCCK) return unsupported();
  return check_limits(static_cast<uint64_t>(hd.width), static_cast<uint64_t>(hd.height), p);
}

// Header, limits, then the pixels as Pillow's convert("RGB") / convert("L") would give them
// (a grey image stays one channel for RGB output: normalize() replicates it).
Result<Pixels> decode(std::span<const std::byte> file, const ImagePreprocess& p) {
  Result<Pixels> px = unsupported();
  if (sniff(file) == Kind::kJpeg) {
    Tj tj;
    Result<JpegHeader> hd = jpeg_header(tj, file);
    if (!hd) return std::move(hd).error();
    if (Status s = check_jpeg(*hd, p); !s) return std::move(s).error();
    px = decode_jpeg(tj, file, *hd);
  } else if (sniff(file) == Kind::kPng) {
    Spng ctx(spng_ctx_new(0));
    Result<spng_ihdr> ihdr = png_header(ctx.get(), file, p);
    if (!ihdr) return std::move(ihdr).error();
    if (Status s = check_limits(ihdr->width, ihdr->height, p); !s) return std::move(s).error();
    px = decode_png(ctx.get(), *ihdr);
  }
  if (px && p.grayscale && px->channels == 3) rgb_to_luma(*px);
  return px;
}

Status preprocess(std::span<const std::byte> file, const ImagePreprocess& p, float* out) {
  if (Status s = check_options(p); !s) return s;
  Result<Pixels> px = decode(file, p);
  if (!px) return std::move(px).error();
  Result<std::vector<uint8_t>> cropped = resize_crop(*px, p);
  if (!cropped) return std::move(cropped).error();
  normalize(*cropped, px->channels, p, out);
  return {};
}

}  // namespace

size_t image_tensor_elements(const ImagePreprocess& p) {
  const size_t crop = p.center_crop > 0 ? static_cast<size_t>(p.center_crop) : 0;
  return (p.grayscale ? 1 : 3) * crop * crop;
}

Result<ImageInfo> probe_image(std::span<const std::byte> file, const ImagePreprocess& p) {
  switch (sniff(file)) {
    case Kind::kJpeg: {
      Tj tj;
      Result<JpegHeader> hd = jpeg_header(tj, file);
      if (!hd) return std::move(hd).error();
      if (Status s = check_jpeg(*hd, p); !s) return std::move(s).error();
      return ImageInfo{static_cast<uint32_t>(hd->width), static_cast<uint32_t>(hd->height), false};
    }
    case Kind::kPng: {
      Spng ctx(spng_ctx_new(0));
      Result<spng_ihdr> ihdr = png_header(ctx.get(), file, p);
      if (!ihdr) return std::move(ihdr).error();
      if (Status s = check_limits(ihdr->width, ihdr->height, p); !s) return std::move(s).error();
      return ImageInfo{ihdr->width, ihdr->height, true};
    }
    case Kind::kOther:
      break;
  }
  return unsupported();
}

Status preprocess_image(std::span<const std::byte> file, const ImagePreprocess& p, float* out) {
  try {
    return preprocess(file, p, out);
  } catch (const std::bad_alloc&) {
    return Error(Code::kLimitExceeded, "image: out of memory while decoding");
  }
}

}  // namespace torchless::serve
