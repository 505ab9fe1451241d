#!/usr/bin/python3
"""Writes the interop fixtures and what python3-torch says is in them.

    /usr/bin/python3 tests/interop/make_fixtures.py OUTDIR

Every fixture is written by the real tool (torch.save, torch.jit.save, torch.onnx.export,
numpy.save; safetensors by a faithful writer, formats.md section 8, since python3-safetensors
is not packaged in Debian 12). After all files are written, each one is read back from disk
by the oracle (torch.load, torch.jit.load, numpy.load, onnx) and flattened with the rule of
`torchless inspect --json` (DESIGN.md; src/formats/flatten.cc). The result goes to
OUTDIR/expected.json: a list of {"name": relative path, "format", "tensors": [{"name",
"dtype", "shape", "sha256"}], "values": {name: scalar}}, in fixture order. Floats that are
not finite are null, ints outside int64 decimal strings, as torchless prints them.

Deterministic: fixed seeds; no downloads (torchvision's resnet18 is built with weights=None).
"""
import collections
import hashlib
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)

# --- helpers: tensor bytes, safetensors writer -------------------------------------------------


def tensor_bytes(t):
    """The C-contiguous little-endian bytes of a tensor (what inspect --sha256 hashes)."""
    t = t.detach().resolve_conj().resolve_neg().contiguous().reshape(-1)
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def dtype_name(dtype):
    return str(dtype).replace("torch.", "")


ST_DTYPE = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
            torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
            torch.uint8: "U8", torch.bool: "BOOL", torch.complex64: "C64"}
# The reference writer's order: descending Dtype enum rank, then name (formats.md 8).
ST_RANK = ["U64", "I64", "F64", "C64", "F32", "U32", "I32", "BF16", "F16", "U16", "I16",
           "F8_E5M2", "F8_E4M3", "I8", "U8", "BOOL"]
ST_TORCH = {v: k for k, v in ST_DTYPE.items()}


def save_safetensors(tensors, path, metadata=None):
    """Writes `tensors` (name -> tensor, or name -> (safetensors dtype, shape, bytes) for dtypes
    this torch lacks) as the safetensors reference writer does: tensors in reference order,
    compact UTF-8 JSON header with __metadata__ first, padded with spaces to a multiple of 8,
    then each tensor's contiguous bytes back to back."""
    entries = {n: t if isinstance(t, tuple) else (ST_DTYPE[t.dtype], list(t.shape), tensor_bytes(t))
               for n, t in tensors.items()}
    items = sorted(entries.items(), key=lambda kv: (ST_RANK.index(kv[1][0]), kv[0]))
    header = {"__metadata__": metadata if metadata is not None else {"format": "pt"}}
    blobs, offset = [], 0
    for name, (dt, shape, b) in items:
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    # The writer checked against the oracle's independent reader.
    back = read_safetensors(path)
    assert list(back) == [k for k, _ in items], path
    for k, (dt, shape, b) in items:
        assert back[k] == (dtype_name(ST_TORCH[dt]) if dt in ST_TORCH else dt, list(shape), b), (path, k)


def read_safetensors(path):
    """An independent reader for the oracle: name -> (dtype name, shape, bytes), header order."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=collections.OrderedDict)
    base = 8 + n
    out = collections.OrderedDict()
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        dt = e["dtype"]
        out[name] = (dtype_name(ST_TORCH[dt]) if dt in ST_TORCH else dt, list(e["shape"]), data[base + begin:base + end])
    return out


# --- model classes (whole-model pickles name these as __main__.<Class>) -------------------------


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)  # '_parameters': {'bias': None}
        self.bn = nn.BatchNorm2d(4)
        self.register_buffer("scratch", torch.zeros(2), persistent=False)  # not in state_dict

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class MainNet(nn.Module):
    """A model class living in __main__: nested blocks, a ModuleList, a plain buffer."""

    def __init__(self):
        super().__init__()
        self.block = Block()
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 3)])
        self.register_buffer("step_count", torch.tensor(7))
        self.dropout = nn.Dropout(0.1)  # a module without state

    def forward(self, x):
        x = self.block(x).mean((2, 3))
        return torch.cat([h(x) for h in self.heads], 1)


class TiedLM(nn.Module):
    """Embedding and output projection sharing one weight (tied weights)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(16, 8)
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 16, bias=False)
        self.head.weight = self.emb.weight

    def forward(self, ids):
        return self.head(self.norm(self.emb(ids)))


