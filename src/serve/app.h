// src/serve/app.h — the server's request handling: the loaded models, the route table, the
// two protocols (predict.cc: FastAPI-compatible /predict; v2.cc: the Open Inference Protocol),
// operational routes (app.cc) and the metrics/log of every request.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "serve/access_log.h"
#include "serve/batcher.h"
#include "serve/http.h"
#include "serve/metrics.h"
#include "serve/model_desc.h"
#include "serve/repository.h"
#include "torchless/engine.h"
#include "torchless/serve.h"

namespace torchless::serve {

// The media type of a Content-Type value, lower case, without parameters ("application/json").
std::string media_type(std::string_view content_type);

// A model input or output as requests see it. `shape` is per row (the batch dimension left
// out) for a batched model, else the whole declared shape; -1 is a variable dimension.
struct TensorSlot {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
};

// The metrics of one model version, resolved once at load (hot path: no lookups).
struct VersionMetrics {
  Counter *success, *fail_rejected, *fail_timeout, *fail_canceled, *fail_invalid, *fail_backend;
  Counter *inference_count, *exec_count, *request_us, *queue_us, *infer_us, *input_us, *output_us;
  Counter *copy_bytes, *nonfinite;
  Histogram *request_seconds, *queue_seconds, *infer_seconds, *batch_size;
  Gauge *pending, *ready, *load_seconds;
};

struct VersionRuntime {
  int number = 0;
  std::string label;  // "1"
  Engine engine;
  ModelQueue* queue = nullptr;
  std::atomic<bool> ready{false};
  VersionMetrics m{};
  explicit VersionRuntime(Engine e) : engine(std::move(e)) {}
};

struct ModelRuntime {
  ModelConfig config;
  std::vector<std::string> labels;
  ModelDesc desc;
  int max_batch = 0;                  // 0: no batch dimension
  std::vector<TensorSlot> inputs;     // the graph's inputs, in order
  std::vector<TensorSlot> outputs;
  int image_input = -1;               // the input images go to, or -1
  int post_output = 0;                // the output postprocessing reads
  int predict_output = 0;             // the output /predict returns without postprocessing
  std::vector<std::unique_ptr<VersionRuntime>> versions;  // ascending
  Histogram* preprocess_seconds = nullptr;
  Counter* decode_failures = nullptr;

  VersionRuntime* latest() const { return versions.empty() ? nullptr : versions.back().get(); }
  VersionRuntime* version(std::string_view label) const;
};

// What a request turned into: the job for the scheduler, and how to answer when it is done.
// `finish` runs on the worker thread that executed the batch and serialises the response.
struct Submission {
  ModelRuntime* model = nullptr;
  VersionRuntime* version = nullptr;
  std::unique_ptr<Job> job;
  std::function<HttpResponse(JobResult&)> finish;
  bool oip = false;  // error style: {"error": ...} (OIP) or {"detail": ...} (FastAPI)
};

class App final : public HttpHandler {
 public:
  explicit App(const ServeOptions& options);
  ~App() override;

  // Loads every model of the repository (in the calling thread), then reports ready.
  Status load();
  void set_ready(bool r) { ready_.store(r); }
  // Every configured model loaded and warmed up, and not draining.
  bool ready() const { return ready_.load() && failed_.empty(); }
  void drain();  // readiness 503 and no more admissions
  Scheduler& scheduler() { return scheduler_; }
  const ServeOptions& options() const { return options_; }
  AccessLog& log() { return log_; }

  // HttpHandler
  std::optional<HttpResponse> precheck(const HttpRequest& head, uint64_t& body_limit) override;
  void handle(std::unique_ptr<HttpRequest> request, Responder respond) override;
  HttpResponse refusal(const HttpRequest* head, int status, std::string_view message) override;
  void completed(const HttpRequest& request, const HttpResponse& response, size_t bytes_out) override;
  void connection_event(std::string_view what, int delta) override;

  // Error bodies of the two styles.
  static HttpResponse detail_error(int status, std::string_view detail);  // {"detail":"..."}
  static HttpResponse oip_error(int status, std::string_view message);     // {"error":"..."}

  // predict.cc
  void predict(std::unique_ptr<HttpRequest> req, Responder respond);
  // v2.cc
  void v2_infer(std::unique_ptr<HttpRequest> req, ModelRuntime& m, VersionRuntime& v, Responder respond);
  HttpResponse v2_model_metadata(const ModelRuntime& m, const VersionRuntime* v) const;

  // Admits a submission to its model's queue, or answers 429/503 at once.
  void submit(Submission s, Responder respond);
  // Runs `task` on the worker pool (image decoding, large JSON bodies).
  template <class F>
  void offload(F&& task);

  ModelRuntime* find_model(std::string_view name) const;
  ModelRuntime* predict_model() const { return predict_model_; }
  uint64_t max_tensor_elements() const { return options_.max_tensor_elements; }
  ImagePreprocess image_settings(const ModelRuntime& m) const;

 private:
  Status load_model(ModelSource& src);
  Status load_version(ModelRuntime& m, int number, const std::string& file);
  HttpResponse route_get(const HttpRequest& req);
  std::string render_metrics();
  void count_request(const HttpRequest& req, const HttpResponse& resp);

  ServeOptions options_;
  std::vector<std::unique_ptr<ModelRuntime>> models_;
  std::map<std::string, ModelRuntime*, std::less<>> by_name_;
  ModelRuntime* predict_model_ = nullptr;
  std::vector<std::string> failed_;  // models that did not load (--exit-on-error false)
  std::string openapi_;  // the document, built after load
  std::atomic<bool> ready_{false}, draining_{false};
  Registry registry_;
  Scheduler scheduler_;
  boost::asio::thread_pool pool_;  // image decoding and large bodies, never on I/O threads
  AccessLog log_;

  // Server-wide metrics.
  CounterFamily* http_requests_;
  HistogramFamily* http_seconds_;
  Gauge* connections_active_;
  Counter *connections_total_, *connections_rejected_, *log_dropped_;
  CounterFamily* timeouts_;
};

template <class F>
void App::offload(F&& task) {
  boost::asio::post(pool_, std::forward<F>(task));
}

}  // namespace torchless::serve
