// torchless — the command-line tool. Parsing only; the work is in the library.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.h"

int main(int argc, char** argv) {
  using namespace torchless::cli;
  CLI::App app{"torchless: read, convert, inspect, run and serve PyTorch models without Python"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "torchless 0.1.0");

  InspectArgs inspect_args;
  auto* inspect_cmd = app.add_subcommand("inspect", "List the tensors and values inside a model file");
  inspect_cmd->add_option("FILE", inspect_args.file, "any supported file (format detected from its bytes)")->required();
  inspect_cmd->add_flag("--json", inspect_args.json, "print one JSON object");
  inspect_cmd->add_flag("--sha256", inspect_args.sha256, "add the SHA-256 of every tensor's C-contiguous bytes");
  inspect_cmd->add_flag("--permissive", inspect_args.permissive,
                        "record calls a pickle would make (os.system, eval, ...) as inert objects instead of refusing");

  ConvertArgs convert_args;
  auto* convert_cmd = app.add_subcommand("convert", "Write a model's state dict as a torch file or safetensors");
  convert_cmd->add_option("IN", convert_args.in, "any supported file (checkpoints: the model's weights)")->required();
  convert_cmd->add_option("OUT", convert_args.out, "output file (.safetensors, or .pt/.pth/.bin/.ckpt)")->required();
  convert_cmd->add_option("--to", convert_args.to, "output format (default: from OUT's extension)")
      ->check(CLI::IsMember({"torch", "safetensors"}));
  auto* strip_opt = convert_cmd->add_option("--strip-prefix", convert_args.strip_prefix,
                                            "remove prefix P from every name that has it; without P, a "
                                            "module. or _orig_mod. prefix shared by all names")
                        ->expected(0, 1);
  convert_cmd->add_option("--dtype", convert_args.dtype, "cast floating tensors to this dtype (float16, bfloat16, ...)");
  convert_cmd->add_option("--only", convert_args.only, "keep the tensors whose name matches this regex (search)");
  convert_cmd->add_option("--shard-size", convert_args.shard_size,
                          "write Hugging Face shards of at most SIZE (500MB, 2GB, 1GiB, bytes; MB = 10^6)");
  convert_cmd->add_option("--key", convert_args.key, "checkpoint key holding the weights (default: found)");

  DiffArgs diff_args;
  auto* diff_cmd = app.add_subcommand("diff", "Compare two checkpoints' weights (exit 0 equal, 1 different, 2 error)");
  diff_cmd->add_option("A", diff_args.a, "first file")->required();
  diff_cmd->add_option("B", diff_args.b, "second file")->required();
  diff_cmd->add_option("--rtol", diff_args.rtol, "relative tolerance (default 1e-5)")->check(CLI::NonNegativeNumber);
  diff_cmd->add_option("--atol", diff_args.atol, "absolute tolerance (default 1e-8)")->check(CLI::NonNegativeNumber);
  diff_cmd->add_flag("--json", diff_args.json, "print one JSON object");

  auto* bench_cmd = app.add_subcommand("bench", "Measure load or inference speed");
  bench_cmd->require_subcommand(1);
  BenchLoadArgs load_args;
  auto* load_cmd = bench_cmd->add_subcommand("load", "Time opening a file and reading every tensor byte");
  load_cmd->add_option("FILE", load_args.file, "any supported file")->required();
  load_cmd->add_flag("--json", load_args.json, "print one JSON object");
  load_cmd->add_option("--runs", load_args.runs, "timed runs (median reported)")->check(CLI::PositiveNumber);

  BenchInferArgs infer_args;
  auto* infer_cmd = bench_cmd->add_subcommand("infer", "Time inference of an ONNX model (median, p90)");
  infer_cmd->add_option("MODEL", infer_args.model, "an .onnx file")->required();
  infer_cmd->add_option("--input", infer_args.inputs, "NAME=FILE.npy (repeatable; other inputs are random)");
  infer_cmd->add_option("--batch", infer_args.batch, "batch size: a dynamic first dimension of 1 is repeated")
      ->check(CLI::PositiveNumber);
  infer_cmd->add_option("--threads", infer_args.threads, "intra-op threads (default: one per core)")
      ->check(CLI::NonNegativeNumber);
  infer_cmd->add_option("--seconds", infer_args.seconds, "time spent measuring (default 3)")
      ->check(CLI::PositiveNumber);
  infer_cmd->add_flag("--json", infer_args.json, "print one JSON object");

  RunArgs run_args;
  auto* run_cmd = app.add_subcommand("run", "Run an ONNX model on .npy inputs, write one .npy per output");
  run_cmd->add_option("MODEL", run_args.model, "an .onnx file")->required();
  run_cmd->add_option("--input", run_args.inputs, "NAME=FILE.npy (repeatable)");
  run_cmd->add_option("--output-dir", run_args.output_dir, "where NAME.npy files go (default .)");
  run_cmd->add_option("--threads", run_args.threads, "intra-op threads (default: one per core)")
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_flag("--print", run_args.print, "also print each output's values (up to 64) and argmax per row");

  ServeArgs serve_args;
  torchless::ServeOptions& so = serve_args.options;
  auto* serve_cmd = app.add_subcommand("serve", "Serve models over HTTP: POST /predict, KServe v2, /metrics, /docs");
  serve_cmd->add_option("MODEL_OR_REPOSITORY", so.repository, "a model repository, one model folder, or an .onnx file")
      ->required();
  serve_cmd->add_option("--host", so.host, "address to listen on (default 127.0.0.1; 0.0.0.0 in containers)");
  serve_cmd->add_option("--port", so.port, "TCP port (default 8080; 0 picks a free one)");
  serve_cmd->add_option("--threads", so.threads, "inference workers (default: CPUs of the quota minus HTTP threads)")
      ->check(CLI::NonNegativeNumber);
  serve_cmd->add_option("--http-threads", so.http_threads, "HTTP I/O threads (default max(1, CPUs/4))")
      ->check(CLI::NonNegativeNumber);
  serve_cmd->add_option("--model-name", so.model_name, "served name of a single file or model folder");
  serve_cmd->add_option("--predict-model", so.predict_model, "the model behind POST /predict");
  serve_cmd->add_option("--max-batch-size", serve_args.max_batch_size, "rows per execution (0: no batching)")
      ->check(CLI::NonNegativeNumber);
  serve_cmd->add_option("--max-queue-delay-us", serve_args.max_queue_delay_us, "longest wait for a batch to fill")
      ->check(CLI::NonNegativeNumber);
  serve_cmd->add_option("--max-queue-size", serve_args.max_queue_size, "queued requests per model before 429")
      ->check(CLI::PositiveNumber);
  serve_cmd->add_option("--queue-timeout-us", serve_args.queue_timeout_us, "queue wait before 503 (0: off)")
      ->check(CLI::NonNegativeNumber);
  serve_cmd->add_option("--threads-per-instance", serve_args.threads_per_instance, "intra-op threads per execution")
      ->check(CLI::PositiveNumber);
  serve_cmd->add_option("--preprocess", so.preprocess, "imagenet: Resize(256) CenterCrop(224) ToTensor Normalize")
      ->check(CLI::IsMember({"imagenet"}));
  serve_cmd->add_option("--labels", so.labels, "class names, one per line: /predict answers the argmax's name");
  serve_cmd->add_option("--exit-on-error", serve_args.exit_on_error, "true: a model that fails to load stops start-up")
      ->check(CLI::IsMember({"true", "false"}));
  serve_cmd->add_option("--access-log", so.access_log, "json | text | off (default json, on stdout)")
      ->check(CLI::IsMember({"json", "text", "off"}));
  serve_cmd->add_flag("--log-probes", so.log_probes, "also log health and metrics requests");
  serve_cmd->add_option("--shutdown-delay", serve_args.shutdown_delay, "SIGTERM: seconds of readiness 503 before closing");
  serve_cmd->add_option("--drain-timeout", serve_args.drain_timeout, "SIGTERM: seconds to finish queued requests");
  serve_cmd->add_option("--max-connections", so.max_connections, "open connections before 503")
      ->check(CLI::PositiveNumber);
  serve_cmd->add_option("--max-body-bytes", so.max_body_bytes, "JSON / binary request bodies (413 beyond)")
      ->check(CLI::PositiveNumber);
  serve_cmd->add_option("--max-multipart-bytes", so.max_multipart_bytes, "multipart request bodies (413 beyond)")
      ->check(CLI::PositiveNumber);
  serve_cmd->add_option("--max-header-bytes", so.max_header_bytes, "request line + headers (431 beyond)")
      ->check(CLI::PositiveNumber);
  serve_cmd->add_option("--max-uri-bytes", so.max_uri_bytes, "request target (414 beyond)")->check(CLI::PositiveNumber);
  serve_cmd->add_option("--max-tensor-elements", so.max_tensor_elements, "elements of all inputs of a request")
      ->check(CLI::PositiveNumber);
  serve_cmd->add_option("--max-image-pixels", so.max_image_pixels, "width x height of an image, from its header")
      ->check(CLI::PositiveNumber);
  serve_cmd->add_option("--pipeline-depth", so.pipeline_depth, "requests read ahead per connection")
      ->check(CLI::PositiveNumber);
  serve_cmd->add_option("--header-timeout", serve_args.header_timeout, "seconds to receive a request header (408)");
  serve_cmd->add_option("--body-timeout", serve_args.body_timeout, "seconds to receive a request body (408)");
  serve_cmd->add_option("--idle-timeout", serve_args.idle_timeout, "seconds a keep-alive connection may idle");
  serve_cmd->add_option("--write-timeout", serve_args.write_timeout, "seconds without write progress (slow reader)");

  HealthcheckArgs health_args;
  auto* health_cmd = app.add_subcommand("healthcheck", "Exit 0 if a local server answers GET /v2/health/live");
  health_cmd->add_option("--host", health_args.host, "server address (default 127.0.0.1)");
  health_cmd->add_option("--port", health_args.port, "server port (default 8080)");
  health_cmd->add_option("--timeout", health_args.timeout, "seconds (default 2)");

  CheckpointArgs checkpoint_args;
  auto* checkpoint_cmd = app.add_subcommand("checkpoint", "List, find the latest or prune a checkpoint directory");
  checkpoint_cmd->add_option("ACTION", checkpoint_args.action, "list | latest | prune")
      ->required()
      ->check(CLI::IsMember({"list", "latest", "prune"}));
  checkpoint_cmd->add_option("DIR", checkpoint_args.dir, "a CheckpointManager directory")->required();
  checkpoint_cmd->add_option("--keep", checkpoint_args.keep, "prune: keep the N newest")->check(CLI::PositiveNumber);
  checkpoint_cmd->add_flag("--json", checkpoint_args.json, "print JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  convert_args.strip_given = strip_opt->count() > 0;
  if (*inspect_cmd) return inspect(inspect_args);
  if (*convert_cmd) return convert(convert_args);
  if (*diff_cmd) return diff(diff_args);
  if (*load_cmd) return bench_load(load_args);
  if (*infer_cmd) return bench_infer(infer_args);
  if (*run_cmd) return run(run_args);
  if (*serve_cmd) return serve(serve_args);
  if (*health_cmd) return healthcheck(health_args);
  if (*checkpoint_cmd) return checkpoint(checkpoint_args);
  return 2;
}
