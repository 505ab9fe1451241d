#include "torchless/error.h"

#include <cstdio>

namespace torchless {

Error& Error::reader(std::string_view r) {
  if (reader_.empty()) reader_ = r;
  return *this;
}
Error& Error::path(std::string_view p) {
  if (path_.empty()) path_ = escape(p, 1024);
  return *this;
}
Error& Error::member(std::string_view m) {
  if (member_.empty()) member_ = escape(m);
  return *this;
}
Error& Error::offset(uint64_t off) {
  if (!offset_) offset_ = off;
  return *this;
}
Error& Error::limit(std::string_view name, uint64_t value, uint64_t observed) {
  if (limit_name_.empty()) {
    limit_name_ = name;
    limit_value_ = value;
    limit_observed_ = observed;
  }
  return *this;
}

std::string Error::to_string() const {
  std::string s;
  if (!path_.empty()) s += path_ + ": ";
  if (!reader_.empty()) s += reader_ + ": ";
  if (!member_.empty()) s += "\"" + member_ + "\": ";
  s += message_;
  if (offset_) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(*offset_));
    s += std::string(" (at offset ") + buf + ")";
  }
  if (!limit_name_.empty()) {
    s += " [limit " + limit_name_ + "=" + std::to_string(limit_value_) + ", observed " +
         std::to_string(limit_observed_) + "]";
  }
  return s;
}

const char* code_name(Error::Code code) {
  switch (code) {
    case Error::Code::kIo: return "io";
    case Error::Code::kCorrupt: return "corrupt";
    case Error::Code::kUnsupported: return "unsupported";
    case Error::Code::kForbidden: return "forbidden";
    case Error::Code::kLimitExceeded: return "limit_exceeded";
    case Error::Code::kInvalidArgument: return "invalid_argument";
    case Error::Code::kNotFound: return "not_found";
    case Error::Code::kInternal: return "internal";
  }
  return "internal";
}

std::string escape(std::string_view bytes, size_t max_bytes) {
  std::string out;
  const size_t n = bytes.size() < max_bytes ? bytes.size() : max_bytes;
  out.reserve(n + 8);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (bytes.size() > max_bytes) out += "...";
  return out;
}

}  // namespace torchless
