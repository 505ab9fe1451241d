#!/usr/bin/python3
"""Writers suite (issue 4): what torchless writes, read by the Python side.

    run_writers.py --tool build/bin/tl_convert_st --work DIR

torch.save writes a state dict with every dtype torch 1.13 and safetensors share (bf16, fp16,
views, tied weights, 0-dim, empty); tl_convert_st (torchless load_state_dict + the writers)
converts it to safetensors, Hugging Face shards and .npy; the independent safetensors reader
of make_fixtures.py, json and numpy.load read the results, which must equal the torch tensors
bit for bit. The crash test (kill_writers.py) runs in run_convert.py, on the CLI; throughput is
measured by bench/compare_save.py. Prints "ok NAME" / "FAIL NAME: why" per case, then
`writers: N passed, N failed`; exits 1 on failure.
"""
import argparse
import ctypes
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import dtype_name, read_safetensors  # noqa: E402

# safetensors reference order: descending dtype rank (formats.md 8), then name
RANK = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F8_E8M0", "I16", "U16", "F16",
        "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]


def raw(t):
    """C-order bytes of a tensor of any dtype."""
    t = t.detach().contiguous()
    return ctypes.string_at(t.data_ptr(), t.numel() * t.element_size()) if t.numel() else b""


def source():
    g = torch.Generator().manual_seed(7)
    base = torch.randn(8, 6, generator=g)
    emb = torch.randn(10, 4, generator=g)
    sd = {
        "f32": torch.randn(3, 5, generator=g),
        "f64": torch.randn(4, generator=g, dtype=torch.float64),
        "f16": torch.randn(2, 3, generator=g).half(),
        "bf16": torch.tensor([1.5, -2.0, 3.0, float("nan"), float("-inf"), 1e-40, -0.0]).bfloat16(),
        "i8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "u8": torch.arange(250, 256, dtype=torch.uint8),
        "i16": torch.tensor([-32768, 32767], dtype=torch.int16),
        "i32": torch.tensor([-(2**31), 2**31 - 1], dtype=torch.int32),
        "i64": torch.tensor([-(2**63), 2**63 - 1], dtype=torch.int64),
        "bool": torch.tensor([True, False, True]),
        "c64": torch.randn(3, generator=g, dtype=torch.complex64),
        "scalar": torch.tensor(-0.0),
        "empty": torch.zeros(0, 3, dtype=torch.float16),
        "view.t": base.t(),
        "view.slice": base[2:7:2, 1:5],
        "model.embed.weight": emb,
        "lm_head.weight": emb,  # tied
    }
    return sd


def storage_key(t):
    return t.storage().data_ptr() if t.numel() else None


def hf_split(sd, limit):
    """huggingface_hub's split_state_dict_into_shards_factory, on torch tensors."""
    shards, current, current_size, total, groups = [], [], 0, 0, {}
    for name, t in sd.items():
        key = storage_key(t)
        if key is not None:
            if key in groups:
                groups[key].append(name)
                continue
            groups[key] = [name]
        size = t.storage().size() * t.element_size() if key is not None else 0
        total += size
        if size > limit:
            shards.append([name])
            continue
        if current_size + size > limit:
            shards.append(current)
            current, current_size = [], 0
        current.append(name)
        current_size += size
    if current:
        shards.append(current)
    for names in groups.values():
        for s in shards:
            if names[0] in s:
                s.extend(names[1:])
                break
    return shards, total


def read_with_aliases(path):
    """The independent reader plus torchless's alias metadata: name -> (dtype, shape, bytes)."""
    out = read_safetensors(path)
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    for alias, name in json.loads(header.get("__metadata__", {}).get("torchless.aliases", "{}")).items():
        out[alias] = out[name]
    return out, header, n


def compare(sd, got, names=None):
    names = list(sd) if names is None else names
    if sorted(got) != sorted(names):
        return "names %s != %s" % (sorted(got), sorted(names))
    for name in names:
        t = sd[name]
        dt, shape, data = got[name]
        if dt != dtype_name(t.dtype) or list(shape) != list(t.shape) or data != raw(t):
            return "%s: %s %s differs from torch's %s %s" % (name, dt, shape, dtype_name(t.dtype), list(t.shape))
    return None


