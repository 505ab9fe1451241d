// Loading the repository: engines, signatures (graph + torchless.json), queues, metrics,
// warm-up, the /predict binding and the OpenAPI document; and the OIP model metadata.
#include <algorithm>

#include "serve/app.h"
#include "serve/datatype.h"
#include "serve/json_writer.h"
#include "serve/openapi.h"
#include "serve/tensor_json.h"

namespace torchless::serve {

namespace {

Error model_error(const ModelRuntime& m, std::string msg) {
  return Error(Error::Code::kInvalidArgument, "model " + m.config.name + ": " + std::move(msg));
}

// A graph dimension and a configured one agree when either is variable or both are equal;
// the result is the more specific one.
bool merge_dims(std::vector<int64_t>& graph, const std::vector<int64_t>& config) {
  if (graph.size() != config.size()) return false;
  for (size_t i = 0; i < graph.size(); ++i) {
    if (graph[i] == -1) graph[i] = config[i];
    else if (config[i] != -1 && config[i] != graph[i]) return false;
  }
  return true;
}

// The graph's tensors as slots, with the configured declarations merged in.
Result<std::vector<TensorSlot>> slots(const ModelRuntime& m, const std::vector<TensorInfo>& graph,
                                      const std::vector<TensorConfig>& config, int max_batch, const char* what) {
  std::vector<TensorSlot> out;
  for (const TensorInfo& t : graph) {
    TensorSlot s;
    s.name = t.name;
    s.dtype = t.dtype;
    if (!t.dtype_known || !oip_datatype(t.dtype))
      return model_error(m, std::string(what) + " " + t.name + " has a datatype the protocols cannot carry");
    if (!t.rank_known) return model_error(m, std::string(what) + " " + t.name + " has no declared rank");
    s.shape = t.shape;
    if (max_batch > 0) {
      if (s.shape.empty() || (s.shape[0] != -1 && std::string(what) == "input"))
        return model_error(m, std::string(what) + " " + t.name +
                                  " has no variable first dimension, so the model cannot batch (set max_batch_size 0)");
      s.shape.erase(s.shape.begin());
    }
    out.push_back(std::move(s));
  }
  for (const TensorConfig& c : config) {
    auto it = std::find_if(out.begin(), out.end(), [&](const TensorSlot& s) { return s.name == c.name; });
    if (it == out.end()) return model_error(m, std::string(what) + " " + c.name + " is not in the graph");
    if (it->dtype != c.dtype)
      return model_error(m, std::string(what) + " " + c.name + " is " + oip_datatype(it->dtype) + " in the graph, not " +
                                oip_datatype(c.dtype));
    if (!merge_dims(it->shape, c.shape))
      return model_error(m, std::string(what) + " " + c.name + ": the configured shape does not match the graph's");
  }
  return out;
}

std::vector<TensorDesc> descs(const std::vector<TensorSlot>& slots, int max_batch) {
  std::vector<TensorDesc> out;
  for (const TensorSlot& s : slots) {
    TensorDesc d{s.name, oip_datatype(s.dtype), s.shape};
    if (max_batch > 0) d.shape.insert(d.shape.begin(), -1);
    out.push_back(std::move(d));
  }
  return out;
}

int index_of(const std::vector<TensorSlot>& slots, const std::string& name) {
  if (name.empty()) return 0;
  for (size_t i = 0; i < slots.size(); ++i)
    if (slots[i].name == name) return static_cast<int>(i);
  return -1;
}

}  // namespace

Status App::load() {
  auto sources = scan_repository(options_.repository, options_);
  if (!sources) return sources.error();
  CounterFamily& failures = registry_.counter("torchless_model_load_failures_total", "Model loads that failed.", {"model"});
  for (ModelSource& src : sources.value()) {
    const std::string name = src.config.name;
    Status s = src.error ? Status(*src.error) : load_model(src);
    if (!s) {
      failures.with({name}).inc();
      if (options_.exit_on_error) return s;
      log_.event("error", "model " + name + " is not served: " + s.error().to_string());
      failed_.push_back(name);
    }
  }
  if (models_.empty()) return Error(Error::Code::kInvalidArgument, "serve: no model could be loaded");
  // POST /predict: --predict-model, else the model whose config enables it, else the only model.
  if (!options_.predict_model.empty()) {
    predict_model_ = find_model(options_.predict_model);
    if (!predict_model_)
      return Error(Error::Code::kNotFound, "serve: --predict-model " + options_.predict_model + ": no such model");
  } else {
    for (auto& m : models_)
      if (m->config.predict.value_or(false)) {
        if (predict_model_)
          return Error(Error::Code::kInvalidArgument,
                       "serve: both " + predict_model_->config.name + " and " + m->config.name + " enable /predict");
        predict_model_ = m.get();
      }
    if (!predict_model_ && models_.size() == 1 && models_[0]->config.predict.value_or(true)) predict_model_ = models_[0].get();
  }
  std::vector<ModelDesc> all;
  for (auto& m : models_) {
    m->desc.serves_predict = m.get() == predict_model_;
    all.push_back(m->desc);
  }
  openapi_ = openapi_document(all, TORCHLESS_VERSION);
  return {};
}

Status App::load_model(ModelSource& src) {
  auto m = std::make_unique<ModelRuntime>();
  m->config = std::move(src.config);
  m->labels = std::move(src.labels);
  if (m->config.platform == "torchscript")
    return model_error(*m, "serving TorchScript (.pt) needs the LibTorch backend, which `serve` does not have yet; "
                           "export the model to ONNX (torch.onnx.export) and serve the .onnx file");
  m->preprocess_seconds = &registry_.histogram("torchless_preprocess_duration_seconds",
                                               "Image decoding and preprocessing time.", {"model"}, latency_buckets())
                               .with({m->config.name});
  m->decode_failures = &registry_.counter("torchless_image_decode_failures_total", "Images that could not be decoded.",
                                          {"model"})
                            .with({m->config.name});
  for (auto& [number, file] : src.versions) {
    Status s = load_version(*m, number, file);
    if (!s) return s;
  }
  by_name_[m->config.name] = m.get();
  models_.push_back(std::move(m));
  return {};
}

Status App::load_version(ModelRuntime& m, int number, const std::string& file) {
  const Clock::time_point t0 = Clock::now();
  EngineOptions eo;
  eo.threads = m.config.threads_per_instance;
  auto engine = Engine::open(file, eo);
  if (!engine) {
    Error e = engine.error();
    return Error(e.code(), "model " + m.config.name + " version " + std::to_string(number) + ": " + e.to_string());
  }
  auto v = std::make_unique<VersionRuntime>(std::move(engine).value());
  v->number = number;
  v->label = std::to_string(number);
  const Engine& eng = v->engine;

  if (m.versions.empty()) {
    // The first version fixes the signature the protocols show.
    const ModelConfig& c = m.config;
    bool dynamic_first = !eng.inputs().empty();
    for (const TensorInfo& t : eng.inputs()) dynamic_first &= t.rank_known && !t.shape.empty() && t.shape[0] == -1;
    m.max_batch = c.max_batch_size.value_or(dynamic_first ? 32 : 0);
    auto in = slots(m, eng.inputs(), c.inputs, m.max_batch, "input");
    if (!in) return in.error();
    auto out = slots(m, eng.outputs(), c.outputs, m.max_batch, "output");
    if (!out) return out.error();
    m.inputs = std::move(in).value();
    m.outputs = std::move(out).value();
    if (m.outputs.empty()) return model_error(m, "the graph has no outputs");
    m.post_output = index_of(m.outputs, c.post_output);
    m.predict_output = index_of(m.outputs, c.predict_output);
    if (m.post_output < 0) return model_error(m, "postprocessing.output " + c.post_output + " is not an output");
    if (m.predict_output < 0) return model_error(m, "predict.output " + c.predict_output + " is not an output");
    if (c.image) {
      m.image_input = index_of(m.inputs, c.image_input);
      if (m.image_input < 0) return model_error(m, "preprocessing.input " + c.image_input + " is not an input");
      const TensorSlot& s = m.inputs[static_cast<size_t>(m.image_input)];
      const ImagePreprocess& p = c.image_preprocess;
      const int64_t ch = p.grayscale ? 1 : 3, side = p.center_crop;
      std::vector<int64_t> want = p.nhwc ? std::vector<int64_t>{side, side, ch} : std::vector<int64_t>{ch, side, side};
      if (m.max_batch == 0) want.insert(want.begin(), 1);
      std::vector<int64_t> have = s.shape;
      if (s.dtype != DType::kFloat32 || !merge_dims(have, want))
        return model_error(m, "image input " + s.name + " must be FP32 " + shape_string(want) + " for the preprocessing");
      m.inputs[static_cast<size_t>(m.image_input)].shape = have;
    }
    if (c.post_kind != "none" && !m.labels.empty()) {
      const TensorSlot& o = m.outputs[static_cast<size_t>(m.post_output)];
      if (!o.shape.empty() && o.shape.back() > 0 && static_cast<size_t>(o.shape.back()) != m.labels.size())
        return model_error(m, "the labels file has " + std::to_string(m.labels.size()) + " entries but output " + o.name +
                                  " has " + std::to_string(o.shape.back()) + " classes");
    }
    m.desc.name = c.name;
    m.desc.platform = "onnx_onnxv1";
    m.desc.inputs = descs(m.inputs, m.max_batch);
    m.desc.outputs = descs(m.outputs, m.max_batch);
    if (c.image) {
      m.desc.raw_image_input = c.raw_input;
      m.desc.inputs.push_back(TensorDesc{c.raw_input, "BYTES", {-1}});
    }
    m.desc.max_batch_size = m.max_batch;
    m.desc.has_labels = !m.labels.empty();
  } else {
    // Later versions must keep the signature.
    auto in = slots(m, eng.inputs(), m.config.inputs, m.max_batch, "input");
    auto out = slots(m, eng.outputs(), m.config.outputs, m.max_batch, "output");
    if (!in) return in.error();
    if (!out) return out.error();
    auto same = [](const std::vector<TensorSlot>& a, const std::vector<TensorSlot>& b) {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i)
        if (a[i].name != b[i].name || a[i].dtype != b[i].dtype) return false;
      return true;
    };
    if (!same(in.value(), m.inputs) || !same(out.value(), m.outputs))
      return model_error(m, "version " + v->label + " has other inputs or outputs than version " + m.versions[0]->label);
  }
  m.desc.versions.push_back(v->label);

