#include "serve/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace torchless::serve {
namespace {

// Python's float_repr layout (CPython format_float_short, mode 'r') of sign, the digits
// d[0..n) without trailing zeros and decpt, where the value is 0.d0d1... x 10^decpt: fixed
// notation for -4 < decpt <= 16, else d0[.d1...]e<sign><at least two digits>.
char* layout(char* out, bool neg, const char* d, int n, int decpt) {
  if (neg) *out++ = '-';
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {  // 0.000ddd
      *out++ = '0';
      *out++ = '.';
      for (int i = 0; i < -decpt; ++i) *out++ = '0';
      std::memcpy(out, d, size_t(n));
      return out + n;
    }
    if (decpt >= n) {  // ddd000.0
      std::memcpy(out, d, size_t(n));
      out += n;
      for (int i = n; i < decpt; ++i) *out++ = '0';
      *out++ = '.';
      *out++ = '0';
      return out;
    }
    std::memcpy(out, d, size_t(decpt));  // dd.ddd
    out += decpt;
    *out++ = '.';
    std::memcpy(out, d + decpt, size_t(n - decpt));
    return out + (n - decpt);
  }
  *out++ = d[0];
  if (n > 1) {
    *out++ = '.';
    std::memcpy(out, d + 1, size_t(n - 1));
    out += n - 1;
  }
  *out++ = 'e';
  int e = decpt - 1;
  *out++ = e < 0 ? '-' : '+';
  if (e < 0) e = -e;
  if (e >= 100) {
    *out++ = char('0' + e / 100);
    e %= 100;
  }
  *out++ = char('0' + e / 10);
  *out++ = char('0' + e % 10);
  return out;
}

// Re-lays out std::to_chars' shortest scientific form "[-]d[.ddd]e[+-]dd[d]" the Python way.
char* relayout(char* out, const char* s) {
  bool neg = *s == '-';
  if (neg) ++s;
  char d[24];
  int n = 0;
  d[n++] = *s++;
  if (*s == '.') {
    ++s;
    while (*s != 'e') d[n++] = *s++;
  }
  ++s;  // 'e'
  bool eneg = *s++ == '-';
  int e = 0;
  while (*s >= '0' && *s <= '9') e = e * 10 + (*s++ - '0');
  return layout(out, neg, d, n, (eneg ? -e : e) + 1);
}

char* write_null(char* out) {
  std::memcpy(out, "null", 4);
  return out + 4;
}

// Bytes that end a run of bytes copied as they are: '"', '\\', control characters (escaped)
// and bytes >= 0x80 (UTF-8, validated).
struct ByteClass {
  bool stop[256];
  constexpr ByteClass() : stop() {
    for (int c = 0; c < 256; ++c) stop[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  }
};
constexpr ByteClass kClass;

// The length of the well-formed UTF-8 sequence at p[0..n) (Unicode table 3-7), or 0 and the
// length of its maximal subpart in *bad (what one U+FFFD replaces).
size_t utf8_seq(const unsigned char* p, size_t n, size_t* bad) {
  unsigned c = p[0];
  size_t len;
  unsigned lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    *bad = 1;
    return 0;
  }
  size_t i = 1;
  for (; i < len && i < n; ++i) {
    unsigned b = p[i];
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
  }
  if (i == len) return len;
  *bad = i;
  return 0;
}

}  // namespace

char* write_float_py(char* out, double v) {
  if (!std::isfinite(v)) return write_null(out);
  char buf[kMaxFloatChars];
  auto r = std::to_chars(buf, buf + sizeof buf - 1, v, std::chars_format::scientific);
  *r.ptr = '\0';
  return relayout(out, buf);
}

char* write_float32_short(char* out, float v) {
  if (!std::isfinite(v)) return write_null(out);
  char buf[kMaxFloatChars];
  auto r = std::to_chars(buf, buf + sizeof buf - 1, v, std::chars_format::scientific);
  *r.ptr = '\0';
  return relayout(out, buf);
}

