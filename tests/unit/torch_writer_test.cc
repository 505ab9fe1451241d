// save() in the torch format: the zip layout byte by byte (formats.md 1.3 / 1.5), CRCs, read
// back through torchless::open, storage sharing, and the refusals of the compat profile.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <string>

#include "core/file.h"
#include "torchless/load.h"
#include "torchless/save.h"
#include "zip/zip.h"

using namespace torchless;

namespace {

std::string tmp_path(const std::string& name) {
  return ::testing::TempDir() + "/tw_" + std::to_string(::getpid()) + "_" + name;
}

Tensor iota(DType dt, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  Storage s = *Storage::allocate(static_cast<size_t>(n) * dtype_size(dt));
  for (size_t i = 0; i < s.nbytes(); ++i) s.mutable_data()[i] = static_cast<std::byte>(i * 7 + 3);
  return *Tensor::contiguous_over(s, dt, std::move(shape));
}

std::string bytes_of(const Tensor& t) {
  std::string b;
  t.for_each_chunk([&](const std::byte* p, size_t n) { b.append(reinterpret_cast<const char*>(p), n); });
  return b;
}


// A checkpoint with views sharing one storage, a 0-dim and an empty tensor, nested dicts.
Value checkpoint() {
  const Tensor base = iota(DType::kFloat32, {3, 4});
  Value sd = Value::dict(true);
  sd.as_dict().add("base", Value::tensor(base));
  sd.as_dict().add("t", Value::tensor(*Tensor::make(base.storage(), DType::kFloat32, {4, 3}, {1, 4}, 0)));
  sd.as_dict().add("row1", Value::tensor(*Tensor::make(base.storage(), DType::kFloat32, {4}, {1}, 4)));
  sd.as_dict().add("scalar", Value::tensor(iota(DType::kInt64, {})));
  sd.as_dict().add("empty", Value::tensor(iota(DType::kFloat16, {0, 3})));
  sd.as_dict().add("b16", Value::tensor(iota(DType::kBFloat16, {5})));
  Value meta = Value::dict(true);
  Value v1 = Value::dict();
  v1.as_dict().add("version", Value::integer(1));
  meta.as_dict().add("", v1);
  sd.as_dict().attributes.emplace_back("_metadata", meta);
  Value root = Value::dict();
  root.as_dict().add("model_state_dict", sd);
  root.as_dict().add("epoch", Value::integer(7));
  root.as_dict().add("big", Value::big_integer("-1180591620717411303424"));
  root.as_dict().add("loss", Value::floating(0.25));
  root.as_dict().add("name", Value::string("r\xc3\xa9sum\xc3\xa9"));
  root.as_dict().add("raw", Value::bytes(std::string("\x00\xff\x80z", 4)));
  Value groups = Value::list({Value::tuple({Value::integer(1), Value::none(), Value::boolean(true)})});
  root.as_dict().add("groups", groups);
  Value by_int = Value::dict();
  by_int.as_dict().items.emplace_back(Value::integer(-3), Value::integer(70000));
  by_int.as_dict().items.emplace_back(Value::integer(1) , Value::integer(int64_t{1} << 40));
  root.as_dict().add("by_int", by_int);
  return root;
}

uint32_t le32(const std::string& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}

}  // namespace

