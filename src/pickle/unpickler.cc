// The restricted unpickler's opcode loop (formats.md 3, hostile-inputs.md 5.3). Known globals
// and their handlers live in globals.cc; this file is the stack machine: reading operands with
// frame and length checks, the mark stack, the memo, container opcodes, and the checks at STOP
// (one value, no open MARK, no trailing bytes, acyclic, nesting depth, unique dict keys).
#include <algorithm>
#include <cstring>
#include <deque>
#include <iterator>

#include "core/check.h"
#include "pickle/machine.h"

namespace torchless {
namespace pickle {
namespace {

using Kind = Value::Kind;

const char* opcode_name(uint8_t op) {
  switch (op) {
    case '(': return "MARK"; case '.': return "STOP"; case '0': return "POP";
    case '1': return "POP_MARK"; case '2': return "DUP"; case 'F': return "FLOAT";
    case 'I': return "INT"; case 'J': return "BININT"; case 'K': return "BININT1";
    case 'L': return "LONG"; case 'M': return "BININT2"; case 'N': return "NONE";
    case 'P': return "PERSID"; case 'Q': return "BINPERSID"; case 'R': return "REDUCE";
    case 'S': return "STRING"; case 'T': return "BINSTRING"; case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE"; case 'X': return "BINUNICODE"; case 'a': return "APPEND";
    case 'b': return "BUILD"; case 'c': return "GLOBAL"; case 'd': return "DICT";
    case '}': return "EMPTY_DICT"; case 'e': return "APPENDS"; case 'g': return "GET";
    case 'h': return "BINGET"; case 'i': return "INST"; case 'j': return "LONG_BINGET";
    case 'l': return "LIST"; case ']': return "EMPTY_LIST"; case 'o': return "OBJ";
    case 'p': return "PUT"; case 'q': return "BINPUT"; case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM"; case 't': return "TUPLE"; case ')': return "EMPTY_TUPLE";
    case 'u': return "SETITEMS"; case 'G': return "BINFLOAT"; case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES"; case 0x80: return "PROTO"; case 0x81: return "NEWOBJ";
    case 0x82: return "EXT1"; case 0x83: return "EXT2"; case 0x84: return "EXT4";
    case 0x85: return "TUPLE1"; case 0x86: return "TUPLE2"; case 0x87: return "TUPLE3";
    case 0x88: return "NEWTRUE"; case 0x89: return "NEWFALSE"; case 0x8a: return "LONG1";
    case 0x8b: return "LONG4"; case 0x8c: return "SHORT_BINUNICODE"; case 0x8d: return "BINUNICODE8";
    case 0x8e: return "BINBYTES8"; case 0x8f: return "EMPTY_SET"; case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET"; case 0x92: return "NEWOBJ_EX"; case 0x93: return "STACK_GLOBAL";
    case 0x94: return "MEMOIZE"; case 0x95: return "FRAME"; case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER"; case 0x98: return "READONLY_BUFFER";
    default: return "undefined opcode";
  }
}

std::string qname(const ValueGlobal& g) { return escape(g.module) + "." + escape(g.name); }

// The memo: a dense deque while indices stay near the number of entries (the usual case),
// a hash map for sparse indices, so memory follows entries, never the largest index (PKL-11).
// A deque grows in blocks, without the doubling copy a vector makes at every reallocation.
class Memo {
 public:
  explicit Memo(uint64_t max) : max_(max) {}
  size_t size() const { return count_; }
  void put(uint64_t i, const Value& v) {
    if (i >= dense_.size() && i < 2 * count_ + 1024) {
      dense_.resize(i + 1);
      has_.resize(i + 1, 0);
    }
    if (i < dense_.size()) {
      if (!has_[i] && !(sparse_.size() && sparse_.erase(i))) grow();
      has_[i] = 1;
      dense_[i] = v;
      return;
    }
    auto [it, inserted] = sparse_.insert_or_assign(i, v);
    if (inserted) grow();
  }
  const Value* get(uint64_t i) const {
    if (i < dense_.size() && has_[i]) return &dense_[i];
    if (sparse_.empty()) return nullptr;
    auto it = sparse_.find(i);
    return it == sparse_.end() ? nullptr : &it->second;
  }

