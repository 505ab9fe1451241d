// torchless/serve.h — the model server: `POST /predict` (the FastAPI pattern), the Open
// Inference Protocol (KServe v2) over REST, dynamic batching, Prometheus metrics, an OpenAPI
// document with an offline /docs page (specs/serving.md).
//
//   torchless::ServeOptions o;
//   o.repository = "models/";                    // a repository, one model folder or one file
//   auto server = torchless::Server::start(o);   // listens, loads, warms up, then reports ready
//   ...                                          // on SIGTERM: server->shutdown();
//   int code = server->wait();                   // 0 after a clean drain, 2 after a forced one
//
// The server never writes into the repository and runs no byte of a request: bodies, images
// and tensors are parsed under the limits below and refused with a 4xx JSON error.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "torchless/error.h"

namespace torchless {

struct ServeOptions {
  std::string repository;                 // folder of models, one model folder, or a model file
  std::string host = "127.0.0.1";
  uint16_t port = 8080;                   // 0: any free port (see Server::port())
  int threads = 0;                        // inference workers; 0: CPUs of the quota - http threads
  int http_threads = 0;                   // I/O threads; 0: max(1, CPUs / 4)

  // Model settings; they take precedence over torchless.json.
  std::string model_name;                 // single file / single folder: the served name
  std::string predict_model;              // the model behind POST /predict
  std::optional<int> max_batch_size;
  std::optional<uint64_t> max_queue_delay_us;
  std::optional<size_t> max_queue_size;
  std::optional<uint64_t> queue_timeout_us;
  std::optional<int> threads_per_instance;
  std::string preprocess;                 // "imagenet": Resize(256) CenterCrop(224) ImageNet mean/std
  std::string labels;                     // class names for argmax (implies postprocessing argmax)
  bool exit_on_error = true;              // a model that fails to load aborts start-up

  // Operations.
  std::string access_log = "json";        // json | text | off
  bool log_probes = false;                // also log health and metrics requests
  double shutdown_delay_s = 0;            // SIGTERM: readiness 503 this long before closing
  double drain_timeout_s = 25;            // then wait this long for queued/running requests

  // Limits (specs/serving.md 6.3).
  uint64_t max_body_bytes = 16 << 20;
  uint64_t max_multipart_bytes = 20 << 20;
  uint64_t max_header_bytes = 16 << 10;
  uint64_t max_uri_bytes = 4 << 10;
  uint64_t max_tensor_elements = 4'194'304;  // all inputs of one request
  uint64_t max_image_pixels = 40'000'000;
  uint32_t max_image_side = 16384;
  size_t max_connections = 4096;
  size_t pipeline_depth = 16;
  double header_timeout_s = 10, body_timeout_s = 30, idle_timeout_s = 65, write_timeout_s = 30;
};

class Server {
 public:
  // Listens (liveness answers at once), loads and warms up every model, then reports ready.
  // Errors: a model that fails to load (with exit_on_error), a port that cannot be bound.
  static Result<std::unique_ptr<Server>> start(const ServeOptions& options);
  ~Server();

  uint16_t port() const;
  // Starts the graceful shutdown of specs/serving.md 6.6 (returns at once; thread-safe).
  void shutdown();
  // Blocks until the server has stopped: 0 after a clean drain, 2 after a forced one.
  int wait();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace torchless
