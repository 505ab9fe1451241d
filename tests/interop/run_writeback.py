#!/usr/bin/python3
"""Writeback suite: files torch writes, re-saved by torchless, read back by torch.

    run_writeback.py --resave build/bin/tl_resave --work DIR [--only REGEX]

For every case below, torch.save()s an object into DIR/src/NAME.pt, runs `tl_resave SRC OUT`
(torchless::load then torchless::save in the torch format), then checks OUT:
  - (cases in REFUSED: tl_resave refuses with [unsupported], naming the class, writing nothing)
  - the zip layout of formats.md 1.5: record order, every record's data at a multiple of 64,
    STORED, CRCs (zipfile.testzip);
  - data.pkl uses only the compat opcodes (formats.md 7) and only GLOBALs on torch 2.x's
    weights_only allowlist;
  - torch.load(OUT, weights_only=True) when torch 1.13's allowlist can express the content
    (no Python floats, no bytes), plain torch.load otherwise;
  - the loaded object equals the original: same types (dict / OrderedDict / list / tuple),
    key order, scalars (floats bit for bit), OrderedDict _metadata, and for every tensor the
    dtype, shape, stride, storage_offset and bytes; tensors that shared a storage still share
    one (untyped storage data_ptr), tensors that did not still do not, and one tensor object
    saved twice is one object again.
Prints "ok NAME" or "FAIL NAME: reason" per case, then `writeback: N passed, N failed`;
exits 1 if anything failed.
"""
import argparse
import collections
import math
import os
import pickletools
import re
import struct
import subprocess
import sys
import zipfile

import torch

STORAGES = ["FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "CharStorage", "ByteStorage",
            "ShortStorage", "IntStorage", "LongStorage", "BoolStorage", "ComplexFloatStorage",
            "ComplexDoubleStorage"]
# GLOBALs we may write: all on torch 2.x's weights_only allowlist (formats.md 7); the last
# line is the 2.x profile (torch2_profile.py): dtypes 1.13 lacks, over untyped storages.
ALLOWED_GLOBALS = {"collections OrderedDict", "torch._utils _rebuild_tensor_v2", "_codecs encode"} | {
    "torch " + s for s in STORAGES} | {"torch._utils _rebuild_tensor_v3", "torch.storage UntypedStorage"} | {
    "torch " + d for d in ("uint16", "uint32", "uint64", "complex32", "float8_e4m3fn", "float8_e5m2",
                           "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu")}
COMPAT_OPCODES = {"PROTO", "STOP", "MARK", "EMPTY_DICT", "EMPTY_LIST", "EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2",
                  "TUPLE3", "SETITEM", "SETITEMS", "APPEND", "APPENDS", "NONE", "NEWTRUE", "NEWFALSE", "BININT",
                  "BININT1", "BININT2", "LONG1", "BINUNICODE", "BINPUT", "LONG_BINPUT", "BINGET", "LONG_BINGET",
                  "GLOBAL", "REDUCE", "BUILD", "BINPERSID", "BINFLOAT"}


# ---- the cases ---------------------------------------------------------------------------

def rand(dtype, *shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=g).bool()
    if dtype.is_floating_point or dtype.is_complex:
        return torch.randn(*shape, generator=g, dtype=dtype if dtype != torch.bfloat16 else torch.float32).to(dtype)
    info = torch.iinfo(dtype)
    return torch.randint(max(info.min, -2**31), min(info.max, 2**31 - 1), shape, generator=g, dtype=dtype)


def with_metadata(od, meta):
    od._metadata = meta
    return od


def case_dtypes():
    dts = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int8, torch.uint8, torch.int16,
           torch.int32, torch.int64, torch.bool, torch.complex64, torch.complex128]
    return collections.OrderedDict((str(dt).split(".")[1], rand(dt, 3, 5, seed=i)) for i, dt in enumerate(dts))


def case_views():
    base = torch.arange(12.).reshape(3, 4)
    big = torch.arange(1000, dtype=torch.int32)
    return {"base": base, "T": base.t(), "row1": base[1], "col2": base[:, 2], "slice": big[10:12],
            "narrow": big.narrow(0, 500, 7)[::2], "big": big[900:]}


