// The global table of the restricted unpickler and its handlers (formats.md 1.6 and 3.2,
// hostile-inputs.md PKL-01/02/04, TEN-02..08, TEN-11). Every handler is a pure function of
// already-built values: it checks argument types and ranges (kCorrupt otherwise) and returns
// data. Nothing named by a file is ever resolved outside the exact table below.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "core/check.h"
#include "pickle/machine.h"

namespace torchless {

std::optional<DType> storage_class_dtype(std::string_view module, std::string_view name) {
  // torch 2.x pickles UntypedStorage under the module that defines it (the class's __module__).
  if (module == "torch.storage" && name == "UntypedStorage") return DType::kUInt8;
  if (module != "torch" && module != "torch.cuda") return std::nullopt;
  static const std::unordered_map<std::string_view, DType> table = {
      {"FloatStorage", DType::kFloat32},        {"DoubleStorage", DType::kFloat64},
      {"HalfStorage", DType::kFloat16},         {"BFloat16Storage", DType::kBFloat16},
      {"LongStorage", DType::kInt64},           {"IntStorage", DType::kInt32},
      {"ShortStorage", DType::kInt16},          {"CharStorage", DType::kInt8},
      {"ByteStorage", DType::kUInt8},           {"BoolStorage", DType::kBool},
      {"ComplexFloatStorage", DType::kComplex64}, {"ComplexDoubleStorage", DType::kComplex128},
      {"QInt8Storage", DType::kQInt8},          {"QUInt8Storage", DType::kQUInt8},
      {"QInt32Storage", DType::kQInt32},        {"UntypedStorage", DType::kUInt8},
  };
  auto it = table.find(name);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

namespace pickle {

std::optional<Handler> find_global(std::string_view module, std::string_view name) {
  if (module == "__builtin__") module = "builtins";
  if (module == "copy_reg") module = "copyreg";
  if (module == "builtins" && name == "xrange") name = "range";
  if (module == "numpy._core.multiarray") module = "numpy.core.multiarray";
  using H = Handler;
  static const std::unordered_map<std::string_view, std::unordered_map<std::string_view, H>> table = {
      {"collections", {{"OrderedDict", H::kOrderedDict}}},
      {"builtins",
       {{"dict", H::kDict}, {"set", H::kSet}, {"frozenset", H::kFrozenSet}, {"bytes", H::kBytes},
        {"bytearray", H::kBytearray}, {"complex", H::kComplex}, {"slice", H::kSlice},
        {"range", H::kRange}, {"object", H::kObject}}},
      {"_codecs", {{"encode", H::kCodecsEncode}}},
      {"copyreg", {{"_reconstructor", H::kReconstructor}}},
      {"torch._utils",
       {{"_rebuild_tensor", H::kRebuildTensor}, {"_rebuild_tensor_v2", H::kRebuildTensorV2},
        {"_rebuild_tensor_v3", H::kRebuildTensorV3}, {"_rebuild_parameter", H::kRebuildParameter},
        {"_rebuild_parameter_with_state", H::kRebuildParameterWithState},
        {"_rebuild_device_tensor_from_cpu_tensor", H::kRebuildDeviceFromCpu},
        {"_rebuild_meta_tensor_no_storage", H::kRebuildMeta}, {"_rebuild_qtensor", H::kRebuildQTensor},
        {"_rebuild_sparse_tensor", H::kRebuildOtherKind},
        {"_rebuild_sparse_csr_tensor", H::kRebuildOtherKind},
        {"_rebuild_nested_tensor", H::kRebuildOtherKind},
        {"_rebuild_wrapper_subclass", H::kRebuildOtherKind},
        {"_rebuild_device_tensor_from_numpy", H::kRebuildOtherKind},
        {"_rebuild_xla_tensor", H::kRebuildOtherKind}, {"_rebuild_mlc_tensor", H::kRebuildOtherKind}}},
      {"torch._tensor",
       {{"_rebuild_from_type_v2", H::kRebuildFromTypeV2}, {"_rebuild_from_type", H::kRebuildFromTypeV2}}},
      {"torch", {{"Tensor", H::kTensorClass}, {"Size", H::kSize}, {"device", H::kDevice}}},
      {"torch.nn.parameter", {{"Parameter", H::kTensorClass}}},
      {"torch.serialization", {{"_get_layout", H::kGetLayout}}},
      {"torch.jit._pickle",
       {{"restore_type_tag", H::kRestoreTypeTag}, {"build_intlist", H::kBuildIntList},
        {"build_doublelist", H::kBuildDoubleList}, {"build_boollist", H::kBuildBoolList},
        {"build_tensorlist", H::kBuildTensorList}, {"build_tensor_from_id", H::kBuildTensorFromId}}},
      {"numpy.core.multiarray", {{"scalar", H::kNumpyScalar}, {"_reconstruct", H::kNumpyReconstruct}}},
      {"numpy", {{"dtype", H::kNumpyDtype}, {"ndarray", H::kNumpyNdarray}}},
  };
  if (auto m = table.find(module); m != table.end()) {
    if (auto n = m->second.find(name); n != m->second.end()) return n->second;
  }
  if (storage_class_dtype(module, name)) return H::kStorageClass;
  if (module == "torch" && dtype_from_name(name)) return H::kDType;
  return std::nullopt;
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07, min = 0x10000;
    else return false;
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

bool is_key(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNone: case Value::Kind::kBool: case Value::Kind::kInt:
    case Value::Kind::kBigInt: case Value::Kind::kFloat: case Value::Kind::kString:
    case Value::Kind::kBytes: case Value::Kind::kGlobal:
      return true;
    case Value::Kind::kTuple:
      for (const Value& i : v.items())
        if (i.is_tuple() || !is_key(i)) return false;
      return true;
    default:
      return false;
  }
}

namespace {

using Kind = Value::Kind;

bool is_class(Handler h) {
  switch (h) {
    case Handler::kOrderedDict: case Handler::kDict: case Handler::kSet: case Handler::kFrozenSet:
    case Handler::kBytes: case Handler::kBytearray: case Handler::kComplex: case Handler::kSlice:
    case Handler::kRange: case Handler::kObject: case Handler::kSize: case Handler::kDevice:
    case Handler::kNumpyDtype:
      return true;
    default:
      return false;
  }
}

bool is_tensor_rebuild(Handler h) {
  switch (h) {
    case Handler::kRebuildTensor: case Handler::kRebuildTensorV2: case Handler::kRebuildTensorV3:
    case Handler::kRebuildParameter: case Handler::kRebuildParameterWithState:
    case Handler::kRebuildDeviceFromCpu: case Handler::kRebuildMeta: case Handler::kRebuildQTensor:
    case Handler::kRebuildOtherKind:
      return true;
    default:
      return false;
  }
}

std::string qname(const Value& g) {
  return escape(g.as_global().module) + "." + escape(g.as_global().name);
}

// The qualified name of the function being applied, formatted only when a message needs it.
struct FnName {
  std::string_view module, name;
  std::string str() const { return escape(module) + "." + escape(name); }
};
std::string operator+(const FnName& f, const char* s) { return f.str() + s; }
std::string operator+(const char* s, const FnName& f) { return s + f.str(); }

void arity(const std::vector<Value>& a, size_t lo, size_t hi, const FnName& fname) {
  if (a.size() < lo || a.size() > hi)
    corrupt(fname + " takes " + std::to_string(lo) + (lo == hi ? "" : ".." + std::to_string(hi)) +
            " arguments, got " + std::to_string(a.size()));
}

int64_t want_int(const Value& v, const char* what) {
  if (!v.is_int()) corrupt(std::string(what) + " must be an int, got " + v.kind_name());
  return v.as_int();
}

// Latin-1 text -> bytes (one byte per code point; the text is valid UTF-8 already).
std::string latin1_bytes(const std::string& s, const FnName& fname) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if ((c & 0xE0) == 0xC0 && i + 1 < s.size() && c <= 0xC3) {
      out += static_cast<char>(((c & 0x1F) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3F));
      ++i;
    } else {
      corrupt(fname + ": text has a code point above U+00FF");
    }
  }
  return out;
}

bool is_latin1_name(const Value& v) {
  if (!v.is_string()) return false;
  const std::string& e = v.as_string();
  return e == "latin1" || e == "latin-1" || e == "iso-8859-1";
}

// Element bytes / flips for the {'conj': True} / {'neg': True} metadata.
template <class U>
void negate_ints(std::byte* p, size_t n) {
  for (size_t i = 0; i < n; ++i, p += sizeof(U)) {
    U u;
    std::memcpy(&u, p, sizeof u);
    u = static_cast<U>(U{0} - u);
    std::memcpy(p, &u, sizeof u);
  }
}

// A copy of t's whole storage with every element negated and/or conjugated (elementwise, so
// the view keeps its shape, strides and offset; the cost is bounded by the real bytes).
Tensor apply_metadata(const Tensor& t, bool conj, bool neg) {
  const DType dt = t.dtype();
  if (conj && !dtype_is_complex(dt)) conj = false;  // conj of a real tensor is itself
  if (!conj && !neg) return t;
  size_t comp = 0;  // float component width for sign flips; 0 = integer negation
  switch (dt) {
    case DType::kFloat16: case DType::kBFloat16: case DType::kComplex32: comp = 2; break;
    case DType::kFloat32: case DType::kComplex64: comp = 4; break;
    case DType::kFloat64: case DType::kComplex128: comp = 8; break;
    case DType::kInt8: case DType::kInt16: case DType::kInt32: case DType::kInt64: break;
    default:
      fail(Error::Code::kUnsupported, std::string("negation of a ") + std::string(dtype_name(dt)) + " tensor");
  }
  const size_t es = dtype_size(dt);
  const size_t n = t.storage().nbytes() / es;
  Storage s = unwrap(Storage::allocate(t.storage().nbytes()));
  if (t.storage().nbytes()) std::memcpy(s.mutable_data(), t.storage().data(), t.storage().nbytes());
  std::byte* p = s.mutable_data();
  if (comp == 0) {
    switch (es) {
      case 1: negate_ints<uint8_t>(p, n); break;
      case 2: negate_ints<uint16_t>(p, n); break;
      case 4: negate_ints<uint32_t>(p, n); break;
      default: negate_ints<uint64_t>(p, n); break;
    }
  } else {
    const bool complex = dtype_is_complex(dt);
    for (size_t i = 0; i < n; ++i, p += es) {
      // Little-endian: the sign bit is the top bit of each component's last byte.
      const bool flip_re = neg, flip_im = complex && (neg != conj);
      if (flip_re) p[comp - 1] ^= std::byte{0x80};
      if (flip_im) p[2 * comp - 1] ^= std::byte{0x80};
    }
  }
  return unwrap(Tensor::make(std::move(s), dt, t.shape(), t.strides(), t.storage_offset()));
}

double half_to_double(uint16_t h) {
  const int e = (h >> 10) & 0x1F, m = h & 0x3FF;
  double v = e == 0 ? std::ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : std::ldexp(m + 1024, e - 25);
  return (h & 0x8000) ? -v : v;
}

// "f8" / "<" of a numpy dtype object made by the VM (args[0] and the BUILD state's [1]).
struct NpType {
  char kind = 0;
  size_t size = 0;
  char order = '|';
};
NpType np_type(const ValueObject& o) {
  NpType t;
  if (o.args.empty() || !o.args[0].is_string()) return t;
  const std::string& s = o.args[0].as_string();
  if (s.size() < 2 || s.size() > 3) return t;
  size_t size = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return t;
    size = size * 10 + static_cast<size_t>(s[i] - '0');
  }
  t.kind = s[0];
  t.size = size;
  for (const Value& st : o.state)
    if (st.is_tuple() && st.items().size() > 1 && st.items()[1].is_string() &&
        st.items()[1].as_string().size() == 1)
      t.order = st.items()[1].as_string()[0];
  return t;
}
std::optional<DType> np_dtype(const NpType& t) {
  switch (t.kind) {
    case 'f': return t.size == 2 ? DType::kFloat16 : t.size == 4 ? DType::kFloat32 : t.size == 8 ? DType::kFloat64 : std::optional<DType>();
    case 'i': return t.size == 1 ? DType::kInt8 : t.size == 2 ? DType::kInt16 : t.size == 4 ? DType::kInt32 : t.size == 8 ? DType::kInt64 : std::optional<DType>();
    case 'u': return t.size == 1 ? DType::kUInt8 : t.size == 2 ? DType::kUInt16 : t.size == 4 ? DType::kUInt32 : t.size == 8 ? DType::kUInt64 : std::optional<DType>();
    case 'b': return t.size == 1 ? DType::kBool : std::optional<DType>();
    case 'c': return t.size == 8 ? DType::kComplex64 : t.size == 16 ? DType::kComplex128 : std::optional<DType>();
    default: return std::nullopt;
  }
}

// sizes (or strides) of a tensor: a tuple of ints within tensor.max_ndim.
std::vector<int64_t> int_tuple(const Value& v, const Limits& lim, const char* what) {
  if (!v.is_tuple()) corrupt(std::string(what) + " must be a tuple of ints, got " + v.kind_name());
  const auto& it = v.items();
  if (it.size() > lim.tensor_max_ndim)
    over_limit("tensor.max_ndim", lim.tensor_max_ndim, it.size(), "tensor has too many dimensions");
  std::vector<int64_t> out;
  out.reserve(it.size());
  for (const Value& x : it) out.push_back(want_int(x, what));
  return out;
}

void check_numel(const std::vector<int64_t>& shape, const Limits& lim) {
  int64_t numel = 1;
  for (int64_t s : shape) {
    if (s < 0) corrupt("negative tensor size");
    numel = mul_i64(numel, s, "tensor element count");
  }
  if (static_cast<uint64_t>(numel) > lim.tensor_max_numel)
    over_limit("tensor.max_numel", lim.tensor_max_numel, static_cast<uint64_t>(numel),
               "tensor has too many elements");
}

}  // namespace