class ScriptNet(nn.Module):
    """For torch.jit.script: a plain tensor attribute (in data.pkl, not in the state dict),
    BatchNorm buffers, tied weights, int/list/dict attributes, a ModuleList."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.bn = nn.BatchNorm1d(4)
        self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
        self.out = nn.Linear(4, 10)
        self.out.weight = self.emb.weight
        self.offsets = torch.arange(4.0)  # plain attribute: not a parameter, not a buffer
        self.depth: int = 2
        self.widths = [4, 4]
        self.names = {"a": 1, "b": 2}

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.emb(ids) + self.offsets)
        for layer in self.layers:
            x = torch.relu(layer(x))
        return self.out(x) * float(self.depth + self.names["a"])


class ConstNet(nn.Module):
    """Traced, its captured tensor becomes a constants.pkl entry (not in the state dict)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 5)
        self.shift = torch.linspace(-1, 1, 5)

    def forward(self, x):
        return self.fc(x) + self.shift


PACKAGE_SOURCE = {
    "__init__.py": '"""A user package whose model class a whole-model pickle names."""\n',
    "models.py": '''import torch
import torch.nn as nn


class PkgNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(6, 8), nn.GELU(), nn.LayerNorm(8))
        self.decoder = nn.Linear(8, 6)
        self.register_buffer("mask", torch.tensor([True, False, True, True, False, True]))

    def forward(self, x):
        return self.decoder(self.encoder(x)) * self.mask
''',
}


# --- fixtures ----------------------------------------------------------------------------------

FIXTURES = []  # (relative path, expected format, writer(path))


def fixture(name, fmt):
    def register(fn):
        FIXTURES.append((name, fmt, fn))
        return fn
    return register


def seeded(seed):
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def all_dtypes():
    g = torch.Generator().manual_seed(3)
    r = torch.randn(3, 4, generator=g)
    return collections.OrderedDict([
        ("f32", r), ("f64", r.double() * 1e100), ("f16", r.half()), ("bf16", r.bfloat16()),
        ("i8", torch.randint(-128, 128, (3, 4), dtype=torch.int8, generator=g)),
        ("u8", torch.randint(0, 256, (5,), dtype=torch.uint8, generator=g)),
        ("i16", torch.randint(-2 ** 15, 2 ** 15, (2, 2), dtype=torch.int16, generator=g)),
        ("i32", torch.randint(-2 ** 31, 2 ** 31, (4,), dtype=torch.int32, generator=g)),
        ("i64", torch.tensor([-2 ** 63, -1, 0, 1, 2 ** 63 - 1])),
        ("bool", torch.tensor([[True, False, True], [False, False, True]])),
        ("c64", torch.complex(r[0], r[1])),
        ("c128", torch.complex(r[2].double(), -r[0].double()).reshape(2, 2)),
        ("special", torch.tensor([float("nan"), float("inf"), -float("inf"), -0.0, 1e-45])),
    ])


