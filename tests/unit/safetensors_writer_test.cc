// safetensors / Hugging Face shards / .npy writers (issue 4): what save_state_dict and save_npy
// write is read back by the torchless readers bit for bit, the bytes follow formats.md 8-10,
// and .npy files are byte-identical to numpy.save's (data/make_writers.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "torchless/load.h"
#include "torchless/save.h"

namespace {

using namespace torchless;
namespace fs = std::filesystem;

std::string data(const std::string& rel) { return std::string(TL_TESTDATA) + "/writers/" + rel; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh directory per test under the build tree.
std::string scratch(const std::string& name) {
  const std::string dir = std::string(TL_TESTDATA) + "/writers_out/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

SaveOptions st_options(uint64_t shard_size = 0) {
  SaveOptions o;
  o.format = SaveFormat::kSafetensors;
  o.shard_size = shard_size;
  return o;
}
SaveOptions torch_shards(uint64_t shard_size) {
  SaveOptions o;
  o.shard_size = shard_size;
  return o;
}

const StateDict& source() {
  static const StateDict sd = [] {
    auto r = load_state_dict(data("src.pt"));
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return r.ok() ? *r : StateDict{};
  }();
  return sd;
}

// The source without the dtypes safetensors cannot hold.
StateDict st_source() {
  StateDict sd;
  for (const auto& e : source())
    if (e.second.dtype() != DType::kComplex128) sd.push_back(e);
  return sd;
}

Tensor make(DType d, std::vector<int64_t> shape, const std::vector<uint8_t>& bytes) {
  Storage s = *Storage::allocate(bytes.size());
  std::memcpy(s.mutable_data(), bytes.data(), bytes.size());
  return *Tensor::contiguous_over(s, d, std::move(shape));
}

// Same names, dtypes, shapes and bytes, in any order.
void expect_same(const StateDict& want, const StateDict& got) {
  std::map<std::string, const Tensor*> by_name;
  for (const auto& [n, t] : got) by_name[n] = &t;
  ASSERT_EQ(by_name.size(), got.size()) << "duplicate names";
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [n, t] : want) {
    SCOPED_TRACE(n);
    ASSERT_TRUE(by_name.count(n));
    const Tensor& g = *by_name[n];
    EXPECT_EQ(g.dtype(), t.dtype());
    EXPECT_EQ(g.shape(), t.shape());
    EXPECT_EQ(sha256_hex(g), sha256_hex(t));
  }
}

TEST(SafetensorsWriter, RoundTripBitExact) {
  const StateDict sd = st_source();
  ASSERT_GT(sd.size(), 10u);
  const std::string out = scratch("roundtrip") + "/m.safetensors";
  auto s = save_state_dict(sd, out, st_options());
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  auto f = open(out);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->format, Format::kSafetensors);
  expect_same(sd, f->tensors);
  // no temporary file left behind
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(fs::path(out).parent_path())) files += !e.path().empty();
  EXPECT_EQ(files, 1u);
}

TEST(SafetensorsWriter, ExactBytesOfTheSpecExample) {
  std::vector<uint8_t> w(24), b = {0xc0, 0x3f, 0x00, 0xc0, 0x40, 0x40};  // bf16 1.5, -2, 3
  for (int i = 0; i < 6; ++i) {
    const float v = static_cast<float>(i);
    std::memcpy(&w[4 * i], &v, 4);
  }
  // given in the "wrong" order: the writer sorts F32 before BF16
  StateDict sd = {{"b", make(DType::kBFloat16, {3}, b)}, {"w", make(DType::kFloat32, {2, 3}, w)}};
  const std::string out = scratch("example") + "/e.safetensors";
  ASSERT_TRUE(save_state_dict(sd, out, st_options()).ok());
  const std::string bytes = slurp(out);
  ASSERT_EQ(bytes.size(), 182u);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n, 144u);
  EXPECT_EQ(bytes.substr(8, 144),
            R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
            R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[24,30]}})");
  EXPECT_EQ(bytes.substr(152, 24), std::string(reinterpret_cast<const char*>(w.data()), 24));
  EXPECT_EQ(bytes.substr(176), std::string(reinterpret_cast<const char*>(b.data()), 6));
}

