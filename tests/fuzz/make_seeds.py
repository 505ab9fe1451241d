#!/usr/bin/python3
"""Seed corpora for the fuzz targets: small valid files, one directory per target.

    /usr/bin/python3 tests/fuzz/make_seeds.py OUTDIR

  OUTDIR/zip/          torch.save archives and TorchScript archives, plus re-packed variants
                       (DEFLATE, zip64 local headers) written by Python's zipfile
  OUTDIR/torch/        the same torch files plus legacy-format (_use_new_zipfile_serialization=False) ones
  OUTDIR/pickle/       data.pkl / constants.pkl extracted from those archives, and pickle.dumps of
                       plain data at protocols 2, 3, 4 and 5
  OUTDIR/safetensors/  safetensors files (the faithful writer of tests/interop/make_fixtures.py)
  OUTDIR/npy/          numpy.save files, format versions 1.0, 2.0 and 3.0
  OUTDIR/onnx/         ONNX models: the digits CNN export and small libonnx-testdata node models
                       (one per operator family the engine runs: conv, pooling, shapes, control flow)

Every seed is under 64 KiB (checked). Deterministic: fixed seeds, a fixed hash seed
(rerun_deterministic), legacy files saved without address randomisation (LEGACY_SAVER), and TorchScript's debug records (which hold
Python stack frames) name this script by its repo-relative path, so the bytes do not depend
on where the checkout lives.
"""
import os
import platform
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rerun_deterministic():
    """Runs this script again with PYTHONHASHSEED=0 (TorchScript prints module constants in
    set order). Returns the exit code, or None when already done."""
    if os.environ.get("PYTHONHASHSEED") == "0":
        return None
    cmd = [sys.executable, os.path.abspath(__file__)] + sys.argv[1:]
    return subprocess.call(cmd, env=dict(os.environ, PYTHONHASHSEED="0"))


if __name__ == "__main__" and "_RELATIVE_NAMES" not in globals():
    code = rerun_deterministic()
    if code is not None:
        sys.exit(code)
    # Run compiled under the repo-relative name (see the docstring).
    out = os.path.abspath(sys.argv[1]) if len(sys.argv) == 2 else sys.exit("usage: make_seeds.py OUTDIR")
    os.chdir(ROOT)
    with open("tests/fuzz/make_seeds.py", encoding="utf-8") as f:
        source = f.read()
    exec(compile(source, "tests/fuzz/make_seeds.py", "exec"),
         {"__name__": "__main__", "__file__": os.path.join(ROOT, "tests/fuzz/make_seeds.py"),
          "_RELATIVE_NAMES": True, "OUTDIR": out})
    sys.exit(0)

import collections
import io
import pickle
import warnings
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))
from make_fixtures import save_safetensors  # noqa: E402

MAX_SEED = 64 * 1024
torch.set_num_threads(1)
warnings.filterwarnings("ignore")


def small_views():
    base = torch.arange(12.0).reshape(3, 4)
    return collections.OrderedDict([
        ("base", base), ("T", base.t()), ("row1", base[1]), ("col2", base[:, 2]),
        ("cl", torch.arange(12.0).reshape(1, 3, 2, 2).to(memory_format=torch.channels_last)),
        ("expanded", torch.tensor([1.5]).expand(4)), ("scalar", torch.tensor(7)),
        ("empty", torch.zeros(0, 2)), ("param", nn.Parameter(torch.ones(2)))])


def small_dtypes():
    r = torch.arange(6.0).reshape(2, 3) - 2.5
    out = collections.OrderedDict()
    for dt in (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int8, torch.uint8,
               torch.int16, torch.int32, torch.int64, torch.bool, torch.complex64, torch.complex128):
        out[str(dt)[6:]] = r.to(dt)
    return out


def small_checkpoint(protocol_note):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    x, y = torch.randn(8, 3), torch.randn(8, 2)
    for _ in range(2):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
        sched.step()
    return {"epoch": 2, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
            "scheduler_state_dict": sched.state_dict(), "loss": 0.125, "note": protocol_note,
            "big": 2 ** 70, "neg": -2 ** 65, "np": np.float64(0.5), "keys": {1: "a", None: (1, 2.0)},
            "raw": b"\x00\xff", "set": {3, 4}}


class TiedLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(6, 3)
        self.head = nn.Linear(3, 6, bias=False)
        self.head.weight = self.emb.weight

    def forward(self, ids):
        return self.head(self.emb(ids))


