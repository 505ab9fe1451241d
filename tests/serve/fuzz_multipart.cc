// libFuzzer target for the multipart/form-data parser and the Content-Type boundary parser.
// Input: the first byte is n (mod 72); the next n bytes are a Content-Type's boundary value
// (fed to multipart_boundary as a parameter and, when accepted, used as the boundary); the rest
// is the body. Every part must lie inside the body, within the limits.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "serve/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace torchless::serve;
  if (size < 1) return 0;
  size_t n = data[0] % 72;
  if (n > size - 1) n = size - 1;
  std::string_view raw(reinterpret_cast<const char*>(data + 1), n);
  std::string_view body(reinterpret_cast<const char*>(data + 1 + n), size - 1 - n);
  auto b = multipart_boundary("multipart/form-data; boundary=" + std::string(raw));
  std::string boundary = b ? *b : std::string(raw.empty() ? std::string_view("x") : raw);
  MultipartLimits lim;
  lim.max_header_bytes = 256;  // small, so the fuzzer reaches the limit
  auto r = parse_multipart(body, boundary, lim);
  if (r) {
    if (r->empty() || r->size() > lim.max_parts) std::abort();
    for (const MultipartPart& p : *r) {
      if (p.data.data() < body.data() || p.data.data() + p.data.size() > body.data() + body.size()) std::abort();
      if (!p.content_type.empty() && (p.content_type.data() < body.data() ||
                                      p.content_type.data() + p.content_type.size() > body.data() + body.size()))
        std::abort();
    }
  }
  return 0;
}