def views():
    """Views with storage offsets, transposes, channels-last, expand, 0-dim and empty tensors."""
    g = torch.Generator().manual_seed(4)
    base = torch.arange(12.0).reshape(3, 4)
    big = torch.randn(1000, generator=g)
    return collections.OrderedDict([
        ("base", base), ("T", base.t()), ("row1", base[1]), ("col2", base[:, 2]),
        ("slice", big[10:12]),  # the whole 4000-byte storage is saved
        ("strided", big[5:103:7].reshape(2, 7)),
        ("channels_last", torch.randn(1, 3, 2, 2, generator=g).to(memory_format=torch.channels_last)),
        ("expanded", torch.tensor([2.5]).expand(3)),
        ("expanded2d", torch.arange(3).reshape(3, 1).expand(3, 4)),
        ("scalar", torch.tensor(3.25)), ("scalar_int", torch.tensor(-9)),
        ("empty", torch.empty(0, 3)), ("empty1", torch.zeros(0, dtype=torch.int64)),
        ("requires_grad", torch.ones(2, requires_grad=True)),
        ("param", nn.Parameter(torch.full((2, 2), 0.5))),
    ])


def extras():
    """Free-form checkpoint extras: every plain value kind the flattening rule covers, and
    things it skips (bytes, sets, non-str/int/bool/None keys)."""
    return {
        "big": 2 ** 70, "neg_big": -2 ** 65, "u64": 2 ** 64 - 1,
        "int64_max": 2 ** 63 - 1, "int64_min": -2 ** 63,
        "unicode": "naïve 日本語 🚀 Ωmega", "control": "tab\there\nnewline \x00 nul",
        "tuple": (1, 2.5, "three", None, (True, False)),
        "none": None, "yes": True, "no": False,
        "np_f64": np.float64(0.1), "np_i64": np.int64(-7),
        "np_f32": np.float32(1.5), "np_i32": np.int32(123456),
        "int_keys": {1: {"a": 1}, 2: {3: "x"}, -5: 0.5},
        "bool_keys": {True: 1, False: 0}, "none_key": {None: "n"},
        "floats": [0.0, -0.0, 1e-300, 5e-324, 1.7976931348623157e308, float("nan"),
                   float("inf"), -float("inf"), 0.1, 1 / 3],
        "skipped": {"bytes": b"\x00\x01raw", "set": {1, 2}, (1, 2): "tuple key", 1.5: "float key"},
        "empty_dict": {}, "empty_list": [],
        "input_shape": torch.Size([1, 3, 8, 8]),
        "ключ": "unicode key",
    }


def train(model, opt, sched, x, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
        sched.step()


def checkpoint(opt_name, sched_name, seed):
    seeded(seed)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.BatchNorm1d(8), nn.Linear(8, 2))
    params = [{"params": list(model[0].parameters()) + list(model[2].parameters())},
              {"params": model[3].parameters(), "lr": 0.05}]
    opt = {"adam": lambda: torch.optim.Adam(params, lr=0.01),
           "adamw": lambda: torch.optim.AdamW(params, lr=0.01, weight_decay=0.05, amsgrad=True),
           "sgd": lambda: torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True)}[opt_name]()
    sched = {"step": lambda: torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
             "cosine": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)}[sched_name]()
    x, y = torch.randn(16, 6), torch.randn(16, 2)
    train(model, opt, sched, x, y, 3)
    ckpt = {"epoch": 3, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
            "scheduler_state_dict": sched.state_dict(), "loss": F.mse_loss(model(x), y).item()}
    ckpt.update(extras())
    return ckpt


@fixture("dtypes.pt", "torch-zip")
def _(p):
    torch.save(all_dtypes(), p)


@fixture("dtypes_legacy.pt", "torch-legacy")
def _(p):
    torch.save(all_dtypes(), p, _use_new_zipfile_serialization=False)


@fixture("views.pt", "torch-zip")
def _(p):
    torch.save(views(), p)


@fixture("views_legacy.pt", "torch-legacy")
def _(p):
    torch.save(views(), p, _use_new_zipfile_serialization=False)


@fixture("tied_state_dict.pth", "torch-zip")
def _(p):
    seeded(5)
    torch.save(TiedLM().state_dict(), p)


@fixture("ckpt_adam_steplr.ckpt", "torch-zip")
def _(p):
    torch.save(checkpoint("adam", "step", 10), p)


@fixture("ckpt_adamw_cosine.pt", "torch-zip")
def _(p):
    torch.save(checkpoint("adamw", "cosine", 11), p)