def torch_files():
    """(name, bytes) of torch.save / torch.jit.save archives, each saved to a buffer."""
    torch.manual_seed(1)
    seq = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2)).eval()
    saves = [
        ("state_dict.pt", lambda f: torch.save(seq.state_dict(), f)),
        ("dtypes.pt", lambda f: torch.save(small_dtypes(), f)),
        ("views.pt", lambda f: torch.save(small_views(), f)),
        ("checkpoint.pt", lambda f: torch.save(small_checkpoint("protocol 2"), f)),
        ("checkpoint_p4.pt", lambda f: torch.save(small_checkpoint("protocol 4"), f, pickle_protocol=4)),
        ("tied.pt", lambda f: torch.save(TiedLM().state_dict(), f)),
        ("whole_model.pt", lambda f: torch.save(seq, f)),
        ("tensor.pt", lambda f: torch.save(torch.arange(5), f)),
        ("ts_traced.pt", lambda f: torch.jit.save(torch.jit.trace(seq, torch.zeros(2, 4)), f)),
        ("ts_scripted.pt", lambda f: torch.jit.save(torch.jit.script(seq), f)),
        ("ts_tied.pt", lambda f: torch.jit.save(torch.jit.trace(TiedLM(), torch.tensor([[0, 1]])), f)),
    ]
    out = []
    for name, save in saves:
        buf = io.BytesIO()
        save(buf)
        out.append((name, buf.getvalue()))
    return out


# Legacy-format storage keys are heap addresses (str(storage._cdata)). For stable bytes the
# legacy files are saved by a child with address randomisation off (setarch -R) and a fixed
# argv, environment and working directory, which gets the objects pickled on stdin.
LEGACY_SAVER = """import io, pickle, sys, torch
out = []
for obj in pickle.load(sys.stdin.buffer):
    b = io.BytesIO()
    torch.save(obj, b, _use_new_zipfile_serialization=False)
    out.append(b.getvalue())
pickle.dump(out, sys.stdout.buffer)
"""


