#!/usr/bin/python3
"""The ONNX engine on models torch exports, against PyTorch's own outputs.

    run_engine.py --cli build/bin/torchless --work DIR [--bench-dir ../shared/bench] [--models a,b]

1. The six benchmark models of gen_models.py (mlp, mnist_cnn, srcnn, resnet18, mobilenet_v2,
   tiny_encoder; exported at opset 13 with a dynamic batch) are made at test time; `torchless
   run` must match PyTorch within 1e-4 (absolute or relative, per element) at batch 1 (the
   eager output gen_models.py saved) and batch 8 (the traced TorchScript model's output on a
   seeded random batch).
   The bundled digits CNN (examples/digits) classifies its ten sample tensors like PyTorch.
2. The CLI contract: output files named after the outputs with [A-Za-z0-9._-] kept, dynamic
   batch and sequence length, `bench infer --json` keys, error codes for a missing input, a
   wrong dtype, an op or opset the engine does not implement.
Prints "ok CASE" / "FAIL CASE: why", then `engine: N passed, N failed`.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--cli", required=True)
ap.add_argument("--work", required=True)
ap.add_argument("--bench-dir", default=os.path.join(here, "..", "..", "..", "shared", "bench"))
ap.add_argument("--models", default="mlp,mnist_cnn,srcnn,resnet18,mobilenet_v2,tiny_encoder")
args = ap.parse_args()
os.makedirs(args.work, exist_ok=True)
p = lambda *names: os.path.join(args.work, *names)  # noqa: E731
passed = failed = 0


def report(name, why):
    global passed, failed
    if why:
        failed += 1
        print(f"FAIL {name}: {why}", flush=True)
    else:
        passed += 1
        print(f"ok {name}", flush=True)


def tl(*argv):
    return subprocess.run([args.cli] + list(argv), capture_output=True, text=True)


def close(out, ref, tol=1e-4):
    """'' when every element is within tol absolutely or relatively, else what differs."""
    if out.shape != ref.shape or out.dtype != ref.dtype:
        return f"got {out.dtype}{list(out.shape)}, expected {ref.dtype}{list(ref.shape)}"
    err = np.abs(out.astype(np.float64) - ref.astype(np.float64))
    bad = (err > tol) & (err > tol * np.abs(ref.astype(np.float64)))
    if bad.any():
        i = np.unravel_index(np.argmax(np.where(bad, err, 0)), err.shape)
        return f"{int(bad.sum())} elements differ, worst at {i}: {out[i]} vs {ref[i]}"
    return ""


def run_model(model, inputs, outdir):
    """Runs `torchless run`; returns (outputs by file stem, error text)."""
    argv = ["run", model, "--output-dir", outdir]
    for name, path in inputs.items():
        argv += ["--input", f"{name}={path}"]
    r = tl(*argv)
    if r.returncode:
        return None, f"exit {r.returncode}: {r.stderr.strip()[-400:]}"
    return {f[:-4]: np.load(os.path.join(outdir, f)) for f in os.listdir(outdir) if f.endswith(".npy")}, ""


# ---- 1. the benchmark models ----
models_dir = p("models")
gen = os.path.join(args.bench_dir, "gen_models.py")
if not os.path.exists(os.path.join(models_dir, "models.json")):
    r = subprocess.run([sys.executable, gen, models_dir], capture_output=True, text=True)
    if r.returncode:
        report("gen_models", r.stderr[-500:])
rng = np.random.default_rng(8)
for name in args.models.split(","):
    onnx_path = os.path.join(models_dir, name + ".onnx")
    x1 = os.path.join(models_dir, name + ".in.npy")
    outs, why = run_model(onnx_path, {"input": x1}, p("out", name, "b1"))
    report(f"{name} batch 1 vs eager PyTorch", why or close(outs["output"], np.load(os.path.join(models_dir, name + ".out.npy"))))
    x = np.load(x1)
    if x.dtype == np.int64:
        xb = rng.integers(0, 1000, size=(8,) + x.shape[1:], dtype=np.int64)
    else:
        xb = rng.standard_normal((8,) + x.shape[1:]).astype(np.float32)
    np.save(p(name + ".b8.npy"), xb)
    with torch.no_grad():
        ref = torch.jit.load(os.path.join(models_dir, name + ".ts.pt"))(torch.from_numpy(xb)).numpy()
    outs, why = run_model(onnx_path, {"input": p(name + ".b8.npy")}, p("out", name, "b8"))
    report(f"{name} batch 8 vs TorchScript", why or close(outs["output"], ref))

# the bundled digits CNN on its ten sample tensors: PyTorch's logits and the true class
examples = os.path.join(here, "..", "..", "examples", "digits")
ts = torch.jit.load(os.path.join(examples, "digits_cnn.ts.pt"))
for f in sorted(x for x in os.listdir(examples) if x.endswith(".npy")):
    label = int(f.split("_")[1])
    r = tl("run", os.path.join(examples, "digits_cnn.onnx"), "--input", "input=" + os.path.join(examples, f),
           "--output-dir", p("out", "digits", f[:-4]), "--print")
    why = f"exit {r.returncode}: {r.stderr[-300:]}" if r.returncode else ""
    if not why:
        with torch.no_grad():
            ref = ts(torch.from_numpy(np.load(os.path.join(examples, f)))).numpy()
        why = close(np.load(p("out", "digits", f[:-4], "output.npy")), ref)
        if not why and f"argmax: {label}" not in r.stdout:
            why = f"--print does not show argmax {label}: {r.stdout}"
    report(f"digits {f}: class {label}, logits as PyTorch", why)

# ---- 2. the CLI contract on small models made here ----
def save_model(path, nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]), path)


# a dynamic batch x sequence model whose output name needs sanitising
save_model(p("dyn.onnx"), [helper.make_node("Add", ["x", "b"], ["s"]), helper.make_node("Relu", ["s"], ["out:0/relu"])],
           [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", 4])],
           [helper.make_tensor_value_info("out:0/relu", TensorProto.FLOAT, ["batch", "seq", 4])],
           [helper.make_tensor("b", TensorProto.FLOAT, [4], [0.5, -1, 2, -3])])
for shape in [(1, 3, 4), (5, 7, 4)]:
    x = rng.standard_normal(shape).astype(np.float32)
    np.save(p("dyn_x.npy"), x)
    outs, why = run_model(p("dyn.onnx"), {"x": p("dyn_x.npy")}, p("out", "dyn", "x".join(map(str, shape))))
    want = np.maximum(x + np.array([0.5, -1, 2, -3], np.float32), 0)
    report(f"dynamic shape {shape}, output named out_0_relu.npy",
           why or ("out_0_relu" not in outs and f"files: {sorted(outs)}") or close(outs["out_0_relu"], want, 0))


def refused(name, argv, code):
    r = tl(*argv)
    why = ""
    if r.returncode != 1:
        why = f"exit {r.returncode}, expected 1: {r.stderr.strip()[-300:]}"
    elif f"error [{code}]" not in r.stderr:
        why = f"expected [{code}]: {r.stderr.strip()[-300:]}"
    report(name, why)
    return r


refused("missing input refused", ["run", p("dyn.onnx")], "invalid_argument")
np.save(p("dyn_i.npy"), np.zeros((1, 2, 4), np.int64))
refused("wrong input dtype refused", ["run", p("dyn.onnx"), "--input", "x=" + p("dyn_i.npy")], "invalid_argument")
np.save(p("dyn_bad.npy"), np.zeros((1, 2, 5), np.float32))
refused("wrong fixed dimension refused", ["run", p("dyn.onnx"), "--input", "x=" + p("dyn_bad.npy")], "invalid_argument")
save_model(p("custom.onnx"), [helper.make_node("MyOp", ["x"], ["y"], domain="com.example")],
           [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
m = onnx.load(p("custom.onnx"))
m.opset_import.append(helper.make_opsetid("com.example", 1))
onnx.save(m, p("custom.onnx"))
r = refused("custom-domain op refused naming the node", ["run", p("custom.onnx"), "--input", "x=" + p("dyn_x.npy")],
            "unsupported")
save_model(p("opset18.onnx"), [helper.make_node("Relu", ["x"], ["y"])],
           [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
           opset=18)
refused("opset 18 refused", ["run", p("opset18.onnx")], "unsupported")

# operators the ONNX test data has no case for, against torch's own implementations
import torchvision  # noqa: E402

x = rng.standard_normal((2, 3, 4)).astype(np.float32)
x[1, :, 2] = 0  # a zero-norm column
np.save(p("lp_x.npy"), x)
for axis, pnorm in [(-1, 2), (1, 1), (0, 2)]:
    save_model(p("lp.onnx"), [helper.make_node("LpNormalization", ["x"], ["y"], axis=axis, p=pnorm)],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, 4])])
    outs, why = run_model(p("lp.onnx"), {"x": p("lp_x.npy")}, p("out", f"lp{axis}{pnorm}"))
    ref = torch.nn.functional.normalize(torch.from_numpy(x), p=pnorm, dim=axis, eps=1e-30).numpy()
    report(f"LpNormalization axis {axis} p {pnorm} vs torch.nn.functional.normalize", why or close(outs["y"], ref, 1e-6))
feat = rng.standard_normal((2, 3, 10, 12)).astype(np.float32)
rois = np.array([[0, 1.2, 0.7, 8.4, 6.1], [1, 0, 0, 11, 9], [1, 5, 5, 5, 5], [0, 9.5, 2, 30, 40]], np.float32)
np.save(p("roi_x.npy"), feat)
np.save(p("roi_r.npy"), rois)
for scale in (1.0, 0.5):
    save_model(p("roi.onnx"), [helper.make_node("MaxRoiPool", ["x", "r"], ["y"], pooled_shape=[3, 2], spatial_scale=scale)],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 10, 12]),
                helper.make_tensor_value_info("r", TensorProto.FLOAT, [4, 5])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 3, 3, 2])], opset=1)
    outs, why = run_model(p("roi.onnx"), {"x": p("roi_x.npy"), "r": p("roi_r.npy")}, p("out", f"roi{scale}"))
    ref = torchvision.ops.roi_pool(torch.from_numpy(feat), torch.from_numpy(rois), (3, 2), scale).numpy()
    report(f"MaxRoiPool spatial_scale {scale} vs torchvision.ops.roi_pool", why or close(outs["y"], ref, 0))

# random operators: distributions, seeding (ONNX fixes no algorithm, so no values to compare)
def random_model(name, node, inputs=(), out_type=TensorProto.FLOAT, out_shape=None, opset=15):
    save_model(p(name + ".onnx"), [node], list(inputs), [helper.make_tensor_value_info("y", out_type, out_shape)], opset=opset)
    return p(name + ".onnx")


def draw(model, feeds, tag):
    outs, why = run_model(model, feeds, p("out", tag))
    return (outs or {}).get("y"), why


m = random_model("rnorm", helper.make_node("RandomNormal", [], ["y"], shape=[20000], mean=2.0, scale=3.0, seed=1.0), out_shape=[20000])
a, why = draw(m, {}, "rn1")
b, why2 = draw(m, {}, "rn2")
report("RandomNormal mean 2 scale 3, seeded runs equal",
       why or why2 or ("" if abs(a.mean() - 2) < 0.1 and abs(a.std() - 3) < 0.1 and (a == b).all() else f"mean {a.mean()} std {a.std()}"))
m = random_model("runi", helper.make_node("RandomUniformLike", ["x"], ["y"], low=-1.0, high=3.0),
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [100, 100])], out_shape=[100, 100])
np.save(p("runi_x.npy"), np.zeros((100, 100), np.float32))
a, why = draw(m, {"x": p("runi_x.npy")}, "ru1")
b, why2 = draw(m, {"x": p("runi_x.npy")}, "ru2")
report("RandomUniformLike in [-1, 3), unseeded runs differ",
       why or why2 or ("" if a.min() >= -1 and a.max() < 3 and abs(a.mean() - 1) < 0.05 and not (a == b).all() else f"range {a.min()}..{a.max()} mean {a.mean()}"))
probs = np.concatenate([np.zeros(100), np.ones(100), np.full(20000, 0.3)]).astype(np.float32)
np.save(p("bern_p.npy"), probs)
m = random_model("bern", helper.make_node("Bernoulli", ["x"], ["y"], dtype=TensorProto.INT64, seed=3.0),
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [20200])], TensorProto.INT64, [20200])
a, why = draw(m, {"x": p("bern_p.npy")}, "bern")
report("Bernoulli p = 0, 1, 0.3 as int64",
       why or ("" if (a[:100] == 0).all() and (a[100:200] == 1).all() and abs(a[200:].mean() - 0.3) < 0.02 and a.dtype == np.int64 else f"mean {a[200:].mean()}"))
np.save(p("multi_x.npy"), np.log(np.array([[0.2, 0.8], [1.0, 1e-30]], np.float32)))
m = random_model("multi", helper.make_node("Multinomial", ["x"], ["y"], sample_size=20000, dtype=TensorProto.INT64),
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])], TensorProto.INT64, [2, 20000], opset=13)
a, why = draw(m, {"x": p("multi_x.npy")}, "multi")
report("Multinomial follows softmax of the logits",
       why or ("" if abs(a[0].mean() - 0.8) < 0.02 and (a[1] == 0).all() else f"row means {a.mean(axis=1)}"))

r = tl("bench", "infer", os.path.join(models_dir, "mlp.onnx"), "--input", "input=" + os.path.join(models_dir, "mlp.in.npy"),
       "--batch", "8", "--seconds", "0.2", "--json")
try:
    j = json.loads(r.stdout.strip().splitlines()[-1])
    why = "" if r.returncode == 0 and all(k in j for k in ("median_ms", "p90_ms", "runs")) and j["batch"] == 8 else r.stdout + r.stderr
except Exception as e:  # malformed output is a failure
    why = f"{e}: {r.stdout[-200:]} {r.stderr[-200:]}"
report("bench infer --json has median_ms, p90_ms, runs", why)

print(f"engine: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