TEST(TorchWriter, LayoutIsTorchs) {
  const std::string path = tmp_path("layout.pt");
  ASSERT_TRUE(save(checkpoint(), path).ok());
  auto file = *MappedFile::open(path);
  const ZipReader zip = ZipReader::open(file, Limits{});
  std::vector<std::string> names;
  for (const ZipEntry& e : zip.entries()) {
    names.push_back(e.name);
    EXPECT_EQ(e.data_offset % 64, 0u) << e.name;
    EXPECT_EQ(e.method, 0);
    EXPECT_EQ(e.flags, e.size ? 0x0808 : 0x0800) << e.name;
    const Storage s = zip.read(e, /*verify_crc=*/true);
    EXPECT_EQ(e.crc32, crc32_z(0, reinterpret_cast<const Bytef*>(s.data()), s.nbytes())) << e.name;
  }
  // data/0: the shared float storage, data/1: int64, data/2: the empty half, data/3: bf16
  const std::vector<std::string> want = {"archive/data.pkl", "archive/.format_version", "archive/.storage_alignment",
                                         "archive/byteorder", "archive/data/0", "archive/data/1", "archive/data/2",
                                         "archive/data/3", "archive/version"};
  EXPECT_EQ(names, want);
  EXPECT_EQ(zip.read_text(*zip.find("archive/version")), "3\n");
  EXPECT_EQ(zip.read_text(*zip.find("archive/byteorder")), "little");
  EXPECT_EQ(zip.read_text(*zip.find("archive/.format_version")), "1");
  EXPECT_EQ(zip.read_text(*zip.find("archive/.storage_alignment")), "64");
  EXPECT_EQ(zip.find("archive/data/0")->size, 48u);
  EXPECT_EQ(zip.find("archive/data/2")->size, 0u);

  // Raw bytes: each local header's 'FB' extra pads to 64 with 'Z', descriptors are 16 bytes and
  // records are back to back (what torch 2.x predicts); the end is zip64 EOCD, locator, EOCD.
  const std::string raw(reinterpret_cast<const char*>(file->data()), file->size());
  for (const ZipEntry& e : zip.entries()) {
    const size_t h = e.local_offset;
    ASSERT_EQ(le32(raw, h), 0x04034b50u);
    const size_t name_len = static_cast<uint8_t>(raw[h + 26]) | static_cast<uint8_t>(raw[h + 27]) << 8;
    const size_t x = h + 30 + name_len;
    EXPECT_EQ(raw.substr(x, 2), "FB");
    const size_t pad = static_cast<uint8_t>(raw[x + 2]) | static_cast<uint8_t>(raw[x + 3]) << 8;
    EXPECT_EQ(raw.substr(x + 4, pad), std::string(pad, 'Z'));
    EXPECT_EQ(x + 4 + pad, e.data_offset);
    const size_t next = e.data_offset + e.size + (e.size ? 16 : 0);
    if (e.size) {
      EXPECT_EQ(le32(raw, next - 16), 0x08074b50u);
      EXPECT_EQ(le32(raw, next - 12), e.crc32);
    }
    if (e.index + 1 < zip.entries().size()) {
      EXPECT_EQ(zip.entries()[e.index + 1].local_offset, next);
    }
  }
  EXPECT_EQ(le32(raw, raw.size() - 22), 0x06054b50u);
  EXPECT_EQ(le32(raw, raw.size() - 42), 0x07064b50u);
  EXPECT_EQ(le32(raw, raw.size() - 98), 0x06064b50u);
  ::unlink(path.c_str());
}

TEST(TorchWriter, ReadsBackEqualAndShared) {
  const std::string path = tmp_path("back.pt");
  const Value root = checkpoint();
  ASSERT_TRUE(save(root, path).ok());
  for (bool map : {true, false}) {
    LoadOptions o;
    o.map = map;
    o.verify_crc = true;
    auto f = open(path, o);
    ASSERT_TRUE(f.ok()) << f.error().to_string();
    const Value& back = f->root;
    EXPECT_EQ(back.as_dict().find("epoch")->as_int(), 7);
    EXPECT_EQ(back.as_dict().find("big")->as_big_int(), "-1180591620717411303424");
    EXPECT_EQ(back.as_dict().find("loss")->as_float(), 0.25);
    EXPECT_EQ(back.as_dict().find("name")->as_string(), "r\xc3\xa9sum\xc3\xa9");
    EXPECT_EQ(back.as_dict().find("raw")->as_bytes(), std::string("\x00\xff\x80z", 4));
    const Value& g = back.as_dict().find("groups")->items()[0];
    ASSERT_TRUE(g.is_tuple());
    EXPECT_TRUE(g.items()[1].is_none());
    EXPECT_TRUE(g.items()[2].as_bool());
    const auto& by_int = back.as_dict().find("by_int")->as_dict().items;
    ASSERT_EQ(by_int.size(), 2u);
    EXPECT_EQ(by_int[0].first.as_int(), -3);
    EXPECT_EQ(by_int[1].second.as_int(), int64_t{1} << 40);

    const ValueDict& sd = back.as_dict().find("model_state_dict")->as_dict();
    const ValueDict& want = root.as_dict().find("model_state_dict")->as_dict();
    EXPECT_TRUE(sd.ordered);
    ASSERT_EQ(sd.items.size(), want.items.size());
    for (size_t i = 0; i < sd.items.size(); ++i) {
      const Tensor& a = sd.items[i].second.as_tensor();
      const Tensor& b = want.items[i].second.as_tensor();
      SCOPED_TRACE(sd.items[i].first.as_string());
      EXPECT_EQ(a.dtype(), b.dtype());
      EXPECT_EQ(a.shape(), b.shape());
      EXPECT_EQ(a.strides(), b.strides());
      EXPECT_EQ(a.storage_offset(), b.storage_offset());
      EXPECT_EQ(bytes_of(a), bytes_of(b));
    }
    const Tensor& base = sd.find("base")->as_tensor();
    EXPECT_TRUE(base.storage().same_as(sd.find("t")->as_tensor().storage()));
    EXPECT_TRUE(base.storage().same_as(sd.find("row1")->as_tensor().storage()));
    ASSERT_EQ(sd.attributes.size(), 1u);
    EXPECT_EQ(sd.attributes[0].first, "_metadata");
    EXPECT_EQ(sd.attributes[0].second.as_dict().find("")->as_dict().find("version")->as_int(), 1);
  }
  ::unlink(path.c_str());
}