TEST(SafetensorsWriter, PaddingOrderingAndMetadata) {
  const StateDict sd = st_source();
  const std::string out = scratch("order") + "/m.safetensors";
  SaveOptions o = st_options();
  o.metadata = {{"source", "unit \"test\""}};
  ASSERT_TRUE(save_state_dict(sd, out, o).ok());
  const std::string bytes = slurp(out);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header.rfind(R"({"__metadata__":{"format":"pt","source":"unit \"test\""},)", 0), 0u) << header;
  EXPECT_NE(header.back(), ',');
  // Reference order: descending dtype rank, then name; offsets ascending.
  const std::vector<std::string> order = {"i64", "f64", "c64", "empty", "f32", "scalar", "sliced", "transposed",
                                          "i32", "long1d", "bf16", "f16", "i16", "i8", "u8", "bool"};
  size_t pos = 0;
  for (const auto& name : order) {
    const size_t at = header.find("\"" + name + "\":{");
    ASSERT_NE(at, std::string::npos) << name;
    EXPECT_GT(at, pos) << name << " out of order";
    pos = at;
  }
  auto f = load(out);
  ASSERT_TRUE(f.ok());
  const Value* md = nullptr;
  for (const auto& [k, v] : f->as_dict().attributes)
    if (k == "__metadata__") md = v.as_dict().find("source");
  ASSERT_TRUE(md);
  EXPECT_EQ(md->as_string(), "unit \"test\"");
}

TEST(SafetensorsWriter, TiedTensorsWrittenOnceAndRestored) {
  Tensor emb = make(DType::kFloat32, {2, 2}, {0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64});
  StateDict sd = {{"emb.weight", emb}, {"other", make(DType::kInt8, {1}, {7})}, {"head.weight", emb}};
  const std::string out = scratch("tied") + "/t.safetensors";
  ASSERT_TRUE(save_state_dict(sd, out, st_options()).ok());
  const std::string bytes = slurp(out);
  EXPECT_NE(bytes.find(R"("torchless.aliases":"{\"head.weight\": \"emb.weight\"}")"), std::string::npos);
  EXPECT_EQ(bytes.find(R"("head.weight":{)"), std::string::npos);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(bytes.size(), 8 + n + 16 + 1);  // the tied bytes once
  auto f = open(out);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  expect_same(sd, f->tensors);
}

TEST(SafetensorsWriter, RefusesWhatSafetensorsCannotHold) {
  StateDict sd;
  for (const auto& e : source())
    if (e.first == "c128") sd.push_back(e);
  ASSERT_EQ(sd.size(), 1u);
  const std::string dir = scratch("refuse");
  auto s = save_state_dict(sd, dir + "/c.safetensors", st_options());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Error::Code::kUnsupported);
  EXPECT_EQ(s.error().member(), "c128");
  EXPECT_FALSE(fs::exists(dir + "/c.safetensors"));
  EXPECT_TRUE(fs::is_empty(dir));  // the temporary file is gone too
}

// 40 + 40 | 100 (over the limit: alone, appended at once) | 40 + 8, with limit 96.
StateDict shard_source() {
  auto t = [](size_t n) { return make(DType::kUInt8, {static_cast<int64_t>(n)}, std::vector<uint8_t>(n, static_cast<uint8_t>(n))); };
  Tensor a = t(40);
  return {{"a", a}, {"b", t(40)}, {"c", t(40)}, {"big", t(100)}, {"a_tied", a}, {"d", t(8)}};
}

TEST(ShardsWriter, SplitIndexAndReread) {
  const StateDict sd = shard_source();
  const std::string dir = scratch("shards");
  SaveOptions o = st_options(96);
  auto s = save_state_dict(sd, dir + "/model.safetensors", o);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_FALSE(fs::exists(dir + "/model.safetensors"));
  EXPECT_EQ(slurp(dir + "/model.safetensors.index.json"),
            "{\n"
            "  \"metadata\": {\n"
            "    \"total_size\": 228\n"
            "  },\n"
            "  \"weight_map\": {\n"
            "    \"a\": \"model-00001-of-00003.safetensors\",\n"
            "    \"a_tied\": \"model-00001-of-00003.safetensors\",\n"
            "    \"b\": \"model-00001-of-00003.safetensors\",\n"
            "    \"big\": \"model-00002-of-00003.safetensors\",\n"
            "    \"c\": \"model-00003-of-00003.safetensors\",\n"
            "    \"d\": \"model-00003-of-00003.safetensors\"\n"
            "  }\n"
            "}\n");
  auto shard1 = load_state_dict(dir + "/model-00001-of-00003.safetensors");
  ASSERT_TRUE(shard1.ok());
  EXPECT_EQ(shard1->size(), 3u);
  auto f = open(dir + "/model.safetensors.index.json");
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->format, Format::kHfSharded);
  expect_same(sd, f->tensors);
  // The directory stands for its index, as transformers looks it up.
  auto by_dir = load_state_dict(dir);
  ASSERT_TRUE(by_dir.ok()) << by_dir.error().to_string();
  expect_same(sd, *by_dir);
  const std::string empty = scratch("no_weights");
  EXPECT_EQ(open(empty).error().code(), Error::Code::kUnsupported);  // hostile FMT-03
}

