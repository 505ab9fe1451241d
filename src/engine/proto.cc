// See proto.h.
#include "engine/proto.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <google/protobuf/io/coded_stream.h>
#include <cerrno>
#include <climits>
#include <cstring>
#include <set>

#include "core/check.h"

namespace torchless::engine {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// Wire-level walk of the whole file: varints, lengths, groups and field numbers
// are checked with file offsets, and sub-message nesting (known message fields
// and groups) is capped.
void check_wire(const uint8_t* data, uint64_t size) {
  struct Frame {
    const Descriptor* type;  // null inside unknown groups
    uint64_t end;
    uint64_t group_field;  // 0: a length-delimited message
  };
  std::vector<Frame> stack{{onnx::ModelProto::descriptor(), size, 0}};
  uint64_t p = 0;
  auto varint = [&](uint64_t end) {
    const uint64_t start = p;
    uint64_t v = 0;
    for (int i = 0; i < 10; ++i) {
      if (p >= end) corrupt_at("truncated varint", start);
      const uint8_t c = data[p++];
      v |= uint64_t{c & 0x7fu} << (7 * i);
      if (!(c & 0x80)) return v;
    }
    corrupt_at("varint longer than 10 bytes", start);
  };
  auto push = [&](const Descriptor* type, uint64_t end, uint64_t group_field) {
    if (stack.size() > kMaxNesting)
      over_limit("onnx.max_nesting", kMaxNesting, stack.size(), "ONNX messages nested too deeply");
    stack.push_back({type, end, group_field});
  };
  while (!stack.empty()) {
    const Frame f = stack.back();
    if (p == f.end) {
      if (f.group_field) corrupt_at("group without an end marker", p);
      stack.pop_back();
      continue;
    }
    const uint64_t at = p;
    const uint64_t tag = varint(f.end);
    const uint64_t field = tag >> 3;
    if (field == 0 || field > 536870911) corrupt_at("invalid protobuf field number", at);
    switch (tag & 7) {
      case 0:
        varint(f.end);
        break;
      case 1:
      case 5: {
        const uint64_t n = (tag & 7) == 1 ? 8 : 4;
        if (!in_range(p, n, f.end)) corrupt_at("truncated fixed-width field", at);
        p += n;
        break;
      }
      case 2: {
        const uint64_t len = varint(f.end);
        if (!in_range(p, len, f.end)) corrupt_at("length-delimited field longer than the remaining bytes", at);
        const FieldDescriptor* fd = f.type ? f.type->FindFieldByNumber(static_cast<int>(field)) : nullptr;
        if (fd && fd->type() == FieldDescriptor::TYPE_MESSAGE)
          push(fd->message_type(), p + len, 0);
        else
          p += len;
        break;
      }
      case 3:
        push(nullptr, f.end, field);
        break;
      case 4:
        if (f.group_field != field) corrupt_at("unmatched protobuf end-group", at);
        stack.pop_back();
        break;
      default:
        corrupt_at("invalid protobuf wire type", at);
    }
  }
}

struct OnnxType {
  int code;
  DType dtype;
};
constexpr OnnxType kTypes[] = {
    {1, DType::kFloat32},
    {2, DType::kUInt8},
    {3, DType::kInt8},
    {4, DType::kUInt16},
    {5, DType::kInt16},
    {6, DType::kInt32},
    {7, DType::kInt64},
    {9, DType::kBool},
    {10, DType::kFloat16},
    {11, DType::kFloat64},
    {12, DType::kUInt32},
    {13, DType::kUInt64},
    {14, DType::kComplex64},
    {15, DType::kComplex128},
    {16, DType::kBFloat16},
    {17, DType::kFloat8E4M3FN},
    {18, DType::kFloat8E4M3FNUZ},
    {19, DType::kFloat8E5M2},
    {20, DType::kFloat8E5M2FNUZ},
};

}  // namespace