 private:
  void grow() {
    if (++count_ > max_) over_limit("pickle.max_memo", max_, count_, "too many memo entries");
  }
  uint64_t max_;
  size_t count_ = 0;
  std::deque<Value> dense_;
  std::deque<uint8_t> has_;
  std::unordered_map<uint64_t, Value> sparse_;
};

// Decimal text of a little-endian two's-complement integer of n > 8 bytes.
std::string big_decimal(const uint8_t* b, size_t n) {
  std::vector<uint8_t> mag(b, b + n);
  const bool neg = b[n - 1] & 0x80;
  if (neg) {  // magnitude = -x
    unsigned carry = 1;
    for (uint8_t& x : mag) {
      unsigned v = static_cast<uint8_t>(~x) + carry;
      x = static_cast<uint8_t>(v);
      carry = v >> 8;
    }
  }
  std::string digits;
  size_t top = n;
  while (top > 0 && mag[top - 1] == 0) --top;
  while (top > 0) {  // divide by 1e9, collect 9 digits
    uint64_t rem = 0;
    for (size_t i = top; i-- > 0;) {
      const uint64_t cur = (rem << 8) | mag[i];
      mag[i] = static_cast<uint8_t>(cur / 1000000000);
      rem = cur % 1000000000;
    }
    while (top > 0 && mag[top - 1] == 0) --top;
    for (int k = 0; k < 9 && (top > 0 || rem > 0); ++k) {
      digits += static_cast<char>('0' + rem % 10);
      rem /= 10;
    }
  }
  if (digits.empty()) digits = "0";
  if (neg) digits += '-';
  std::reverse(digits.begin(), digits.end());
  return digits;
}

// Canonical form of a dict key for duplicate detection (1, 1.0 and True are one key).
void canon(const Value& k, std::string& out) {
  switch (k.kind()) {
    case Kind::kNone: out += 'N'; break;
    case Kind::kBool: out += k.as_bool() ? "i1;" : "i0;"; break;
    case Kind::kInt: out += 'i' + std::to_string(k.as_int()) + ';'; break;
    case Kind::kBigInt: out += 'i' + k.as_big_int() + ';'; break;
    case Kind::kFloat: {
      const double d = k.as_float();
      if (d == static_cast<double>(static_cast<int64_t>(d < -9.2e18 || d > 9.2e18 || d != d ? 0.5 : d)))
        out += 'i' + std::to_string(static_cast<int64_t>(d)) + ';';
      else {
        uint64_t bits;
        std::memcpy(&bits, &d, 8);
        out += 'f' + std::to_string(bits) + ';';
      }
      break;
    }
    case Kind::kString: out += 's' + std::to_string(k.as_string().size()) + ':' + k.as_string(); break;
    case Kind::kBytes: out += 'b' + std::to_string(k.as_bytes().size()) + ':' + k.as_bytes(); break;
    case Kind::kGlobal: {
      const ValueGlobal& g = k.as_global();
      out += 'g' + std::to_string(g.module.size()) + ':' + g.module + std::to_string(g.name.size()) + ':' + g.name;
      break;
    }
    default:  // tuple (is_key() allowed only these kinds)
      out += 't' + std::to_string(k.items().size()) + '(';
      for (const Value& i : k.items()) canon(i, out);
      out += ')';
  }
}

void check_unique_keys(const ValueDict& d) {
  const auto& items = d.items;
  if (items.size() < 2) return;
  const bool all_str = std::all_of(items.begin(), items.end(), [](const auto& kv) { return kv.first.is_string(); });
  if (all_str) {
    std::vector<std::string_view> keys;
    keys.reserve(items.size());
    for (const auto& kv : items) keys.push_back(kv.first.as_string());
    std::sort(keys.begin(), keys.end());
    auto dup = std::adjacent_find(keys.begin(), keys.end());
    if (dup != keys.end()) corrupt("duplicate dict key \"" + escape(*dup) + "\"");
    return;
  }
  std::vector<std::string> keys(items.size());
  for (size_t i = 0; i < items.size(); ++i) canon(items[i].first, keys[i]);
  std::sort(keys.begin(), keys.end());
  if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) corrupt("duplicate dict key");
}

// The i-th child of a container (dict: key, value, ...; then attribute values), or nullptr.
const Value* child(const Value& v, size_t i) {
  switch (v.kind()) {
    case Kind::kList: case Kind::kTuple: case Kind::kSet: {
      const auto& it = v.items();
      return i < it.size() ? &it[i] : nullptr;
    }
    case Kind::kDict: {
      const ValueDict& d = v.as_dict();
      if (i < 2 * d.items.size()) return i % 2 ? &d.items[i / 2].second : &d.items[i / 2].first;
      i -= 2 * d.items.size();
      return i < d.attributes.size() ? &d.attributes[i].second : nullptr;
    }
    case Kind::kObject: {
      const ValueObject& o = v.as_object();
      for (const std::vector<Value>* part : {&o.args, &o.state, &o.appended}) {
        if (i < part->size()) return &(*part)[i];
        i -= part->size();
      }
      if (i < 2 * o.set_items.size()) return i % 2 ? &o.set_items[i / 2].second : &o.set_items[i / 2].first;
      return nullptr;
    }
    default: return nullptr;
  }
}

class Vm {
 public:
  // The dict key whose value REDUCE is building, when the stack shows one (a string right
  // below the popped callable): names the tensor in rebuild errors (TEN-02).
  const std::string* pending_key() const {
    return !stack_.empty() && stack_.back().is_string() ? &stack_.back().as_string() : nullptr;
  }
  Vm(std::span<const std::byte> bytes, const PickleOptions& options)
      : m_(options), p_(reinterpret_cast<const uint8_t*>(bytes.data())), n_(bytes.size()),
        memo_(options.limits.pickle_max_memo) {}
  PickleResult run(bool allow_trailing);

