// Internal helpers for readers: throwing refusals, checked arithmetic, and the boundary that
// turns them back into Result. Readers throw Error (never anything else on purpose); every
// public entry point runs its body through guard(), so no exception crosses the public API.
#pragma once

#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "torchless/error.h"

namespace torchless {

[[noreturn]] inline void fail(Error e) { throw std::move(e); }
[[noreturn]] inline void fail(Error::Code code, std::string message) {
  throw Error(code, std::move(message));
}
[[noreturn]] inline void corrupt(std::string message) { fail(Error::Code::kCorrupt, std::move(message)); }
[[noreturn]] inline void corrupt_at(std::string message, uint64_t off) {
  fail(Error(Error::Code::kCorrupt, std::move(message)).offset(off));
}
// A limit refusal that names the limit, its configured value and what the input asked for.
[[noreturn]] inline void over_limit(const char* name, uint64_t value, uint64_t observed,
                                    std::string what) {
  fail(Error(Error::Code::kLimitExceeded, std::move(what)).limit(name, value, observed));
}
inline void check_limit(const char* name, uint64_t value, uint64_t observed, const char* what) {
  if (observed > value) over_limit(name, value, observed, what);
}

// Overflow-checked arithmetic (G-1): an overflow is kCorrupt.
inline uint64_t add_u64(uint64_t a, uint64_t b, const char* what = "size") {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) corrupt(std::string(what) + " overflows 64 bits");
  return r;
}
inline uint64_t mul_u64(uint64_t a, uint64_t b, const char* what = "size") {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) corrupt(std::string(what) + " overflows 64 bits");
  return r;
}
inline int64_t add_i64(int64_t a, int64_t b, const char* what = "size") {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) corrupt(std::string(what) + " overflows 64 bits");
  return r;
}
inline int64_t mul_i64(int64_t a, int64_t b, const char* what = "size") {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) corrupt(std::string(what) + " overflows 64 bits");
  return r;
}
// [off, off+len) inside [0, size)?
inline bool in_range(uint64_t off, uint64_t len, uint64_t size) {
  return off <= size && len <= size - off;
}

// "a, b, c, ... (12 in all)": at most `max` items of a list for a message.
inline std::string some_of(const std::vector<std::string>& items, size_t max = 8) {
  std::string s;
  for (size_t i = 0; i < items.size() && i < max; ++i) s += (i ? ", " : "") + items[i];
  if (items.size() > max) s += ", ... (" + std::to_string(items.size()) + " in all)";
  return s;
}

// Runs fn() and converts what it throws into an Error; `reader` and `path` are added as context.
template <class F>
auto guard(const char* reader, const std::string& path, F&& fn) -> Result<decltype(fn())> {
  using R = Result<decltype(fn())>;
  try {
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      return R();
    } else {
      return R(fn());
    }
  } catch (Error& e) {
    if (reader) e.reader(reader);
    if (!path.empty()) e.path(path);
    return R(std::move(e));
  } catch (const std::bad_alloc&) {
    return R(Error(Error::Code::kLimitExceeded, "out of memory").reader(reader ? reader : "").path(path));
  } catch (const std::exception& ex) {
    return R(Error(Error::Code::kInternal, std::string("unexpected exception: ") + ex.what())
                 .reader(reader ? reader : "")
                 .path(path));
  }
}

// Unwraps a Result inside throwing code.
template <class T>
T unwrap(Result<T> r) {
  if (!r) throw std::move(r).error();
  return std::move(r).value();
}
inline void unwrap(Status s) {
  if (!s) throw std::move(s).error();
}

}  // namespace torchless
