// Unit tests of the restricted unpickler (src/pickle). The cases come from
// tests/unit/data/make_pickle.py: real pickles written by Python / torch / numpy and hostile
// streams assembled byte by byte, each with its expected outcome in cases.json. For accepted
// pickles the script records a canonical description of the value (its desc()); desc() below
// computes the same string from the Value tree, so every int, float bit pattern, string byte,
// tensor dtype/shape/SHA-256 and container shape is compared.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/check.h"
#include "pickle/unpickler.h"

namespace torchless {
namespace {

const std::string kDir = std::string(TL_TESTDATA) + "/pickle/";

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::span<const std::byte> span_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// ---- desc(): the same canonical text as make_pickle.py's desc() ------------------------------
std::string esc(std::string_view b) {
  std::string out;
  for (unsigned char c : b) {
    if (c >= 32 && c < 127 && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string desc(const Value& v);
std::string join(const std::vector<Value>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? "," : "") + desc(items[i]);
  return s;
}
std::string join(const std::vector<std::pair<Value, Value>>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? "," : "") + desc(items[i].first) + ":" + desc(items[i].second);
  return s;
}

std::string desc(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNone: return "None";
    case Value::Kind::kBool: return v.as_bool() ? "True" : "False";
    case Value::Kind::kInt: return std::to_string(v.as_int());
    case Value::Kind::kBigInt: return v.as_big_int();
    case Value::Kind::kFloat: {
      double d = v.as_float();
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      char buf[32];
      std::snprintf(buf, sizeof buf, "f:%016llx", static_cast<unsigned long long>(bits));
      return buf;
    }
    case Value::Kind::kString: return "s\"" + esc(v.as_string()) + "\"";
    case Value::Kind::kBytes: return "b\"" + esc(v.as_bytes()) + "\"";
    case Value::Kind::kList: return "[" + join(v.items()) + "]";
    case Value::Kind::kTuple: return "(" + join(v.items()) + ")";
    case Value::Kind::kSet: {
      std::vector<std::string> d;
      for (const Value& i : v.items()) d.push_back(desc(i));
      std::sort(d.begin(), d.end());
      std::string s = "{set:";
      for (size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + d[i];
      return s + "}";
    }
    case Value::Kind::kDict: {
      const ValueDict& d = v.as_dict();
      std::string s = (d.ordered ? "OD{" : "{") + join(d.items) + "}";
      if (!d.attributes.empty()) {
        s += "@{";
        for (size_t i = 0; i < d.attributes.size(); ++i)
          s += (i ? "," : "") + desc(Value::string(d.attributes[i].first)) + ":" + desc(d.attributes[i].second);
        s += "}";
      }
      return s;
    }
    case Value::Kind::kTensor: {
      const Tensor& t = v.as_tensor();
      std::string s = "T(" + std::string(dtype_name(t.dtype())) + ",[";
      for (size_t i = 0; i < t.ndim(); ++i) s += (i ? "," : "") + std::to_string(t.shape()[i]);
      return s + "]," + sha256_hex(t) + ")";
    }
    case Value::Kind::kObject: {
      const ValueObject& o = v.as_object();
      std::string s = (o.is_call ? "C" : "O") + o.qualified_name() + "(" + join(o.args) + ")";
      for (const Value& st : o.state) s += "[" + desc(st) + "]";
      if (!o.appended.empty()) s += "+[" + join(o.appended) + "]";
      if (!o.set_items.empty()) s += "+{" + join(o.set_items) + "}";
      return s;
    }
    case Value::Kind::kGlobal: return "G" + v.as_global().module + "." + v.as_global().name;
  }
  return "?";
}

// ---- a persistent_load over <dir>/data/<key>, validating the id like a zip reader ------------
struct DirStorages {
  std::string dir;
  std::map<std::string, StorageRef> cache;

  std::variant<StorageRef, Value> load(const Value& pid) {
    if (!pid.is_tuple() || pid.items().size() != 5) corrupt("persistent id is not a 5-tuple");
    const auto& it = pid.items();
    if (!it[0].is_string() || it[0].as_string() != "storage") corrupt("persistent id tag is not 'storage'");
    if (it[1].kind() != Value::Kind::kGlobal) corrupt("storage type is not a class");
    auto dtype = storage_class_dtype(it[1].as_global().module, it[1].as_global().name);
    if (!dtype) corrupt("not a storage class");
    if (!it[2].is_string() || !it[3].is_string() || !it[4].is_int()) corrupt("bad persistent id field types");
    const std::string& key = it[2].as_string();
    if (key.find_first_of("/\\") != key.npos || key.find("..") != key.npos || key.find('\0') != key.npos)
      fail(Error::Code::kForbidden, "storage key is a path");
    if (key.empty() || key.find_first_not_of("0123456789") != key.npos) corrupt("storage key is not decimal");
    if (it[4].as_int() < 0) corrupt("negative numel");
    auto found = cache.find(key);
    if (found == cache.end()) {
      auto bytes = std::make_shared<std::string>(read_file(dir + "/data/" + key));
      StorageRef ref{Storage::wrap(reinterpret_cast<const std::byte*>(bytes->data()), bytes->size(), bytes), *dtype};
      found = cache.emplace(key, ref).first;
    }
    if (found->second.dtype != *dtype) corrupt("storage type differs from the first reference");
    if (static_cast<uint64_t>(it[4].as_int()) * dtype_size(*dtype) != found->second.storage.nbytes())
      corrupt("numel does not match the record size");
    return found->second;
  }
};

PickleOptions options_for(const std::string& mode, const std::string& storage_dir) {
  PickleOptions o;
  o.opaque = mode != "strict";
  o.permissive = mode == "permissive";
  o.member = "test/data.pkl";
  if (!storage_dir.empty()) {
    auto st = std::make_shared<DirStorages>();
    st->dir = kDir + storage_dir;
    o.persistent_load = [st](const Value& pid, uint64_t) { return st->load(pid); };
  }
  return o;
}

Result<PickleResult> run(const std::string& bytes, const PickleOptions& o, bool allow_trailing = false) {
  return guard("pickle", "", [&] { return unpickle(span_of(bytes), o, allow_trailing); });
}

// formats.md 4: state-dict names of a whole-model pickle.
void walk_module(const Value& obj, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  ASSERT_TRUE(obj.is_object());
  const ValueDict* d = obj.as_object().state_dict();
  ASSERT_NE(d, nullptr);
  std::vector<std::string> skip;
  if (const Value* s = d->find("_non_persistent_buffers_set"); s && s->kind() == Value::Kind::kSet)
    for (const Value& n : s->items()) skip.push_back(n.as_string());
  for (const char* part : {"_parameters", "_buffers"}) {
    const Value* p = d->find(part);
    ASSERT_TRUE(p && p->is_dict()) << part;
    for (const auto& [k, t] : p->as_dict().items)
      if (t.is_tensor() && std::find(skip.begin(), skip.end(), k.as_string()) == skip.end())
        out.emplace_back(prefix + k.as_string(), desc(t));
  }
  const Value* m = d->find("_modules");
  ASSERT_TRUE(m && m->is_dict());
  for (const auto& [k, child] : m->as_dict().items)
    if (child.is_object()) walk_module(child, prefix + k.as_string() + ".", out);
}

// formats.md 5: TorchScript objects keep attributes directly in their state dict.
void walk_script(const Value& obj, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  ASSERT_TRUE(obj.is_object());
  EXPECT_EQ(obj.as_object().module.rfind("__torch__", 0), 0u) << obj.as_object().module;
  const ValueDict* d = obj.as_object().state_dict();
  ASSERT_NE(d, nullptr);
  for (const auto& [k, v] : d->items) {
    if (v.is_tensor()) out.emplace_back(prefix + k.as_string(), desc(v));
    if (v.is_object()) walk_script(v, prefix + k.as_string() + ".", out);
  }
}

TEST(Pickle, GeneratedCases) {
  std::ifstream f(kDir + "cases.json");
  ASSERT_TRUE(f) << "missing " << kDir << "cases.json (run make_pickle.py)";
  const auto cases = nlohmann::json::parse(f);
  ASSERT_GT(cases.size(), 150u);
  int checked = 0;
  for (const auto& c : cases) {
    const std::string name = c["name"], expect = c["expect"], mode = c["mode"];
    SCOPED_TRACE(name);
    const std::string bytes = read_file(kDir + std::string(c["file"]));
    auto r = run(bytes, options_for(mode, c.value("storage", "")));
    if (expect != "ok") {
      ASSERT_FALSE(r.ok()) << "accepted; expected " << expect;
      EXPECT_EQ(code_name(r.error().code()), expect) << r.error().to_string();
      EXPECT_EQ(r.error().member(), "test/data.pkl");
      EXPECT_TRUE(r.error().offset().has_value()) << r.error().to_string();
      ++checked;
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->consumed, bytes.size());
    if (c.contains("desc") && c["desc"] != "*") {
      EXPECT_EQ(desc(r->root), std::string(c["desc"]));
    }
    if (c.contains("warn")) {  // an inert global, or a warning about what was recorded
      const std::string w = c["warn"];
      const auto mentions = [&](const std::string& s) { return s.find(w) != s.npos; };
      EXPECT_TRUE(std::any_of(r->warnings.begin(), r->warnings.end(), mentions) ||
                  std::any_of(r->inert_globals.begin(), r->inert_globals.end(), mentions))
          << "neither a warning nor an inert global mentions " << w;
    }
    if (c.contains("walk")) {
      std::vector<std::pair<std::string, std::string>> got, want;
      for (const auto& e : c["state_dict"]) want.emplace_back(e[0], e[1]);
      if (c["walk"] == "module") {
        walk_module(r->root, "", got);
      } else {
        walk_script(r->root, "", got);
        std::sort(got.begin(), got.end());
        std::sort(want.begin(), want.end());
      }
      EXPECT_EQ(got, want);
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(cases.size()));
}

// Bytes from a list of byte values (avoids C++ hex-escape and NUL pitfalls in literals).
std::string B(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s += static_cast<char>(b);
  return s;
}

PickleResult must(const std::string& bytes, const PickleOptions& o = {}, bool trailing = false) {
  auto r = run(bytes, o, trailing);
  if (!r.ok()) ADD_FAILURE() << r.error().to_string();
  return r.ok() ? std::move(*r) : PickleResult{};
}

TEST(Pickle, MemoAliasesContainers) {
  // d = {}; [d, d] then SETITEM through BINGET: both list items are the same node.
  const std::string p = B({0x80, 2, ']', 'q', 0, '(', '}', 'q', 1, 'h', 1, 'e', 'h', 1, 'K', 1, 'K', 2, 's',
                           '0', '.'});
  auto r = must(p);
  ASSERT_TRUE(r.root.is_list());
  ASSERT_EQ(r.root.items().size(), 2u);
  EXPECT_EQ(r.root.items()[0].node(), r.root.items()[1].node());
  EXPECT_EQ(desc(r.root), "[{1:2},{1:2}]");
}

TEST(Pickle, SharedStorageAndViews) {
  auto r = must(read_file(kDir + "synth_shared_storage.pkl"), options_for("strict", "synth"));
  ASSERT_TRUE(r.root.is_list());
  const Tensor& a = r.root.items()[0].as_tensor();
  const Tensor& b = r.root.items()[1].as_tensor();
  EXPECT_TRUE(a.storage().same_as(b.storage()));
  EXPECT_EQ(b.storage_offset(), 2);
}

TEST(Pickle, TrailingBytesAllowedForLegacyStreams) {
  const std::string p = B({0x80, 2, 'K', 1, '.', 0x80, 2, 'K', 2, '.'});
  auto r = must(p, {}, true);
  EXPECT_EQ(r.consumed, 5u);
  EXPECT_EQ(desc(r.root), "1");
  auto bad = run(p, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Error::Code::kCorrupt);
  EXPECT_EQ(bad.error().offset(), 5u);
}

TEST(Pickle, ErrorsNameOpcodeOffsetAndMember) {
  PickleOptions o;
  o.base_offset = 1000;
  o.member = "archive/data.pkl";
  auto r = run(B({0x80, 2, 'K', 1, 0xff, '.'}), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Error::Code::kCorrupt);
  EXPECT_EQ(r.error().offset(), 1004u);
  EXPECT_EQ(r.error().member(), "archive/data.pkl");
  EXPECT_NE(r.error().message().find("0xff"), std::string::npos) << r.error().message();

  const std::string call = B({0x80, 2}) + "cos\nsystem\n" + B({'X', 2, 0, 0, 0, 'l', 's', 0x85, 'R', '.'});
  o.opaque = false;
  auto f = run(call, o);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code(), Error::Code::kForbidden);
  EXPECT_NE(f.error().message().find("os.system"), std::string::npos) << f.error().message();
  EXPECT_EQ(f.error().offset(), 1000u + 2);  // the GLOBAL, in strict mode
  o.opaque = true;
  auto g = run(call, o);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code(), Error::Code::kForbidden);
  EXPECT_EQ(g.error().offset(), 1000u + 21);  // the REDUCE
  EXPECT_NE(g.error().message().find("REDUCE"), std::string::npos) << g.error().message();
}

TEST(Pickle, Limits) {
  PickleOptions o;
  o.limits.pickle_max_memo = 3;
  std::string p = B({0x80, 2, 'N'});
  for (int i = 0; i < 4; ++i) p += B({'q', i});
  auto r = run(p + ".", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Error::Code::kLimitExceeded);
  EXPECT_EQ(r.error().limit_name(), "pickle.max_memo");
  // Overwriting an index is not a new entry.
  p = B({0x80, 2, 'N'});
  for (int i = 0; i < 10; ++i) p += B({'q', 0});
  must(p + ".", o);

  PickleOptions d;
  d.limits.pickle_max_depth = 3;
  must(B({0x80, 2}) + "]]]aa.", d);
  auto deep = run(B({0x80, 2}) + "]]]]aaa.", d);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().limit_name(), "pickle.max_depth");