def legacy_files():
    names = ["legacy_state_dict.pt", "legacy_checkpoint.pt", "legacy_dtypes.pt"]
    objs = [small_views(), small_checkpoint("legacy"), small_dtypes()]
    cmd = [sys.executable, "-c", LEGACY_SAVER]
    setarch = ["setarch", platform.machine(), "-R"]
    if shutil.which("setarch") and subprocess.run(setarch + ["true"], capture_output=True).returncode == 0:
        cmd = setarch + cmd
    env = {"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
    p = subprocess.run(cmd, input=pickle.dumps(objs, protocol=2), capture_output=True, cwd="/", env=env, check=True)
    return list(zip(names, pickle.loads(p.stdout)))


def repack(data, compression, force_zip64):
    """The archive re-written by Python's zipfile (no 64-byte alignment, fixed timestamps)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(buf, "w") as zout:
        for info in zin.infolist():
            out = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            out.compress_type = compression
            with zout.open(out, "w", force_zip64=force_zip64) as f:
                f.write(zin.read(info))
    return buf.getvalue()


def plain_objects():
    shared = [1, 2]
    loop = []
    loop.append(loop)  # contains itself through the memo (hostile-inputs PKL-16)
    return {
        "scalars": [None, True, False, 0, 1, -1, 255, 256, 65535, 65536, -2 ** 31, 2 ** 31, 2 ** 63 - 1,
                    -2 ** 63, 2 ** 64, -2 ** 70, 0.0, -0.0, 1.5, 1e308, float("inf"), float("nan")],
        "strings": ["", "a", "naïve 日本語 🚀", "x" * 300, b"", b"\x00\x01\xff", bytearray(b"ba")],
        "containers": {"t0": (), "t1": (1,), "t2": (1, 2), "t3": (1, 2, 3), "t4": (1, 2, 3, 4),
                       "list": list(range(1005)), "set": {1, 2, 3}, "frozen": frozenset({"a"}),
                       "nested": {1: {2: {3: [4, (5, {"six": 6})]}}}, "shared": [shared, shared]},
        "ordered": collections.OrderedDict([("b", 1), ("a", 2)]),
        "complex": complex(1, -2),
        "self_loop": loop,
    }


def write(directory, name, data):
    if len(data) >= MAX_SEED:
        raise SystemExit(f"make_seeds: {directory}/{name} is {len(data)} bytes, over 64 KiB")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def main(out):
    d = {k: os.path.join(out, k) for k in ("zip", "torch", "pickle", "safetensors", "npy", "onnx")}
    archives = torch_files()
    for name, data in archives:
        write(d["zip"], name, data)
        write(d["torch"], name, data)
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for member in z.namelist():
                if member.endswith(("/data.pkl", "/constants.pkl")):
                    write(d["pickle"], f"{name[:-3]}.{member.rsplit('/', 1)[1]}", z.read(member))
    for name, data in archives[:4]:
        stem = name[:-3]
        for suffix, compression, z64 in (("deflated", zipfile.ZIP_DEFLATED, False),
                                         ("zip64", zipfile.ZIP_STORED, True)):
            write(d["zip"], f"{stem}.{suffix}.pt", repack(data, compression, z64))
            write(d["torch"], f"{stem}.{suffix}.pt", repack(data, compression, z64))
    for name, data in legacy_files():
        write(d["torch"], name, data)

    for proto in (2, 3, 4, 5):
        for key, obj in plain_objects().items():
            write(d["pickle"], f"{key}.p{proto}.pkl", pickle.dumps(obj, protocol=proto))
        write(d["pickle"], f"state_dict.p{proto}.pkl", pickle.dumps(
            collections.OrderedDict([("w", [1.0, 2.0]), ("meta", {"version": 1})]), protocol=proto))

    st = {
        "dtypes": {k: v for k, v in small_dtypes().items() if k != "complex128"},
        "model": dict(TiedLM().state_dict(), **{"head.weight": torch.ones(6, 3)}),
        "scalar_empty": {"s": torch.tensor(2.0), "e": torch.zeros(0, 3), "z": torch.zeros(2, 0, dtype=torch.int64)},
        "single": {"w": torch.arange(6.0).reshape(2, 3)},
        "no_tensors": {},
    }
    for name, tensors in st.items():
        path = os.path.join(d["safetensors"], name + ".safetensors")
        os.makedirs(d["safetensors"], exist_ok=True)
        save_safetensors(tensors, path)
        assert os.path.getsize(path) < MAX_SEED

    rng = np.random.default_rng(0)
    arrays = {
        "f32": rng.standard_normal((3, 4)).astype(np.float32), "f64_fortran": np.asfortranarray(np.ones((2, 3))),
        "f16_scalar": np.array(1.5, dtype=np.float16), "i8": np.arange(-4, 4, dtype=np.int8),
        "u8": np.arange(10, dtype=np.uint8), "i16": np.arange(6, dtype=np.int16).reshape(2, 3),
        "i32_be": np.arange(6, dtype=">i4"), "i64": np.arange(3, dtype=np.int64), "bool": np.array([True, False]),
        "c64": np.array([1 + 2j], dtype=np.complex64), "c128": np.array([[1 - 1j]]), "empty": np.zeros((0, 3)),
    }
    os.makedirs(d["npy"], exist_ok=True)
    for name, a in arrays.items():
        for version in ((1, 0), (2, 0), (3, 0)):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, a, version=version, allow_pickle=False)
            write(d["npy"], f"{name}.v{version[0]}.npy", buf.getvalue())

    os.makedirs(d["onnx"], exist_ok=True)
    shutil.copy(os.path.join(ROOT, "examples", "digits", "digits_cnn.onnx"), os.path.join(d["onnx"], "digits_cnn.onnx"))
    node = "/usr/share/libonnx-testdata/data/node"
    for case in ("test_conv_with_strides_padding", "test_maxpool_2d_ceil", "test_averagepool_2d_pads",
                 "test_gemm_all_attributes", "test_matmul_3d", "test_reshape_negative_dim", "test_slice_neg_steps",
                 "test_gather_negative_indices", "test_concat_3d_axis_negative_1", "test_resize_upsample_scales_cubic",
                 "test_expand_dim_changed", "test_pad", "test_softmax_axis_1", "test_layer_normalization_3d_axis1_epsilon",
                 "test_reduce_sum_keepdims_example", "test_transpose_all_permutations_0", "test_split_variable_parts_1d",
                 "test_if", "test_loop11", "test_scan9_sum", "test_lstm_defaults", "test_cast_FLOAT_to_FLOAT16",
                 "test_where_example", "test_topk", "test_einsum_batch_matmul", "test_convtranspose_pads"):
        src = os.path.join(node, case, "model.onnx")
        if os.path.exists(src):
            shutil.copy(src, os.path.join(d["onnx"], case + ".onnx"))

    counts = {k: len(os.listdir(v)) for k, v in d.items()}
    print("make_seeds: " + ", ".join(f"{k} {n}" for k, n in counts.items()))


if __name__ == "__main__":
    main(OUTDIR)  # noqa: F821 (set by the re-run above)
