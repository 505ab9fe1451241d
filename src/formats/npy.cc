// NumPy .npy and .npz readers (formats.md 10, hostile-inputs NPY-01..07).
//   "\x93NUMPY" major minor | u16 (v1) or u32 (v2, v3) header length | header | data
// The header is NumPy's dict literal, read by a dedicated grammar (never evaluated):
//   '{' key ':' value (',' key ':' value)* [','] '}' spaces '\n'
// with exactly the keys 'descr', 'fortran_order', 'shape', each once, in any order; tokens are
// separated by spaces only. Data must be exactly numel x itemsize bytes. The tensor is a view
// of the file (copied when misaligned); fortran_order gives column-major strides.
// An .npz (numpy.savez / savez_compressed) is a zip of .npy members, each read the same way
// from the member's bytes: a view of the file for STORED members, inflated for DEFLATE.
#include <algorithm>
#include <string_view>

#include "core/check.h"
#include "formats/readers.h"
#include "zip/zip.h"

namespace torchless::formats {
namespace {

struct NpyDType {
  char kind;
  unsigned size;
  DType dtype;
};
constexpr NpyDType kDTypes[] = {
    {'b', 1, DType::kBool},    {'u', 1, DType::kUInt8},   {'i', 1, DType::kInt8},
    {'u', 2, DType::kUInt16},  {'i', 2, DType::kInt16},   {'u', 4, DType::kUInt32},
    {'i', 4, DType::kInt32},   {'u', 8, DType::kUInt64},  {'i', 8, DType::kInt64},
    {'f', 2, DType::kFloat16}, {'f', 4, DType::kFloat32}, {'f', 8, DType::kFloat64},
    {'c', 8, DType::kComplex64}, {'c', 16, DType::kComplex128},
};

// An owned little-endian copy of big-endian elements (complex: each component swapped).
Storage byteswapped(const Storage& in, DType dtype) {
  const size_t w = dtype_is_complex(dtype) ? dtype_size(dtype) / 2 : dtype_size(dtype);
  Storage out = unwrap(Storage::allocate(in.nbytes()));
  const std::byte* src = in.data();
  std::byte* dst = out.mutable_data();
  for (size_t i = 0; i + w <= in.nbytes(); i += w)
    for (size_t b = 0; b < w; ++b) dst[i + b] = src[i + w - 1 - b];
  return out;
}

struct Header {
  DType dtype = DType::kFloat32;
  bool fortran = false;
  bool big_endian = false;  // '>' descr: swapped into an owned buffer on read
  std::vector<int64_t> shape;
};

// Tokenizer and grammar over the header text; offsets in errors are absolute.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, uint64_t base, const Limits& limits)
      : s_(text), base_(base), limits_(limits) {}

  Header parse() {
    expect('{');
    bool seen[3] = {false, false, false};
    spaces();
    while (peek() != '}') {
      const uint64_t at = pos_;
      const std::string key = string_literal();
      int k = key == "descr" ? 0 : key == "fortran_order" ? 1 : key == "shape" ? 2 : -1;
      if (k < 0) error("unexpected key '" + escape(key) + "'", at);
      if (seen[k]) error("duplicate key '" + key + "'", at);
      seen[k] = true;
      spaces();
      expect(':');
      spaces();
      if (k == 0) descr();
      else if (k == 1) fortran();
      else shape();
      spaces();
      if (peek() != ',') break;
      ++pos_;
      spaces();
    }
    expect('}');
    for (int k = 0; k < 3; ++k)
      if (!seen[k]) error(std::string("header lacks '") + (k == 0 ? "descr" : k == 1 ? "fortran_order" : "shape") + "'", pos_);
    spaces();
    if (pos_ + 1 != s_.size() || s_[pos_] != '\n') error("header must end with spaces and one newline", pos_);
    return h_;
  }