TEST(TorchWriter, StateDictRoundTrip) {
  const std::string path = tmp_path("sd.pt");
  StateDict sd = {{"w", iota(DType::kComplex128, {2, 2})}, {"b", iota(DType::kBool, {3})}};
  sd.emplace_back("w_tied", sd[0].second);
  ASSERT_TRUE(save_state_dict(sd, path).ok());
  auto back = load_state_dict(path);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[0].first, "w");
  EXPECT_EQ(bytes_of((*back)[1].second), bytes_of(sd[1].second));
  EXPECT_TRUE((*back)[0].second.storage().same_as((*back)[2].second.storage()));
  ::unlink(path.c_str());
}

TEST(TorchWriter, RefusesWhatTorchCannotLoadSafely) {
  const std::string path = tmp_path("refused.pt");
  auto refused = [&](Value v, const std::string& needle) {
    Value root = Value::dict();
    Value inner = Value::dict();
    inner.as_dict().add("x", std::move(v));
    root.as_dict().add("opt", inner);
    auto st = save(root, path);
    ASSERT_FALSE(st.ok()) << needle;
    EXPECT_EQ(st.error().code(), Error::Code::kUnsupported);
    EXPECT_NE(st.error().message().find(needle), std::string::npos) << st.error().to_string();
    EXPECT_NE(st.error().message().find("opt.x"), std::string::npos) << st.error().to_string();
    EXPECT_NE(::access(path.c_str(), F_OK), 0);  // nothing left under the final name
  };
  refused(Value::set({Value::integer(1)}), "set");
  refused(Value::object("__main__", "Net"), "__main__.Net");
  refused(Value::global("os", "system"), "os.system");
  refused(Value::tensor(iota(DType::kQInt8, {2})), "qint8");
  Value bad_key = Value::dict();
  bad_key.as_dict().items.emplace_back(Value::list(), Value::none());
  refused(bad_key, "dict key");
  // One storage viewed as two dtypes.
  const Tensor f = iota(DType::kFloat32, {2});
  Value two = Value::list({Value::tensor(f), Value::tensor(*Tensor::make(f.storage(), DType::kInt32, {2}, {1}, 0))});
  refused(two, "viewed as both");
  SaveOptions st_opts;
  st_opts.format = SaveFormat::kSafetensors;
  // save() writes object trees, which only the torch format holds; state dicts go through
  // save_state_dict() to safetensors and shards.
  EXPECT_EQ(save(Value::dict(), path, st_opts).error().code(), Error::Code::kInvalidArgument);
}