Machine::~Machine() { release({}); }

void Machine::release(const std::unordered_map<const void*, uint32_t>& keep) {
  for (Value& v : registry_) {
    if (keep.count(v.node())) continue;
    switch (v.kind()) {
      case Kind::kList: v.items().clear(); break;
      case Kind::kDict: v.as_dict().items.clear(); v.as_dict().attributes.clear(); break;
      case Kind::kObject: {
        ValueObject& o = v.as_object();
        o.args.clear(), o.state.clear(), o.appended.clear(), o.set_items.clear();
        break;
      }
      default: break;
    }
  }
  registry_.clear();
}

void Machine::mark(const Value& v, Tag tag, uint32_t aux) {
  specials_[v.node()] = Special{tag, aux};
  special_values_.push_back(v);
}

const StorageRef* Machine::storage_of(const Value& v) const {
  if (!v.is_object()) return nullptr;
  const Special* s = special(v);
  return s && s->tag == Tag::kStorage ? &storages_[s->aux] : nullptr;
}

Value Machine::make_storage(StorageRef ref) {
  Value v = Value::object("torch", "TypedStorage");
  storages_.push_back(std::move(ref));
  mark(v, Tag::kStorage, static_cast<uint32_t>(storages_.size() - 1));
  return v;
}

Tensor Machine::make_tensor(const Value& storage, const Value& offset, const Value& size,
                            const Value& stride, std::optional<DType> dtype) {
  const StorageRef* s = storage_of(storage);
  if (!s) corrupt(std::string("tensor storage must come from a persistent id, got ") + storage.kind_name());
  const int64_t off = want_int(offset, "storage offset");
  std::vector<int64_t> shape = int_tuple(size, opt.limits, "size");
  std::vector<int64_t> strides = int_tuple(stride, opt.limits, "stride");
  if (shape.size() != strides.size())
    corrupt("tensor has " + std::to_string(shape.size()) + " sizes but " +
            std::to_string(strides.size()) + " strides");
  check_numel(shape, opt.limits);
  DType dt = s->dtype;
  if (dtype) {
    if (s->dtype != DType::kUInt8 && s->dtype != *dtype)
      corrupt("dtype " + std::string(dtype_name(*dtype)) + " over a " +
              std::string(dtype_name(s->dtype)) + " storage");
    dt = *dtype;
  }
  if (dt == DType::kQInt8 || dt == DType::kQUInt8 || dt == DType::kQInt32)
    fail(Error::Code::kUnsupported, "quantized storage " + std::string(dtype_name(dt)));
  return unwrap(Tensor::make(s->storage, dt, std::move(shape), std::move(strides), off,
                             opt.limits.tensor_max_numel));
}