  size_t op_pos = 0;
  uint8_t op = 0;

 private:
  const Limits& lim() const { return m_.opt.limits; }
  uint64_t abs(size_t pos) const { return m_.opt.base_offset + pos; }

  // Operand bytes: never past the input or the current frame (PKL-09/10/22).
  const uint8_t* take(uint64_t k) {
    if (in_frame_ && k > frame_end_ - pos_) corrupt("operand runs past the end of its frame");
    if (k > n_ - pos_) corrupt("pickle ends inside an opcode");
    const uint8_t* r = p_ + pos_;
    pos_ += k;
    return r;
  }
  template <class T>
  T read_le() {
    T v;
    std::memcpy(&v, take(sizeof v), sizeof v);
    return v;
  }
  std::string_view read_str(uint64_t len) {
    return {reinterpret_cast<const char*>(take(len)), static_cast<size_t>(len)};
  }
  Value text(std::string_view s) {
    if (!valid_utf8(s)) corrupt("string is not valid UTF-8");
    return Value::string(std::string(s));
  }
  std::string_view line() {
    const size_t limit = std::min<size_t>(n_ - pos_, 257);
    const void* nl = std::memchr(p_ + pos_, '\n', limit);
    if (!nl) corrupt("GLOBAL line has no newline within 256 bytes");
    const size_t len = static_cast<const uint8_t*>(nl) - (p_ + pos_);
    std::string_view s = read_str(len);
    take(1);
    return s;
  }