TEST(ShardsWriter, OneShardIsWrittenUnsharded) {
  const std::string dir = scratch("one_shard");
  SaveOptions o = st_options(1 << 20);
  ASSERT_TRUE(save_state_dict(shard_source(), dir + "/model.safetensors", o).ok());
  EXPECT_TRUE(fs::exists(dir + "/model.safetensors"));
  EXPECT_FALSE(fs::exists(dir + "/model.safetensors.index.json"));
}

TEST(ShardsWriter, TorchBinShards) {
  const StateDict sd = shard_source();
  const std::string dir = scratch("bin_shards");
  auto s = save_state_dict(sd, dir + "/pytorch_model.bin", torch_shards(96));
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_TRUE(fs::exists(dir + "/pytorch_model-00003-of-00003.bin"));
  EXPECT_NE(slurp(dir + "/pytorch_model.bin.index.json").find("\"big\": \"pytorch_model-00002-of-00003.bin\""),
            std::string::npos);
  auto f = open(dir + "/pytorch_model.bin.index.json");
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  expect_same(sd, f->tensors);
}

TEST(Writers, ProgressGrowsToTheTotal) {
  // 3 x 24 MiB: several 16 MiB chunks per file, two shards at a 60 MB limit.
  StateDict sd;
  for (int i = 0; i < 3; ++i) {
    std::vector<uint8_t> bytes(size_t{24} << 20, static_cast<uint8_t>(i));
    sd.emplace_back("w" + std::to_string(i), make(DType::kFloat32, {static_cast<int64_t>(bytes.size() / 4)}, bytes));
  }
  const std::string dir = scratch("progress");
  const std::pair<const char*, SaveOptions> cases[] = {
      {"m.pt", SaveOptions{}}, {"m.safetensors", st_options()}, {"model.safetensors", st_options(60'000'000)},
      {"pytorch_model.bin", torch_shards(60'000'000)}};
  for (const auto& [name, options] : cases) {
    SCOPED_TRACE(name);
    std::vector<std::pair<uint64_t, uint64_t>> calls;
    SaveOptions o = options;
    o.progress = [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); };
    auto st = save_state_dict(sd, dir + "/" + name, o);
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    ASSERT_GE(calls.size(), 4u);
    const uint64_t total = calls.back().second;
    EXPECT_GE(total, uint64_t{72} << 20);
    EXPECT_LT(total, (uint64_t{72} << 20) + 4096);
    EXPECT_EQ(calls.back().first, total);
    for (size_t i = 0; i < calls.size(); ++i) {
      EXPECT_EQ(calls[i].second, total) << i;
      if (i) {
        EXPECT_GE(calls[i].first, calls[i - 1].first) << i;
      }
    }
  }
  EXPECT_TRUE(fs::exists(dir + "/model-00002-of-00002.safetensors"));
  EXPECT_TRUE(fs::exists(dir + "/pytorch_model-00002-of-00002.bin"));
  fs::remove_all(dir);
}