void Machine::check_hooks(const Value& requires_grad, const Value& hooks, const char* fname) {
  if (!requires_grad.is_bool())
    corrupt(std::string(fname) + ": requires_grad must be a bool, got " + requires_grad.kind_name());
  if (hooks.is_none()) return;
  if (!hooks.is_dict()) corrupt(std::string(fname) + ": backward_hooks must be a dict, got " + hooks.kind_name());
  if (hooks.as_dict().items.empty()) return;
  if (!opaque()) fail(Error::Code::kForbidden, std::string(fname) + ": tensor has backward hooks");
  warn("tensor backward hooks ignored");
}

Value Machine::rebuild_tensor(Handler h, const std::vector<Value>& a, const char* fname) {
  const FnName f{"torch._utils", fname};
  switch (h) {
    case Handler::kRebuildTensor:
      arity(a, 4, 4, f);
      return Value::tensor(make_tensor(a[0], a[1], a[2], a[3], std::nullopt));
    case Handler::kRebuildTensorV2:
    case Handler::kRebuildTensorV3: {
      const bool v3 = h == Handler::kRebuildTensorV3;
      arity(a, v3 ? 7 : 6, v3 ? 8 : 7, f);
      std::optional<DType> dt;
      if (v3) {
        const Special* s = a[6].kind() == Kind::kGlobal ? special(a[6]) : nullptr;
        if (!s || s->tag != Tag::kKnown || static_cast<Handler>(s->aux) != Handler::kDType)
          corrupt(f + ": dtype argument must be a torch dtype, got " + a[6].kind_name());
        dt = dtype_from_name(a[6].as_global().name);
      }
      Tensor t = make_tensor(a[0], a[1], a[2], a[3], dt);
      check_hooks(a[4], a[5], fname);
      const size_t mi = v3 ? 7 : 6;
      if (a.size() > mi && !a[mi].is_none()) {
        if (!a[mi].is_dict()) corrupt(f + ": metadata must be a dict, got " + a[mi].kind_name());
        bool conj = false, neg = false;
        for (const auto& [k, v] : a[mi].as_dict().items) {
          if (!k.is_string() || !v.is_bool()) corrupt(f + ": metadata must map names to bools");
          if (k.as_string() == "conj") conj = v.as_bool();
          else if (k.as_string() == "neg") neg = v.as_bool();
          else fail(Error::Code::kUnsupported, f + ": tensor metadata \"" + escape(k.as_string()) + "\"");
        }
        t = apply_metadata(t, conj, neg);
      }
      return Value::tensor(std::move(t));
    }
    case Handler::kRebuildParameter:
    case Handler::kRebuildParameterWithState: {
      const bool st = h == Handler::kRebuildParameterWithState;
      arity(a, st ? 4 : 3, st ? 4 : 3, f);
      if (!a[0].is_tensor()) corrupt(f + ": data must be a tensor, got " + a[0].kind_name());
      check_hooks(a[1], a[2], fname);
      if (st && !a[3].is_none() && !(a[3].is_dict() && a[3].as_dict().items.empty()))
        warn("parameter attributes dropped (_rebuild_parameter_with_state)");
      return a[0];
    }
    case Handler::kRebuildDeviceFromCpu:
      arity(a, 4, 4, f);
      if (!a[0].is_tensor()) corrupt(f + ": cpu_tensor must be a tensor, got " + a[0].kind_name());
      if (!a[3].is_bool()) corrupt(f + ": requires_grad must be a bool");
      return a[0];
    case Handler::kRebuildMeta:
      fail(Error::Code::kUnsupported, "meta tensor (" + f + ") has no data");
    case Handler::kRebuildQTensor:
      fail(Error::Code::kUnsupported, "unsupported tensor kind " + f + " (quantized)");
    default:
      fail(Error::Code::kUnsupported, "unsupported tensor kind " + f);
  }
}

