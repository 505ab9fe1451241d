#include "serve/multipart.h"

#include <boost/beast/core/string.hpp>

#include <cstring>

namespace torchless::serve {
namespace {

constexpr size_t kNone = std::string_view::npos;

Error corrupt_at(std::string msg, size_t off) {
  return std::move(Error(Error::Code::kCorrupt, std::move(msg)).reader("multipart").offset(off));
}

bool is_tchar(unsigned char c) {  // RFC 7230 token characters
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return c && std::strchr("!#$%&'*+-.^_`|~", c);
}

bool is_bchar(unsigned char c) {  // RFC 2046 boundary characters (space: not last)
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return c && std::strchr("'()+_,-./:=? ", c);
}

using boost::beast::iequals;  // ASCII case-insensitive, as header names and parameters compare

// --- Content-Disposition, as python-multipart's parse_options_header -----------------------
// OPTION_RE = (?:;|^)\s*([^S]+)\s*=\s*([^S]+|"(?:\\.|[^"])*") with S = ()<>@,;:\"/[]?={} \t,
// applied with finditer to the text after the first ';'. Header values here hold no control
// characters but tab, so \s is space or tab, both in S: keys and tokens are plain maximal runs.

bool is_special(unsigned char c) { return c == ' ' || c == '\t' || std::strchr("()<>@,;:\\\"/[]?={}", c); }
bool is_space(unsigned char c) { return c == ' ' || c == '\t'; }

// The end (past the closing quote) of the quoted string opening at s[o], as Python's regex
// engine finds it, or kNone. The greedy parse (a backslash takes the next character) gives
// the answer when it meets an unpaired quote; otherwise the engine backtracks, which the
// right-to-left pass reproduces: res(p) = p+1 at a quote; at a backslash res(p+2) if that
// succeeds, else res(p+1); otherwise res(p+1).
size_t quoted_end(std::string_view s, size_t o) {
  size_t n = s.size();
  for (size_t p = o + 1; p < n; ++p) {
    if (s[p] == '"') return p + 1;
    if (s[p] == '\\' && p + 1 < n) ++p;
  }
  size_t r1 = kNone, r2 = kNone;  // res(p+1), res(p+2)
  for (size_t p = n; p-- > o + 1;) {
    size_t r;
    if (s[p] == '"')
      r = p + 1;
    else if (s[p] == '\\')
      r = (p + 1 < n && r2 != kNone) ? r2 : r1;
    else
      r = r1;
    r2 = r1;
    r1 = r;
  }
  return r1;
}

// python: value.replace(b'\\\\', b'\\').replace(b'\\"', b'"'), two passes left to right.
std::string unquote(std::string_view v) {
  std::string a;
  a.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    a += v[i];
    if (v[i] == '\\' && i + 1 < v.size() && v[i + 1] == '\\') ++i;
  }
  std::string b;
  b.reserve(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == '\\' && i + 1 < a.size() && a[i + 1] == '"') continue;
    b += a[i];
  }
  return b;
}

struct Disposition {
  bool has_name = false, has_filename = false;
  std::string name, filename;
};