  PickleOptions b;
  b.limits.pickle_max_bytes = 4;
  auto big = run(B({0x80, 2, 'K', 1, '.'}), b);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().limit_name(), "pickle.max_bytes");

  PickleOptions l;
  l.limits.pickle_max_long_bytes = 20;
  auto r20 = must(B({0x80, 2, 0x8a, 20}) + std::string(19, '\0') + B({1, '.'}), l);
  EXPECT_EQ(desc(r20.root), "5708990770823839524233143877797980545530986496");  // 2**152
}

TEST(Pickle, StorageClassDtype) {
  EXPECT_EQ(storage_class_dtype("torch", "FloatStorage"), DType::kFloat32);
  EXPECT_EQ(storage_class_dtype("torch", "BFloat16Storage"), DType::kBFloat16);
  EXPECT_EQ(storage_class_dtype("torch", "UntypedStorage"), DType::kUInt8);
  EXPECT_EQ(storage_class_dtype("torch", "Size"), std::nullopt);
  EXPECT_EQ(storage_class_dtype("torchx", "FloatStorage"), std::nullopt);
}

TEST(Pickle, ManyTensorsQuickly) {
  const std::string bytes = read_file(kDir + "many.pkl");
  ASSERT_FALSE(bytes.empty());
  const auto t0 = std::chrono::steady_clock::now();
  auto r = must(bytes, options_for("strict", "many"));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r.root.is_dict());
  EXPECT_EQ(r.root.as_dict().items.size(), 5000u);
  std::printf("unpickled 5000 tensors (%zu bytes) in %.2f ms\n", bytes.size(), ms);
}

}  // namespace
}  // namespace torchless