def check_safetensors(tool, work, sd, src):
    out = os.path.join(work, "m.safetensors")
    subprocess.run([tool, src, out, "--meta", "origin=torch"], check=True)
    got, header, n = read_with_aliases(out)
    if n % 8:
        return "header length %d not a multiple of 8" % n
    keys = list(header)
    if keys[0] != "__metadata__" or header["__metadata__"].get("format") != "pt" or \
            header["__metadata__"].get("origin") != "torch":
        return "bad __metadata__ %s" % header.get("__metadata__")
    entries = [(k, v) for k, v in header.items() if k != "__metadata__"]
    if [k for k, _ in entries] != sorted((k for k, _ in entries), key=lambda k: (-RANK.index(header[k]["dtype"]), k)):
        return "not in reference order: %s" % [k for k, _ in entries]
    if [v["data_offsets"] for _, v in entries] != sorted(v["data_offsets"] for _, v in entries):
        return "header order is not offset order"
    if "lm_head.weight" in header:
        return "tied tensor written twice"
    return compare(sd, got)


def check_shards(tool, work, sd, src):
    d = os.path.join(work, "shards")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    limit = 200
    subprocess.run([tool, src, os.path.join(d, "model.safetensors"), "--shard-size", str(limit)], check=True)
    shards, total = hf_split(sd, limit)
    text = open(os.path.join(d, "model.safetensors.index.json")).read()
    index = json.loads(text)
    if text != json.dumps(index, indent=2, sort_keys=True) + "\n":
        return "index is not json.dumps(indent=2, sort_keys=True) text"
    n = len(shards)
    want_map = {name: "model-%05d-of-%05d.safetensors" % (i + 1, n) for i, s in enumerate(shards) for name in s}
    if index["weight_map"] != want_map:
        return "split differs from huggingface_hub's: %s vs %s" % (index["weight_map"], want_map)
    if index["metadata"] != {"total_size": total}:
        return "metadata %s, want total_size %d" % (index["metadata"], total)
    if sorted(os.listdir(d)) != sorted(set(want_map.values()) | {"model.safetensors.index.json"}):
        return "files: %s" % sorted(os.listdir(d))
    got = {}
    for i, s in enumerate(shards):
        part, _, _ = read_with_aliases(os.path.join(d, "model-%05d-of-%05d.safetensors" % (i + 1, n)))
        if sorted(part) != sorted(s):
            return "shard %d holds %s, want %s" % (i + 1, sorted(part), sorted(s))
        got.update(part)
    return compare(sd, got)


def check_npy(tool, work, sd, src):
    d = os.path.join(work, "npy")
    shutil.rmtree(d, ignore_errors=True)
    subprocess.run([tool, src, d, "--npy"], check=True)
    for name, t in sd.items():
        path = os.path.join(d, name + ".npy")
        a = np.load(path)
        w = t.float() if t.dtype == torch.bfloat16 else t
        if a.dtype != w.numpy().dtype or list(a.shape) != list(w.shape) or a.tobytes() != raw(w):
            return "%s: numpy.load gives %s %s" % (name, a.dtype, a.shape)
        with open(path, "rb") as f:
            head = f.read(10)
        if head[:8] != b"\x93NUMPY\x01\x00" or (10 + struct.unpack("<H", head[8:])[0]) % 64:
            return "%s: not a 64-byte aligned v1 header" % name
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    sd = source()
    src = os.path.join(a.work, "src.pt")
    torch.save(sd, src)
    passed = failed = 0
    for name, check in [("safetensors", check_safetensors), ("shards", check_shards), ("npy", check_npy)]:
        try:
            why = check(a.tool, a.work, sd, src)
        except Exception as e:
            why = "%s: %s" % (type(e).__name__, e)
        if why:
            failed += 1
            print("FAIL %s: %s" % (name, why))
        else:
            passed += 1
            print("ok %s" % name)
    print("writers: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
