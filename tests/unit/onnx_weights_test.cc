// ONNX initializers: raw_data from torch.onnx.export, typed fields and raw_data for every type
// from onnx.helper, external data written by onnx.save_model, and the ONNX-01..08 refusals.
#include "simplefmt_test_util.h"

namespace {

using namespace torchless;
using namespace simplefmt_test;

TEST(OnnxWeights, ModelsMatchTheWriter) {
  for (const char* rel : {"onnx/exported.onnx", "onnx/typed.onnx", "onnx/raw.onnx", "onnx/helper.onnx",
                          "onnx/ext/model.onnx", "onnx/hostile/onnx00_ext_ok_control/model.onnx"})
    expect_matches(rel, Format::kOnnx);
  LoadOptions copy;
  copy.map = false;
  expect_matches("onnx/ext/model.onnx", Format::kOnnx, copy);
}

TEST(OnnxWeights, HostileFilesAreRefusedWithTheirCode) {
  EXPECT_GE(expect_hostile("onnx", formats::read_onnx), 30u);
}

TEST(OnnxWeights, LimitsFromOptions) {
  LoadOptions o;
  o.limits.onnx_max_model_bytes = 100;
  auto r = read_with(formats::read_onnx, data_path("onnx/exported.onnx"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().limit_name(), "onnx.max_model_bytes");
  o = {};
  o.limits.tensor_max_numel = 100;
  r = read_with(formats::read_onnx, data_path("onnx/exported.onnx"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().limit_name(), "tensor.max_numel");
  EXPECT_FALSE(r.error().member().empty());
}

TEST(OnnxWeights, WireErrorsHaveOffsets) {
  auto r = read_with(formats::read_onnx, data_path("onnx/hostile/onnx01_wire_type.onnx"));
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(r.error().offset().has_value());
  auto f = MappedFile::open(data_path("onnx/hostile/onnx01_wire_type.onnx"));
  EXPECT_EQ(*r.error().offset(), (*f)->size() - 2);
}

}  // namespace