Disposition parse_disposition(std::string_view value) {
  Disposition d;
  size_t semi = value.find(';');
  if (semi == kNone) return d;
  std::string_view rest = value.substr(semi + 1);
  size_t n = rest.size(), p = 0;
  while (p < n) {
    // One attempt of the regex at p; on failure finditer moves one character on.
    size_t q;
    if (rest[p] == ';')
      q = p + 1;
    else if (p == 0)
      q = 0;
    else {
      ++p;
      continue;
    }
    while (q < n && is_space(rest[q])) ++q;
    size_t k0 = q;
    while (q < n && !is_special(rest[q])) ++q;
    size_t k1 = q;
    while (q < n && is_space(rest[q])) ++q;
    if (k1 == k0 || q >= n || rest[q] != '=') {
      ++p;
      continue;
    }
    ++q;
    while (q < n && is_space(rest[q])) ++q;
    size_t v0 = q, v1;
    if (q < n && !is_special(rest[q])) {
      while (q < n && !is_special(rest[q])) ++q;
      v1 = q;
    } else if (q < n && rest[q] == '"') {
      v1 = quoted_end(rest, q);
      if (v1 == kNone) {
        ++p;
        continue;
      }
    } else {
      ++p;
      continue;
    }
    std::string_view raw = rest.substr(v0, v1 - v0);
    std::string val = raw.size() >= 2 && raw.front() == '"' && raw.back() == '"'
                          ? unquote(raw.substr(1, raw.size() - 2))
                          : std::string(raw);
    std::string_view key = rest.substr(k0, k1 - k0);
    if (iequals(key, "filename")) {
      // python-multipart's fix for IE6, which sends a full Windows path
      if ((val.size() >= 3 && val.compare(1, 2, ":\\") == 0) || val.starts_with("\\\\"))
        val = val.substr(val.rfind('\\') + 1);
      d.filename = std::move(val);
      d.has_filename = true;
    } else if (iequals(key, "name")) {
      d.name = std::move(val);
      d.has_name = true;
    }
    p = v1;
  }
  return d;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// After "--boundary" at pos: the close delimiter's "--" (returns 1), or transport padding and
// CRLF (returns 2, pos past the CRLF), or neither (0).
int after_boundary(std::string_view body, size_t& pos) {
  if (body.substr(pos, 2) == "--") return 1;
  size_t p = pos;
  while (p < body.size() && is_space(body[p])) ++p;
  if (body.substr(p, 2) != "\r\n") return 0;
  pos = p + 2;
  return 2;
}

}  // namespace

Result<std::string> multipart_boundary(std::string_view ct) {
  auto bad = [](std::string msg) { return Error(Error::Code::kCorrupt, "Content-Type: " + msg); };
  size_t p = 0, n = ct.size();
  auto skip_ows = [&] {
    while (p < n && is_space(ct[p])) ++p;
  };
  auto token = [&] {
    size_t s = p;
    while (p < n && is_tchar(ct[p])) ++p;
    return ct.substr(s, p - s);
  };
  skip_ows();
  std::string_view type = token();
  if (p >= n || ct[p] != '/') return bad("malformed media type");
  ++p;
  std::string_view subtype = token();
  if (!iequals(type, "multipart") || !iequals(subtype, "form-data"))
    return bad("media type is not multipart/form-data");
  bool found = false;
  std::string boundary;
  while (true) {
    skip_ows();
    if (p >= n) break;
    if (ct[p] != ';') return bad("malformed parameters");
    ++p;
    skip_ows();
    if (p >= n || ct[p] == ';') continue;  // empty parameter
    std::string_view name = token();
    if (name.empty() || p >= n || ct[p] != '=') return bad("malformed parameter");
    ++p;
    std::string value;
    if (p < n && ct[p] == '"') {
      ++p;
      while (true) {
        if (p >= n) return bad("unterminated quoted string");
        unsigned char c = ct[p++];
        if (c == '"') break;
        if (c == '\\') {
          if (p >= n) return bad("unterminated quoted string");
          c = ct[p++];
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) return bad("control character in a parameter");
        value += char(c);
      }
    } else {
      value = token();
      if (value.empty()) return bad("malformed parameter");
    }
    if (iequals(name, "boundary")) {
      if (found) return bad("two boundary parameters");
      found = true;
      boundary = std::move(value);
    }
  }
  if (!found) return bad("no boundary parameter");
  if (boundary.empty() || boundary.size() > 70 || boundary.back() == ' ')
    return bad("the boundary must be 1 to 70 characters, not ending in a space");
  for (unsigned char c : boundary)
    if (!is_bchar(c)) return bad("invalid character in the boundary");
  return boundary;
}

