#include "serve/tensor_json.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "core/half.h"

namespace torchless::serve {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool not_integer(JsonTensorError& err) {
  err.kind = JsonTensorError::kNotInteger;
  return false;
}

// Stores one JSON element as T; false (with err.kind set) when it is not acceptable.
template <class T>
bool store(element e, std::byte* at, JsonTensorError& err) {
  T v;
  const element_type type = e.type();
  if constexpr (std::is_same_v<T, bool>) {
    if (type != element_type::BOOL) {
      err.kind = JsonTensorError::kNotBool;
      return false;
    }
    v = bool(e.get_bool().value_unsafe());
  } else if constexpr (std::is_floating_point_v<T>) {
    if (type == element_type::DOUBLE)
      v = static_cast<T>(e.get_double().value_unsafe());
    else if (type == element_type::INT64)
      v = static_cast<T>(e.get_int64().value_unsafe());
    else if (type == element_type::UINT64)
      v = static_cast<T>(e.get_uint64().value_unsafe());
    else {
      err.kind = JsonTensorError::kNotNumber;
      return false;
    }
  } else {
    static_assert(std::is_integral_v<T>);
    using L = std::numeric_limits<T>;
    if (type == element_type::INT64) {
      int64_t x = e.get_int64().value_unsafe();
      if constexpr (std::is_signed_v<T>) {
        if (x < int64_t{L::min()} || x > int64_t{L::max()}) return not_integer(err);
      } else {
        if (x < 0 || static_cast<uint64_t>(x) > uint64_t{L::max()}) return not_integer(err);
      }
      v = static_cast<T>(x);
    } else if (type == element_type::UINT64) {
      uint64_t x = e.get_uint64().value_unsafe();
      if (x > uint64_t{L::max()}) return not_integer(err);
      v = static_cast<T>(x);
    } else if (type == element_type::DOUBLE) {
      // Integral doubles (1.0, 2e3) are accepted when exactly representable in T.
      double d = e.get_double().value_unsafe();
      const double lo = static_cast<double>(L::min());
      const double hi = std::is_signed_v<T> ? -lo : static_cast<double>(L::max()) + 1.0;  // 2^bits, exact
      if (!(std::floor(d) == d) || d < lo || d >= hi) return not_integer(err);
      v = static_cast<T>(d);
    } else {
      err.kind = JsonTensorError::kNotNumber;
      return false;
    }
  }
  std::memcpy(at, &v, sizeof v);
  return true;
}

bool store_half(element e, std::byte* at, JsonTensorError& err, bool bf16) {
  float f;
  if (!store<float>(e, reinterpret_cast<std::byte*>(&f), err)) return false;
  uint16_t h = bf16 ? bf16_round(f) : half_from_float(f);
  std::memcpy(at, &h, 2);
  return true;
}

using StoreFn = bool (*)(element, std::byte*, JsonTensorError&);

StoreFn store_for(DType t) {
  switch (t) {
    case DType::kFloat32: return store<float>;
    case DType::kFloat64: return store<double>;
    case DType::kFloat16: return [](element e, std::byte* at, JsonTensorError& err) { return store_half(e, at, err, false); };
    case DType::kBFloat16: return [](element e, std::byte* at, JsonTensorError& err) { return store_half(e, at, err, true); };
    case DType::kInt8: return store<int8_t>;
    case DType::kUInt8: return store<uint8_t>;
    case DType::kInt16: return store<int16_t>;
    case DType::kUInt16: return store<uint16_t>;
    case DType::kInt32: return store<int32_t>;
    case DType::kUInt32: return store<uint32_t>;
    case DType::kInt64: return store<int64_t>;
    case DType::kUInt64: return store<uint64_t>;
    case DType::kBool: return store<bool>;
    default: return nullptr;
  }
}

struct Filler {
  StoreFn fn;
  size_t esize;
  std::span<const int64_t> shape;
  std::byte* out;
  size_t written = 0;
  JsonTensorError& err;

