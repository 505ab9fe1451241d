// libFuzzer target for the zip reader: open the bytes as an archive, then list and read every
// member with CRC verification. Refusals (Error) are expected; anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/check.h"
#include "core/file.h"
#include "zip/zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace torchless;
  Limits limits;
  limits.zip_max_inflated_member_bytes = uint64_t{64} << 20;  // stay under -malloc_limit_mb
  limits.zip_max_inflated_total_bytes = uint64_t{256} << 20;
  auto file = MappedFile::from_bytes("fuzz.zip", std::string(reinterpret_cast<const char*>(data), size));
  try {
    const ZipReader zip = ZipReader::open(file, limits);
    for (const ZipEntry& e : zip.entries()) {
      if (zip.find(e.name) != &e) __builtin_trap();  // names are unique once open() succeeds
      const Storage s = zip.read(e, true);
      if (s.nbytes() != e.size) __builtin_trap();
    }
    (void)zip.prefix();
  } catch (const Error& e) {
    (void)e.to_string();  // error formatting is attack surface too (FMT-06)
  }
  return 0;
}
