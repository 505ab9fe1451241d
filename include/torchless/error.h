// torchless/error.h — the one error type of the library and the Result<T> that carries it.
//
// Every public function that can fail returns Result<T> (or Status = Result<void>); no
// exception crosses the public API. An Error has a stable code (DESIGN.md "Errors") and a
// message with context: the reader that refused, the file, the zip member / tensor name, the
// absolute byte offset, and for limits the limit's name, its value and what was observed.
// Strings copied from a file into an Error are escaped and truncated (see escape()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace torchless {

class Error {
 public:
  enum class Code {
    kIo,               // the operating system refused (open, read, write, mmap)
    kCorrupt,          // the input contradicts its own format or itself
    kUnsupported,      // well-formed, but uses a feature torchless does not implement
    kForbidden,        // honouring the input would run code or leave the allowed root
    kLimitExceeded,    // a configured resource limit would be crossed
    kInvalidArgument,  // the caller asked for something impossible
    kNotFound,         // a named file, key or tensor does not exist
    kInternal,         // a bug in torchless
  };

  Error(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Context, filled in as the error travels outwards. Each setter keeps an existing value:
  // the innermost (most precise) context wins.
  Error& reader(std::string_view r);
  Error& path(std::string_view p);
  Error& member(std::string_view m);   // zip member, shard or tensor name (escaped on entry)
  Error& offset(uint64_t off);         // absolute byte offset in the file
  Error& limit(std::string_view name, uint64_t value, uint64_t observed);

  const std::string& reader() const { return reader_; }
  const std::string& path() const { return path_; }
  const std::string& member() const { return member_; }
  std::optional<uint64_t> offset() const { return offset_; }
  const std::string& limit_name() const { return limit_name_; }

  // "zip: member "archive/data/3": <message> (at 0x1f2a) [limit zip.max_entries=...]"
  std::string to_string() const;

 private:
  Code code_;
  std::string message_;
  std::string reader_, path_, member_, limit_name_;
  std::optional<uint64_t> offset_;
  uint64_t limit_value_ = 0, limit_observed_ = 0;
};

// "corrupt", "limit_exceeded", ... as printed by the CLI and sent by the server.
const char* code_name(Error::Code code);

// Makes bytes from a file safe to show: printable ASCII kept, everything else as \xNN,
// cut to max_bytes of input with "..." appended.
std::string escape(std::string_view bytes, size_t max_bytes = 256);

// Result<T>: a T or an Error. Result<void> (Status) is success or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}
  bool ok() const { return !e_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return *e_; }
  Error&& error() && { return std::move(*e_); }

 private:
  std::optional<Error> e_;
};
using Status = Result<void>;

}  // namespace torchless
