// Format detection from the first bytes (hostile-inputs FMT-01, FMT-05): the extension is
// only consulted for ONNX, which has no magic number.
#include <cctype>
#include <cstring>
#include <string>

#include "core/check.h"
#include "formats/detect.h"

namespace torchless::formats {
namespace {

bool starts_with(std::span<const std::byte> b, const char* magic, size_t n, size_t at = 0) {
  return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
}

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::string hex_prefix(std::span<const std::byte> b) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < b.size() && i < 8; ++i) {
    const auto c = static_cast<unsigned char>(b[i]);
    if (i) s += ' ';
    s += hex[c >> 4];
    s += hex[c & 15];
  }
  return s;
}

}  // namespace

Format detect(const MappedFile& file) {
  const auto b = file.bytes();
  if (starts_with(b, "PK\x03\x04", 4) || starts_with(b, "PK\x05\x06", 4)) return Format::kTorchZip;
  if (starts_with(b, "\x93NUMPY", 6)) return Format::kNpy;
  if (b.size() >= 2 && b[0] == std::byte{0x80} && static_cast<unsigned char>(b[1]) >= 2 &&
      static_cast<unsigned char>(b[1]) <= 5)
    return Format::kTorchLegacy;
  if (b.size() >= 9 && b[8] == std::byte{'{'}) return Format::kSafetensors;
  size_t i = 0;
  while (i < b.size() && i < 64 && std::isspace(static_cast<unsigned char>(b[i]))) ++i;
  if (i < b.size() && b[i] == std::byte{'{'}) return Format::kHfSharded;
  if (ends_with(file.path(), ".onnx")) return Format::kOnnx;

  struct Wrapper {
    const char* magic;
    size_t n, at;
    const char* name;
  };
  static const Wrapper wrappers[] = {
      {"\x1f\x8b", 2, 0, "gzip"},          {"\xfd" "7zXZ\x00", 6, 0, "xz"},
      {"7z\xbc\xaf\x27\x1c", 6, 0, "7z"},  {"BZh", 3, 0, "bzip2"},
      {"\x28\xb5\x2f\xfd", 4, 0, "zstd"},  {"ustar", 5, 257, "tar"},
  };
  for (const Wrapper& w : wrappers)
    if (starts_with(b, w.magic, w.n, w.at))
      fail(Error::Code::kUnsupported, std::string(w.name) + " compressed container; unpack it first");
  if (starts_with(b, "PYTORCH1", 8))
    fail(Error::Code::kUnsupported, "PyTorch 1.0-preview archive (PYTORCH1) is not supported");
  if (b.size() >= 2 && b[0] == std::byte{0x80})
    fail(Error::Code::kUnsupported, "pickle protocol " + std::to_string(static_cast<unsigned>(b[1])) +
                                        " is not supported");
  fail(Error::Code::kUnsupported, "unknown file format (first bytes: " + hex_prefix(b) + ")");
}

}  // namespace torchless::formats