TEST(NpyWriter, BytesIdenticalToNumpySave) {
  const std::string dir = scratch("npy");
  ASSERT_GT(source().size(), 10u);
  for (const auto& [name, t] : source()) {
    SCOPED_TRACE(name);
    const std::string out = dir + "/" + name + ".npy";
    auto s = save_npy(t, out);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    const std::string want = slurp(data("npy/" + name + ".npy")), got = slurp(out);
    ASSERT_FALSE(want.empty());
    const size_t hlen = 10 + static_cast<uint8_t>(want[8]) + 256 * static_cast<uint8_t>(want[9]);
    EXPECT_EQ(got.substr(0, hlen), want.substr(0, hlen));
    EXPECT_EQ(hlen % 64, 0u);
    EXPECT_TRUE(got == want) << "data differs";
  }
}

TEST(NpyWriter, Float8WidenedToFloat32) {
  struct Case {
    DType d;
    uint8_t bits;
    float want;
  } cases[] = {
      {DType::kFloat8E4M3FN, 0x7e, 448.0f},   {DType::kFloat8E4M3FN, 0x01, 0x1p-9f},
      {DType::kFloat8E4M3FN, 0xb8, -1.0f},    {DType::kFloat8E5M2, 0x7b, 57344.0f},
      {DType::kFloat8E5M2, 0xfc, -std::numeric_limits<float>::infinity()},  {DType::kFloat8E4M3FNUZ, 0x40, 1.0f},
      {DType::kFloat8E5M2FNUZ, 0x40, 1.0f},   {DType::kFloat8E8M0FNU, 0x7f, 1.0f},
      {DType::kFloat8E8M0FNU, 0x00, 0x1p-127f},
  };
  const std::string dir = scratch("npy_f8");
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(dtype_name(c.d)) + " " + std::to_string(c.bits));
    ASSERT_TRUE(save_npy(make(c.d, {1}, {c.bits}), dir + "/x.npy").ok());
    auto f = load_state_dict(dir + "/x.npy");
    ASSERT_TRUE(f.ok()) << f.error().to_string();
    ASSERT_EQ(f->size(), 1u);
    const Tensor& t = (*f)[0].second;
    ASSERT_EQ(t.dtype(), DType::kFloat32);
    float v;
    std::memcpy(&v, t.data(), 4);
    EXPECT_EQ(v, c.want);
  }
  for (DType d : {DType::kFloat8E4M3FN, DType::kFloat8E4M3FNUZ, DType::kFloat8E8M0FNU}) {
    ASSERT_TRUE(save_npy(make(d, {1}, {static_cast<uint8_t>(d == DType::kFloat8E4M3FN ? 0x7f : d == DType::kFloat8E8M0FNU ? 0xff : 0x80)}),
                         dir + "/nan.npy").ok());
    auto f = load_state_dict(dir + "/nan.npy");
    ASSERT_TRUE(f.ok());
    float v;
    std::memcpy(&v, (*f)[0].second.data(), 4);
    EXPECT_TRUE(std::isnan(v)) << dtype_name(d);
  }
}

}  // namespace
