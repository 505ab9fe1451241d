// The Engine API: metadata, dynamic shapes, input checks, bytes without external data,
// concurrent runs, and the op table's invariants. Models are built with ONNX's own protobuf
// classes; correctness on exported models is the engine interop suite's and the conformance
// suite's job.
#include <gtest/gtest.h>

#include <cstring>
#include <onnx/onnx_pb.h>
#include <string>
#include <thread>

#include "engine/kernel.h"
#include "torchless/engine.h"

namespace {

using namespace torchless;

void value_info(onnx::ValueInfoProto* v, const std::string& name, std::vector<std::string> dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  for (const auto& d : dims) {
    auto* dim = t->mutable_shape()->add_dim();
    if (std::isdigit(static_cast<unsigned char>(d[0]))) dim->set_dim_value(std::stoll(d));
    else dim->set_dim_param(d);
  }
}

// y = Relu(x + b), x: [batch, 3], b: [3] = {1, -2, 3}.
onnx::ModelProto add_relu() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("unit");
  m.set_producer_version("1");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("g");
  auto* add = g->add_node();
  add->set_op_type("Add");
  add->add_input("x");
  add->add_input("b");
  add->add_output("s");
  auto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->add_input("s");
  relu->add_output("y");
  auto* b = g->add_initializer();
  b->set_name("b");
  b->set_data_type(onnx::TensorProto::FLOAT);
  b->add_dims(3);
  for (float v : {1.f, -2.f, 3.f}) b->add_float_data(v);
  value_info(g->add_input(), "x", {"batch", "3"});
  value_info(g->add_output(), "y", {"batch", "3"});
  return m;
}

Result<Engine> from_proto(const onnx::ModelProto& m) {
  const std::string bytes = m.SerializeAsString();
  return Engine::from_bytes(std::span(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
}

Tensor floats(std::vector<int64_t> shape, const std::vector<float>& v) {
  Storage s = Storage::allocate(v.size() * 4).value();
  std::memcpy(s.mutable_data(), v.data(), v.size() * 4);
  return Tensor::contiguous_over(s, DType::kFloat32, std::move(shape)).value();
}

std::vector<float> values(const Tensor& t) {
  const auto* p = reinterpret_cast<const float*>(t.data());
  return std::vector<float>(p, p + t.numel());
}

TEST(Engine, Metadata) {
  auto e = from_proto(add_relu());
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  ASSERT_EQ(e->inputs().size(), 1u);  // the initializer b is not an input
  const TensorInfo& in = e->inputs()[0];
  EXPECT_EQ(in.name, "x");
  EXPECT_EQ(in.dtype, DType::kFloat32);
  EXPECT_EQ(in.shape, (std::vector<int64_t>{-1, 3}));
  EXPECT_EQ(in.dim_names[0], "batch");
  ASSERT_EQ(e->outputs().size(), 1u);
  EXPECT_EQ(e->outputs()[0].name, "y");
  EXPECT_EQ(e->opset(), 13);
  EXPECT_EQ(e->producer(), "unit 1");
}

TEST(Engine, DynamicBatch) {
  auto e = from_proto(add_relu());
  ASSERT_TRUE(e.ok());
  auto one = e->run({{"x", floats({1, 3}, {1, 1, -5})}});
  ASSERT_TRUE(one.ok()) << one.error().to_string();
  EXPECT_EQ(values((*one)[0]), (std::vector<float>{2, 0, 0}));
  auto two = e->run({{"x", floats({2, 3}, {0, 3, 0, -1, 2, -3})}});
  ASSERT_TRUE(two.ok());
  EXPECT_EQ((*two)[0].shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(values((*two)[0]), (std::vector<float>{1, 1, 3, 0, 0, 0}));
}

TEST(Engine, InputsAreChecked) {
  auto e = from_proto(add_relu());
  ASSERT_TRUE(e.ok());
  auto missing = e->run({});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Error::Code::kInvalidArgument);
  auto unknown = e->run({{"x", floats({1, 3}, {0, 0, 0})}, {"z", floats({1}, {0})}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("'z'"), std::string::npos);
  auto shape = e->run({{"x", floats({1, 4}, {0, 0, 0, 0})}});
  ASSERT_FALSE(shape.ok());
  EXPECT_EQ(shape.error().code(), Error::Code::kInvalidArgument);
  Storage s = Storage::allocate(24).value();
  auto ints = e->run({{"x", Tensor::contiguous_over(s, DType::kInt64, {1, 3}).value()}});
  ASSERT_FALSE(ints.ok());
  EXPECT_NE(ints.error().message().find("float32"), std::string::npos);
}

TEST(Engine, BytesCannotUseExternalData) {
  onnx::ModelProto m = add_relu();
  auto* b = m.mutable_graph()->mutable_initializer(0);
  b->clear_float_data();
  b->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* kv = b->add_external_data();
  kv->set_key("location");
  kv->set_value("weights.bin");
  auto e = from_proto(m);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), Error::Code::kForbidden);
  EXPECT_NE(e.error().to_string().find("initializer b"), std::string::npos) << e.error().to_string();
}

TEST(Engine, UnsupportedOpNamesTheNode) {
  onnx::ModelProto m = add_relu();
  m.mutable_graph()->mutable_node(1)->set_op_type("Bernoulli");  // random: never implemented
  m.mutable_graph()->mutable_node(1)->set_name("coin");
  auto e = from_proto(m);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), Error::Code::kUnsupported);
  EXPECT_NE(e.error().to_string().find("coin"), std::string::npos) << e.error().to_string();
}

TEST(Engine, ConcurrentRuns) {
  auto e = from_proto(add_relu());
  ASSERT_TRUE(e.ok());
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const float v = static_cast<float>(t * 1000 + i + 10);
        auto r = e->run({{"x", floats({1, 3}, {v, v, v})}});
        if (r.ok() && values((*r)[0]) == std::vector<float>{v + 1, v - 2, v + 3}) ++good;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 800);
}

TEST(Engine, OpTableIsSortedAndValid) {
  auto ops = engine::op_table();
  ASSERT_FALSE(ops.empty());
  for (size_t i = 0; i < ops.size(); ++i) {
    EXPECT_LE(ops[i].min_version, ops[i].max_version) << ops[i].name;
    EXPECT_LE(ops[i].max_version, 17) << ops[i].name;
    if (i) EXPECT_LT(std::string(ops[i - 1].name), std::string(ops[i].name)) << "op_table.inc is not sorted";
  }
}

}  // namespace