@fixture("ckpt_sgd_momentum.pth", "torch-zip")
def _(p):
    torch.save(checkpoint("sgd", "step", 12), p)


@fixture("ckpt_sgd_cosine_legacy.pt", "torch-legacy")
def _(p):
    torch.save(checkpoint("sgd", "cosine", 13), p, _use_new_zipfile_serialization=False)


@fixture("ckpt_proto4.pt", "torch-zip")
def _(p):
    torch.save(checkpoint("adam", "cosine", 14), p, pickle_protocol=4)


@fixture("ckpt_proto5.pt", "torch-zip")
def _(p):
    torch.save(checkpoint("adamw", "step", 15), p, pickle_protocol=5)


@fixture("views_proto4_legacy.pt", "torch-legacy")
def _(p):
    torch.save(views(), p, pickle_protocol=4, _use_new_zipfile_serialization=False)


@fixture("state_dict_proto2.pth", "torch-zip")
def _(p):
    seeded(16)
    torch.save(MainNet().state_dict(), p, pickle_protocol=2)


def save_as_if_on(device, obj, p, **kw):
    """torch.save with every storage tagged as living on `device` ('cuda:0'): the bytes torch
    writes for a GPU checkpoint, made on a CPU-only machine by torch's own serializer."""
    real = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: device
    try:
        torch.save(obj, p, **kw)
    finally:
        torch.serialization.location_tag = real


@fixture("cuda_saved.pt", "torch-zip")
def _(p):
    seeded(40)
    save_as_if_on("cuda:0", MainNet().state_dict(), p)


@fixture("cuda_saved_legacy.pt", "torch-legacy")
def _(p):
    seeded(41)
    save_as_if_on("cuda:1", {"w": torch.randn(3, 4), "step": 5}, p, _use_new_zipfile_serialization=False)


@fixture("dataparallel.pth", "torch-zip")
def _(p):
    seeded(17)
    torch.save(nn.DataParallel(nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))).state_dict(), p)


@fixture("lightning.ckpt", "torch-zip")
def _(p):
    seeded(18)
    model = TiedLM()
    torch.save({"epoch": 9, "global_step": 1234, "pytorch-lightning_version": "1.9.0",
                "state_dict": collections.OrderedDict(("model." + k, v) for k, v in model.state_dict().items()),
                "hyper_parameters": {"lr": 3e-4, "hidden": 8, "layers": [8, 8], "name": "tiny"},
                "callbacks": {"ModelCheckpoint": {"best_model_score": torch.tensor(0.25), "mode": "min"}}}, p)


@fixture("pytorch_model.bin", "torch-zip")
def _(p):
    seeded(19)
    torch.save(TiedLM().state_dict(), p)


@fixture("whole_main.pt", "torch-zip")
def _(p):
    seeded(20)
    torch.save(MainNet(), p)


@fixture("whole_main_legacy.pt", "torch-legacy")
def _(p):
    seeded(21)
    torch.save(MainNet(), p, _use_new_zipfile_serialization=False)


@fixture("whole_package.pt", "torch-zip")
def _(p):
    import interop_pkg.models
    seeded(22)
    torch.save(interop_pkg.models.PkgNet(), p)


@fixture("whole_package_legacy.pth", "torch-legacy")
def _(p):
    import interop_pkg.models
    seeded(23)
    torch.save(interop_pkg.models.PkgNet(), p, _use_new_zipfile_serialization=False)


@fixture("whole_in_dict.pt", "torch-zip")
def _(p):
    import interop_pkg.models
    seeded(24)
    torch.save({"model": MainNet(), "models": [interop_pkg.models.PkgNet(), TiedLM()], "epoch": 4,
                "note": "whole models inside a checkpoint"}, p)


@fixture("torchvision_resnet18.pth", "torch-zip")
def _(p):
    import torchvision
    seeded(25)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), p)