Value Machine::rebuild_from_type(const std::vector<Value>& a) {
  const FnName f{"torch._tensor", "_rebuild_from_type_v2"};
  arity(a, 4, 4, f);
  const Special* fs = a[0].kind() == Kind::kGlobal ? special(a[0]) : nullptr;
  if (!fs || fs->tag != Tag::kKnown || !is_tensor_rebuild(static_cast<Handler>(fs->aux)))
    corrupt(f + ": func must be a torch._utils rebuild function");
  if (a[1].kind() != Kind::kGlobal) corrupt(f + ": type must be a class, got " + a[1].kind_name());
  const Special* ts = special(a[1]);
  if (!ts) {
    warn("tensor subclass " + qname(a[1]) + " read as a plain tensor");
  } else if (ts->tag != Tag::kKnown || static_cast<Handler>(ts->aux) != Handler::kTensorClass) {
    corrupt(f + ": type " + qname(a[1]) + " is not a tensor class");
  }
  if (!a[2].is_tuple()) corrupt(f + ": args must be a tuple, got " + a[2].kind_name());
  Value t = rebuild_tensor(static_cast<Handler>(fs->aux), a[2].items(), a[0].as_global().name.c_str());
  if (!t.is_tensor()) corrupt(f + ": func did not build a tensor");
  if (!a[3].is_none() && !(a[3].is_dict() && a[3].as_dict().items.empty()))
    warn("tensor attributes dropped (_rebuild_from_type_v2)");
  return t;
}

