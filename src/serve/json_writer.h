// src/serve/json_writer.h — compact JSON output, byte-identical to what the FastAPI app sends:
// Python's json.dumps(x, ensure_ascii=False, allow_nan=False, separators=(",", ":")).
//
// Floats follow Python's repr (specs/serving.md 2.2): shortest round-trip digits, at least one
// digit after the point ("1.0"), exponent notation outside [1e-4, 1e16) with a signed exponent
// of at least two digits ("1e-05", "1e+16", "1.5e+300", "5e-324"), "-0.0". Python refuses
// NaN and infinities (the FastAPI app answers 500); here they are written as `null` and counted.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace torchless::serve {

// Bytes a write_float* call may write: "-1.2345678901234567e-308" is 24; 32 leaves room.
inline constexpr size_t kMaxFloatChars = 32;

// Python's repr(v) for a finite double, "null" otherwise. Writes at most kMaxFloatChars bytes
// at out and returns the end.
char* write_float_py(char* out, double v);
// A float32 as the FastAPI app prints tensor.tolist(): the float32 widened to double, then
// repr (so 0.1f prints as 0.10000000149011612, not 0.1).
inline char* write_float32_py(char* out, float v) { return write_float_py(out, double(v)); }
// The shortest digits that round-trip through float32 (0.1f prints as 0.1), laid out by the
// same rules (the OIP responses, specs/serving.md 2.3).
char* write_float32_short(char* out, float v);

// How JsonWriter prints a float32 tensor.
enum class F32Style {
  kPython,    // write_float32_py: /predict, byte-identical to FastAPI's tensor.tolist()
  kShortest,  // write_float32_short: the OIP responses
};

// Appends compact JSON to a std::string. Commas are inserted automatically: call key() before
// each member value of an object. The writer does not check the nesting (callers write
// fixed shapes); it never allocates except when the string grows. Strings are escaped as
// Python does with ensure_ascii=False (\" \\ \n \r \t \b \f, other control characters as
// \u00xx, everything else raw UTF-8); invalid UTF-8 is replaced by U+FFFD per maximal
// subpart, as Python's bytes.decode("utf-8", "replace") does.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  void key(std::string_view k);  // the key string and ':'

  void string(std::string_view s);
  void number(int64_t v);
  void number(uint64_t v);
  // Any integer type goes to the int64 or uint64 overload (no ambiguity for int, size_t, ...).
  template <class T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, int64_t> &&
             !std::is_same_v<T, uint64_t>)
  void number(T v) {
    if constexpr (std::is_signed_v<T>)
      number(int64_t(v));
    else
      number(uint64_t(v));
  }
  void number(double v);           // Python repr; non-finite -> null, counted
  void number(float v) = delete;   // say which: number_f32(v, style) or number(double(v))
  void number_f32(float v, F32Style style);
  void boolean(bool b);
  void null();
  // Already-serialised JSON (a cached fragment), written as one value.
  void raw_value(std::string_view json);

  // Flat arrays "[a,b,...]" of n values.
  void array_f32(std::span<const float> v, F32Style style);
  void array_f64(std::span<const double> v);
  // A row-major float32 tensor nested like tensor.tolist(): shape {2,3} -> [[a,b,c],[d,e,f]];
  // an empty shape writes the one scalar. The caller guarantees data holds prod(shape) values.
  void nested_f32(const float* data, std::span<const int64_t> shape, F32Style style);

  // NaN and infinities written as null so far (for torchless_nonfinite_outputs_total).
  uint64_t nonfinite() const { return nonfinite_; }
  std::string& str() { return out_; }

 private:
  void comma() {
    if (need_comma_) out_.push_back(',');
  }
  void open(char c) {
    comma();
    out_.push_back(c);
    need_comma_ = false;
  }
  void close(char c) {
    out_.push_back(c);
    need_comma_ = true;
  }
  void escaped(std::string_view s);
  const float* nested_rec(const float* p, std::span<const int64_t> shape, F32Style style);

  std::string& out_;
  bool need_comma_ = false;
  uint64_t nonfinite_ = 0;
};

// json.dumps(s, ensure_ascii=False) of a UTF-8 string, quotes included (a convenience for
// messages; JsonWriter::string is the same).
std::string json_quote(std::string_view s);

}  // namespace torchless::serve