@fixture("torchvision_resnet18_whole.pt", "torch-zip")
def _(p):
    import torchvision
    seeded(26)
    torch.save(torchvision.models.resnet18(weights=None), p)


@fixture("torchvision_resnet18.ts.pt", "torchscript")
def _(p):
    import torchvision
    seeded(27)
    m = torchvision.models.resnet18(weights=None).eval()
    torch.jit.save(torch.jit.trace(m, torch.zeros(1, 3, 32, 32)), p)


@fixture("ts_traced.pt", "torchscript")
def _(p):
    seeded(28)
    torch.jit.save(torch.jit.trace(MainNet().eval(), torch.zeros(1, 3, 4, 4)), p)


@fixture("ts_traced_tied.pt", "torchscript")
def _(p):
    seeded(29)
    torch.jit.save(torch.jit.trace(TiedLM(), torch.tensor([[1, 2, 3]])), p)


@fixture("ts_traced_constants.pt", "torchscript")
def _(p):
    seeded(30)
    torch.jit.save(torch.jit.trace(ConstNet(), torch.zeros(2, 5)), p)


@fixture("ts_scripted.pt", "torchscript")
def _(p):
    seeded(31)
    torch.jit.save(torch.jit.script(ScriptNet()), p)


@fixture("ts_scripted_main.pt", "torchscript")
def _(p):
    seeded(32)
    torch.jit.save(torch.jit.script(MainNet()), p)


@fixture("tensor_root.pt", "torch-zip")
def _(p):
    torch.save(torch.arange(6, dtype=torch.int16).reshape(2, 3), p)


@fixture("list_root.pt", "torch-zip")
def _(p):
    seeded(33)
    t = torch.randn(4)
    torch.save([t, t[1:], {"a": torch.ones(2, 2), "b": [1, 2.0, "3"]}, (None, torch.zeros(1))], p)


@fixture("many_tensors.pt", "torch-zip")
def _(p):
    # 300 storages: keys past "10" sort differently as strings and as numbers in the zip.
    torch.save(collections.OrderedDict((f"layer{i}.w", torch.full((i % 5 + 1,), float(i))) for i in range(300)), p)


@fixture("deep_nesting.pt", "torch-zip")
def _(p):
    obj = {"leaf": torch.ones(1), "depth": 40}
    for i in range(40):
        obj = {f"d{i}": obj} if i % 2 else [obj, i]
    torch.save(obj, p)