Value Machine::numpy_scalar(const std::vector<Value>& a) {
  const FnName f{"numpy.core.multiarray", "scalar"};
  arity(a, 1, 2, f);
  const Special* s = a[0].is_object() ? special(a[0]) : nullptr;
  if (!s || s->tag != Tag::kNumpyDtype) corrupt(f + ": first argument must be a numpy dtype");
  const NpType t = np_type(a[0].as_object());
  const std::optional<DType> dt = np_dtype(t);
  if (!dt || dtype_is_complex(*dt) || a.size() != 2 ||
      a[1].kind() != Kind::kBytes || t.order == '>') {
    Value o = track(Value::object("numpy.core.multiarray", "scalar"));
    o.as_object().args = a;
    warn("numpy scalar of an unsupported type kept as an object");
    return o;
  }
  const std::string& b = a[1].as_bytes();
  if (b.size() != t.size) corrupt(f + ": " + std::to_string(b.size()) + " bytes for a " + std::to_string(t.size) + "-byte scalar");
  uint64_t u = 0;
  std::memcpy(&u, b.data(), b.size());
  switch (*dt) {
    case DType::kBool: return Value::boolean(u != 0);
    case DType::kFloat16: return Value::floating(half_to_double(static_cast<uint16_t>(u)));
    case DType::kFloat32: { float x; std::memcpy(&x, b.data(), 4); return Value::floating(x); }
    case DType::kFloat64: { double x; std::memcpy(&x, b.data(), 8); return Value::floating(x); }
    case DType::kUInt64:
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::big_integer(std::to_string(u));
      return Value::integer(static_cast<int64_t>(u));
    case DType::kUInt8: case DType::kUInt16: case DType::kUInt32:
      return Value::integer(static_cast<int64_t>(u));
    default: {  // signed: sign-extend from t.size bytes
      const int shift = 64 - 8 * static_cast<int>(t.size);
      return Value::integer(static_cast<int64_t>(u << shift) >> shift);
    }
  }
}

