// src/serve/multipart.h — multipart/form-data (RFC 7578 over RFC 2046) parsed from a body held
// in memory, for the image mode of POST /predict (specs/serving.md 2.2).
//
// Framing follows RFC 2046: an optional preamble, "--boundary" lines (transport padding of
// spaces and tabs allowed before their CRLF), the close delimiter "--boundary--" and an
// ignored epilogue; at least one part. Part headers are "Name: value" lines ended by CRLF
// (names are RFC 7230 tokens, matched case-insensitively; values may not hold control
// characters other than tab; no folding). The Content-Disposition parameters are read exactly
// as python-multipart's parse_options_header does (the parser behind FastAPI), so a part gets
// the same name and filename as in the FastAPI app. python-multipart accepts some bodies this
// parser refuses (control characters in part headers, no closing boundary) and refuses some
// it accepts (a preamble, padding after a boundary, digits in header names).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "torchless/error.h"

namespace torchless::serve {

// Defaults are the spec's (6.3, 2.2). The whole body's size is the caller's limit.
struct MultipartLimits {
  size_t max_parts = 16;
  size_t max_header_bytes = 8192;  // one part's header block, its final empty line included
};

// One part. data and content_type are views into the parsed body; name and filename are
// unquoted copies (a quoted value may hold escapes), mostly short enough for no allocation.
struct MultipartPart {
  std::string name;               // Content-Disposition name (every part has one)
  std::string filename;           // Content-Disposition filename, "" when absent
  bool has_filename = false;      // filename present (Starlette's UploadFile vs plain field)
  std::string_view content_type;  // the part's Content-Type value, trimmed; "" when absent
  std::string_view data;          // the part's bytes
};

// The boundary parameter of a Content-Type such as `multipart/form-data; boundary="a b"`:
// the media type must be multipart/form-data (case-insensitive), parameters follow RFC 7231
// (token or quoted-string, names case-insensitive) and the boundary must be 1..70 RFC 2046
// bchars, not ending in a space. kCorrupt (message for the log) when any of that fails.
Result<std::string> multipart_boundary(std::string_view content_type);

// The parts of body in order. Broken framing or headers, a missing closing boundary or a part
// without a Content-Disposition name: kCorrupt. More than max_parts parts or a part's headers
// over max_header_bytes: kLimitExceeded. Never reads outside body; linear time.
Result<std::vector<MultipartPart>> parse_multipart(std::string_view body, std::string_view boundary,
                                                   const MultipartLimits& limits = {});

// The form field FastAPI binds to a parameter called `name`: the last part with that name
// (Starlette's FormData keeps the last value of a repeated key); nullptr if there is none.
const MultipartPart* form_field(const std::vector<MultipartPart>& parts, std::string_view name);

}  // namespace torchless::serve