 private:
  [[noreturn]] void error(const std::string& what, uint64_t at) { corrupt_at("npy header: " + what, base_ + at); }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void spaces() {
    while (peek() == ' ') ++pos_;
  }
  void expect(char c) {
    if (peek() != c) error(std::string("expected '") + c + "'", pos_);
    ++pos_;
  }
  // 'text' or "text" without escapes.
  std::string string_literal() {
    const char q = peek();
    if (q != '\'' && q != '"') error("expected a string", pos_);
    const size_t start = ++pos_;
    while (pos_ < s_.size() && s_[pos_] != q) {
      if (s_[pos_] == '\\' || s_[pos_] == '\n') error("unsupported character in a string", pos_);
      ++pos_;
    }
    if (pos_ >= s_.size()) error("unterminated string", start - 1);
    return std::string(s_.substr(start, pos_++ - start));
  }
  void descr() {
    const uint64_t at = pos_;
    if (peek() == '[') fail(Error(Error::Code::kUnsupported, "structured dtypes are not supported").offset(base_ + at));
    const std::string d = string_literal();
    const char order = d.empty() ? '\0' : d[0];
    const bool has_order = order == '<' || order == '>' || order == '|' || order == '=';
    const std::string_view body = std::string_view(d).substr(has_order ? 1 : 0);
    const char kind = body.empty() ? '\0' : body[0];
    if (kind == 'O') fail(Error(Error::Code::kForbidden, "object arrays hold pickles; refused").offset(base_ + at));
    if (kind && std::string_view("VUSaMm").find(kind) != std::string_view::npos)
      fail(Error(Error::Code::kUnsupported, "dtype '" + escape(d) + "' is not supported").offset(base_ + at));
    unsigned size = 0;
    bool digits = body.size() >= 2 && body.size() <= 3;
    for (size_t i = 1; digits && i < body.size(); ++i) {
      if (body[i] < '0' || body[i] > '9') digits = false;
      else size = size * 10 + static_cast<unsigned>(body[i] - '0');
    }
    const NpyDType* found = nullptr;
    for (const NpyDType& t : kDTypes)
      if (digits && t.kind == kind && t.size == size) found = &t;
    if (!found) {
      if (digits && std::string_view("biufc").find(kind) != std::string_view::npos)
        fail(Error(Error::Code::kUnsupported, "dtype '" + escape(d) + "' is not supported").offset(base_ + at));
      error("invalid dtype '" + escape(d) + "'", at);
    }
    if (size > 1) {
      h_.big_endian = order == '>';
      if (order != '<' && order != '>') error("dtype '" + escape(d) + "' does not state little-endian byte order", at);
    }  // one-byte types have no byte order: every order character means the same
    h_.dtype = found->dtype;
  }
  void fortran() {
    if (s_.substr(pos_, 4) == "True") {
      h_.fortran = true;
      pos_ += 4;
    } else if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
    } else {
      error("fortran_order must be True or False", pos_);
    }
  }
  // '(' ')' | '(' int ',' ')' | '(' int (',' int)+ [','] ')'; ints are decimal, optional 'L'.
  void shape() {
    expect('(');
    spaces();
    size_t commas = 0;
    while (peek() != ')') {
      const uint64_t at = pos_;
      if (peek() < '0' || peek() > '9') error("shape entries must be non-negative integers", pos_);
      if (peek() == '0' && pos_ + 1 < s_.size() && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9')
        error("shape entry with a leading zero", pos_);
      uint64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        v = add_u64(mul_u64(v, 10, "shape entry"), static_cast<uint64_t>(peek() - '0'), "shape entry");
        ++pos_;
      }
      if (peek() == 'L') ++pos_;
      if (v > static_cast<uint64_t>(INT64_MAX)) error("shape entry overflows int64", at);
      h_.shape.push_back(static_cast<int64_t>(v));
      check_limit("tensor.max_ndim", limits_.tensor_max_ndim, h_.shape.size(), "array has too many dimensions");
      spaces();
      if (peek() == ')') break;
      if (peek() != ',') error("unexpected character in shape", pos_);
      ++pos_;
      ++commas;
      spaces();
    }
    if (h_.shape.size() == 1 && commas == 0) error("a one-element shape needs a trailing comma", pos_);
    expect(')');
  }

  std::string_view s_;
  uint64_t base_;
  const Limits& limits_;
  size_t pos_ = 0;
  Header h_;
};

// "dir/x.npy" -> "x"; a path without a stem names the tensor "tensor".
std::string stem(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  const size_t dot = base.find_last_of('.');
  if (dot != std::string::npos && dot > 0) base.resize(dot);
  return base.empty() ? "tensor" : base;
}