  // Metrics of this version.
  const std::string& name = m.config.name;
  const std::string& ver = v->label;
  auto counter = [&](const char* metric, const char* help) -> Counter* {
    return &registry_.counter(metric, help, {"model", "version"}).with({name, ver});
  };
  auto failure = [&](const char* reason) -> Counter* {
    return &registry_.counter("torchless_inference_request_failure", "Failed inference requests, by reason.",
                              {"model", "version", "reason"})
                .with({name, ver, reason});
  };
  auto histogram = [&](const char* metric, const char* help, std::span<const double> buckets) -> Histogram* {
    return &registry_.histogram(metric, help, {"model", "version"}, buckets).with({name, ver});
  };
  auto gauge = [&](const char* metric, const char* help) -> Gauge* {
    return &registry_.gauge(metric, help, {"model", "version"}).with({name, ver});
  };
  VersionMetrics& vm = v->m;
  vm.success = counter("torchless_inference_request_success", "Successful inference requests.");
  vm.fail_rejected = failure("rejected");
  vm.fail_timeout = failure("timeout");
  vm.fail_canceled = failure("canceled");
  vm.fail_invalid = failure("invalid");
  vm.fail_backend = failure("backend");
  vm.inference_count = counter("torchless_inference_count", "Rows inferred (a batch of n rows counts n).");
  vm.exec_count = counter("torchless_inference_exec_count", "Model executions (batches).");
  vm.request_us = counter("torchless_inference_request_duration_us", "Cumulative request time, microseconds.");
  vm.queue_us = counter("torchless_inference_queue_duration_us", "Cumulative queue time, microseconds.");
  vm.input_us = counter("torchless_inference_compute_input_duration_us", "Cumulative input parsing time, microseconds.");
  vm.infer_us = counter("torchless_inference_compute_infer_duration_us", "Cumulative model execution time, microseconds.");
  vm.output_us = counter("torchless_inference_compute_output_duration_us", "Cumulative output serialisation time, microseconds.");
  vm.copy_bytes = counter("torchless_inference_batch_copy_bytes_total", "Bytes copied to gather batches.");
  vm.nonfinite = counter("torchless_nonfinite_outputs_total", "NaN or infinite output values written as null.");
  vm.request_seconds = histogram("torchless_inference_request_duration_seconds", "Inference request time, seconds.",
                                 latency_buckets());
  vm.queue_seconds = histogram("torchless_inference_queue_duration_seconds", "Queue time, seconds.", latency_buckets());
  vm.infer_seconds = histogram("torchless_inference_compute_infer_duration_seconds", "Model execution time, seconds.",
                               latency_buckets());
  const std::vector<double> bb = batch_buckets(static_cast<uint64_t>(std::max(1, m.max_batch)));
  vm.batch_size = histogram("torchless_inference_batch_size", "Rows per execution.", bb);
  vm.pending = gauge("torchless_inference_pending_request_count", "Requests queued, not yet executing.");
  vm.ready = gauge("torchless_model_ready", "1 when the version is loaded, warmed up and serving.");
  vm.load_seconds = gauge("torchless_model_load_duration_seconds", "Time to load and warm up a model version.");

