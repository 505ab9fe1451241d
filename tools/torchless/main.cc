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
  if (*checkpoint_cmd) return checkpoint(checkpoint_args);
  return 2;
}
