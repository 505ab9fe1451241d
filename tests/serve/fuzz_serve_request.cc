// libFuzzer: request bodies through the server's handler, exactly as the HTTP layer hands them
// over (precheck, then handle), on two real models: "pair" (x FP32 [-1, 4] -> y = x + 1,
// k INT64 [-1, 2] -> z = k) for the OIP route and "one" (x FP32 [-1, 4]) for /predict.
// The first input byte picks the route: /predict JSON, OIP JSON, or OIP with the binary tensor
// extension (the next two bytes give Inference-Header-Content-Length). Any 500 — a client's
// bytes reaching a server fault — traps, as does a crash or a sanitizer report.
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>

#include "serve/app.h"

namespace fs = std::filesystem;
using namespace torchless;
using namespace torchless::serve;

namespace {

void add_io(onnx::ValueInfoProto* vi, const char* name, int elem, int width) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  tt->mutable_shape()->add_dim()->set_dim_param("batch");
  tt->mutable_shape()->add_dim()->set_dim_value(width);
}

void write_model(const fs::path& dir, bool pair) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("fuzz");
  auto* one = g->add_initializer();
  one->set_name("one");
  one->set_data_type(onnx::TensorProto::FLOAT);
  one->add_float_data(1.0f);
  auto* add = g->add_node();
  add->set_op_type("Add");
  add->add_input("x");
  add->add_input("one");
  add->add_output("y");
  add_io(g->add_input(), "x", onnx::TensorProto::FLOAT, 4);
  add_io(g->add_output(), "y", onnx::TensorProto::FLOAT, 4);
  if (pair) {
    auto* id = g->add_node();
    id->set_op_type("Identity");
    id->add_input("k");
    id->add_output("z");
    add_io(g->add_input(), "k", onnx::TensorProto::INT64, 2);
    add_io(g->add_output(), "z", onnx::TensorProto::INT64, 2);
  }
  fs::create_directories(dir / "1");
  std::ofstream out(dir / "1" / "model.onnx", std::ios::binary);
  m.SerializeToOstream(&out);
}

App* app() {
  static App* a = [] {
    const fs::path root = fs::temp_directory_path() / ("tl-fuzz-serve-" + std::to_string(getpid()));
    write_model(root / "pair", true);
    write_model(root / "one", false);
    ServeOptions o;
    o.repository = root.string();
    o.predict_model = "one";
    o.threads = 1;
    o.access_log = "off";
    o.max_tensor_elements = 4096;
    auto* made = new App(o);  // lives for the process
    if (Status s = made->load(); !s) {
      fprintf(stderr, "fuzz_serve_request: %s\n", s.error().to_string().c_str());
      abort();
    }
    made->set_ready(true);
    fs::remove_all(root);
    return made;
  }();
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  App& a = *app();
  auto req = std::make_unique<HttpRequest>();
  req->method = "POST";
  req->request_id = "fuzz";
  req->start = Clock::now();
  req->closed = std::make_shared<std::atomic<bool>>(false);
  const uint8_t route = data[0] % 3;
  ++data;
  --size;
  req->headers.emplace_back("content-type", "application/json");
  if (route == 0) {
    req->path = req->target = "/predict";
  } else {
    req->path = req->target = "/v2/models/pair/infer";
    if (route == 2 && size >= 2) {
      const size_t n = (static_cast<size_t>(data[0]) << 8) | data[1];
      req->headers.emplace_back("inference-header-content-length", std::to_string(n));
      data += 2;
      size -= 2;
    }
  }
  req->body.assign(reinterpret_cast<const char*>(data), size);
  req->body.reserve(size + 64);  // the HTTP layer's simdjson padding
  uint64_t limit = 0;
  int status = 0;
  if (auto early = a.precheck(*req, limit)) {
    status = early->status;
  } else if (req->body.size() <= limit) {
    std::promise<int> done;
    auto f = done.get_future();
    a.handle(std::move(req), [&done](HttpResponse&& r) { done.set_value(r.status); });
    status = f.get();
  }
  if (status == 500) __builtin_trap();
  return 0;
}
