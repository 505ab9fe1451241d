// Hugging Face sharded checkpoints: safetensors shards, torch .bin shards, the HF cache layout
// (snapshot symlinks into blobs/), and the IDX-01..06 refusals.
#include "simplefmt_test_util.h"

namespace {

using namespace torchless;
using namespace simplefmt_test;

TEST(HfIndex, SafetensorsShards) {
  expect_matches("hf/st/model.safetensors.index.json", Format::kHfSharded);
  auto f = open(data_path("hf/st/model.safetensors.index.json"));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->warnings.empty()) << f->warnings[0];  // total_size is the sum
}

TEST(HfIndex, CacheSnapshotSymlinksIntoBlobs) {
  expect_matches("hf/cache/models--org--net/snapshots/abc123/model.safetensors.index.json", Format::kHfSharded);
}

TEST(HfIndex, BinShards) {
  auto probe = read_with(formats::read_torch_zip, data_path("hf/bin/pytorch_model-00001-of-00003.bin"));
  if (!probe.ok() && probe.error().message() == "reader not implemented yet")
    GTEST_SKIP() << "read_torch_zip is not implemented yet";
  expect_matches("hf/bin/pytorch_model.bin.index.json", Format::kHfSharded);
  auto f = open(data_path("hf/bin/pytorch_model.bin.index.json"));
  ASSERT_TRUE(f.ok());
  // emb.weight and head.weight share one storage, which total_size counts once.
  EXPECT_TRUE(f->warnings.empty()) << f->warnings[0];
}

TEST(HfIndex, HostileIndexesAreRefusedWithTheirCode) {
  EXPECT_EQ(expect_hostile("hf_index", formats::read_hf_index), 17u);
}

TEST(HfIndex, LimitsFromOptions) {
  const std::string index = data_path("hf/st/model.safetensors.index.json");
  LoadOptions o;
  o.limits.index_max_shards = 2;
  auto r = read_with(formats::read_hf_index, index, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().limit_name(), "index.max_shards");
  o = {};
  o.limits.index_max_bytes = 64;
  r = read_with(formats::read_hf_index, index, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().limit_name(), "index.max_bytes");
  o = {};
  o.limits.json_max_depth = 1;
  r = read_with(formats::read_hf_index, index, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().limit_name(), "json.max_depth");
}

TEST(HfIndex, ErrorsNameTheShard) {
  auto r = read_with(formats::read_hf_index, data_path("hf/hostile/idx02_extra_tensor/model.safetensors.index.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().member().starts_with("model-0000")) << r.error().member();
  EXPECT_NE(r.error().message().find("weight_map does not list"), std::string::npos) << r.error().message();
}

}  // namespace