  // Nested: `a` is at depth `d` and must hold shape[d] items.
  bool nested(simdjson::dom::array a, size_t d) {
    if (static_cast<int64_t>(a.size()) != shape[d]) return shape_error(d);
    int64_t i = 0;
    for (element e : a) {
      err.path.push_back(i++);
      if (d + 1 < shape.size()) {
        if (e.type() != element_type::ARRAY) return shape_error(d);
        if (!nested(e.get_array().value_unsafe(), d + 1)) return false;
      } else {
        if (e.type() == element_type::ARRAY) return shape_error(d);
        if (!fn(e, out + written * esize, err)) return type_error();
        ++written;
      }
      err.path.pop_back();
    }
    return true;
  }

  bool shape_error(size_t) {
    err.kind = JsonTensorError::kShape;
    err.path.clear();
    return false;
  }
  bool type_error() {
    err.message = err.kind == JsonTensorError::kNotNumber    ? "value is not a valid number"
                  : err.kind == JsonTensorError::kNotInteger ? "value is not a valid integer"
                                                             : "value is not a valid boolean";
    return false;
  }
};

}  // namespace

std::vector<int64_t> nested_shape(element e) {
  std::vector<int64_t> shape;
  while (e.type() == element_type::ARRAY) {
    auto a = e.get_array().value_unsafe();
    shape.push_back(static_cast<int64_t>(a.size()));
    if (a.size() == 0) break;
    e = a.at(0).value_unsafe();
  }
  return shape;
}

std::string shape_string(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

bool fill_tensor(simdjson::dom::array data, DType dtype, std::span<const int64_t> shape, std::byte* out,
                 JsonTensorError& err) {
  StoreFn fn = store_for(dtype);
  if (!fn) {
    err.kind = JsonTensorError::kShape;
    err.message = "datatype not supported in JSON";
    return false;
  }
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  Filler f{fn, dtype_size(dtype), shape, out, 0, err};
  bool flat = data.size() == 0 || data.at(0).value_unsafe().type() != element_type::ARRAY;
  if (flat && shape.size() != 1) {
    // Flat data for a tensor of any rank: exactly numel elements.
    if (static_cast<int64_t>(data.size()) != numel) return f.shape_error(0);
    std::array<int64_t, 1> flat_shape{numel};
    f.shape = flat_shape;
    return f.nested(data, 0);
  }
  if (shape.empty()) return f.shape_error(0);
  return f.nested(data, 0);
}

Result<Tensor> make_tensor(DType dtype, std::vector<int64_t> shape) {
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  // Uninitialised: every element is written by the parser before use.
  const size_t bytes = static_cast<size_t>(numel) * dtype_size(dtype);
  std::shared_ptr<std::byte[]> buf(new (std::nothrow) std::byte[std::max<size_t>(bytes, 1)]);
  if (!buf) return Error(Error::Code::kLimitExceeded, "out of memory for a " + std::to_string(bytes) + "-byte tensor");
  Storage s = Storage::wrap(buf.get(), bytes, buf);
  return Tensor::contiguous_over(std::move(s), dtype, std::move(shape));
}

namespace {

// Element i of a contiguous tensor as JSON.
template <class T>
void write_values(JsonWriter& w, const T* v, int64_t n, F32Style style) {
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<T, float>)
      w.number_f32(v[i], style);
    else if constexpr (std::is_same_v<T, double>)
      w.number(v[i]);
    else if constexpr (std::is_same_v<T, bool>)
      w.boolean(v[i]);
    else
      w.number(v[i]);
  }
}

void write_half_values(JsonWriter& w, const uint16_t* v, int64_t n, bool bf16) {
  for (int64_t i = 0; i < n; ++i) w.number(static_cast<double>(bf16 ? bf16_to_float(v[i]) : half_to_float(v[i])));
}

