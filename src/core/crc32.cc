#include "core/crc32.h"

#include <isa-l/crc.h>

namespace torchless {

uint32_t crc32(uint32_t crc, const void* p, size_t n) {
  return n == 0 ? crc : crc32_gzip_refl(crc, static_cast<const unsigned char*>(p), n);
}

}  // namespace torchless
