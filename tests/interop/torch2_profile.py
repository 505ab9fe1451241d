#!/usr/bin/python3
"""Torch 2.x profile of the torch writer: dtypes torch 1.13 lacks (uint16/32/64, float8).

    torch2_profile.py --cli build/bin/torchless --work DIR

torch 1.13 cannot write or load these, so the oracle is torch 2.x's own algorithm, replayed
with Python's pickle: Tensor._reduce_ex_internal gives (_rebuild_tensor_v3, (UntypedStorage,
offset, size, stride, False, OrderedDict(), dtype)) for torch.storage._new_dtypes() and
_rebuild_tensor_v2 over a typed storage otherwise; torch.serialization's persistent_id gives
('storage', storage class, key, 'cpu', numel) with numel in bytes for an UntypedStorage and keys
numbered in order of first reference. Stand-ins carry the names 1.13 lacks (torch.uint16,
torch._utils._rebuild_tensor_v3), so the pickler writes the same GLOBALs torch 2.x does.

A safetensors file with U16/U32/U64/F8_E4M3/F8_E5M2/F32 tensors (written by make_fixtures'
reference-order writer) goes through `torchless convert SRC OUT.pt`; then:
  - the zip layout and GLOBAL allowlist checks of run_writeback.check_file;
  - data.pkl is byte-identical to the replayed torch 2.x pickle of the same state dict;
  - unpickling data.pkl (rebuild functions resolved to numpy views of data/<key>) gives every
    tensor's dtype, shape and bytes equal to the source;
  - convert warns that torch 1.13 cannot load the file.
Prints "ok NAME" / "FAIL NAME: why" and returns the counts (run_convert.py calls run()).
"""
import argparse
import collections
import io
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import save_safetensors  # noqa: E402
from run_writeback import check_file  # noqa: E402

# safetensors dtype -> (torch 2.x dtype name, numpy dtype of the raw elements, torch 1.13 storage class or None)
DTYPES = {"U16": ("uint16", np.uint16, None), "U32": ("uint32", np.uint32, None), "U64": ("uint64", np.uint64, None),
          "F8_E4M3": ("float8_e4m3fn", np.uint8, None), "F8_E5M2": ("float8_e5m2", np.uint8, None),
          "F32": ("float32", np.float32, "FloatStorage")}


class _DType:
    """Stands for torch.<name>: pickles as GLOBAL 'torch <name>', as torch.dtype.__reduce__ does."""

    def __init__(self, name):
        self.name, self.__module__ = name, "torch"

    def __reduce__(self):
        return self.name


def _stand_in(module, name, make):
    mod = sys.modules[module]
    if not hasattr(mod, name):
        setattr(mod, name, make())
    return getattr(mod, name)


def _function(module, name):
    def fn(*args):
        raise RuntimeError("stand-in for " + name)
    fn.__module__, fn.__qualname__, fn.__name__ = module, name, name
    return fn


class _Storage:
    def __init__(self, nbytes, typed):
        self.nbytes, self.typed = nbytes, typed


class _Tensor:
    """A contiguous tensor as torch 2.x's Tensor.__reduce_ex__ describes it."""

    def __init__(self, st_dtype, shape, nbytes):
        self.name, self.np, typed = DTYPES[st_dtype]
        self.shape = tuple(shape)
        self.storage = _Storage(nbytes, typed)

    def __reduce_ex__(self, proto):
        stride, s = [], 1
        for d in reversed(self.shape):
            stride.insert(0, s)
            s *= d
        args = (self.storage, 0, tuple(self.shape), tuple(stride), False, collections.OrderedDict())
        if self.storage.typed:
            return torch._utils._rebuild_tensor_v2, args
        dtype = _stand_in("torch", self.name, lambda: _DType(self.name))
        return _stand_in("torch._utils", "_rebuild_tensor_v3", lambda: _function("torch._utils", "_rebuild_tensor_v3")), \
            args + (dtype,)