def repack(src, dst, compression, force_zip64):
    """Re-writes a torch.save archive with Python's zipfile: same members in the same order,
    without torch's 64-byte alignment padding."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            out = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            out.compress_type = compression
            with zout.open(out, "w", force_zip64=force_zip64) as f:
                f.write(zin.read(info))


@fixture("zip64_python.pt", "torch-zip")
def _(p):
    # torch writes zip64 extras only for members >= 4 GiB; Python's zipfile with force_zip64
    # gives every local header a zip64 extra (sizes 0xFFFFFFFF in the header fields), STORED.
    torch.save(checkpoint("adam", "step", 34), p + ".orig")
    repack(p + ".orig", p, zipfile.ZIP_STORED, True)
    os.remove(p + ".orig")


@fixture("zip64_infozip.pt", "torch-zip")
def _(p):
    # Info-ZIP's `zip -fz` puts zip64 extras in local and central headers and writes a zip64
    # end record; -0 keeps members STORED, -D omits directory entries, members keep torch's order.
    src = p + ".orig"
    seeded(35)
    torch.save(views(), src)
    tmp = p + ".d"
    shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(src) as z:
        names = z.namelist()
        z.extractall(tmp)
    if os.path.exists(p):
        os.remove(p)
    subprocess.run(["zip", "-q", "-0", "-fz", "-X", "-D", os.path.abspath(p)] + names, cwd=tmp, check=True)
    shutil.rmtree(tmp)
    os.remove(src)


@fixture("deflated.pt", "torch-zip")
def _(p):
    torch.save(all_dtypes(), p + ".orig")
    repack(p + ".orig", p, zipfile.ZIP_DEFLATED, False)
    os.remove(p + ".orig")


@fixture("st_dtypes.safetensors", "safetensors")
def _(p):
    save_safetensors({k: v for k, v in all_dtypes().items() if k != "c128"}, p)


@fixture("st_model.safetensors", "safetensors")
def _(p):
    seeded(36)
    sd = {k: v for k, v in MainNet().state_dict().items()}
    sd.update({"scalar": torch.tensor(1.5), "empty": torch.zeros(0, 4), "ids": torch.arange(5)})
    save_safetensors(sd, p, {"format": "pt", "note": "written by make_fixtures.py"})


def shards(sd, n):
    """Splits a state dict into n consecutive groups (huggingface_hub keeps order)."""
    items = list(sd.items())
    per = math.ceil(len(items) / n)
    return [collections.OrderedDict(items[i:i + per]) for i in range(0, len(items), per)]


def write_index(path, sd, groups, shard_name):
    weight_map = {}
    for i, g in enumerate(groups):
        for k in g:
            weight_map[k] = shard_name.format(i + 1, len(groups))
    total = sum(t.numel() * t.element_size() for t in sd.values())
    with open(path, "w") as f:  # as transformers writes it
        f.write(json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map},
                           indent=2, sort_keys=True) + "\n")


@fixture("hf_safetensors/model.safetensors.index.json", "hf-sharded")
def _(p):
    seeded(37)
    import torchvision
    sd = torchvision.models.mobilenet_v3_small(weights=None).features[:4].state_dict()
    groups = shards(sd, 2)
    for i, g in enumerate(groups):
        save_safetensors(g, os.path.join(os.path.dirname(p), f"model-{i + 1:05d}-of-{len(groups):05d}.safetensors"))
    write_index(p, sd, groups, "model-{:05d}-of-{:05d}.safetensors")


@fixture("hf_bin/pytorch_model.bin.index.json", "hf-sharded")
def _(p):
    seeded(38)
    sd = collections.OrderedDict((k, v) for k, v in MainNet().state_dict().items())
    groups = shards(sd, 2)
    for i, g in enumerate(groups):
        torch.save(g, os.path.join(os.path.dirname(p), f"pytorch_model-{i + 1:05d}-of-{len(groups):05d}.bin"))
    write_index(p, sd, groups, "pytorch_model-{:05d}-of-{:05d}.bin")


NPY = {
    "npy_f32": lambda r: r.standard_normal((3, 5)).astype(np.float32),
    "npy_f64_fortran": lambda r: np.asfortranarray(r.standard_normal((4, 3))),
    "npy_f16_scalar": lambda r: np.array(2.5, dtype=np.float16),
    "npy_i8": lambda r: r.integers(-128, 128, (7,), dtype=np.int8),
    "npy_u8_image": lambda r: r.integers(0, 256, (2, 4, 3), dtype=np.uint8),
    "npy_i16": lambda r: r.integers(-999, 999, (2, 3), dtype=np.int16),
    "npy_i64": lambda r: np.arange(-3, 9, dtype=np.int64).reshape(3, 4),
    "npy_i32_bigendian": lambda r: np.arange(6, dtype=">i4").reshape(2, 3),
    "npy_f64_bigendian": lambda r: r.standard_normal(5).astype(">f8"),
    "npy_bool": lambda r: r.integers(0, 2, (3, 3)).astype(bool),
    "npy_c64": lambda r: (r.standard_normal(4) + 1j * r.standard_normal(4)).astype(np.complex64),
    "npy_c128": lambda r: r.standard_normal((2, 2)) * (1 - 2j),
    "npy_empty": lambda r: np.zeros((0, 4), dtype=np.float32),
    "npy_noncontiguous": lambda r: np.arange(24, dtype=np.float32).reshape(4, 6)[:, ::2].T,
}
for _stem, _make in NPY.items():
    fixture(_stem + ".npy", "npy")(lambda p, make=_make: np.save(p, make(np.random.default_rng(39))))


class OnnxNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 6)
        self.conv = nn.Conv1d(6, 6, 3, padding=1)
        self.fc = nn.Linear(6, 4)

    def forward(self, ids):
        x = self.conv(self.emb(ids).transpose(1, 2)).transpose(1, 2)
        return self.fc(torch.relu(x))


@fixture("onnx_mlp.onnx", "onnx")
def _(p):
    seeded(40)
    m = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))
    torch.onnx.export(m, torch.zeros(1, 10), p, opset_version=13, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


@fixture("onnx_conv_bn.onnx", "onnx")
def _(p):
    seeded(41)
    m = MainNet().eval()
    torch.onnx.export(m, torch.zeros(1, 3, 4, 4), p, opset_version=13)


@fixture("onnx_embedding.onnx", "onnx")
def _(p):
    seeded(42)
    torch.onnx.export(OnnxNet().eval(), torch.tensor([[1, 2, 3]]), p, opset_version=13,
                      do_constant_folding=False)


# --- the oracle --------------------------------------------------------------------------------

INT64 = (-2 ** 63, 2 ** 63 - 1)


def scalar(v):
    """A plain value as inspect --json prints it."""
    if isinstance(v, float):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, int) and not isinstance(v, bool):
        return int(v) if INT64[0] <= v <= INT64[1] else str(int(v))
    return v


def key_name(k):
    """A dict key as a name part, or None when the key names nothing (formats flatten rule)."""
    if isinstance(k, str):
        return k
    if k is None or isinstance(k, bool):
        return repr(k)
    if isinstance(k, int):
        return str(k)
    return None


def join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def onnx_values(model, out):
    """The model description inspect lists for ONNX files, computed with the onnx package."""
    import onnx
    esc = lambda s: "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else "\\x%02x" % b  # noqa: E731
                            for b in s.encode("utf-8"))
    types = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.UINT8: "uint8", onnx.TensorProto.INT8: "int8",
             onnx.TensorProto.UINT16: "uint16", onnx.TensorProto.INT16: "int16", onnx.TensorProto.INT32: "int32",
             onnx.TensorProto.INT64: "int64", onnx.TensorProto.BOOL: "bool", onnx.TensorProto.FLOAT16: "float16",
             onnx.TensorProto.DOUBLE: "float64", onnx.TensorProto.UINT32: "uint32", onnx.TensorProto.UINT64: "uint64",
             onnx.TensorProto.COMPLEX64: "complex64", onnx.TensorProto.COMPLEX128: "complex128",
             onnx.TensorProto.BFLOAT16: "bfloat16", onnx.TensorProto.STRING: "string"}

    def dim(d):
        return str(d.dim_value) if d.HasField("dim_value") else esc(d.dim_param) if d.dim_param else "?"

    out["ir_version"] = model.ir_version
    out["producer_name"] = esc(model.producer_name)
    out["producer_version"] = esc(model.producer_version)
    for o in model.opset_import:
        out["opset_import." + (esc(o.domain) or "ai.onnx")] = o.version
    g = model.graph
    out["graph.name"] = esc(g.name)
    inits = {i.name for i in g.initializer}
    for what, items in (("inputs", g.input), ("outputs", g.output)):
        for i, x in enumerate(x for x in items if x.name not in inits):
            t = x.type.tensor_type
            out["graph.%s.%d.name" % (what, i)] = esc(x.name)
            out["graph.%s.%d.dtype" % (what, i)] = types.get(t.elem_type, "onnx_type_%d" % t.elem_type)
            out["graph.%s.%d.shape" % (what, i)] = \
                "[%s]" % ", ".join(dim(d) for d in t.shape.dim) if t.HasField("shape") else "?"
    out["graph.nodes"] = len(g.node)
    ops = collections.Counter((esc(n.domain) + "." if n.domain not in ("", "ai.onnx") else "") + esc(n.op_type)
                              for n in g.node)
    for op in sorted(ops):
        out["graph.ops." + op] = ops[op]


class Expectation:
    def __init__(self, fmt):
        self.fmt, self.tensors, self.values = fmt, [], collections.OrderedDict()

    def tensor(self, name, t):
        self.add(name, dtype_name(t.dtype), list(t.shape), tensor_bytes(t))

    def add(self, name, dtype, shape, data):
        self.tensors.append({"name": name, "dtype": dtype, "shape": shape,
                             "sha256": hashlib.sha256(data).hexdigest()})

    def walk(self, obj, name=""):
        if isinstance(obj, torch.Tensor):
            self.tensor(name, obj)
        elif isinstance(obj, nn.Module):
            for k, t in obj.state_dict().items():
                self.tensor(join(name, k), t)
        elif obj is None or isinstance(obj, (bool, int, float, str)):
            self.values[name] = scalar(obj)
        elif isinstance(obj, np.generic) and isinstance(obj.item(), (bool, int, float)):
            self.values[name] = scalar(obj.item())
        elif isinstance(obj, dict):
            for k, v in obj.items():
                part = key_name(k)
                if part is not None:
                    self.walk(v, join(name, part))
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                self.walk(v, join(name, str(i)))
        # bytes, sets and other objects name nothing

    def json(self, rel):
        return {"name": rel, "format": self.fmt, "tensors": self.tensors, "values": self.values}


def oracle(path, fmt):
    e = Expectation(fmt)
    if fmt in ("torch-zip", "torch-legacy"):
        e.walk(torch.load(path, map_location="cpu"))
    elif fmt == "torchscript":
        for k, t in torch.jit.load(path, map_location="cpu").state_dict().items():
            e.tensor(k, t)
    elif fmt == "safetensors":
        for k, (dtype, shape, data) in read_safetensors(path).items():
            e.add(k, dtype, shape, data)
    elif fmt == "hf-sharded":
        with open(path) as f:
            weight_map = json.load(f, object_pairs_hook=collections.OrderedDict)["weight_map"]
        opened = {}
        for k, shard in weight_map.items():
            shard_path = os.path.join(os.path.dirname(path), shard)
            if shard_path not in opened:
                opened[shard_path] = (read_safetensors(shard_path) if shard.endswith(".safetensors")
                                      else torch.load(shard_path, map_location="cpu"))
            entry = opened[shard_path][k]
            if isinstance(entry, torch.Tensor):
                e.tensor(k, entry)
            else:
                e.add(k, *entry)
    elif fmt == "npy":
        a = np.load(path, allow_pickle=False)
        e.tensor(os.path.basename(path)[:-len(".npy")], torch.from_numpy(a.astype(a.dtype.newbyteorder("<"))))
    elif fmt == "onnx":
        import onnx
        from onnx import numpy_helper
        model = onnx.load(path)
        for init in model.graph.initializer:
            e.tensor(init.name, torch.from_numpy(numpy_helper.to_array(init).copy()))
        onnx_values(model, e.values)
    else:
        raise ValueError(fmt)
    return e


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_fixtures.py OUTDIR")
    out = os.path.abspath(sys.argv[1])
    os.makedirs(out, exist_ok=True)
    pkgroot = os.path.join(out, "pkgsrc")
    os.makedirs(os.path.join(pkgroot, "interop_pkg"), exist_ok=True)
    for fname, text in PACKAGE_SOURCE.items():
        with open(os.path.join(pkgroot, "interop_pkg", fname), "w") as f:
            f.write(text)
    sys.path.insert(0, pkgroot)  # for saving and for the oracle's torch.load

    import warnings
    warnings.filterwarnings("ignore")
    for rel, fmt, write in FIXTURES:
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write(path)
    expected = [oracle(os.path.join(out, rel), fmt).json(rel) for rel, fmt, _ in FIXTURES]
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
    print(f"make_fixtures: {len(expected)} fixtures in {out}")


if __name__ == "__main__":
    main()