Value Machine::call(Handler h, const Value& g, const Value& args, bool newobj) {
  const FnName f{g.as_global().module, g.as_global().name};
  if (newobj && !is_class(h)) corrupt("NEWOBJ of " + f + ", which is not a class");
  const std::vector<Value>& a = args.items();
  switch (h) {
    case Handler::kOrderedDict:
    case Handler::kDict:
      arity(a, 0, 0, f);
      return track(Value::dict(h == Handler::kOrderedDict));
    case Handler::kSet:
    case Handler::kFrozenSet: {
      arity(a, 0, 1, f);
      std::vector<Value> items;
      if (!a.empty()) {
        if (!a[0].is_list() && !a[0].is_tuple() && a[0].kind() != Kind::kSet)
          corrupt(f + " argument must be a list, tuple or set, got " + a[0].kind_name());
        for (const Value& i : a[0].items())
          if (!is_key(i)) corrupt(f + ": unhashable item " + i.kind_name());
        items = a[0].items();
      }
      Value v = Value::set(std::move(items));
      if (h == Handler::kFrozenSet) mark(v, Tag::kFrozenSet);
      return v;
    }
    case Handler::kBytes:
      arity(a, 0, 1, f);
      if (a.empty()) return Value::bytes("");
      if (a[0].kind() != Kind::kBytes) corrupt(f + " argument must be bytes, got " + a[0].kind_name());
      return a[0];
    case Handler::kBytearray:
      arity(a, 0, 2, f);
      if (a.empty()) return Value::bytes("");
      if (a.size() == 1 && a[0].kind() == Kind::kBytes) return a[0];
      if (a.size() == 2 && a[0].is_string() && is_latin1_name(a[1])) return Value::bytes(latin1_bytes(a[0].as_string(), f));
      corrupt(f + ": arguments must be (bytes) or (str, 'latin-1')");
    case Handler::kCodecsEncode:
      arity(a, 2, 2, f);
      if (!a[0].is_string() || !is_latin1_name(a[1])) corrupt(f + ": arguments must be (str, 'latin1')");
      return Value::bytes(latin1_bytes(a[0].as_string(), f));
    case Handler::kComplex:
    case Handler::kSlice:
    case Handler::kRange: {
      arity(a, h == Handler::kComplex ? 0 : 1, h == Handler::kComplex ? 2 : 3, f);
      for (const Value& x : a) {
        const bool ok = h == Handler::kComplex ? (x.is_int() || x.is_float())
                        : h == Handler::kRange ? x.is_int() : (x.is_int() || x.is_none());
        if (!ok) corrupt(f + ": bad argument of type " + x.kind_name());
      }
      Value o = track(Value::object(g.as_global().module, g.as_global().name));
      o.as_object().args = a;
      return o;
    }
    case Handler::kObject:
      arity(a, 0, 0, f);
      return track(Value::object(g.as_global().module, g.as_global().name));
    case Handler::kReconstructor: {
      arity(a, 3, 3, f);
      if (a[0].kind() != Kind::kGlobal || a[1].kind() != Kind::kGlobal)
        corrupt(f + ": class and base must be classes");
      if (special(a[0])) fail(Error::Code::kUnsupported, f + " of the known class " + qname(a[0]));
      Value o = track(Value::object(a[0].as_global().module, a[0].as_global().name));
      if (!a[2].is_none()) o.as_object().args.push_back(a[2]);
      return o;
    }
    case Handler::kRebuildFromTypeV2:
      return rebuild_from_type(a);
    case Handler::kSize: {
      arity(a, 0, 1, f);
      if (a.empty()) return Value::tuple();
      if (!a[0].is_tuple() && !a[0].is_list()) corrupt(f + " argument must be a tuple of ints");
      for (const Value& x : a[0].items())
        if (!x.is_int()) corrupt(f + " item must be an int, got " + x.kind_name());
      return Value::tuple(a[0].items());
    }
    case Handler::kDevice: {
      arity(a, 1, 2, f);
      if (!a[0].is_string()) corrupt(f + ": device type must be a str");
      std::string d = a[0].as_string();
      if (a.size() == 2 && !a[1].is_none()) {
        if (!a[1].is_int() || a[1].as_int() < 0) corrupt(f + ": device index must be a non-negative int");
        const int64_t i = a[1].as_int();
        d += ":" + std::to_string(i);
      }
      return Value::string(std::move(d));
    }
    case Handler::kGetLayout: {  // ('torch.sparse_coo',) -> the layout as a torch global
      arity(a, 1, 1, f);
      static const std::string_view layouts[] = {"torch.strided", "torch.sparse_coo", "torch.sparse_csr",
                                                 "torch.sparse_csc", "torch.sparse_bsr", "torch.sparse_bsc",
                                                 "torch._mkldnn", "torch.jagged"};
      if (!a[0].is_string() || std::find(std::begin(layouts), std::end(layouts), a[0].as_string()) == std::end(layouts))
        corrupt(f + ": unknown layout");
      return Value::global("torch", a[0].as_string().substr(6));
    }
    case Handler::kRestoreTypeTag:
      arity(a, 2, 2, f);
      if (!a[1].is_string()) corrupt(f + ": type tag must be a str");
      return a[0];
    case Handler::kBuildIntList:
    case Handler::kBuildDoubleList:
    case Handler::kBuildBoolList:
    case Handler::kBuildTensorList: {
      arity(a, 1, 1, f);
      if (!a[0].is_list()) corrupt(f + " argument must be a list, got " + a[0].kind_name());
      for (const Value& x : a[0].items()) {
        const bool ok = h == Handler::kBuildIntList ? x.is_int()
                        : h == Handler::kBuildDoubleList ? x.is_float()
                        : h == Handler::kBuildBoolList ? x.is_bool() : x.is_tensor();
        if (!ok) corrupt(f + ": list holds a " + x.kind_name());
      }
      return a[0];
    }
    case Handler::kBuildTensorFromId:
      fail(Error::Code::kUnsupported, f + " (tensor table pickles)");
    case Handler::kNumpyScalar:
      return numpy_scalar(a);
    case Handler::kNumpyDtype: {
      arity(a, 1, 3, f);
      if (!a[0].is_string()) corrupt(f + ": type must be a str");
      for (size_t i = 1; i < a.size(); ++i)
        if (!a[i].is_bool() && !a[i].is_int()) corrupt(f + ": flags must be bools");
      Value o = track(Value::object("numpy", "dtype"));
      o.as_object().args = a;
      mark(o, Tag::kNumpyDtype);
      return o;
    }
    case Handler::kNumpyReconstruct: {
      arity(a, 3, 3, f);
      const Special* s = a[0].kind() == Kind::kGlobal ? special(a[0]) : nullptr;
      if (!s || static_cast<Handler>(s->aux) != Handler::kNumpyNdarray)
        corrupt(f + ": class must be numpy.ndarray");
      if (!a[1].is_tuple()) corrupt(f + ": shape must be a tuple");
      Value o = track(Value::object("numpy", "ndarray"));
      mark(o, Tag::kNumpyArray);
      return o;
    }
    case Handler::kStorageClass:
    case Handler::kDType:
    case Handler::kTensorClass:
    case Handler::kNumpyNdarray:
      corrupt(f + " is not callable here");
    default:
      return rebuild_tensor(h, a, g.as_global().name.c_str());
  }
}