class _Pickler(pickle.Pickler):
    """torch.serialization._save's pickler: storages become persistent ids."""

    def __init__(self, f):
        super().__init__(f, protocol=2)
        self.ids = {}

    def persistent_id(self, obj):
        if not isinstance(obj, _Storage):
            return None
        key = self.ids.setdefault(id(obj), str(len(self.ids)))
        if obj.typed:
            return ("storage", getattr(torch, obj.typed), key, "cpu", obj.nbytes // 4)
        return ("storage", torch.UntypedStorage, key, "cpu", obj.nbytes)


def torch2_pickle(entries):
    """data.pkl torch 2.x writes for an OrderedDict name -> (safetensors dtype, shape, bytes)."""
    sd = collections.OrderedDict((n, _Tensor(dt, shape, len(b))) for n, (dt, shape, b) in entries.items())
    buf = io.BytesIO()
    _Pickler(buf).dump(sd)
    return buf.getvalue()


def unpickle(z):
    """Our data.pkl with the rebuild functions resolved to numpy: name -> (dtype name, shape, bytes)."""
    by_class = {cls: name for name, _, cls in DTYPES.values() if cls}
    numpy_of = {name: np_dtype for name, np_dtype, _ in DTYPES.values()}

    def rebuild(storage, offset, size, stride, requires_grad, hooks, dtype=None):
        key, cls = storage
        name = dtype if cls == "UntypedStorage" else by_class[cls]
        base = np.frombuffer(z.read("archive/data/" + key), dtype=numpy_of[name])
        view = np.lib.stride_tricks.as_strided(base[offset:], shape=size, strides=[s * base.itemsize for s in stride])
        return name, list(size), np.ascontiguousarray(view).tobytes()

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor_v3"):
                return rebuild
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            if module in ("torch", "torch.storage"):
                return name  # storage classes and dtypes, by name
            raise pickle.UnpicklingError(f"unexpected GLOBAL {module}.{name}")

        def persistent_load(self, pid):
            _, cls, key, _, _ = pid
            return key, cls

    return Unpickler(io.BytesIO(z.read("archive/data.pkl"))).load()


def source(seed=11):
    rng = np.random.default_rng(seed)
    raw = lambda n, dt: rng.integers(0, 256, n * np.dtype(dt).itemsize, dtype=np.uint8).tobytes()  # noqa: E731
    entries = {"emb.u16": ("U16", [2, 3], raw(6, np.uint16)), "ids.u32": ("U32", [4], raw(4, np.uint32)),
               "hash.u64": ("U64", [2], raw(2, np.uint64)), "w.f8": ("F8_E4M3", [5], raw(5, np.uint8)),
               "g.f8": ("F8_E5M2", [1, 3], raw(3, np.uint8)), "bias": ("F32", [2, 2], raw(4, np.float32)),
               "empty.u16": ("U16", [0, 4], b"")}
    return entries


def check(cli, work):
    os.makedirs(work, exist_ok=True)
    src, out = os.path.join(work, "torch2.safetensors"), os.path.join(work, "torch2.pt")
    entries = source()
    save_safetensors(entries, src)
    order = list(_header_order(src))
    r = subprocess.run([cli, "convert", src, out], capture_output=True, text=True)
    if r.returncode != 0:
        return f"convert exited {r.returncode}: {r.stderr.strip()[:300]}"
    if "torchless: warning:" not in r.stderr or "torch 1.13 cannot load" not in r.stderr:
        return f"no warning that torch 1.13 cannot load the file: {r.stderr.strip()[:300]}"
    problem = check_file(out)
    if problem:
        return problem
    with zipfile.ZipFile(out) as z:
        want_pkl = torch2_pickle(collections.OrderedDict((n, entries[n]) for n in order))
        if z.read("archive/data.pkl") != want_pkl:
            return "data.pkl differs from torch 2.x's pickle of the same state dict"
        got = unpickle(z)
    for name, (dt, shape, b) in entries.items():
        if got.get(name) != (DTYPES[dt][0], shape, b):
            return f"{name}: read back as {got.get(name, 'nothing')!r:.200}"
    return None


def _header_order(path):
    """Tensor names in a safetensors header's order (the state dict order torchless reads)."""
    import json
    import struct
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n), object_pairs_hook=collections.OrderedDict)
    return (k for k in header if k != "__metadata__")


def run(cli, work):
    """(passed, failed), one line printed."""
    try:
        problem = check(cli, work)
    except Exception as e:  # noqa: BLE001 - report, don't crash the calling suite
        problem = f"{type(e).__name__}: {e}"
    print(f"FAIL torch2_profile: {problem}" if problem else "ok torch2_profile")
    return (0, 1) if problem else (1, 0)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    sys.exit(1 if run(a.cli, a.work)[1] else 0)
