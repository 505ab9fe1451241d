// torchless-test-image DIR: the image pipeline against torchvision (specs/serving.md section 4).
// DIR is what tests/serve/make_images.py wrote: inputs, expected tensors (.npy) and manifest.json.
// Each case must give the same outcome class (ok / 400 / 413 / 415) and, when accepted, a tensor
// bitwise equal to torchvision's. Then: the accepted cases again from 4 threads at once, and the
// time per 640x480 JPEG. Last line: "test_image: N passed, N failed".
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/image.h"
#include "torchless/load.h"

namespace {

using torchless::Error;
using namespace torchless::serve;

struct Case {
  std::string file, npy, message;
  std::string expect;  // "ok", "400", "413", "415"
  ImagePreprocess options;
  std::vector<std::byte> bytes;
  std::vector<float> expected;
};

std::string outcome(const Error& e) {
  switch (e.code()) {
    case Error::Code::kCorrupt: return "400";
    case Error::Code::kLimitExceeded: return "413";
    case Error::Code::kUnsupported: return "415";
    default: return std::string("other (") + torchless::code_name(e.code()) + ")";
  }
}

bool read_file(const std::string& path, std::vector<std::byte>& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::vector<char> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  out.resize(data.size());
  std::memcpy(out.data(), data.data(), data.size());
  return true;
}

// The expected tensor through the library's own .npy reader.
bool read_npy(const std::string& path, std::vector<float>& out, std::string& why) {
  auto f = torchless::open(path);
  if (!f) return why = f.error().to_string(), false;
  if (f->tensors.size() != 1 || f->tensors[0].second.dtype() != torchless::DType::kFloat32)
    return why = "not one float32 tensor", false;
  auto t = f->tensors[0].second.contiguous();
  if (!t) return why = t.error().to_string(), false;
  out.resize(t->numel());
  std::memcpy(out.data(), t->data(), t->nbytes());
  return true;
}

ImagePreprocess parse_options(const nlohmann::json& o) {
  ImagePreprocess p;
  p.resize = o.value("resize", p.resize);
  p.center_crop = o.value("center_crop", p.center_crop);
  p.grayscale = o.value("grayscale", p.grayscale);
  p.nhwc = o.value("nhwc", p.nhwc);
  p.max_pixels = o.value("max_pixels", p.max_pixels);
  p.max_side = o.value("max_side", p.max_side);
  for (int c = 0; c < 3; ++c) {
    p.mean[c] = o.at("mean").at(c).get<float>();  // Python float -> float32, as torch.as_tensor does
    p.std[c] = o.at("std").at(c).get<float>();
  }
  return p;
}

// "" if `got` equals `want` bit for bit, else a description of the differences.
std::string compare(const std::vector<float>& got, const std::vector<float>& want, const ImagePreprocess& p) {
  if (got.size() != want.size())
    return "size " + std::to_string(got.size()) + " vs expected " + std::to_string(want.size());
  size_t ndiff = 0, first = 0;
  double maxdiff = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(float)) == 0) continue;
    if (ndiff++ == 0) first = i;
    maxdiff = std::max(maxdiff, std::fabs(double(got[i]) - double(want[i])));
  }
  if (ndiff == 0) return "";
  const size_t hw = size_t(p.center_crop) * p.center_crop, C = p.grayscale ? 1 : 3;
  const size_t c = p.nhwc ? first % C : first / hw, pix = p.nhwc ? first / C : first % hw;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%zu of %zu values differ, max difference %.9g (%.2f levels), first at c=%zu y=%zu x=%zu: %.9g vs %.9g",
                ndiff, got.size(), maxdiff, maxdiff * 255 * p.std[c], c, pix / p.center_crop, pix % p.center_crop,
                got[first], want[first]);
  return buf;
}

// One case: "" on success, else the reason.
std::string run(const Case& k) {
  auto info = probe_image(k.bytes, k.options);
  std::vector<float> out(image_tensor_elements(k.options));
  auto st = preprocess_image(k.bytes, k.options, out.data());
  if (k.expect == "ok") {
    if (!info) return "probe refused: " + info.error().message();
    if (!st) return "preprocess refused: " + st.error().message();
    return compare(out, k.expected, k.options);
  }
  if (st) return "accepted, expected " + k.expect;
  if (outcome(st.error()) != k.expect) return "got " + outcome(st.error()) + " (" + st.error().message() + "), expected " + k.expect;
  // Errors visible in the header must be found by the probe too (the server probes before queueing).
  if (k.expect != "400" && (info || outcome(info.error()) != k.expect)) return "probe did not refuse with " + k.expect;
  if (!k.message.empty() && st.error().message() != k.message)
    return "message \"" + st.error().message() + "\", expected \"" + k.message + "\"";
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: torchless-test-image DIR   (DIR from tests/serve/make_images.py)\n");
    return 2;
  }
  const std::string dir = std::string(argv[1]) + "/";
  std::ifstream mf(dir + "manifest.json");
  if (!mf) {
    std::fprintf(stderr, "cannot read %smanifest.json\n0 passed, 1 failed\n", dir.c_str());
    return 1;
  }
  const nlohmann::json manifest = nlohmann::json::parse(mf);
  std::vector<Case> cases;
  int passed = 0, failed = 0;
  for (const auto& m : manifest) {
    Case k;
    k.file = m.at("file").get<std::string>();
    k.expect = m.at("expect").is_string() ? m.at("expect").get<std::string>() : std::to_string(m.at("expect").get<int>());
    k.message = m.value("message", "");
    k.options = parse_options(m.at("options"));
    std::string why;
    if (!read_file(dir + k.file, k.bytes)) why = "cannot read the input";
    else if (k.expect == "ok" && !read_npy(dir + m.at("npy").get<std::string>(), k.expected, why)) why = "expected tensor: " + why;
    if (why.empty()) why = run(k);
    if (why.empty()) {
      ++passed;
      cases.push_back(std::move(k));
    } else {
      ++failed;
      std::printf("FAIL %s: %s\n", k.file.c_str(), why.c_str());
    }
  }
  std::printf("manifest: %d of %d cases as torchvision\n", passed, passed + failed);

  // Thread safety: every passing case again, from 4 threads at once, each running all of them.
  std::vector<std::string> thread_errors(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&cases, &thread_errors, t] {
      for (size_t i = 0; i < cases.size(); ++i) {
        const Case& k = cases[(i + t * 7) % cases.size()];
        if (std::string why = run(k); !why.empty() && thread_errors[t].empty()) thread_errors[t] = k.file + ": " + why;
      }
    });
  for (auto& th : threads) th.join();
  bool threads_ok = true;
  for (const auto& e : thread_errors)
    if (!e.empty()) threads_ok = false, std::printf("FAIL threads: %s\n", e.c_str());
  std::printf("%s 4 threads x %zu cases\n", threads_ok ? "ok" : "FAIL", cases.size());
  threads_ok ? ++passed : ++failed;

  // Speed: a 640x480 4:2:0 JPEG to a 3x224x224 tensor (informational).
  for (const Case& k : cases) {
    if (k.file != "jpeg_640x480_420.jpg") continue;
    std::vector<float> out(image_tensor_elements(k.options));
    const int n = 200;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) (void)preprocess_image(k.bytes, k.options, out.data());
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / n;
    std::printf("time: %s -> %dx%d tensor: %.2f ms per image (1 thread)\n", k.file.c_str(), k.options.center_crop,
                k.options.center_crop, ms);
  }
  std::printf("test_image: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