void JsonWriter::escaped(std::string_view s) {
  out_.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    size_t run = i;
    while (run < n && !kClass.stop[p[run]]) ++run;
    out_.append(s.data() + i, run - i);
    i = run;
    if (i == n) break;
    unsigned c = p[i];
    if (c >= 0x80) {
      size_t bad = 0, len = utf8_seq(p + i, n - i, &bad);
      if (len) {
        out_.append(s.data() + i, len);
        i += len;
      } else {
        out_.append("\xEF\xBF\xBD", 3);
        i += bad;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"': out_.append("\\\"", 2); break;
      case '\\': out_.append("\\\\", 2); break;
      case '\n': out_.append("\\n", 2); break;
      case '\r': out_.append("\\r", 2); break;
      case '\t': out_.append("\\t", 2); break;
      case '\b': out_.append("\\b", 2); break;
      case '\f': out_.append("\\f", 2); break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out_.append(u, 6);
      }
    }
  }
  out_.push_back('"');
}

void JsonWriter::key(std::string_view k) {
  comma();
  escaped(k);
  out_.push_back(':');
  need_comma_ = false;
}

void JsonWriter::string(std::string_view s) {
  comma();
  escaped(s);
  need_comma_ = true;
}

void JsonWriter::number(int64_t v) {
  comma();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, size_t(r.ptr - buf));
  need_comma_ = true;
}

void JsonWriter::number(uint64_t v) {
  comma();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, size_t(r.ptr - buf));
  need_comma_ = true;
}

void JsonWriter::number(double v) {
  comma();
  char buf[kMaxFloatChars];
  if (!std::isfinite(v)) ++nonfinite_;
  out_.append(buf, size_t(write_float_py(buf, v) - buf));
  need_comma_ = true;
}

void JsonWriter::number_f32(float v, F32Style style) {
  comma();
  char buf[kMaxFloatChars];
  if (!std::isfinite(v)) ++nonfinite_;
  char* end = style == F32Style::kPython ? write_float32_py(buf, v) : write_float32_short(buf, v);
  out_.append(buf, size_t(end - buf));
  need_comma_ = true;
}

void JsonWriter::boolean(bool b) {
  comma();
  if (b)
    out_.append("true", 4);
  else
    out_.append("false", 5);
  need_comma_ = true;
}

void JsonWriter::null() {
  comma();
  out_.append("null", 4);
  need_comma_ = true;
}

void JsonWriter::raw_value(std::string_view json) {
  comma();
  out_.append(json);
  need_comma_ = true;
}

namespace {

// The bulk writers size the string for the worst case of a block of values, write through a
// pointer and trim, so a large tensor never needs more than its final size plus one block.
template <class T, class F>
void write_array(std::string& out, std::span<const T> v, uint64_t& nonfinite, F write) {
  constexpr size_t kBlock = 1024;
  out.push_back('[');
  for (size_t b = 0; b < v.size(); b += kBlock) {
    size_t e = std::min(v.size(), b + kBlock), old = out.size();
    out.resize(old + (e - b) * (kMaxFloatChars + 1));
    char* p = out.data() + old;
    for (size_t i = b; i < e; ++i) {
      if (i) *p++ = ',';
      if (!std::isfinite(v[i])) ++nonfinite;
      p = write(p, v[i]);
    }
    out.resize(size_t(p - out.data()));
  }
  out.push_back(']');
}

}  // namespace

void JsonWriter::array_f32(std::span<const float> v, F32Style style) {
  comma();
  if (style == F32Style::kPython)
    write_array(out_, v, nonfinite_, write_float32_py);
  else
    write_array(out_, v, nonfinite_, write_float32_short);
  need_comma_ = true;
}

void JsonWriter::array_f64(std::span<const double> v) {
  comma();
  write_array(out_, v, nonfinite_, write_float_py);
  need_comma_ = true;
}

const float* JsonWriter::nested_rec(const float* p, std::span<const int64_t> shape, F32Style style) {
  int64_t n = shape[0] > 0 ? shape[0] : 0;
  if (shape.size() == 1) {
    array_f32(std::span<const float>(p, size_t(n)), style);
    return p + n;
  }
  begin_array();
  for (int64_t i = 0; i < n; ++i) p = nested_rec(p, shape.subspan(1), style);
  end_array();
  return p;
}

void JsonWriter::nested_f32(const float* data, std::span<const int64_t> shape, F32Style style) {
  if (shape.empty())
    number_f32(data[0], style);
  else
    nested_rec(data, shape, style);
}

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  JsonWriter(out).string(s);
  return out;
}

}  // namespace torchless::serve