DType onnx_dtype(int code) {
  if (code == onnx::TensorProto::UNDEFINED) corrupt("initializer has no data type");
  if (code == onnx::TensorProto::STRING) fail(Error::Code::kUnsupported, "string tensors are not weights");
  for (const OnnxType& t : kTypes)
    if (t.code == code) return t.dtype;
  fail(Error::Code::kUnsupported, "ONNX data type " + std::to_string(code) + " is not supported");
}

namespace {

// Bytes owned by a string, aligned for `align` (copied otherwise).
Storage string_storage(std::shared_ptr<std::string> s, size_t align) {
  if (reinterpret_cast<uintptr_t>(s->data()) % align == 0)
    return Storage::wrap(reinterpret_cast<const std::byte*>(s->data()), s->size(),
                         std::shared_ptr<const void>(s, s->data()));
  Storage copy = unwrap(Storage::allocate(s->size()));
  std::memcpy(copy.mutable_data(), s->data(), s->size());
  return copy;
}

// One typed repeated field into `out` (count already checked), refusing values
// the target type cannot hold.
template <class Out, class In>
void convert(const google::protobuf::RepeatedField<In>& in, Storage& out, int64_t lo, int64_t hi) {
  auto* dst = reinterpret_cast<Out*>(out.mutable_data());
  for (int i = 0; i < in.size(); ++i) {
    const In v = in.Get(i);
    if constexpr (std::is_integral_v<In> && std::is_integral_v<Out> && sizeof(Out) < sizeof(In)) {
      if (static_cast<int64_t>(v) < lo || static_cast<int64_t>(v) > hi)
        corrupt("typed value " + std::to_string(v) + " does not fit the data type");
    }
    dst[i] = static_cast<Out>(v);
  }
}

// The decimal text of an external_data offset/length.
uint64_t parse_decimal(const std::string& s, const char* what) {
  if (s.empty() || s.size() > 19) corrupt(std::string("external_data ") + what + " is not a decimal integer");
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') corrupt(std::string("external_data ") + what + " is not a decimal integer");
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// Opens `location` below `dir` without following any symlink (ONNX-03/04).
std::shared_ptr<const MappedFile> open_external(const std::string& dir, const std::string& location, bool map) {
  if (location.empty() || location[0] == '/' || location.find_first_of(std::string("\\:\0", 3)) != std::string::npos)
    fail(Error::Code::kForbidden, "external data location '" + escape(location) + "' is not a relative path");
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t slash = location.find('/', start);
    parts.push_back(location.substr(start, slash - start));
    if (parts.back().empty() || parts.back() == "." || parts.back() == "..")
      fail(Error::Code::kForbidden, "external data location '" + escape(location) + "' leaves the model directory");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  FdCloser cur{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (cur.fd < 0) fail(Error::Code::kIo, "cannot open the model directory: " + std::string(std::strerror(errno)));
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    const int fd =
        ::openat(cur.fd, parts[i].c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? O_NONBLOCK : O_DIRECTORY));
    if (fd < 0) {
      const int err = errno;
      if (err == ELOOP || err == ENOTDIR)
        fail(Error::Code::kForbidden, "external data location '" + escape(location) + "' passes through a symlink");
      corrupt("cannot open external data '" + escape(location) + "': " + std::strerror(err));
    }
    ::close(cur.fd);
    cur.fd = fd;
  }
  struct stat st {};
  if (::fstat(cur.fd, &st) != 0) fail(Error::Code::kIo, std::string("fstat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    fail(Error::Code::kForbidden, "external data '" + escape(location) + "' is not a regular file");
  if (st.st_nlink != 1) fail(Error::Code::kForbidden, "external data '" + escape(location) + "' has other hard links");
  return unwrap(MappedFile::open("/proc/self/fd/" + std::to_string(cur.fd), map));
}

}  // namespace

TensorDecoder::TensorDecoder(const std::string& model_path, Limits limits) : limits_(limits) {
  if (model_path.empty()) return;
  const size_t slash = model_path.find_last_of('/');
  dir_ = slash == std::string::npos ? "." : slash == 0 ? "/" : model_path.substr(0, slash);
}

Tensor TensorDecoder::read(onnx::TensorProto& t) {
  const Limits& limits = limits_;
  const DType dtype = onnx_dtype(t.data_type());
  check_limit("tensor.max_ndim", limits.max_ndim, static_cast<uint64_t>(t.dims_size()), "too many dimensions");
  std::vector<int64_t> shape;
  uint64_t numel = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) corrupt("negative dimension " + std::to_string(d));
    numel = mul_u64(numel, static_cast<uint64_t>(d), "initializer element count");
    shape.push_back(d);
  }
  if (numel > static_cast<uint64_t>(INT64_MAX)) corrupt("initializer element count overflows int64");
  check_limit("tensor.max_numel", limits.max_numel, numel, "initializer has too many elements");
  if (t.has_segment()) fail(Error::Code::kUnsupported, "segmented tensors are not supported");
  const size_t es = dtype_size(dtype);
  const uint64_t nbytes = mul_u64(numel, es, "initializer byte size");
  const size_t align = std::min<size_t>(es, 8);

