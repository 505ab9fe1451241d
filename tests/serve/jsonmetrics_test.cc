// Tests of the server's JSON writer, metrics registry and multipart parser. Modes:
//   unit                          self-contained checks ("ok NAME" / "FAIL NAME: ..." lines and
//                                 a final "jsonmetrics_unit: N passed, N failed")
//   golden f32py|f64|f32short BITS EXPECTED
//                                 the formatter against Python's strings (run_jsonmetrics.py
//                                 writes the files): BITS holds little-endian bit patterns,
//                                 EXPECTED one string per line
//   strings IN EXPECTED           JsonWriter::string against json.dumps (IN: u32 length + bytes)
//   render                        the exposition of a fixed registry, for prometheus_client
//   multipart CASES               parse each case (u32 length + boundary, u32 length + body),
//                                 one JSON line per case, bytes in hex
//   bench                         ns per float, per counter increment, ...
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "serve/json_writer.h"
#include "serve/metrics.h"
#include "serve/multipart.h"

using namespace torchless;
using namespace torchless::serve;

namespace {

int g_pass = 0, g_fail = 0;

void check(bool ok, const std::string& name, const std::string& detail = "") {
  if (ok) {
    ++g_pass;
    std::printf("ok %s\n", name.c_str());
  } else {
    ++g_fail;
    std::printf("FAIL %s: %s\n", name.c_str(), detail.c_str());
  }
}

void check_eq(const std::string& got, const std::string& want, const std::string& name) {
  check(got == want, name, "got [" + got + "] want [" + want + "]");
}

std::string py(double v) {
  char buf[kMaxFloatChars];
  return std::string(buf, write_float_py(buf, v));
}
std::string f32py(float v) {
  char buf[kMaxFloatChars];
  return std::string(buf, write_float32_py(buf, v));
}
std::string f32short(float v) {
  char buf[kMaxFloatChars];
  return std::string(buf, write_float32_short(buf, v));
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// --- JSON -------------------------------------------------------------------------------------

void unit_json() {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  struct {
    double v;
    const char* want;
  } cases[] = {
      {1.0, "1.0"},
      {0.1, "0.1"},
      {-0.0, "-0.0"},
      {0.0, "0.0"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {9999999999999998.0, "9999999999999998.0"},
      {123456789012345678.0, "1.2345678901234568e+17"},
      {0.0001, "0.0001"},
      {0.00012345, "0.00012345"},
      {0.00001, "1e-05"},
      {1.25e-7, "1.25e-07"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {1.5e300, "1.5e+300"},
      {1e100, "1e+100"},
      {-2.5, "-2.5"},
      {123456.789, "123456.789"},
      {0.07540787756443024, "0.07540787756443024"},
      {inf, "null"},
      {-inf, "null"},
      {nan, "null"},
  };
  for (const auto& c : cases) check_eq(py(c.v), c.want, std::string("repr ") + c.want);

  check_eq(f32py(0.1f), "0.10000000149011612", "f32py 0.1f");
  check_eq(f32py(0.075407877f), "0.07540787756443024", "f32py spec example");
  check_eq(f32py(16777216.0f), "16777216.0", "f32py 2^24");
  check_eq(f32py(1e-45f), "1.401298464324817e-45", "f32py min subnormal");
  check_eq(f32short(0.1f), "0.1", "f32short 0.1f");
  check_eq(f32short(0.075407877f), "0.07540788", "f32short spec example");
  check_eq(f32short(1e-45f), "1e-45", "f32short min subnormal");
  check_eq(f32short(3.4028235e38f), "3.4028235e+38", "f32short max");
  check_eq(f32short(1e16f), "1e+16", "f32short 1e16");
  check_eq(f32short(-0.0f), "-0.0", "f32short -0");
  check_eq(f32short(1e-5f), "1e-05", "f32short 1e-5");
  check_eq(f32short(std::numeric_limits<float>::quiet_NaN()), "null", "f32short nan");

  {
    std::string s;
    JsonWriter w(s);
    w.begin_object();
    w.key("a");
    w.begin_array();
    w.number(1);
    w.number(uint64_t(18446744073709551615ull));
    w.number(int64_t(-9223372036854775807ll - 1));
    w.begin_object();
    w.key("b");
    w.null();
    w.end_object();
    w.begin_array();
    w.end_array();
    w.end_array();
    w.key("c");
    w.boolean(true);
    w.key("d");
    w.string("x\ny");
    w.key("e");
    w.number(2.5);
    w.key("f");
    w.raw_value("{\"cached\":1}");
    w.key("g");
    w.boolean(false);
    w.end_object();
    check_eq(s, "{\"a\":[1,18446744073709551615,-9223372036854775808,{\"b\":null},[]],\"c\":true,"
                "\"d\":\"x\\ny\",\"e\":2.5,\"f\":{\"cached\":1},\"g\":false}",
             "writer commas and nesting");
  }
  {
    std::string s;
    JsonWriter w(s);
    float v[6] = {0.1f, 1.0f, -2.0f, std::numeric_limits<float>::infinity(), 1e-45f, 0.5f};
    int64_t shape[2] = {2, 3};
    w.nested_f32(v, shape, F32Style::kShortest);
    check_eq(s, "[[0.1,1.0,-2.0],[null,1e-45,0.5]]", "nested_f32 2x3 shortest");
    check(w.nonfinite() == 1, "nonfinite counted", std::to_string(w.nonfinite()));
    s.clear();
    JsonWriter w2(s);
    int64_t shape20[2] = {2, 0};
    w2.nested_f32(v, shape20, F32Style::kPython);
    check_eq(s, "[[],[]]", "nested_f32 2x0");
    s.clear();
    JsonWriter w3(s);
    w3.nested_f32(v, std::span<const int64_t>(), F32Style::kPython);
    check_eq(s, "0.10000000149011612", "nested_f32 scalar");
    s.clear();
    JsonWriter w4(s);
    int64_t shape111[3] = {1, 1, 1};
    w4.begin_object();
    w4.key("prediction");
    w4.nested_f32(v + 5, shape111, F32Style::kPython);
    w4.end_object();
    check_eq(s, "{\"prediction\":[[[0.5]]]}", "nested_f32 in an object");
  }
  {
    // A long array crosses the writer's blocks of 1024 values.
    std::vector<float> v(5000);
    for (size_t i = 0; i < v.size(); ++i) v[i] = float(i) * 0.25f;
    std::string s;
    JsonWriter w(s);
    w.array_f32(v, F32Style::kShortest);
    std::string want = "[";
    for (size_t i = 0; i < v.size(); ++i) want += (i ? "," : "") + f32short(v[i]);
    want += "]";
    check(s == want, "array_f32 5000 values", s.substr(0, 80));
    std::vector<double> d = {1.0, 1e-7, std::nan("")};
    s.clear();
    JsonWriter w2(s);
    w2.array_f64(d);
    check_eq(s, "[1.0,1e-07,null]", "array_f64");
  }
  check_eq(json_quote("a\"b\\c\b\f\n\r\t\x01\x1f\x7f"), "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"",
           "escapes");
  check_eq(json_quote("caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80\"",
           "UTF-8 raw (U+2028, astral)");
  check_eq(json_quote("a\xff" "b\xed\xa0\x80" "c\xe2\x82"), "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
           "c\xef\xbf\xbd\"", "invalid UTF-8 -> U+FFFD per maximal subpart");
  check_eq(json_quote(std::string_view("\0", 1)), "\"\\u0000\"", "NUL");
}

// golden KIND BITS EXPECTED
int golden(const std::string& kind, const std::string& bits_path, const std::string& want_path) {
  std::string bits = read_file(bits_path);
  std::ifstream want(want_path);
  size_t width = kind == "f64" ? 8 : 4, n = bits.size() / width, bad = 0;
  std::string line;
  char buf[kMaxFloatChars];
  for (size_t i = 0; i < n; ++i) {
    if (!std::getline(want, line)) {
      std::printf("golden %s: expected file too short at %zu\n", kind.c_str(), i);
      return 1;
    }
    char* end;
    uint64_t raw = 0;
    std::memcpy(&raw, bits.data() + i * width, width);
    if (kind == "f64") {
      end = write_float_py(buf, std::bit_cast<double>(raw));
    } else {
      float f = std::bit_cast<float>(uint32_t(raw));
      end = kind == "f32py" ? write_float32_py(buf, f) : write_float32_short(buf, f);
    }
    std::string got(buf, end);
    if (got != line && ++bad <= 10)
      std::printf("mismatch %s bits=%0*llx got=%s want=%s\n", kind.c_str(), int(width * 2),
                  (unsigned long long)raw, got.c_str(), line.c_str());
  }
  std::printf("golden %s: %zu values, %zu mismatches\n", kind.c_str(), n, bad);
  return bad == 0 && n > 0 ? 0 : 1;
}

// strings IN EXPECTED
int strings(const std::string& in_path, const std::string& want_path) {
  std::string in = read_file(in_path);
  std::ifstream want(want_path, std::ios::binary);
  size_t pos = 0, n = 0, bad = 0;
  std::string line, got;
  while (pos + 4 <= in.size()) {
    uint32_t len;
    std::memcpy(&len, in.data() + pos, 4);
    pos += 4;
    if (len > in.size() - pos) return 1;
    std::string_view s(in.data() + pos, len);
    pos += len;
    std::getline(want, line);
    got.clear();
    JsonWriter(got).string(s);
    ++n;
    if (got != line && ++bad <= 5) std::printf("mismatch string %zu: got=%s want=%s\n", n, got.c_str(), line.c_str());
  }
  std::printf("strings: %zu strings, %zu mismatches\n", n, bad);
  return bad == 0 && n > 0 ? 0 : 1;
}

// --- metrics ----------------------------------------------------------------------------------

void unit_metrics() {
  {
    Counter c;
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
      ts.emplace_back([&c] {
        for (int i = 0; i < 1000000; ++i) c.inc();
      });
    for (auto& t : ts) t.join();
    check(c.value() == 4000000, "counter 4 threads x 10^6", std::to_string(c.value()));
    c.inc(5);
    check(c.value() == 4000005, "counter inc(n)");
  }
  {
    Gauge g;
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
      ts.emplace_back([&g, t] {
        for (int i = 0; i < 100000; ++i) {
          g.inc();
          if (t % 2) g.dec();
        }
      });
    for (auto& t : ts) t.join();
    check(g.value() == 200000, "gauge 4 threads inc/dec", std::to_string(g.value()));
    g.set(-1.5);
    check(g.value() == -1.5, "gauge set");
  }
  {
    const double b[] = {1, 2, 4};
    Histogram h(b);
    for (double v : {0.5, 1.0, 1.0000001, 4.0, 5.0, -3.0}) h.observe(v);
    Histogram::Snapshot s = h.snapshot();
    check(s.cumulative == std::vector<uint64_t>({3, 4, 5, 6}), "histogram le is inclusive, cumulative",
          std::to_string(s.cumulative[0]) + "," + std::to_string(s.cumulative[1]) + "," +
              std::to_string(s.cumulative[2]) + "," + std::to_string(s.cumulative[3]));
    check(s.sum == 0.5 + 1.0 + 1.0000001 + 4.0 + 5.0 - 3.0, "histogram sum");
    h.observe(std::nan(""));
    s = h.snapshot();
    check(s.cumulative.back() == 7 && s.cumulative[2] == 5 && std::isnan(s.sum), "histogram NaN goes to +Inf");

    Histogram h2(latency_buckets());
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
      ts.emplace_back([&h2] {
        for (int i = 0; i < 250000; ++i) h2.observe(0.001);
      });
    for (auto& t : ts) t.join();
    s = h2.snapshot();
    check(s.cumulative.back() == 1000000 && s.cumulative[3] == 0 && s.cumulative[4] == 1000000 &&
              std::abs(s.sum - 1000.0) < 1e-6,
          "histogram 4 threads x 250000", std::to_string(s.cumulative.back()) + " sum " + std::to_string(s.sum));
  }
  check(latency_buckets().size() == 17 && latency_buckets()[0] == 0.00005 && latency_buckets()[16] == 10,
        "latency buckets");
  check(batch_buckets(8) == std::vector<double>({1, 2, 4, 8}), "batch_buckets(8)");
  check(batch_buckets(12) == std::vector<double>({1, 2, 4, 8, 12}), "batch_buckets(12)");
  check(batch_buckets(1) == std::vector<double>({1}) && batch_buckets(0) == std::vector<double>({1}),
        "batch_buckets(1), (0)");
  {
    char buf[64];
    auto v = [&buf](double d) { return std::string(buf, write_prom_value(buf, d)); };
    check(v(1e6) == "1e+06" && v(1234567.5) == "1.2345675e+06" && v(0.005) == "0.005" && v(1.0) == "1.0" &&
              v(5e-05) == "5e-05" && v(1e16) == "1e+16" && v(-2e6) == "-2000000.0" &&
              v(std::numeric_limits<double>::infinity()) == "+Inf" && v(std::nan("")) == "NaN",
          "prometheus value text", v(1e6) + " " + v(1234567.5));
  }
  {
    Registry reg;
    reg.set_process_metrics(false);
    auto& fam = reg.counter("t_requests", "Requests.\nSecond \\ line", {"model", "version"});
    Counter& a = fam.with({"mlp", "1"});
    Counter& a2 = fam.with({"mlp", "1"});
    Counter& b = fam.with({"we\"ird\\na\nme", "2"});
    check(&a == &a2 && &a != &b, "with() returns one child per label tuple");
    a.inc(3);
    b.inc();
    auto& g = reg.gauge("t_ready", "Ready.", {}).with({});
    g.set(1);
    const double bounds[] = {0.5, 1};
    auto& h = reg.histogram("t_latency_seconds", "Latency.", {"route"}, bounds).with({"/predict"});
    h.observe(0.25);
    h.observe(0.75);
    h.observe(3);
    check(&reg.counter("t_requests", "x", {"model", "version"}) == &fam, "registering twice returns the family");
    std::string want =
        "# HELP t_requests Requests.\\nSecond \\\\ line\n"
        "# TYPE t_requests counter\n"
        "t_requests{model=\"mlp\",version=\"1\"} 3\n"
        "t_requests{model=\"we\\\"ird\\\\na\\nme\",version=\"2\"} 1\n"
        "# HELP t_ready Ready.\n"
        "# TYPE t_ready gauge\n"
        "t_ready 1.0\n"
        "# HELP t_latency_seconds Latency.\n"
        "# TYPE t_latency_seconds histogram\n"
        "t_latency_seconds_bucket{route=\"/predict\",le=\"0.5\"} 1\n"
        "t_latency_seconds_bucket{route=\"/predict\",le=\"1.0\"} 2\n"
        "t_latency_seconds_bucket{route=\"/predict\",le=\"+Inf\"} 3\n"
        "t_latency_seconds_sum{route=\"/predict\"} 4.0\n"
        "t_latency_seconds_count{route=\"/predict\"} 3\n";
    check_eq(reg.render(), want, "render text format");
    reg.set_process_metrics(true);
    std::string all = reg.render();
    bool proc = true;
    for (const char* m : {"\nprocess_cpu_seconds_total ", "\nprocess_resident_memory_bytes ",
                          "\nprocess_open_fds ", "\nprocess_start_time_seconds ", "\nprocess_virtual_memory_bytes "})
      proc = proc && all.find(m) != std::string::npos;
    check(proc, "process metrics rendered", all.substr(want.size()));
  }
}

// The registry that `render` prints for run_jsonmetrics.py (values it checks).
int render() {
  Registry reg;
  auto& ok = reg.counter("torchless_inference_request_success", "Successful inference requests.",
                         {"model", "version"});
  ok.with({"mlp", "1"}).inc(42);
  ok.with({"quote\"back\\slash\nnewline \xc3\xa9", "2"}).inc(7);
  auto& fail = reg.counter("torchless_inference_request_failure", "Failed inference requests.",
                           {"model", "version", "reason"});
  fail.with({"mlp", "1", "rejected"}).inc(3);
  reg.gauge("torchless_inference_pending_request_count", "Pending requests.", {"model", "version"})
      .with({"mlp", "1"})
      .set(5);
  reg.gauge("torchless_model_load_duration_seconds", "Load time.", {"model", "version"})
      .with({"mlp", "1"})
      .set(0.125);
  auto& lat = reg.histogram("torchless_inference_request_duration_seconds", "Request latency.",
                            {"model", "version"}, latency_buckets())
                  .with({"mlp", "1"});
  for (double v : {0.00003, 0.0004, 0.002, 0.002, 0.7, 20.0}) lat.observe(v);
  std::vector<double> bb = batch_buckets(64);
  auto& batch = reg.histogram("torchless_inference_batch_size", "Batch sizes.", {"model", "version"}, bb)
                    .with({"mlp", "1"});
  for (double v : {1, 1, 3, 64, 17}) batch.observe(v);
  reg.counter("torchless_http_connections_total", "Connections accepted.").with({}).inc(9);
  std::fputs(reg.render().c_str(), stdout);
  return 0;
}

// --- multipart ----------------------------------------------------------------------------------

Result<std::vector<MultipartPart>> parse(std::string_view body, const MultipartLimits& lim = {}) {
  return parse_multipart(body, "XyZ", lim);
}

void unit_multipart() {
  auto boundary = [](std::string_view ct) {
    auto r = multipart_boundary(ct);
    return r ? "=" + *r : "!" + r.error().message();
  };
  check_eq(boundary("multipart/form-data; boundary=abc"), "=abc", "boundary token");
  check_eq(boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b:c\""), "=a b:c", "boundary quoted, case");
  check_eq(boundary("multipart/form-data; boundary=\"a\\\"b\""), "!Content-Type: invalid character in the boundary",
           "boundary with a quote refused");
  check_eq(boundary("multipart/form-data;boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW"),
           "=----WebKitFormBoundary7MA4YWxkTrZu0gW", "boundary webkit");
  check(boundary("multipart/form-data") [0] == '!', "no boundary refused");
  check(boundary("multipart/form-data; boundary=") [0] == '!', "empty boundary refused");
  check(boundary("multipart/form-data; boundary=\"\"") [0] == '!', "empty quoted boundary refused");
  check(boundary("multipart/form-data; boundary=" + std::string(70, 'a'))[0] == '=', "70-char boundary");
  check(boundary("multipart/form-data; boundary=" + std::string(71, 'a'))[0] == '!', "71-char boundary refused");
  check(boundary("multipart/form-data; boundary=\"ab ") [0] == '!', "unterminated quote refused");
  check(boundary("multipart/form-data; boundary=\"ab \"") [0] == '!', "boundary ending in space refused");
  check(boundary("application/json; boundary=x") [0] == '!', "other media type refused");
  check(boundary("multipart/mixed; boundary=x") [0] == '!', "multipart/mixed refused");
  check(boundary("multipart/form-data; boundary=a; boundary=b") [0] == '!', "two boundaries refused");
  check(boundary("multipart/form-data; boundary=a@b") [0] == '!', "bad parameter syntax refused");

  const std::string cd = "Content-Disposition: form-data; name=";
  auto one = [&](std::string headers, std::string data) {
    return "--XyZ\r\n" + headers + "\r\n" + data + "\r\n--XyZ--\r\n";
  };
  {
    std::string body = one(cd + "\"file\"; filename=\"cat.jpg\"\r\nContent-Type: image/jpeg \r\n", "JPEGDATA");
    auto r = parse(body);  // the parts are views into body
    check(r && r->size() == 1 && (*r)[0].name == "file" && (*r)[0].filename == "cat.jpg" &&
              (*r)[0].has_filename && (*r)[0].content_type == "image/jpeg" && (*r)[0].data == "JPEGDATA",
          "one file part", r ? "" : r.error().to_string());
  }
  {
    std::string body = "preamble text\r\n--XyZ\t \r\n" + cd + "a\r\n\r\n1\r\n--XyZ\r\n" + cd +
                       "b\r\n\r\n\r\n--XyZ--  epilogue\r\n--XyZ\r\nignored";
    auto r = parse(body);
    check(r && r->size() == 2 && (*r)[0].name == "a" && (*r)[0].data == "1" && !(*r)[0].has_filename &&
              (*r)[1].name == "b" && (*r)[1].data.empty(),
          "preamble, padding, empty part, epilogue", r ? "" : r.error().to_string());
  }
  {
    std::string data = "--XyZ\r\n\r\n--XyZX\r\n--XyZ \r\r\n--Xy\r\n--XyZ-\r\r";
    data += std::string("\0\xff\r\n-", 5);
    std::string body = one(cd + "\"f\"\r\n", data);
    auto r = parse(body);
    check(r && r->size() == 1 && (*r)[0].data == data, "data holding partial boundaries",
          r ? std::to_string((*r)[0].data.size()) : r.error().to_string());
  }
  {
    auto r = parse(one("CONTENT-DISPOSITION: form-data; NAME=\"a\\\"b\\\\c\"; FileName=\"C:\\\\dir\\\\x.jpg\"\r\n", "d"));
    check(r && (*r)[0].name == "a\"b\\c" && (*r)[0].filename == "x.jpg", "escapes, IE path, header case",
          r ? (*r)[0].name + " " + (*r)[0].filename : r.error().to_string());
  }
  {
    auto r = parse(one(cd + "first\r\nContent-Disposition: form-data; name=second\r\n", "d"));
    check(r && (*r)[0].name == "second", "last Content-Disposition counts");
  }
  {
    std::string body = "--XyZ\r\n" + cd + "file\r\n\r\nA\r\n--XyZ\r\n" + cd + "file\r\n\r\nB\r\n--XyZ--";
    auto r = parse(body);
    const MultipartPart* f = r ? form_field(*r, "file") : nullptr;
    check(f && f->data == "B" && !form_field(*r, "other"), "form_field takes the last");
  }
  auto code = [](const Result<std::vector<MultipartPart>>& r) {
    return r ? std::string("ok") : std::string(code_name(r.error().code()));
  };
  std::string good = one(cd + "f\r\n", "x");
  check_eq(code(parse(good.substr(0, good.size() - 9))), "corrupt", "no closing boundary");
  check_eq(code(parse("--XyZ--\r\n")), "corrupt", "no part");
  check_eq(code(parse("")), "corrupt", "empty body");
  check_eq(code(parse("--XyZ\r\n" + cd + "f")), "corrupt", "truncated headers");
  check_eq(code(parse("--XyZ\n" + cd + "f\n\nx\n--XyZ--\n")), "corrupt", "LF-only framing");
  check_eq(code(parse("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--")), "corrupt", "no Content-Disposition");
  check_eq(code(parse(one("Content-Disposition: form-data\r\n", "x"))), "corrupt", "no name parameter");
  check_eq(code(parse(one(cd + "f\r\n folded\r\n", "x"))), "corrupt", "folded header");
  check_eq(code(parse(one(cd + "f\r\nNo colon\r\n", "x"))), "corrupt", "header without colon");
  check_eq(code(parse(one(cd + "f\x01\r\n", "x"))), "corrupt", "control character in a header");
  check_eq(code(parse("--XyZ junk\r\n" + cd + "f\r\n\r\nx\r\n--XyZ--")), "corrupt", "junk after the boundary");
  {
    MultipartLimits lim;
    std::string big = one(cd + "f\r\nX-Pad: " + std::string(8192, 'p') + "\r\n", "x");
    check_eq(code(parse(big, lim)), "limit_exceeded", "headers over 8 KiB");
    std::string h = cd + "f\r\nX-Pad: ";
    std::string fits = one(h + std::string(8192 - h.size() - 4, 'p') + "\r\n", "x");
    check_eq(code(parse(fits, lim)), "ok", "headers of exactly 8 KiB");
    std::string fits_plus = one(h + std::string(8192 - h.size() - 3, 'p') + "\r\n", "x");
    check_eq(code(parse(fits_plus, lim)), "limit_exceeded", "headers of 8 KiB + 1");
    std::string parts;
    for (int i = 0; i < 16; ++i) parts += "--XyZ\r\n" + cd + "p" + std::to_string(i) + "\r\n\r\nd\r\n";
    check_eq(code(parse(parts + "--XyZ--")), "ok", "16 parts");
    parts += "--XyZ\r\n" + cd + "p16\r\n\r\nd\r\n";
    check_eq(code(parse(parts + "--XyZ--")), "limit_exceeded", "17 parts");
  }
}

// multipart CASES: one JSON line per case.
int multipart(const std::string& path) {
  std::string in = read_file(path);
  size_t pos = 0;
  auto take = [&](std::string_view& out) {
    uint32_t len;
    if (pos + 4 > in.size()) return false;
    std::memcpy(&len, in.data() + pos, 4);
    pos += 4;
    if (len > in.size() - pos) return false;
    out = std::string_view(in.data() + pos, len);
    pos += len;
    return true;
  };
  auto hex = [](std::string_view s) {
    static const char* d = "0123456789abcdef";
    std::string h;
    for (unsigned char c : s) {
      h += d[c >> 4];
      h += d[c & 15];
    }
    return h;
  };
  std::string_view boundary, body;
  std::string out;
  while (take(boundary) && take(body)) {
    out.clear();
    JsonWriter w(out);
    w.begin_object();
    auto r = parse_multipart(body, boundary);
    w.key("ok");
    w.boolean(r.ok());
    if (r) {
      w.key("parts");
      w.begin_array();
      for (const MultipartPart& p : *r) {
        w.begin_object();
        w.key("name");
        w.string(hex(p.name));
        w.key("filename");
        if (p.has_filename)
          w.string(hex(p.filename));
        else
          w.null();
        w.key("content_type");
        w.string(hex(p.content_type));
        w.key("data");
        w.string(hex(p.data));
        w.end_object();
      }
      w.end_array();
    } else {
      w.key("code");
      w.string(code_name(r.error().code()));
      w.key("error");
      w.string(r.error().to_string());
    }
    w.end_object();
    std::puts(out.c_str());
  }
  return 0;
}

// --- bench --------------------------------------------------------------------------------------

double now_ns() {
  return double(std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count());
}

int bench() {
  std::mt19937 rng(1);
  std::vector<float> f(1 << 20);
  std::normal_distribution<float> nd(0, 1);
  for (float& x : f) x = nd(rng);
  std::string s;
  s.reserve(f.size() * 26);
  for (F32Style style : {F32Style::kPython, F32Style::kShortest}) {
    double best = 1e300;
    for (int rep = 0; rep < 5; ++rep) {
      s.clear();
      JsonWriter w(s);
      double t0 = now_ns();
      w.array_f32(f, style);
      best = std::min(best, (now_ns() - t0) / double(f.size()));
    }
    std::printf("bench array_f32 %s: %.1f ns/float (%zu bytes)\n",
                style == F32Style::kPython ? "python (widened)" : "shortest f32", best, s.size());
  }
  {
    // The floor: std::to_chars alone on the same values (what the layout adds is the rest).
    double b = 1e300;
    char buf[64];
    size_t sink = 0;
    for (int rep = 0; rep < 5; ++rep) {
      double t0 = now_ns();
      for (float x : f) sink += size_t(std::to_chars(buf, buf + 64, double(x), std::chars_format::scientific).ptr - buf);
      b = std::min(b, (now_ns() - t0) / double(f.size()));
    }
    std::printf("bench std::to_chars(double) alone: %.1f ns/float (%zu)\n", b, sink % 10);
  }
  // Best of 5 runs of fn(n) in ns per call: the machine is shared.
  auto best = [](int n, auto fn) {
    double b = 1e300;
    for (int rep = 0; rep < 5; ++rep) {
      double t0 = now_ns();
      fn(n);
      b = std::min(b, (now_ns() - t0) / n);
    }
    return b;
  };
  {
    std::vector<double> d(1 << 18);
    std::normal_distribution<double> dd(0, 1);
    for (double& x : d) x = dd(rng);
    std::string s2;
    s2.reserve(d.size() * 26);
    double ns = best(1, [&](int) {
      s2.clear();
      JsonWriter(s2).array_f64(d);
    });
    std::printf("bench array_f64 python repr: %.1f ns/double\n", ns / double(d.size()));
  }
  Counter c;
  std::printf("bench counter inc, 1 thread: %.2f ns/op\n", best(10000000, [&c](int n) {
                for (int i = 0; i < n; ++i) c.inc();
              }));
  std::printf("bench counter inc, 4 threads on one counter: %.2f ns/op per thread\n",
              best(4000000, [&c](int n) {
                std::vector<std::thread> ts;
                for (int t = 0; t < 4; ++t)
                  ts.emplace_back([&c, n] {
                    for (int i = 0; i < n; ++i) c.inc();
                  });
                for (auto& t : ts) t.join();
              }));
  Histogram h(latency_buckets());
  std::printf("bench histogram observe (17 buckets): %.2f ns/op\n", best(10000000, [&h](int n) {
                for (int i = 0; i < n; ++i) h.observe(double(i % 1000) * 1e-4);
              }));
  Gauge g;
  std::printf("bench gauge inc: %.2f ns/op\n", best(10000000, [&g](int n) {
                for (int i = 0; i < n; ++i) g.inc();
              }));
  {
    std::string data(4 << 20, '\0');
    for (char& c : data) c = char(rng());
    std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n" +
                       data + "\r\n--XyZ--\r\n";
    double t0 = now_ns();
    size_t total = 0;
    for (int i = 0; i < 20; ++i) total += parse(body)->at(0).data.size();
    double ns = (now_ns() - t0) / 20;
    std::printf("bench multipart parse 4 MiB part: %.0f us (%.1f GB/s)\n", ns / 1000, double(total / 20) / ns);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "unit";
  if (mode == "unit") {
    unit_json();
    unit_metrics();
    unit_multipart();
    std::printf("jsonmetrics_unit: %d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
  }
  if (mode == "golden" && argc == 5) return golden(argv[2], argv[3], argv[4]);
  if (mode == "strings" && argc == 4) return strings(argv[2], argv[3]);
  if (mode == "render") return render();
  if (mode == "multipart" && argc == 3) return multipart(argv[2]);
  if (mode == "bench") return bench();
  std::fprintf(stderr, "usage: %s unit|golden KIND BITS EXPECTED|strings IN EXPECTED|render|multipart CASES|bench\n",
               argv[0]);
  return 2;
}