// One .npy image held in `bytes`, whose first byte is at absolute offset `base` in the file
// (error offsets are absolute). The tensor views `bytes` (copied when misaligned or swapped).
Tensor parse_npy(const Storage& bytes, uint64_t base, const Limits& limits) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const uint64_t size = bytes.nbytes();
  if (size < 10) corrupt_at("shorter than the 10-byte npy preamble", base);
  if (std::string_view(reinterpret_cast<const char*>(b), 6) != "\x93NUMPY") corrupt_at("bad npy magic", base);
  const unsigned major = b[6], minor = b[7];
  if (major < 1 || major > 3 || minor != 0)
    fail(Error(Error::Code::kUnsupported, "npy version " + std::to_string(major) + "." + std::to_string(minor) +
                                              " is not supported")
             .offset(base + 6));
  uint64_t header_len, header_start;
  if (major == 1) {
    header_len = b[8] | (uint64_t{b[9]} << 8);
    header_start = 10;
  } else {
    if (size < 12) corrupt_at("shorter than the 12-byte npy preamble", base);
    header_len = b[8] | (uint64_t{b[9]} << 8) | (uint64_t{b[10]} << 16) | (uint64_t{b[11]} << 24);
    header_start = 12;
  }
  // A length past the end is a defect of this file; a real header above the budget is a limit.
  if (!in_range(header_start, header_len, size)) corrupt_at("npy header runs past the end of the data", base + 8);
  check_limit("npy.max_header_bytes", limits.npy_max_header_bytes, header_len, "npy header too large");
  const std::string_view text(reinterpret_cast<const char*>(b) + header_start, header_len);
  // v1/v2 headers are ASCII. v3 headers are UTF-8, which NumPy needs only for structured field
  // names: those dtypes are unsupported, and the grammar accepts no non-ASCII byte anywhere
  // else, so v3 lets such bytes through to it.
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c >= 0x80 && major < 3) || (c < 0x20 && c != '\n'))
      corrupt_at("npy header holds a " + std::string(c >= 0x80 ? "non-ASCII" : "control") + " byte", base + header_start + i);
  }
  const Header h = HeaderParser(text, base + header_start, limits).parse();

  uint64_t numel = 1;
  for (int64_t d : h.shape) numel = mul_u64(numel, static_cast<uint64_t>(d), "array element count");
  const size_t es = dtype_size(h.dtype);
  const uint64_t nbytes = mul_u64(numel, es, "array byte size");  // overflow is corrupt, before the limit
  check_limit("tensor.max_numel", limits.tensor_max_numel, numel, "array has too many elements");
  const uint64_t data_start = header_start + header_len;
  const uint64_t present = size - data_start;
  if (present < nbytes)
    corrupt_at("array data is " + std::to_string(present) + " bytes, expected " + std::to_string(nbytes), base + size);
  if (present > nbytes)
    corrupt_at(std::to_string(present - nbytes) + " bytes after the array data", base + data_start + nbytes);

  std::vector<int64_t> strides(h.shape.size());
  int64_t run = 1;
  for (size_t k = 0; k < h.shape.size(); ++k) {
    const size_t i = h.fortran ? k : h.shape.size() - 1 - k;
    strides[i] = run;
    run = mul_i64(run, std::max<int64_t>(h.shape[i], 1), "array extent");
  }
  Storage s = bytes.slice(data_start, nbytes);
  s = h.big_endian ? byteswapped(s, h.dtype) : s.aligned(dtype_alignment(h.dtype));
  return unwrap(Tensor::make(std::move(s), h.dtype, h.shape, std::move(strides), 0, limits.tensor_max_numel));
}

}  // namespace

ReadResult read_npy(const FilePtr& file, const LoadOptions& options) {
  Tensor t = parse_npy(MappedFile::storage(file, 0, file->size()), 0, options.limits);
  ReadResult r;
  r.file.format = Format::kNpy;
  r.file.root = Value::tensor(t);
  r.file.tensors.emplace_back(stem(file->path()), std::move(t));
  r.named = true;
  return r;
}

ReadResult read_npz(const ZipReader& zip, const LoadOptions& options) {
  ReadResult r;
  r.file.format = Format::kNpy;
  r.file.root = Value::dict();
  ValueDict& dict = r.file.root.as_dict();
  for (const ZipEntry& e : zip.entries()) {
    // numpy.load's key: the member name without ".npy" (the caller checked the suffix).
    const std::string name = e.name.substr(0, e.name.size() - 4);
    try {
      // A deflated member's offsets count from its local header into the inflated bytes.
      Tensor t = parse_npy(zip.read(e, options.verify_crc), e.method == 0 ? e.data_offset : e.local_offset,
                           options.limits);
      dict.add(name, Value::tensor(t));
      r.file.tensors.emplace_back(name, std::move(t));
    } catch (Error& err) {
      throw std::move(err.member(e.name));
    }
  }
  r.named = true;
  return r;
}

}  // namespace torchless::formats