TEST(TorchWriter, NewDtypesAsTorch2WritesThemWithWarnings) {
  // uint16/32/64, float8 and complex32 have no classic storage class: torch 2.x writes them
  // with _rebuild_tensor_v3 over an UntypedStorage whose numel counts bytes, and the dtype.
  const std::string path = tmp_path("v3.pt");
  const Tensor u16 = iota(DType::kUInt16, {2, 3});
  Value sd = Value::dict(true);
  sd.as_dict().add("u16", Value::tensor(u16));
  sd.as_dict().add("u16.t", Value::tensor(*Tensor::make(u16.storage(), DType::kUInt16, {3, 2}, {1, 3}, 0)));
  sd.as_dict().add("f8", Value::tensor(iota(DType::kFloat8E4M3FN, {4})));
  sd.as_dict().add("f8fnuz", Value::tensor(iota(DType::kFloat8E4M3FNUZ, {4})));
  sd.as_dict().add("u64", Value::tensor(iota(DType::kUInt64, {1})));
  sd.as_dict().add("c32", Value::tensor(iota(DType::kComplex32, {2})));
  sd.as_dict().add("f32", Value::tensor(iota(DType::kFloat32, {2})));
  Value root = Value::dict();
  root.as_dict().add("model", sd);
  root.as_dict().add("lr", Value::floating(0.1));
  root.as_dict().add("momentum", Value::floating(0.9));
  SaveOptions o;
  std::vector<std::string> warnings;
  o.warn = [&](const std::string& w) { warnings.push_back(w); };
  ASSERT_TRUE(save(root, path, o).ok());
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("Python floats (first at lr, 2 in all)"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("weights_only=False"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("uint16/float8_e4m3fn/float8_e4m3fnuz/uint64/complex32 tensors (first at model.u16, 6 in all)"),
            std::string::npos)
      << warnings[1];

  auto file = *MappedFile::open(path);
  const ZipReader zip = ZipReader::open(file, Limits{});
  const std::string pkl = zip.read_text(*zip.find("archive/data.pkl"));
  EXPECT_NE(pkl.find("ctorch._utils\n_rebuild_tensor_v3\n"), std::string::npos);
  EXPECT_NE(pkl.find("ctorch._utils\n_rebuild_tensor_v2\n"), std::string::npos);  // f32 stays as 1.13 writes it
  EXPECT_NE(pkl.find("ctorch.storage\nUntypedStorage\n"), std::string::npos);
  EXPECT_NE(pkl.find("ctorch\nfloat8_e4m3fn\n"), std::string::npos);
  EXPECT_NE(pkl.find("ctorch\ncomplex32\n"), std::string::npos);
  EXPECT_EQ(zip.find("archive/data/0")->size, 12u);  // u16 and its transpose share one storage

  auto back = load_state_dict(path, {.key = "model"});
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  const ValueDict& want = sd.as_dict();
  ASSERT_EQ(back->size(), want.items.size());
  for (size_t i = 0; i < back->size(); ++i) {
    const Tensor& a = (*back)[i].second;
    const Tensor& b = want.items[i].second.as_tensor();
    SCOPED_TRACE((*back)[i].first);
    EXPECT_EQ(a.dtype(), b.dtype());
    EXPECT_EQ(a.shape(), b.shape());
    EXPECT_EQ(a.strides(), b.strides());
    EXPECT_EQ(bytes_of(a), bytes_of(b));
  }
  EXPECT_TRUE((*back)[0].second.storage().same_as((*back)[1].second.storage()));

  // The 12 classic dtypes alone: nothing to warn about.
  warnings.clear();
  ASSERT_TRUE(save(*checkpoint().as_dict().find("model_state_dict"), path, o).ok());
  EXPECT_TRUE(warnings.empty());
  ::unlink(path.c_str());
}

TEST(TorchWriter, MemoAndLongIntegers) {
  // Hundreds of distinct strings push the memo past 255 (LONG_BINPUT / LONG_BINGET); ints
  // at every opcode boundary round-trip exactly.
  const std::string path = tmp_path("memo.pt");
  Value root = Value::list();
  const std::vector<int64_t> ints = {0, 255, 256, 65535, 65536, -1, INT32_MIN, INT32_MAX, int64_t{INT32_MAX} + 1,
                                     int64_t{INT32_MIN} - 1, INT64_MIN, INT64_MAX, -128, -129, -256, 128};
  for (int64_t i : ints) root.items().push_back(Value::integer(i));
  for (int i = 0; i < 600; ++i) root.items().push_back(Value::string("s" + std::to_string(i)));
  for (int i = 0; i < 600; ++i) root.items().push_back(Value::string("s" + std::to_string(i)));
  for (const char* big : {"9223372036854775808", "-9223372036854775809", "170141183460469231731687303715884105727",
                          "-170141183460469231731687303715884105728"})
    root.items().push_back(Value::big_integer(big));
  ASSERT_TRUE(save(root, path).ok());
  auto back = load(path);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  const auto& items = back->items();
  ASSERT_EQ(items.size(), ints.size() + 1204);
  for (size_t i = 0; i < ints.size(); ++i) EXPECT_EQ(items[i].as_int(), ints[i]) << i;
  for (int i = 0; i < 1200; ++i) EXPECT_EQ(items[ints.size() + i].as_string(), "s" + std::to_string(i % 600));
  EXPECT_EQ(items[ints.size() + 1200].as_big_int(), "9223372036854775808");
  EXPECT_EQ(items[ints.size() + 1201].as_big_int(), "-9223372036854775809");
  EXPECT_EQ(items[ints.size() + 1202].as_big_int(), "170141183460469231731687303715884105727");
  EXPECT_EQ(items[ints.size() + 1203].as_big_int(), "-170141183460469231731687303715884105728");
  ::unlink(path.c_str());
}

TEST(TorchWriter, NestingIsCapped) {
  const std::string path = tmp_path("deep.pt");
  auto nested = [](int depth) {
    Value v = Value::list();
    for (int i = 1; i < depth; ++i) v = Value::list({v});
    return v;
  };
  ASSERT_TRUE(save(nested(500), path).ok());
  auto back = load(path);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  int depth = 1;
  for (Value v = *back; !v.items().empty(); v = v.items()[0]) ++depth;
  EXPECT_EQ(depth, 500);
  auto st = save(nested(600), path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Error::Code::kUnsupported);
  EXPECT_NE(st.error().message().find("nesting deeper than 512"), std::string::npos) << st.error().to_string();
  ::unlink(path.c_str());
}