  const int typed = (t.float_data_size() > 0) + (t.int32_data_size() > 0) + (t.string_data_size() > 0) +
                    (t.int64_data_size() > 0) + (t.double_data_size() > 0) + (t.uint64_data_size() > 0);
  const int sources = typed + t.has_raw_data();
  const bool external = t.data_location() == onnx::TensorProto::EXTERNAL;
  if (!external && t.external_data_size() > 0) corrupt("external_data given but data_location is not EXTERNAL");
  if (external && sources > 0) corrupt("external data and inline data at once");
  if (sources > 1) corrupt("more than one of raw_data and the typed data fields is set");

  Storage s;
  if (external) {
    s = external_storage(t, nbytes, align);
  } else if (t.has_raw_data()) {
    if (t.raw_data().size() != nbytes)
      corrupt("raw_data holds " + std::to_string(t.raw_data().size()) + " bytes, dims and type need " +
              std::to_string(nbytes));
    s = string_storage(std::shared_ptr<std::string>(t.release_raw_data()), align);
  } else if (typed) {
    s = typed_storage(t, dtype, numel, nbytes);
  } else if (numel != 0) {
    corrupt("initializer has no data");
  }
  return unwrap(Tensor::contiguous_over(std::move(s), dtype, std::move(shape)));
}

Storage TensorDecoder::typed_storage(const onnx::TensorProto& t, DType dtype, uint64_t numel, uint64_t nbytes) {
  using TP = onnx::TensorProto;
  const int code = t.data_type();
  const uint64_t per = dtype_is_complex(dtype) ? 2 : 1;
  auto count = [&](int n, const char* field, bool right) {
    if (!right) corrupt(std::string(field) + " does not hold data type " + std::to_string(code));
    if (static_cast<uint64_t>(n) != numel * per)
      corrupt(std::string(field) + " holds " + std::to_string(n) + " values, dims need " + std::to_string(numel * per));
  };
  Storage s = unwrap(Storage::allocate(nbytes));
  if (t.float_data_size()) {
    count(t.float_data_size(), "float_data", code == TP::FLOAT || code == TP::COMPLEX64);
    convert<float>(t.float_data(), s, 0, 0);
  } else if (t.double_data_size()) {
    count(t.double_data_size(), "double_data", code == TP::DOUBLE || code == TP::COMPLEX128);
    convert<double>(t.double_data(), s, 0, 0);
  } else if (t.int64_data_size()) {
    count(t.int64_data_size(), "int64_data", code == TP::INT64);
    convert<int64_t>(t.int64_data(), s, 0, 0);
  } else if (t.uint64_data_size()) {
    count(t.uint64_data_size(), "uint64_data", code == TP::UINT64 || code == TP::UINT32);
    if (code == TP::UINT32)
      convert<uint32_t>(t.uint64_data(), s, 0, UINT32_MAX);
    else
      convert<uint64_t>(t.uint64_data(), s, 0, 0);
  } else if (t.int32_data_size()) {
    const bool ok = code != TP::FLOAT && code != TP::DOUBLE && code != TP::INT64 && code != TP::UINT32 &&
                    code != TP::UINT64 && code != TP::COMPLEX64 && code != TP::COMPLEX128;
    count(t.int32_data_size(), "int32_data", ok);
    switch (dtype) {
      case DType::kInt32:
        convert<int32_t>(t.int32_data(), s, 0, 0);
        break;
      case DType::kInt16:
        convert<int16_t>(t.int32_data(), s, INT16_MIN, INT16_MAX);
        break;
      case DType::kInt8:
        convert<int8_t>(t.int32_data(), s, INT8_MIN, INT8_MAX);
        break;
      case DType::kBool:
        convert<uint8_t>(t.int32_data(), s, 0, 1);
        break;
      case DType::kUInt16:
      case DType::kFloat16:
      case DType::kBFloat16:  // 16-bit patterns
        convert<uint16_t>(t.int32_data(), s, 0, UINT16_MAX);
        break;
      default:
        convert<uint8_t>(t.int32_data(), s, 0, UINT8_MAX);
        break;  // uint8, float8 bits
    }
  } else {
    fail(Error::Code::kUnsupported, "string_data tensors are not weights");
  }
  return s;
}