def case_layouts():
    conv = rand(torch.float32, 2, 3, 4, 5).to(memory_format=torch.channels_last)
    return {"channels_last": conv, "transposed": rand(torch.float64, 4, 6).t(),
            "permuted": rand(torch.int16, 2, 3, 4).permute(2, 0, 1),
            "expand": torch.tensor([1.5, 2.5, 3.5])[:1].expand(5), "expand2d": torch.ones(1, 3).expand(4, 3),
            "neg_step_free": rand(torch.float16, 8)[1::3]}


def case_zero_dim_empty():
    return {"scalar": torch.tensor(3.5), "scalar_i": torch.tensor(7, dtype=torch.int64),
            "scalar_b": torch.tensor(True), "empty": torch.empty(0, 3), "empty_i": torch.zeros(2, 0, 4, dtype=torch.int64),
            "empty_view": torch.arange(6.)[3:3]}


def tied_model():
    torch.manual_seed(0)
    emb = torch.nn.Embedding(10, 4)
    head = torch.nn.Linear(4, 10, bias=False)
    head.weight = emb.weight
    return torch.nn.ModuleDict({"emb": emb, "body": torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4)),
                                "head": head})


def case_tied_state_dict():
    return tied_model().state_dict()


def case_state_dict_bn():
    torch.manual_seed(1)
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Flatten(),
                            torch.nn.Linear(4 * 2 * 2, 3))
    m(torch.randn(2, 3, 4, 4))
    return m.state_dict()


def case_checkpoint():
    model = tied_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
    loss = model["head"](model["body"](model["emb"](torch.tensor([1, 2, 3])))).sum()
    loss.backward()
    opt.step()
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3)
    return {"epoch": 3, "global_step": 2**40, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": opt.state_dict(), "scheduler_state_dict": sched.state_dict(),
            "loss": float(loss), "extras": {"seed": 1234, "tags": ["a", "b"], "ratio": 0.1}}


def case_optimizer_sgd_ints():
    # Optimizer state with integer-only hyperparameters: loads with weights_only in 1.13.
    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.SGD([w], lr=1, momentum=1)
    w.sum().backward()
    opt.step()
    sd = opt.state_dict()
    sd["param_groups"][0] = {k: v for k, v in sd["param_groups"][0].items() if not isinstance(v, float)}
    return sd


def case_scalars():
    return {"ints": [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1, 2**31, -2**31 - 1, 2**63 - 1, -2**63,
                     2**63, -2**63 - 1, 2**70, -2**100, 2**127 - 1],
            "strings": ["", "plain", "r\u00e9sum\u00e9 \u2603 \U0001F600", "plain"],
            "none": None, "bools": [True, False],
            "tuples": ((), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4, 5), ((1, (2,)), [3])),
            "int_keys": {0: "zero", -5: "neg", 2**40: "big"}, "mixed_keys": {None: 1, True: 2, (1, "a"): 3, "s": 4},
            "nested": {"a": {"b": {"c": [1, {"d": []}]}}}, "empty": {"d": {}, "l": [], "t": ()},
            "long_list": list(range(2500)), "long_dict": {i: i * i for i in range(1500)}}


def case_floats():
    return {"floats": [0.0, -0.0, 1.5, float("inf"), -float("inf"), float("nan"), 1e-310, 3.141592653589793],
            "float_keys": {0.5: "half", -2.0: "m2"}, "lr": 1e-3}


def case_bytes():
    return {"raw": b"\x00\xff\x80abc", "empty": b"", "list": [b"x", b"x"]}


def case_same_object_twice():
    t = torch.arange(5.)
    return {"a": t, "b": t, "list": [t, t[1:]], "other": torch.arange(5.)}


def case_parameters():
    p = torch.nn.Parameter(torch.randn(2, 3))
    return {"p": p, "plain": torch.ones(2)}


def case_large():
    return collections.OrderedDict((f"layer{i}.weight", rand(torch.float32, 256, 1024, seed=i)) for i in range(3))


def case_many_tensors():
    sd = collections.OrderedDict((f"t{i}", torch.full((i % 5 + 1,), float(i))) for i in range(300))
    return with_metadata(sd, collections.OrderedDict((f"m{i}", {"version": 1}) for i in range(300)))