Value Machine::build_special(const Value& target, const Special& s, const Value& state) {
  if (s.tag == Tag::kNumpyDtype) {
    if (!state.is_tuple()) corrupt(std::string("numpy dtype state must be a tuple, got ") + state.kind_name());
    target.as_object().state.push_back(state);
    return target;
  }
  if (s.tag != Tag::kNumpyArray) corrupt("BUILD on a value without state");
  // (version, shape, dtype, is_fortran, data)
  if (!state.is_tuple() || state.items().size() != 5) corrupt("numpy array state must be a 5-tuple");
  const auto& st = state.items();
  const Special* ds = st[2].is_object() ? special(st[2]) : nullptr;
  if (!ds || ds->tag != Tag::kNumpyDtype) corrupt("numpy array state has no numpy dtype");
  if (!st[3].is_bool()) corrupt("numpy array fortran flag must be a bool");
  std::vector<int64_t> shape = int_tuple(st[1], opt.limits, "numpy array shape");
  check_numel(shape, opt.limits);
  const NpType t = np_type(st[2].as_object());
  const std::optional<DType> dt = np_dtype(t);
  if (!dt || t.order == '>' || st[4].kind() != Kind::kBytes) {
    target.as_object().state.push_back(state);
    warn("numpy array of an unsupported type kept as an object");
    return target;
  }
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;  // checked above
  const std::string& data = st[4].as_bytes();
  if (mul_u64(static_cast<uint64_t>(numel), dtype_size(*dt)) != data.size())
    corrupt("numpy array has " + std::to_string(data.size()) + " data bytes for " +
            std::to_string(numel) + " elements");
  std::vector<int64_t> strides(shape.size());
  int64_t run = 1;
  for (size_t k = 0; k < shape.size(); ++k) {
    const size_t i = st[3].as_bool() ? k : shape.size() - 1 - k;
    strides[i] = run;
    run *= shape[i];
  }
  auto owned = std::make_shared<std::string>(data);
  Storage storage = Storage::wrap(reinterpret_cast<const std::byte*>(owned->data()), owned->size(), owned);
  return Value::tensor(unwrap(Tensor::make(std::move(storage), *dt, std::move(shape), std::move(strides), 0,
                                           opt.limits.tensor_max_numel)));
}

}  // namespace pickle
}  // namespace torchless