  BatchingConfig bc = m.config.batching;
  bc.max_batch_size = m.max_batch;
  VersionRuntime* raw = v.get();
  v->queue = scheduler_.add_queue(&v->engine, bc, [raw](const ExecStats& s) {
    raw->m.exec_count->inc();
    raw->m.inference_count->inc(static_cast<uint64_t>(s.rows));
    raw->m.infer_us->inc(s.infer_us);
    raw->m.infer_seconds->observe(static_cast<double>(s.infer_us) * 1e-6);
    raw->m.batch_size->observe(s.rows);
    raw->m.copy_bytes->inc(s.copy_bytes);
  });

  // Warm-up: zeros at each configured batch size (1 by default), before reporting ready.
  std::vector<int> sizes = m.config.warmup_batch_sizes;
  if (sizes.empty()) sizes.push_back(1);
  for (int b : sizes) {
    if (m.max_batch > 0 && b > m.max_batch) continue;
    std::vector<std::pair<std::string, Tensor>> feeds;
    for (const TensorSlot& s : m.inputs) {
      std::vector<int64_t> shape = s.shape;
      for (int64_t& d : shape) d = d < 0 ? 1 : d;
      if (m.max_batch > 0) shape.insert(shape.begin(), b);
      int64_t numel = 1;
      for (int64_t d : shape) numel *= d;
      auto storage = Storage::allocate(static_cast<size_t>(numel) * dtype_size(s.dtype));
      if (!storage) return storage.error();
      auto zeros = Tensor::contiguous_over(std::move(storage).value(), s.dtype, shape);
      if (!zeros) return zeros.error();
      feeds.emplace_back(s.name, std::move(zeros).value());
    }
    auto r = v->engine.run(feeds);
    if (!r) return model_error(m, "warm-up at batch " + std::to_string(b) + " failed: " + r.error().to_string());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  vm.load_seconds->set(seconds);
  v->ready.store(true);
  vm.ready->set(1);
  log_.event("info", "loaded model " + name + " version " + ver + " from " + file + " in " +
                         std::to_string(static_cast<int>(seconds * 1000)) + " ms");
  m.versions.push_back(std::move(v));
  return {};
}

HttpResponse App::v2_model_metadata(const ModelRuntime& m, const VersionRuntime* v) const {
  HttpResponse r;
  JsonWriter w(r.body);
  auto tensors = [&w](const std::vector<TensorDesc>& ts) {
    w.begin_array();
    for (const TensorDesc& t : ts) {
      w.begin_object();
      w.key("name");
      w.string(t.name);
      w.key("datatype");
      w.string(t.datatype);
      w.key("shape");
      w.begin_array();
      for (int64_t d : t.shape) w.number(d);
      w.end_array();
      w.end_object();
    }
    w.end_array();
  };
  w.begin_object();
  w.key("name");
  w.string(m.config.name);
  w.key("versions");
  w.begin_array();
  if (v)
    w.string(v->label);
  else
    for (const std::string& label : m.desc.versions) w.string(label);
  w.end_array();
  w.key("platform");
  w.string(m.desc.platform);
  w.key("inputs");
  tensors(m.desc.inputs);
  w.key("outputs");
  tensors(m.desc.outputs);
  w.end_object();
  return r;
}

}  // namespace torchless::serve