Storage TensorDecoder::external_storage(const onnx::TensorProto& t, uint64_t nbytes, size_t align) {
  const std::string* location = nullptr;
  const std::string *offset_text = nullptr, *length_text = nullptr;
  std::set<std::string> seen;
  for (const auto& kv : t.external_data()) {
    if (!seen.insert(kv.key()).second) corrupt("external_data key '" + escape(kv.key()) + "' given twice");
    if (kv.key() == "location")
      location = &kv.value();
    else if (kv.key() == "offset")
      offset_text = &kv.value();
    else if (kv.key() == "length")
      length_text = &kv.value();
    else if (kv.key() != "checksum")
      corrupt("unknown external_data key '" + escape(kv.key()) + "'");
  }
  if (!location) corrupt("external data without a location");
  if (dir_.empty()) fail(Error::Code::kForbidden, "a model given as bytes cannot use external data");
  const uint64_t offset = offset_text ? parse_decimal(*offset_text, "offset") : 0;
  const uint64_t length = length_text ? parse_decimal(*length_text, "length") : nbytes;
  if (length != nbytes)
    corrupt("external data length " + std::to_string(length) + " but dims and type need " + std::to_string(nbytes));
  auto it = external_.find(*location);
  if (it == external_.end()) it = external_.emplace(*location, open_external(dir_, *location, limits_.map)).first;
  const auto& ext = it->second;
  if (!in_range(offset, length, ext->size()))
    corrupt("external data range [" + std::to_string(offset) + ", +" + std::to_string(length) +
            ") is past the end of '" + escape(*location) + "'");
  return MappedFile::storage(ext, offset, length).aligned(align);
}

std::optional<DType> onnx_dtype_if(int code) {
  for (const OnnxType& t : kTypes)
    if (t.code == code) return t.dtype;
  return std::nullopt;
}

std::unique_ptr<onnx::ModelProto> parse_model(const uint8_t* data, uint64_t size, uint64_t max_bytes) {
  check_limit("onnx.max_model_bytes", max_bytes, size, "ONNX model too large");
  if (size > static_cast<uint64_t>(INT_MAX))
    over_limit("onnx.max_model_bytes", INT_MAX, size, "ONNX model larger than protobuf's 2 GiB message ceiling");
  check_wire(data, size);
  auto model = std::make_unique<onnx::ModelProto>();
  google::protobuf::io::CodedInputStream in(data, static_cast<int>(size));
  in.SetTotalBytesLimit(static_cast<int>(size));
  in.SetRecursionLimit(static_cast<int>(kMaxNesting) + 1);  // check_wire already capped nesting
  if (!model->ParseFromCodedStream(&in) || !in.ConsumedEntireMessage()) corrupt("not a valid ONNX ModelProto");
  return model;
}

}  // namespace torchless::engine