def case_legacy_source():
    # Read from the pre-1.6 format (storage views with offsets), written in the zip format.
    base = torch.arange(20, dtype=torch.float64)
    return {"base": base, "view": base[5:15].view(2, 5), "t": base[:12].view(3, 4).t(), "i": torch.arange(3)}


# Saved by torch with these extra torch.save arguments.
SAVE_KWARGS = {"legacy_source": {"_use_new_zipfile_serialization": False}}
# tl_resave must refuse these (a whole module is not data: the error names its class).
REFUSED = {"whole_module": "torch.nn.modules.linear.Linear"}


def case_whole_module():
    return torch.nn.Linear(2, 2)


CASES = {name[5:]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}


# ---- checks ----------------------------------------------------------------------------

def plain_only(obj):
    """True when torch 1.13's weights_only unpickler can read obj (no Python floats, no bytes)."""
    if isinstance(obj, (float, bytes)):
        return False
    if isinstance(obj, dict):
        meta = getattr(obj, "_metadata", None)
        return all(plain_only(k) and plain_only(v) for k, v in obj.items()) and (meta is None or plain_only(meta))
    if isinstance(obj, (list, tuple)):
        return all(plain_only(x) for x in obj)
    return True


def storage_of(t):
    """The untyped storage (torch 2.x) or the typed one (1.13, which has no untyped_storage())."""
    return t.untyped_storage() if hasattr(t, "untyped_storage") else t.storage()


def storage_ptr(t):
    return storage_of(t).data_ptr()


def tensor_bytes(t):
    t = t.detach()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.contiguous().numpy().tobytes()