  size_t fence() const { return marks_.empty() ? 0 : marks_.back(); }
  [[noreturn]] void underflow(size_t want) const {
    corrupt("stack underflow: needs " + std::to_string(want) + " values, " +
            std::to_string(stack_.size() - fence()) + " above the mark");
  }
  Value pop() {
    if (stack_.size() <= fence()) underflow(1);
    Value v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  Value& top() {
    if (stack_.size() <= fence()) underflow(1);
    return stack_.back();
  }
  size_t pop_mark() {
    if (marks_.empty()) corrupt("no open MARK");
    const size_t m = marks_.back();
    marks_.pop_back();
    return m;
  }
  // Target of APPENDS/SETITEMS/ADDITEMS: the value just below the (popped) mark.
  Value& below(size_t m) {
    if (m == 0 || m <= fence()) corrupt("no target below the MARK");
    return stack_[m - 1];
  }
  std::vector<Value> take_from(size_t m) {
    std::vector<Value> items(std::make_move_iterator(stack_.begin() + m), std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return items;
  }

  Value long_value(size_t n);
  Value resolve(std::string_view module, std::string_view name);
  Value reduce(const Value& f, const Value& args);
  Value newobj(const Value& cls, const Value& args, const Value* kwargs);
  void append(Value& target, size_t from);
  void setitems(Value& target, size_t from);
  void build();
  void check_graph(const Value& root, std::unordered_map<const void*, uint32_t>& seen);

  Machine m_;
  const uint8_t* p_;
  size_t n_, pos_ = 0, frame_end_ = 0;
  bool in_frame_ = false;
  int proto_ = 0;
  std::vector<Value> stack_;
  std::vector<size_t> marks_;
  std::vector<std::string> inert_globals_;  // unknown globals, in order of first use
  Memo memo_;
  std::unordered_map<std::string, Value> globals_;      // "module\nname" -> one node
  std::unordered_map<const void*, Value> replaced_;     // numpy arrays turned into tensors
  const Value empty_tuple_ = Value::tuple();
};

Value Vm::long_value(size_t n) {
  if (n > lim().pickle_max_long_bytes)
    over_limit("pickle.max_long_bytes", lim().pickle_max_long_bytes, n, "integer too long");
  const uint8_t* b = take(n);
  if (n == 0) return Value::integer(0);
  const bool neg = b[n - 1] & 0x80;
  bool fits = true;
  for (size_t i = 8; i < n; ++i) fits = fits && b[i] == (neg ? 0xFF : 0x00);
  if (n > 8) fits = fits && ((b[7] & 0x80) != 0) == neg;
  if (!fits) return Value::big_integer(big_decimal(b, n));
  uint64_t u = neg ? ~uint64_t{0} : 0;
  for (size_t i = 0; i < std::min<size_t>(n, 8); ++i) {
    u &= ~(uint64_t{0xFF} << (8 * i));
    u |= uint64_t{b[i]} << (8 * i);
  }
  return Value::integer(static_cast<int64_t>(u));
}

Value Vm::resolve(std::string_view module, std::string_view name) {
  // Python 2 spellings, mapped as Python 3's unpickler maps them (fix_imports).
  if (module == "__builtin__") module = "builtins";
  if (module == "copy_reg") module = "copyreg";
  if (module == "builtins" && name == "xrange") name = "range";
  for (std::string_view s : {module, name}) {
    if (s.empty() || s.size() > 256 || s.find('\0') != s.npos || s.find('\n') != s.npos || !valid_utf8(s))
      corrupt("bad global name \"" + escape(s) + "\"");
  }
  std::string key;
  key.reserve(module.size() + name.size() + 1);
  key.append(module).append(1, '\n').append(name);
  if (auto it = globals_.find(key); it != globals_.end()) return it->second;
  Value g = Value::global(std::string(module), std::string(name));
  if (auto h = find_global(module, name)) {
    m_.mark(g, Machine::Tag::kKnown, static_cast<uint32_t>(*h));
  } else if (!m_.opaque()) {
    fail(Error::Code::kForbidden, "global " + qname(g.as_global()) + " is not allowed");
  } else {
    inert_globals_.push_back(qname(g.as_global()));
  }
  globals_.emplace(std::move(key), g);
  return g;
}

Value Vm::reduce(const Value& f, const Value& args) {
  if (!args.is_tuple()) corrupt(std::string("REDUCE arguments must be a tuple, got ") + args.kind_name());
  if (f.kind() != Kind::kGlobal) corrupt(std::string("REDUCE of a non-callable ") + f.kind_name());
  if (const auto* s = m_.special(f)) return m_.call(static_cast<Handler>(s->aux), f, args, false);
  const std::string q = qname(f.as_global());
  if (!m_.opt.permissive) fail(Error::Code::kForbidden, "call of " + q + " is forbidden");
  m_.warn("call of " + q + " recorded as an inert object");
  Value o = m_.track(Value::object(f.as_global().module, f.as_global().name, true));
  o.as_object().args = args.items();
  return o;
}

Value Vm::newobj(const Value& cls, const Value& args, const Value* kwargs) {
  if (!args.is_tuple()) corrupt(std::string("NEWOBJ arguments must be a tuple, got ") + args.kind_name());
  if (kwargs && !kwargs->is_dict()) corrupt(std::string("NEWOBJ_EX keyword arguments must be a dict, got ") + kwargs->kind_name());
  if (cls.kind() != Kind::kGlobal) corrupt(std::string("NEWOBJ of a non-class ") + cls.kind_name());
  const bool has_kw = kwargs && !kwargs->as_dict().items.empty();
  if (const auto* s = m_.special(cls)) {
    if (has_kw) corrupt("NEWOBJ_EX of " + qname(cls.as_global()) + " with keyword arguments");
    return m_.call(static_cast<Handler>(s->aux), cls, args, true);
  }
  Value o = m_.track(Value::object(cls.as_global().module, cls.as_global().name, false));
  o.as_object().args = args.items();
  if (has_kw) o.as_object().args.push_back(*kwargs);
  return o;
}

void Vm::append(Value& target, size_t from) {
  std::vector<Value>* dst = nullptr;
  if (target.is_list()) dst = &target.items();
  else if (target.is_object() && !m_.special(target)) dst = &target.as_object().appended;
  else corrupt(std::string("APPEND to a ") + target.kind_name());
  dst->insert(dst->end(), std::make_move_iterator(stack_.begin() + from), std::make_move_iterator(stack_.end()));
  stack_.resize(from);
}

void Vm::setitems(Value& target, size_t from) {
  if ((stack_.size() - from) % 2) corrupt("SETITEMS with an odd number of items");
  std::vector<std::pair<Value, Value>>* dst = nullptr;
  if (target.is_dict()) {
    dst = &target.as_dict().items;
    for (size_t i = from; i < stack_.size(); i += 2)
      if (!is_key(stack_[i])) corrupt(std::string("unhashable dict key of type ") + stack_[i].kind_name());
      else if (stack_[i].is_string() && stack_[i].as_string().find('\0') != std::string::npos)
        corrupt("dict key '" + escape(stack_[i].as_string()) + "' contains NUL");  // PKL-21
  } else if (target.is_object() && !m_.special(target)) {
    dst = &target.as_object().set_items;
  } else {
    corrupt(std::string("SETITEM on a ") + target.kind_name());
  }
  dst->reserve(dst->size() + (stack_.size() - from) / 2);
  for (size_t i = from; i < stack_.size(); i += 2) dst->emplace_back(std::move(stack_[i]), std::move(stack_[i + 1]));
  stack_.resize(from);
}

void Vm::build() {
  Value state = pop();
  Value& target = top();
  if (target.is_dict()) {
    ValueDict& d = target.as_dict();
    if (!d.ordered) corrupt("BUILD on a plain dict");
    if (!state.is_dict()) corrupt(std::string("OrderedDict state must be a dict, got ") + state.kind_name());
    for (const auto& kv : state.as_dict().items) {
      if (!kv.first.is_string()) corrupt("OrderedDict attribute names must be strings");
      const std::string& name = kv.first.as_string();
      auto it = std::find_if(d.attributes.begin(), d.attributes.end(), [&](const auto& a) { return a.first == name; });
      if (it != d.attributes.end()) it->second = kv.second;
      else d.attributes.emplace_back(name, kv.second);
    }
  } else if (target.is_object()) {
    if (const auto* s = m_.special(target)) {
      Value r = m_.build_special(target, *s, state);
      if (r.node() != target.node()) {
        replaced_[target.node()] = r;  // the node stays alive in the machine's tables
        target = std::move(r);
      }
    } else {
      target.as_object().state.push_back(std::move(state));
    }
  } else {
    corrupt(std::string("BUILD on a ") + target.kind_name());
  }
}

// Iterative DFS from the root: refuses cycles (PKL-16), nesting beyond pickle.max_depth
// (including nesting built through the memo, PKL-14) and duplicate dict keys.
void Vm::check_graph(const Value& root, std::unordered_map<const void*, uint32_t>& seen) {
  if (!root.is_container()) return;
  struct Frame {
    const Value* v;
    size_t next;
    uint32_t height;
  };
  const uint64_t max_depth = lim().pickle_max_depth;
  auto too_deep = [&](uint64_t d) { over_limit("pickle.max_depth", max_depth, d, "containers nested too deeply"); };
  std::vector<Frame> path;
  constexpr uint32_t kOpen = 0;  // on the current path; finished nodes store height + 1
  seen.emplace(root.node(), kOpen);
  path.push_back({&root, 0, 1});
  while (!path.empty()) {
    Frame& f = path.back();
    if (f.next == 0 && f.v->is_dict()) check_unique_keys(f.v->as_dict());
    const Value* c = child(*f.v, f.next);
    if (!c) {
      const uint32_t h = f.height;
      seen[f.v->node()] = h + 1;
      path.pop_back();
      if (!path.empty()) path.back().height = std::max(path.back().height, h + 1);
      if (h > max_depth) too_deep(h);
      continue;
    }
    ++f.next;
    if (!c->is_container()) continue;
    auto [it, fresh] = seen.emplace(c->node(), kOpen);
    if (fresh) {
      if (path.size() + 1 > max_depth) too_deep(path.size() + 1);
      path.push_back({c, 0, 1});
    } else if (it->second == kOpen) {
      corrupt("the object graph contains a cycle");
    } else {
      f.height = std::max(f.height, it->second);  // child height + 1
      if (f.height > max_depth) too_deep(f.height);
    }
  }
}

PickleResult Vm::run(bool allow_trailing) {
  for (;;) {
    if (in_frame_ && pos_ == frame_end_) in_frame_ = false;
    if (pos_ >= n_) {
      op_pos = pos_;
      corrupt("pickle ends before STOP");
    }
    op_pos = pos_;
    op = *take(1);
    switch (op) {
      case 0x80: {  // PROTO
        const uint8_t v = *take(1);
        if (op_pos != 0) corrupt("PROTO is not the first opcode");
        if (v > 5) corrupt("pickle protocol " + std::to_string(v) + " is newer than 5");
        proto_ = v;
        break;
      }
      case 0x95: {  // FRAME
        const uint64_t len = read_le<uint64_t>();
        if (proto_ < 4) corrupt("FRAME below protocol 4");
        if (in_frame_) corrupt("FRAME before the end of the current frame");
        if (len > n_ - pos_) corrupt("FRAME of " + std::to_string(len) + " bytes past the end of the pickle");
        frame_end_ = pos_ + len;
        in_frame_ = len > 0;
        break;
      }
      case '.': {  // STOP
        if (!marks_.empty()) corrupt("STOP with an open MARK");
        if (stack_.size() != 1) corrupt("STOP with " + std::to_string(stack_.size()) + " values on the stack");
        if (!allow_trailing && pos_ != n_)
          corrupt_at(std::to_string(n_ - pos_) + " bytes after STOP", abs(pos_));
        PickleResult r;
        r.root = std::move(stack_.back());
        stack_.clear();
        r.consumed = pos_;
        std::unordered_map<const void*, uint32_t> seen;
        check_graph(r.root, seen);
        m_.release(seen);
        r.warnings = std::move(m_.warnings);
        r.inert_globals = std::move(inert_globals_);
        return r;
      }
      case '(':
        if (marks_.size() >= lim().pickle_max_depth)
          over_limit("pickle.max_depth", lim().pickle_max_depth, marks_.size() + 1, "too many open MARKs");
        marks_.push_back(stack_.size());
        break;
      case '0':  // POP (an empty segment pops its mark, as CPython does)
        if (stack_.size() > fence()) stack_.pop_back();
        else if (!marks_.empty()) marks_.pop_back();
        else underflow(1);
        break;
      case '1': stack_.resize(pop_mark()); break;
      case '2': stack_.push_back(Value(top())); break;
      case 'N': stack_.emplace_back(); break;
      case 0x88: stack_.push_back(Value::boolean(true)); break;
      case 0x89: stack_.push_back(Value::boolean(false)); break;
      case 'J': stack_.push_back(Value::integer(read_le<int32_t>())); break;
      case 'K': stack_.push_back(Value::integer(*take(1))); break;
      case 'M': stack_.push_back(Value::integer(read_le<uint16_t>())); break;
      case 0x8a: stack_.push_back(long_value(*take(1))); break;
      case 0x8b: {
        const int32_t n = read_le<int32_t>();
        if (n < 0) corrupt("negative LONG4 length");
        stack_.push_back(long_value(static_cast<size_t>(n)));
        break;
      }
      case 'G': {
        const uint8_t* b = take(8);
        uint64_t u = 0;
        for (int i = 0; i < 8; ++i) u = (u << 8) | b[i];
        double d;
        std::memcpy(&d, &u, 8);
        stack_.push_back(Value::floating(d));
        break;
      }
      case 'X': stack_.push_back(text(read_str(read_le<uint32_t>()))); break;
      case 0x8c: stack_.push_back(text(read_str(*take(1)))); break;
      case 0x8d: stack_.push_back(text(read_str(read_le<uint64_t>()))); break;
      case 'U': stack_.push_back(text(read_str(*take(1)))); break;
      case 'T': {
        const int32_t n = read_le<int32_t>();
        if (n < 0) corrupt("negative BINSTRING length");
        stack_.push_back(text(read_str(static_cast<uint64_t>(n))));
        break;
      }
      case 'C': stack_.push_back(Value::bytes(std::string(read_str(*take(1))))); break;
      case 'B': stack_.push_back(Value::bytes(std::string(read_str(read_le<uint32_t>())))); break;
      case 0x8e:
      case 0x96: stack_.push_back(Value::bytes(std::string(read_str(read_le<uint64_t>())))); break;
      case '}': stack_.push_back(m_.track(Value::dict())); break;
      case ']': stack_.push_back(m_.track(Value::list())); break;
      case ')': stack_.push_back(empty_tuple_); break;
      case 0x8f: stack_.push_back(Value::set()); break;
      case 't': stack_.push_back(Value::tuple(take_from(pop_mark()))); break;
      case 0x85: case 0x86: case 0x87: {
        const size_t k = op - 0x84u;
        if (stack_.size() - fence() < k) underflow(k);
        stack_.push_back(Value::tuple(take_from(stack_.size() - k)));
        break;
      }
      case 0x91: {  // FROZENSET
        std::vector<Value> items = take_from(pop_mark());
        for (const Value& i : items)
          if (!is_key(i)) corrupt(std::string("unhashable set item of type ") + i.kind_name());
        Value s = Value::set(std::move(items));
        m_.mark(s, Machine::Tag::kFrozenSet);
        stack_.push_back(std::move(s));
        break;
      }
      case 'a': {
        if (stack_.size() - fence() < 2) underflow(2);
        append(stack_[stack_.size() - 2], stack_.size() - 1);
        break;
      }
      case 'e': {
        const size_t m = pop_mark();
        append(below(m), m);
        break;
      }
      case 's': {
        if (stack_.size() - fence() < 3) underflow(3);
        setitems(stack_[stack_.size() - 3], stack_.size() - 2);
        break;
      }
      case 'u': {
        const size_t m = pop_mark();
        setitems(below(m), m);
        break;
      }
      case 0x90: {  // ADDITEMS
        const size_t m = pop_mark();
        Value& target = below(m);
        if (target.kind() != Kind::kSet || m_.special(target))
          corrupt(std::string("ADDITEMS on a ") + (target.kind() == Kind::kSet ? "frozenset" : target.kind_name()));
        for (size_t i = m; i < stack_.size(); ++i)
          if (!is_key(stack_[i])) corrupt(std::string("unhashable set item of type ") + stack_[i].kind_name());
        auto& dst = target.items();
        dst.insert(dst.end(), std::make_move_iterator(stack_.begin() + m), std::make_move_iterator(stack_.end()));
        stack_.resize(m);
        break;
      }
      case 'b': build(); break;
      case 'c': {
        const std::string_view module = line();
        const std::string_view name = line();
        stack_.push_back(resolve(module, name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        Value name = pop(), module = pop();
        if (!module.is_string() || !name.is_string()) corrupt("STACK_GLOBAL operands must be two strings");
        stack_.push_back(resolve(module.as_string(), name.as_string()));
        break;
      }
      case 'R': {
        Value args = pop();
        Value f = pop();
        stack_.push_back(reduce(f, args));
        break;
      }
      case 0x81: {
        Value args = pop();
        Value cls = pop();
        stack_.push_back(newobj(cls, args, nullptr));
        break;
      }
      case 0x92: {
        Value kwargs = pop();
        Value args = pop();
        Value cls = pop();
        stack_.push_back(newobj(cls, args, &kwargs));
        break;
      }
      case 'Q': {
        Value pid = pop();
        if (!m_.opt.persistent_load) corrupt("persistent id, but this stream has no storages");
        auto r = m_.opt.persistent_load(pid, abs(op_pos));
        if (auto* s = std::get_if<StorageRef>(&r)) stack_.push_back(m_.make_storage(std::move(*s)));
        else stack_.push_back(std::move(std::get<Value>(r)));
        break;
      }
      case 'P': corrupt("text PERSID is not allowed");
      case 'q': memo_.put(*take(1), top()); break;
      case 'r': memo_.put(read_le<uint32_t>(), top()); break;
      case 0x94: memo_.put(memo_.size(), top()); break;
      case 'h':
      case 'j': {
        const uint64_t i = op == 'h' ? *take(1) : read_le<uint32_t>();
        const Value* v = memo_.get(i);
        if (!v) corrupt("memo index " + std::to_string(i) + " is not set");
        if (!replaced_.empty() && v->is_object()) {
          if (auto it = replaced_.find(v->node()); it != replaced_.end()) v = &it->second;
        }
        stack_.push_back(*v);
        break;
      }
      case 0x82: case 0x83: case 0x84: {  // EXT1/2/4 (PKL-07)
        const uint32_t code = op == 0x82 ? *take(1) : op == 0x83 ? read_le<uint16_t>() : read_le<uint32_t>();
        if (!m_.opaque()) fail(Error::Code::kForbidden, "extension code " + std::to_string(code) + " is not allowed");
        m_.warn("extension code " + std::to_string(code) + " kept as an inert reference");
        stack_.push_back(Value::global("ext", std::to_string(code)));
        break;
      }
      case 0x97: case 0x98: fail(Error::Code::kUnsupported, "out-of-band pickle buffers");
      case 'F': case 'I': case 'L': case 'S': case 'V': case 'd': case 'g': case 'i': case 'l':
      case 'p': case 'o':
        fail(Error::Code::kUnsupported, "pickle protocol < 2 not supported");
      default:
        corrupt("undefined opcode");
    }
  }
}

char hex_digit(int v) { return "0123456789abcdef"[v & 15]; }

}  // namespace
}  // namespace pickle

PickleResult unpickle(std::span<const std::byte> bytes, const PickleOptions& options, bool allow_trailing) {
  if (bytes.size() > options.limits.pickle_max_bytes) {
    Error e(Error::Code::kLimitExceeded, "pickle too large");
    e.limit("pickle.max_bytes", options.limits.pickle_max_bytes, bytes.size()).offset(options.base_offset);
    if (!options.member.empty()) e.member(options.member);
    throw e;
  }
  pickle::Vm vm(bytes, options);
  try {
    return vm.run(allow_trailing);
  } catch (Error& e) {
    const uint64_t off = options.base_offset + vm.op_pos;
    if (!e.limit_name().empty() || !e.member().empty() || !e.path().empty()) {
      e.offset(off);
      if (!options.member.empty()) e.member(options.member);
      throw;
    }
    const std::string prefix = vm.op_pos >= bytes.size()
                                   ? std::string("end of pickle: ")
                                   : std::string(pickle::opcode_name(vm.op)) + " (0x" + pickle::hex_digit(vm.op >> 4) +
                                         pickle::hex_digit(vm.op) + "): ";
    const std::string* key = vm.op == 'R' ? vm.pending_key() : nullptr;
    Error out(e.code(), prefix + e.message() + (key ? " (value of key '" + escape(*key) + "')" : ""));
    out.reader(e.reader()).offset(e.offset().value_or(off));
    if (!options.member.empty()) out.member(options.member);
    throw out;
  }
}

}  // namespace torchless