Result<std::vector<MultipartPart>> parse_multipart(std::string_view body, std::string_view boundary,
                                                   const MultipartLimits& limits) {
  if (boundary.empty() || boundary.size() > 70)
    return Error(Error::Code::kInvalidArgument, "multipart: boundary must be 1 to 70 bytes");
  char delim_buf[76] = {'\r', '\n', '-', '-'};  // "\r\n--" + boundary
  std::memcpy(delim_buf + 4, boundary.data(), boundary.size());
  std::string_view delim(delim_buf, 4 + boundary.size());
  std::string_view dash = delim.substr(2);  // "--" + boundary

  // The first boundary: at the start (after stray CR/LF, as python-multipart allows) or after
  // a preamble, on a line of its own.
  size_t pos = 0;
  while (pos < body.size() && (body[pos] == '\r' || body[pos] == '\n')) ++pos;
  if (body.substr(pos, dash.size()) == dash) {
    pos += dash.size();
  } else {
    size_t at = body.find(delim, pos);
    if (at == kNone) return corrupt_at("no opening boundary", 0);
    pos = at + delim.size();
  }
  int next = after_boundary(body, pos);
  if (next == 1) return corrupt_at("no part before the closing boundary", pos);
  if (next == 0) return corrupt_at("the opening boundary is not followed by CRLF", pos);

  std::vector<MultipartPart> parts;
  while (true) {
    if (parts.size() >= limits.max_parts)
      return std::move(Error(Error::Code::kLimitExceeded, "multipart: more than " +
                                                              std::to_string(limits.max_parts) + " parts")
                           .limit("multipart.max_parts", limits.max_parts, parts.size() + 1));
    MultipartPart part;
    // Headers: lines until an empty one, all inside the header limit.
    size_t header_start = pos;
    size_t window = body.size() - pos > limits.max_header_bytes ? pos + limits.max_header_bytes : body.size();
    std::string_view disposition;
    bool has_disposition = false, has_type = false;
    while (true) {
      size_t eol = body.substr(0, window).find("\r\n", pos);
      if (eol == kNone) {
        if (window < body.size())
          return std::move(
              Error(Error::Code::kLimitExceeded,
                    "multipart: part headers larger than " + std::to_string(limits.max_header_bytes) + " bytes")
                  .limit("multipart.max_header_bytes", limits.max_header_bytes, limits.max_header_bytes + 1)
                  .offset(header_start));
        return corrupt_at("part headers not terminated", header_start);
      }
      std::string_view line = body.substr(pos, eol - pos);
      size_t line_at = pos;
      pos = eol + 2;
      if (line.empty()) break;
      size_t colon = line.find(':');
      if (colon == kNone || colon == 0) return corrupt_at("malformed part header line", line_at);
      std::string_view name = line.substr(0, colon), value = line.substr(colon + 1);
      for (unsigned char c : name)
        if (!is_tchar(c)) return corrupt_at("invalid character in a part header name", line_at);
      for (unsigned char c : value)
        if ((c < 0x20 && c != '\t') || c == 0x7f)
          return corrupt_at("control character in a part header value", line_at);
      if (iequals(name, "content-disposition")) {
        disposition = value;  // the last one counts, as in Starlette
        has_disposition = true;
      } else if (iequals(name, "content-type") && !has_type) {
        part.content_type = trim(value);
        has_type = true;
      }
    }
    // Data: up to the next delimiter followed by "--" or padding + CRLF.
    size_t data_start = pos, at = pos;
    while (true) {
      at = body.find(delim, at);
      if (at == kNone) return corrupt_at("no closing boundary", data_start);
      size_t after = at + delim.size();
      next = after_boundary(body, after);
      if (next != 0) {
        pos = after;
        break;
      }
      ++at;
    }
    part.data = body.substr(data_start, at - data_start);
    Disposition d = has_disposition ? parse_disposition(disposition) : Disposition{};
    if (!d.has_name) return corrupt_at("part without a Content-Disposition name", header_start);
    part.name = std::move(d.name);
    part.filename = std::move(d.filename);
    part.has_filename = d.has_filename;
    parts.push_back(std::move(part));
    if (next == 1) return parts;  // the close delimiter; the epilogue is ignored
  }
}

const MultipartPart* form_field(const std::vector<MultipartPart>& parts, std::string_view name) {
  for (size_t i = parts.size(); i-- > 0;)
    if (parts[i].name == name) return &parts[i];
  return nullptr;
}

}  // namespace torchless::serve