def same_scalar(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    return a == b


def compare(want, got, path, tensors):
    """The first difference between want and got, or None. Collects (path, want, got) tensors."""
    where = path or "<root>"
    if isinstance(want, torch.Tensor):
        if type(got) is not torch.Tensor:
            return f"{where}: expected a tensor, got {type(got).__name__}"
        for attr in ("dtype", "shape"):
            if getattr(want, attr) != getattr(got, attr):
                return f"{where}: {attr} {getattr(want, attr)} != {getattr(got, attr)}"
        if want.numel() > 0 and (want.stride() != got.stride() or want.storage_offset() != got.storage_offset()):
            return f"{where}: stride/offset {want.stride()}/{want.storage_offset()} != {got.stride()}/{got.storage_offset()}"
        if got.requires_grad:
            return f"{where}: requires_grad set"
        if tensor_bytes(want) != tensor_bytes(got):
            return f"{where}: bytes differ"
        tensors.append((where, want, got))
        return None
    if type(want) is not type(got):
        return f"{where}: type {type(want).__name__} != {type(got).__name__}"
    if isinstance(want, dict):
        if list(want.keys()) != list(got.keys()) and not all(same_scalar(a, b) for a, b in zip(want, got)):
            return f"{where}: keys {list(want.keys())[:8]} != {list(got.keys())[:8]}"
        if len(want) != len(got):
            return f"{where}: {len(want)} keys != {len(got)}"
        for (k, v), (k2, v2) in zip(want.items(), got.items()):
            if not (k == k2 or same_scalar(k, k2)) or type(k) is not type(k2):
                return f"{where}: key {k!r} != {k2!r}"
            d = compare(v, v2, f"{path}.{k}" if path else str(k), tensors)
            if d:
                return d
        if isinstance(want, collections.OrderedDict):
            wm, gm = getattr(want, "_metadata", None), getattr(got, "_metadata", None)
            if (wm is None) != (gm is None):
                return f"{where}: _metadata {'lost' if gm is None else 'appeared'}"
            if wm is not None:
                return compare(wm, gm, f"{path}._metadata", [])
        return None
    if isinstance(want, (list, tuple)):
        if len(want) != len(got):
            return f"{where}: length {len(want)} != {len(got)}"
        for i, (a, b) in enumerate(zip(want, got)):
            d = compare(a, b, f"{path}.{i}" if path else str(i), tensors)
            if d:
                return d
        return None
    if isinstance(want, float) and math.isnan(want):
        return None if isinstance(got, float) and math.isnan(got) and struct.pack("<d", want) == struct.pack("<d", got) \
            else f"{where}: {want!r} != {got!r}"
    return None if same_scalar(want, got) else f"{where}: {want!r} != {got!r}"


def check_sharing(tensors):
    """Storage sharing and object identity relations must be the same before and after."""
    for i in range(len(tensors)):
        for j in range(i + 1, len(tensors)):
            (pa, wa, ga), (pb, wb, gb) = tensors[i], tensors[j]
            if wa.numel() and wb.numel() and storage_of(wa).nbytes() and storage_of(wb).nbytes():
                if (storage_ptr(wa) == storage_ptr(wb)) != (storage_ptr(ga) == storage_ptr(gb)):
                    return f"{pa} / {pb}: storage sharing {'lost' if storage_ptr(wa) == storage_ptr(wb) else 'invented'}"
                if storage_ptr(wa) == storage_ptr(wb) and \
                        wa.data_ptr() - wb.data_ptr() != ga.data_ptr() - gb.data_ptr():
                    return f"{pa} / {pb}: data_ptr distance changed"
            if (wa is wb) != (ga is gb):
                return f"{pa} / {pb}: object identity {'lost' if wa is wb else 'invented'}"
    return None


def check_file(path):
    """Zip layout and pickle content of a file we wrote, or the first problem."""
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        n_data = sum(1 for n in names if n.startswith("archive/data/"))
        want = ["archive/data.pkl", "archive/.format_version", "archive/.storage_alignment", "archive/byteorder"] + \
            [f"archive/data/{i}" for i in range(n_data)] + ["archive/version"]
        if names != want:
            return f"records {names[:10]} != {want[:10]}"
        bad = z.testzip()
        if bad:
            return f"CRC mismatch in {bad}"
        raw = open(path, "rb").read()
        for info in z.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                return f"{info.filename} is not STORED"
            h = info.header_offset
            name_len, extra_len = struct.unpack("<HH", raw[h + 26:h + 30])
            if (h + 30 + name_len + extra_len) % 64:
                return f"{info.filename}: data at {h + 30 + name_len + extra_len}, not a multiple of 64"
        pkl = z.read("archive/data.pkl")
    for op, arg, _ in pickletools.genops(pkl):
        if op.name not in COMPAT_OPCODES:
            return f"opcode {op.name} outside the compat profile"
        if op.name == "GLOBAL" and arg not in ALLOWED_GLOBALS:
            return f"GLOBAL {arg} is not on torch 2.x's weights_only allowlist"
    return None


def run_case(name, fn, resave, work):
    obj = fn()
    src, out = os.path.join(work, "src", name + ".pt"), os.path.join(work, "out", name + ".pt")
    torch.save(obj, src, **SAVE_KWARGS.get(name, {}))
    want = torch.load(src)  # what torch itself gives back from its own file
    r = subprocess.run([resave, src, out], capture_output=True, text=True)
    if name in REFUSED:
        if r.returncode == 1 and "[unsupported]" in r.stderr and REFUSED[name] in r.stderr and not os.path.exists(out):
            return None
        return f"expected a refusal naming {REFUSED[name]}, got exit {r.returncode}: {r.stderr.strip()[:300]}"
    if r.returncode != 0:
        return f"tl_resave exited {r.returncode}: {r.stderr.strip()[:300]}"
    problem = check_file(out)
    if problem:
        return problem
    weights_only = plain_only(want)
    try:
        got = torch.load(out, weights_only=True) if weights_only else torch.load(out)
    except Exception as e:  # noqa: BLE001 - report any refusal as the failure
        return f"torch.load(weights_only={weights_only}) failed: {str(e)[:300]}"
    tensors = []
    return compare(want, got, "", tensors) or check_sharing(tensors)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resave", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    for sub in ("src", "out"):
        os.makedirs(os.path.join(args.work, sub), exist_ok=True)
    passed = failed = 0
    for name, fn in CASES.items():
        if args.only and not re.search(args.only, name):
            continue
        try:
            problem = run_case(name, fn, args.resave, args.work)
        except Exception as e:  # noqa: BLE001 - a crash in one case fails that case only
            problem = f"{type(e).__name__}: {e}"
        if problem:
            failed += 1
            print(f"FAIL {name}: {problem}")
        else:
            passed += 1
            print(f"ok {name}")
    print(f"writeback: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
