// Protocol-2 pickler of the torch writer (pickler.h). Each save_* mirrors the method of
// CPython's pickle.Pickler that torch.save runs for that kind, so data.pkl reads like
// torch's own (same opcodes, same memo order, items batched by 1000).
#include "pickle/pickler.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/check.h"

namespace torchless {
namespace {

constexpr size_t kMaxDepth = 512;  // the reader's default pickle.max_depth
constexpr size_t kBatch = 1000;  // pickle.Pickler._BATCHSIZE

const char* storage_class(DType t) {
  switch (t) {
    case DType::kFloat32: return "FloatStorage";
    case DType::kFloat64: return "DoubleStorage";
    case DType::kFloat16: return "HalfStorage";
    case DType::kBFloat16: return "BFloat16Storage";
    case DType::kInt8: return "CharStorage";
    case DType::kUInt8: return "ByteStorage";
    case DType::kInt16: return "ShortStorage";
    case DType::kInt32: return "IntStorage";
    case DType::kInt64: return "LongStorage";
    case DType::kBool: return "BoolStorage";
    case DType::kComplex64: return "ComplexFloatStorage";
    case DType::kComplex128: return "ComplexDoubleStorage";
    default: return nullptr;
  }
}

// Dtypes torch 2.x saves over an UntypedStorage with _rebuild_tensor_v3 (torch.storage._new_dtypes).
bool untyped_in_torch2(DType t) {
  switch (t) {
    case DType::kUInt16: case DType::kUInt32: case DType::kUInt64: case DType::kComplex32:
    case DType::kFloat8E4M3FN: case DType::kFloat8E5M2: case DType::kFloat8E4M3FNUZ:
    case DType::kFloat8E5M2FNUZ: case DType::kFloat8E8M0FNU:
      return true;
    default:
      return false;
  }
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

// Two's-complement little-endian bytes, trimmed to the shortest form that keeps the sign
// (what pickle.encode_long produces).
std::string trim_long(std::string b) {
  while (b.size() > 1) {
    const auto last = static_cast<unsigned char>(b.back());
    const auto prev = static_cast<unsigned char>(b[b.size() - 2]);
    if ((last == 0x00 && !(prev & 0x80)) || (last == 0xFF && (prev & 0x80))) b.pop_back();
    else break;
  }
  return b;
}

// Decimal text (optional '-') to LONG1 bytes.
std::string long_bytes(const std::string& decimal) {
  const bool negative = !decimal.empty() && decimal[0] == '-';
  const std::string_view digits = std::string_view(decimal).substr(negative ? 1 : 0);
  if (digits.empty()) fail(Error::Code::kInvalidArgument, "big integer has no digits");
  std::string mag(1, '\0');  // little-endian magnitude
  for (char ch : digits) {
    if (ch < '0' || ch > '9') fail(Error::Code::kInvalidArgument, "big integer is not decimal: " + escape(decimal));
    unsigned carry = static_cast<unsigned>(ch - '0');
    for (char& byte : mag) {
      const unsigned v = static_cast<unsigned char>(byte) * 10u + carry;
      byte = static_cast<char>(v & 0xFF);
      carry = v >> 8;
    }
    if (carry) mag.push_back(static_cast<char>(carry));
  }
  mag.push_back('\0');  // room for the sign bit
  if (negative) {
    unsigned carry = 1;
    for (char& byte : mag) {
      const unsigned v = (~static_cast<unsigned char>(byte) & 0xFFu) + carry;
      byte = static_cast<char>(v & 0xFF);
      carry = v >> 8;
    }
  }
  return trim_long(std::move(mag));
}

class Pickler {
 public:
  TorchPickle run(const Value& root) {
    out_ = "\x80\x02";
    save(root);
    out_ += '.';
    std::vector<std::string> warnings;
    const char* kOnly2x = ": torch 1.13 loads this file only with weights_only=False (torch 2.x loads it either way)";
    if (floats_.count) warnings.push_back(floats_.text("Python floats") + kOnly2x);
    if (bytes_.count) warnings.push_back(bytes_.text("bytes values") + kOnly2x);
    if (v3_.count)
      warnings.push_back(v3_.text(join(v3_dtypes_, "/") + " tensors") +
                         ": written as torch 2.x writes them (_rebuild_tensor_v3); torch 1.13 cannot load this file");
    return {std::move(out_), std::move(storages_), std::move(warnings)};
  }

 private:
  // ---- output helpers ----
  void op(char c) { out_ += c; }
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_ += static_cast<char>(v >> (8 * i));
  }
  void put(const void* key) { memo_put(memo_[key]); }
  void memo_put(size_t& slot) {
    slot = next_memo_++;
    if (slot < 256) {
      op('q');
      le(slot, 1);
    } else {
      op('r');
      le(slot, 4);
    }
  }
  // BINGET of a memoized entry; false when absent.
  bool get(const std::unordered_map<const void*, size_t>& m, const void* key) {
    auto it = m.find(key);
    if (it == m.end()) return false;
    get_slot(it->second);
    return true;
  }
  void get_slot(size_t slot) {
    if (slot < 256) {
      op('h');
      le(slot, 1);
    } else {
      op('j');
      le(slot, 4);
    }
  }

  // Where in the tree the pickler is, as flattened names read ("optimizer.state.0.step").
  std::string where() const { return join(path_, "."); }
  // Content some torch versions cannot load: how often, and the first place.
  struct Caveat {
    size_t count = 0;
    std::string first;
    void add(const std::vector<std::string>& path) {  // the place is spelled out once, for the first
      if (count++ == 0) first = join(path, ".");
    }
    std::string text(const std::string& what) const {
      return what + " (" + (first.empty() ? "at the root" : "first at " + escape(first)) +
             (count > 1 ? ", " + std::to_string(count) + " in all" : "") + ")";
    }
  };

  [[noreturn]] void refuse(const std::string& what) {
    const std::string where = this->where();
    fail(Error::Code::kUnsupported,
         what + (where.empty() ? " (at the root)" : " at " + escape(where)) + "; the torch writer saves dicts, "
         "OrderedDicts, lists, tuples, ints, floats, bools, strings, bytes, None and tensors");
  }

  // ---- scalars ----
  void save_int(int64_t v) {
    if (v >= 0 && v <= 0xFF) {
      op('K');
      le(static_cast<uint64_t>(v), 1);
    } else if (v >= 0 && v <= 0xFFFF) {
      op('M');
      le(static_cast<uint64_t>(v), 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      op('J');
      le(static_cast<uint64_t>(v), 4);
    } else {
      std::string b(8, '\0');
      for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(static_cast<uint64_t>(v) >> (8 * i));
      save_long1(trim_long(std::move(b)));
    }
  }
  void save_long1(const std::string& b) {
    if (b.size() > 255) refuse("an integer of " + std::to_string(b.size()) + " bytes (longer than LONG1 holds)");
    op('\x8a');
    le(b.size(), 1);
    out_ += b;
  }
  void save_float(double d) {
    floats_.add(path_);
    op('G');
    const uint64_t bits = std::bit_cast<uint64_t>(d);
    for (int i = 7; i >= 0; --i) out_ += static_cast<char>(bits >> (8 * i));
  }
  void unicode(const std::string& s) {  // BINUNICODE
    if (s.size() > 0xFFFFFFFFu) refuse("a string over 4 GiB");
    op('X');
    le(s.size(), 4);
    out_ += s;
  }
  void save_string(const std::string& s) {
    auto it = strings_.find(s);
    if (it != strings_.end()) return get_slot(it->second);
    unicode(s);
    memo_put(strings_[s]);
  }
  void save_global(const std::string& module, const std::string& name) {
    const std::string key = module + '\n' + name;
    auto it = globals_.find(key);
    if (it != globals_.end()) return get_slot(it->second);
    op('c');
    out_ += key;
    out_ += '\n';
    memo_put(globals_[key]);
  }
  // bytes at protocol 2 in Python 3: _codecs.encode(bytes.decode('latin1'), 'latin1').
  void save_bytes(const Value& v) {
    bytes_.add(path_);
    std::string text;
    for (char c : v.as_bytes()) {
      const auto b = static_cast<unsigned char>(c);
      if (b < 0x80) {
        text += c;
      } else {
        text += static_cast<char>(0xC0 | (b >> 6));
        text += static_cast<char>(0x80 | (b & 0x3F));
      }
    }
    save_global("_codecs", "encode");
    unicode(text);  // a fresh object in Python: not shared through the memo
    memo_put(scratch_);
    save_string("latin1");
    op('\x86');
    memo_put(scratch_);
    op('R');
    memo_put(scratch_);
  }

  // ---- containers ----
  // SETITEMS / APPENDS in batches like Pickler._batch_setitems / _batch_appends.
  template <class Items, class SaveOne>
  void batched(const Items& items, char single, char multi, SaveOne&& save_one) {
    for (size_t i = 0; i < items.size(); i += kBatch) {
      const size_t n = std::min(kBatch, items.size() - i);
      if (n > 1) op('(');
      for (size_t j = i; j < i + n; ++j) save_one(items[j], j);
      op(n > 1 ? multi : single);
    }
  }
  void save_items(const std::vector<std::pair<Value, Value>>& items) {
    batched(items, 's', 'u', [&](const std::pair<Value, Value>& kv, size_t) {
      check_key(kv.first, 0);
      path_.push_back(key_text(kv.first));
      save(kv.first);
      save(kv.second);
      path_.pop_back();
    });
  }
  void save_dict(const Value& v) {
    const ValueDict& d = v.as_dict();
    if (d.ordered) {
      save_global("collections", "OrderedDict");
      op(')');
      op('R');
    } else {
      op('}');
    }
    put(v.node());
    save_items(d.items);
    if (!d.attributes.empty()) {
      if (!d.ordered) refuse("a plain dict with attributes");
      op('}');
      memo_put(scratch_);
      batched(d.attributes, 's', 'u', [&](const std::pair<std::string, Value>& kv, size_t) {
        path_.push_back(kv.first);
        save_string(kv.first);
        save(kv.second);
        path_.pop_back();
      });
      op('b');
    }
  }
  void save_list(const Value& v) {
    op(']');
    put(v.node());
    batched(v.items(), 'a', 'e', [&](const Value& item, size_t i) {
      path_.push_back(std::to_string(i));
      save(item);
      path_.pop_back();
    });
  }
  void save_tuple(const Value& v) {
    const std::vector<Value>& items = v.items();
    if (items.empty()) return op(')');
    if (items.size() > 3) op('(');
    for (size_t i = 0; i < items.size(); ++i) {
      path_.push_back(std::to_string(i));
      save(items[i]);
      path_.pop_back();
    }
    if (memo_.count(v.node())) refuse("a tuple that contains itself");
    op(items.size() == 1 ? '\x85' : items.size() == 2 ? '\x86' : items.size() == 3 ? '\x87' : 't');
    put(v.node());
  }
  void save_int_tuple(const std::vector<int64_t>& xs) {
    if (xs.empty()) return op(')');
    if (xs.size() > 3) op('(');
    for (int64_t x : xs) save_int(x);
    op(xs.size() == 1 ? '\x85' : xs.size() == 2 ? '\x86' : xs.size() == 3 ? '\x87' : 't');
    memo_put(scratch_);
  }

  // Dict keys must be hashable in Python: scalars and tuples of them.
  void check_key(const Value& k, size_t depth) {
    switch (k.kind()) {
      case Value::Kind::kNone: case Value::Kind::kBool: case Value::Kind::kInt:
      case Value::Kind::kBigInt: case Value::Kind::kFloat: case Value::Kind::kString:
      case Value::Kind::kBytes:
        return;
      case Value::Kind::kTuple:
        if (depth > kMaxDepth) refuse("a dict key nested deeper than " + std::to_string(kMaxDepth));
        for (const Value& item : k.items()) check_key(item, depth + 1);
        return;
      default:
        refuse(std::string("a dict key of kind ") + k.kind_name());
    }
  }
  static std::string key_text(const Value& k) {
    switch (k.kind()) {
      case Value::Kind::kString: return k.as_string();
      case Value::Kind::kInt: return std::to_string(k.as_int());
      case Value::Kind::kBigInt: return k.as_big_int();
      case Value::Kind::kBool: return k.as_bool() ? "True" : "False";
      default: return std::string("<") + k.kind_name() + " key>";
    }
  }

  // ---- tensors ----
  // The key of t's storage, assigned in order of first reference.
  std::string storage_key(const Tensor& t) {
    const Storage& s = t.storage();
    const size_t es = dtype_size(t.dtype());
    if (s.nbytes() % es != 0)
      refuse("a " + std::string(dtype_name(t.dtype())) + " tensor over a storage of " + std::to_string(s.nbytes()) +
             " bytes (not a whole number of elements)");
    if (!s.empty()) {  // empty storages are never shared: each gets its own key
      auto it = keys_.find({s.data(), s.nbytes()});
      if (it != keys_.end()) {
        if (dtypes_[it->second] != t.dtype())
          refuse("one storage viewed as both " + std::string(dtype_name(dtypes_[it->second])) + " and " +
                 std::string(dtype_name(t.dtype())) + " (torch cannot save that either)");
        return std::to_string(it->second);
      }
      keys_[{s.data(), s.nbytes()}] = storages_.size();
    }
    storages_.push_back(s);
    dtypes_.push_back(t.dtype());
    return std::to_string(storages_.size() - 1);
  }
  void save_tensor(const Value& v) {
    const Tensor& t = v.as_tensor();
    if (get(memo_, &t)) return;
    const char* cls = storage_class(t.dtype());
    const bool v3 = !cls && untyped_in_torch2(t.dtype());
    if (!cls && !v3)
      refuse("a " + std::string(dtype_name(t.dtype())) + " tensor (torch writes it with _rebuild_qtensor)");
    if (v3) {
      v3_.add(path_);
      const std::string name(dtype_name(t.dtype()));
      if (std::find(v3_dtypes_.begin(), v3_dtypes_.end(), name) == v3_dtypes_.end()) v3_dtypes_.push_back(name);
    }
    const std::string key = storage_key(t);
    save_global("torch._utils", v3 ? "_rebuild_tensor_v3" : "_rebuild_tensor_v2");
    op('(');
    op('(');  // the persistent id; an UntypedStorage counts bytes
    save_string("storage");
    save_global(v3 ? "torch.storage" : "torch", v3 ? "UntypedStorage" : cls);
    save_string(key);
    save_string("cpu");
    save_int(static_cast<int64_t>(t.storage().nbytes() / (v3 ? 1 : dtype_size(t.dtype()))));
    op('t');
    memo_put(scratch_);
    op('Q');
    save_int(t.storage_offset());
    save_int_tuple(t.shape());
    save_int_tuple(t.strides());
    op('\x89');  // requires_grad = False
    save_global("collections", "OrderedDict");  // backward_hooks = OrderedDict()
    op(')');
    op('R');
    memo_put(scratch_);
    if (v3) save_global("torch", std::string(dtype_name(t.dtype())));
    op('t');
    memo_put(scratch_);
    op('R');
    put(&t);
  }

  // ---- dispatch ----
  void save(const Value& v) {
    if (++depth_ > kMaxDepth) refuse("nesting deeper than " + std::to_string(kMaxDepth));
    if (v.is_container() && get(memo_, v.node())) {
      --depth_;
      return;
    }
    switch (v.kind()) {
      case Value::Kind::kNone: op('N'); break;
      case Value::Kind::kBool: op(v.as_bool() ? '\x88' : '\x89'); break;
      case Value::Kind::kInt: save_int(v.as_int()); break;
      case Value::Kind::kBigInt: save_long1(long_bytes(v.as_big_int())); break;
      case Value::Kind::kFloat: save_float(v.as_float()); break;
      case Value::Kind::kString: save_string(v.as_string()); break;
      case Value::Kind::kBytes: save_bytes(v); break;
      case Value::Kind::kList: save_list(v); break;
      case Value::Kind::kTuple: save_tuple(v); break;
      case Value::Kind::kDict: save_dict(v); break;
      case Value::Kind::kTensor: save_tensor(v); break;
      case Value::Kind::kSet: refuse("a set");
      case Value::Kind::kObject: refuse("an object of class " + escape(v.as_object().qualified_name()));
      case Value::Kind::kGlobal:
        refuse("a reference to " + escape(v.as_global().module + "." + v.as_global().name));
    }
    --depth_;
  }

  std::string out_;
  std::vector<std::string> path_;
  size_t depth_ = 0;
  size_t next_memo_ = 0;
  size_t scratch_ = 0;  // memo slots nothing refers to again
  std::unordered_map<const void*, size_t> memo_;  // containers and tensors by identity
  std::unordered_map<std::string, size_t> strings_, globals_;
  std::map<std::pair<const std::byte*, size_t>, size_t> keys_;  // storage -> key
  std::vector<Storage> storages_;
  std::vector<DType> dtypes_;
  Caveat floats_, bytes_, v3_;
  std::vector<std::string> v3_dtypes_;  // in order of first use
};

}  // namespace

TorchPickle pickle_for_torch(const Value& root) { return Pickler().run(root); }

}  // namespace torchless