void write_run(JsonWriter& w, const std::byte* p, DType t, int64_t n, F32Style style) {
  switch (t) {
    case DType::kFloat32: return write_values(w, reinterpret_cast<const float*>(p), n, style);
    case DType::kFloat64: return write_values(w, reinterpret_cast<const double*>(p), n, style);
    case DType::kFloat16: return write_half_values(w, reinterpret_cast<const uint16_t*>(p), n, false);
    case DType::kBFloat16: return write_half_values(w, reinterpret_cast<const uint16_t*>(p), n, true);
    case DType::kInt8: return write_values(w, reinterpret_cast<const int8_t*>(p), n, style);
    case DType::kUInt8: return write_values(w, reinterpret_cast<const uint8_t*>(p), n, style);
    case DType::kInt16: return write_values(w, reinterpret_cast<const int16_t*>(p), n, style);
    case DType::kUInt16: return write_values(w, reinterpret_cast<const uint16_t*>(p), n, style);
    case DType::kInt32: return write_values(w, reinterpret_cast<const int32_t*>(p), n, style);
    case DType::kUInt32: return write_values(w, reinterpret_cast<const uint32_t*>(p), n, style);
    case DType::kInt64: return write_values(w, reinterpret_cast<const int64_t*>(p), n, style);
    case DType::kUInt64: return write_values(w, reinterpret_cast<const uint64_t*>(p), n, style);
    case DType::kBool: return write_values(w, reinterpret_cast<const bool*>(p), n, style);
    default:
      for (int64_t i = 0; i < n; ++i) w.null();
  }
}

// Dimension d of a nested write: rows of the innermost dimension are written in one run.
void write_nested(JsonWriter& w, const std::byte*& p, DType t, std::span<const int64_t> shape, size_t d, F32Style style) {
  w.begin_array();
  if (d + 1 == shape.size()) {
    write_run(w, p, t, shape[d], style);
    p += static_cast<size_t>(shape[d]) * dtype_size(t);
  } else {
    for (int64_t i = 0; i < shape[d]; ++i) write_nested(w, p, t, shape, d + 1, style);
  }
  w.end_array();
}

}  // namespace

void write_tensor_json(JsonWriter& w, const Tensor& t, bool nested, F32Style style) {
  Tensor c = t;
  if (!t.is_contiguous()) {
    auto r = t.contiguous();
    if (!r) {
      w.null();
      return;
    }
    c = std::move(r).value();
  }
  const std::byte* p = c.data();
  if (!nested) {
    w.begin_array();
    write_run(w, p, c.dtype(), c.numel(), style);
    w.end_array();
  } else if (c.ndim() == 0) {
    write_run(w, p, c.dtype(), 1, style);
  } else {
    write_nested(w, p, c.dtype(), c.shape(), 0, style);
  }
}

std::optional<std::string> widen_big_integers(std::string_view json) {
  std::string out;
  bool changed = false, in_string = false;
  size_t copied = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (!(c == '-' || (c >= '0' && c <= '9'))) continue;
    size_t end = i + (c == '-');
    while (end < json.size() && json[end] >= '0' && json[end] <= '9') ++end;
    const bool is_float = end < json.size() && (json[end] == '.' || json[end] == 'e' || json[end] == 'E');
    // Beyond int64 for negatives, uint64 otherwise (the ranges simdjson reads).
    const std::string_view digits = json.substr(i + (c == '-'), end - i - (c == '-'));
    const std::string_view limit = c == '-' ? "9223372036854775808" : "18446744073709551615";
    const bool too_big = digits.size() > limit.size() || (digits.size() == limit.size() && digits > limit);
    if (!is_float && too_big) {
      out.append(json.substr(copied, end - copied));
      out += ".0";
      copied = end;
      changed = true;
    }
    i = end - 1;
  }
  if (!changed) return std::nullopt;
  out.append(json.substr(copied));
  return out;
}

simdjson::dom::parser& thread_parser(size_t max_depth) {
  thread_local std::unique_ptr<simdjson::dom::parser> parser;
  thread_local size_t depth = 0;
  if (!parser || depth != max_depth) {
    parser = std::make_unique<simdjson::dom::parser>();
    auto ignored = parser->allocate(64 << 10, max_depth);  // on failure, parse() reports MEMALLOC
    (void)ignored;
    depth = max_depth;
  }
  return *parser;
}

}  // namespace torchless::serve
