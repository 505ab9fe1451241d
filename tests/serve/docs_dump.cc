// tl-docs-dump OUTDIR: writes the OpenAPI document of an example set of models to OUTDIR/openapi.json
// and the embedded /docs files at their URL paths (/docs -> OUTDIR/docs/index.html), so that
// check_openapi.py and docs_page.py can run without the server. The example set:
//   mlp       FP32 [-1,10] -> [-1,1], versions 1 and 2, serves /predict
//   resnet18  image model: tensor input [-1,3,224,224] plus the raw "image" BYTES input, labels
//   tokens    unbatched, INT64 [8] -> FP32 [3], TorchScript
// Also OUTDIR/openapi-edge.json, for odd models (an image model serving /predict without labels and
// with a rank-40 output, a shape whose element count overflows int64, a zero dimension, no
// versions, BYTES and UINT8 tensors), and OUTDIR/openapi-empty.json, for no model at all.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "serve/docs_assets.h"
#include "serve/openapi.h"

namespace fs = std::filesystem;
using torchless::serve::ModelDesc;

static bool write_file(const fs::path& p, std::string_view data) {
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  std::ofstream f(p, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(f);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tl-docs-dump OUTDIR\n");
    return 2;
  }
  ModelDesc mlp{.name = "mlp",
                .versions = {"1", "2"},
                .platform = "onnx_onnxv1",
                .inputs = {{"input", "FP32", {-1, 10}}},
                .outputs = {{"output", "FP32", {-1, 1}}},
                .max_batch_size = 64,
                .serves_predict = true};
  ModelDesc resnet{.name = "resnet18",
                   .versions = {"1"},
                   .platform = "onnx_onnxv1",
                   .inputs = {{"input", "FP32", {-1, 3, 224, 224}}, {"image", "BYTES", {-1}}},
                   .outputs = {{"output", "FP32", {-1, 1000}}},
                   .raw_image_input = "image",
                   .max_batch_size = 8,
                   .has_labels = true};
  ModelDesc tokens{.name = "tokens",
                   .versions = {"3"},
                   .platform = "pytorch_torchscript",
                   .inputs = {{"ids", "INT64", {8}}},
                   .outputs = {{"scores", "FP32", {3}}}};
  ModelDesc big = resnet;
  big.name = "big.image-model_2";
  std::vector<int64_t> deep(40, 2);  // rank 40: the /predict example cannot nest that deep
  deep[0] = -1;
  big.outputs = {{"logits", "FP32", deep}};
  big.serves_predict = true;
  big.has_labels = false;
  ModelDesc huge{.name = "huge",
                 .platform = "pytorch_torchscript",
                 .inputs = {{"x", "FP16", {-1, int64_t{1} << 40, int64_t{1} << 40}}},
                 .outputs = {{"y", "BOOL", {-1, 0}}},
                 .max_batch_size = 4};
  ModelDesc strings{.name = "strings",
                    .versions = {"7"},
                    .platform = "onnx_onnxv1",
                    .inputs = {{"text", "BYTES", {-1}}, {"flags", "UINT8", {-1, 4}}},
                    .outputs = {{"label", "BYTES", {-1, 1}}},
                    .max_batch_size = 2};

  const fs::path out = argv[1];
  using torchless::serve::openapi_document;
  bool ok = write_file(out / "openapi.json", openapi_document({mlp, resnet, tokens}, "0.3.0"));
  ok = write_file(out / "openapi-edge.json", openapi_document({big, huge, strings}, "0.3.0")) && ok;
  ok = write_file(out / "openapi-empty.json", openapi_document({}, "0.3.0")) && ok;
  for (const auto& a : torchless::serve::docs_assets()) {
    fs::path p = out / fs::path(a.path).relative_path();
    if (!fs::path(a.path).has_extension()) p /= "index.html";
    ok = write_file(p, a.body) && ok;
  }
  if (!ok) {
    std::fprintf(stderr, "tl-docs-dump: cannot write to %s\n", argv[1]);
    return 1;
  }
  return 0;
}
