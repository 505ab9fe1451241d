#!/usr/bin/python3
"""torchless save and convert vs torch, side by side, on a float32 state_dict.

usage: bench/compare_save.py [--resave build/bin/tl_resave] [--cli build/bin/torchless] [--mib 256]
                             [--work DIR] [--runs 5]

Makes a state_dict of float32 tensors (ResNet-like mix of shapes) totalling --mib MiB and
times, best of --runs: torch.save(sd, path) alone, torch.save followed by fsync (torchless
always fsyncs the file and its directory: the comparison that counts for durability), and
torchless::save of the same tensors (`tl_resave SRC OUT --repeat N`, which loads SRC once, its
tensors mapped and in the page cache, and times only the save). Every run writes a fresh file
(the previous output is removed first, untimed). A benchmark, not a test.

Then `torchless convert SRC OUT.safetensors` and `torchless convert SRC OUT.pt` as a user runs
them (whole process: start, open, write, fsync; goal 1 GB/s), beside the Python way of doing the
first: torch.load(SRC) then the tensors' bytes written as safetensors and fsynced.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

import torch


def make_state_dict(mib):
    torch.manual_seed(0)
    target = mib << 20
    sd, total, i = {}, 0, 0
    shapes = [(512, 512, 3, 3), (256, 256, 3, 3), (1000, 512), (512,), (4096, 1024)]
    while total < target:
        t = torch.randn(*shapes[i % len(shapes)])
        if total + t.numel() * 4 > target:
            t = torch.randn((target - total) // 4)
        sd[f"layer{i}.weight"] = t
        total += t.numel() * 4
        i += 1
    return sd


def torch_save_ms(sd, path, runs, sync):
    best = float("inf")
    for _ in range(runs):
        if os.path.exists(path):
            os.remove(path)  # a fresh target each time, as tl_resave does
        t0 = time.perf_counter()
        torch.save(sd, path)
        if sync:
            fd = os.open(path, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
        best = min(best, (time.perf_counter() - t0) * 1e3)
    return best


def best_of(runs, out, fn):
    best = float("inf")
    for _ in range(runs):
        if os.path.exists(out):
            os.remove(out)
        os.sync()  # no earlier run's writeback in flight
        t0 = time.perf_counter()
        fn()
        best = min(best, (time.perf_counter() - t0) * 1e3)
    return best


def python_convert(src, out):
    """torch.load, then a safetensors file (F32 only here) written and fsynced."""
    sd = torch.load(src)
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(sd):
        b = sd[name].contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(sd[name].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resave", default="build/bin/tl_resave")
    ap.add_argument("--cli", default="build/bin/torchless")
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--work", default=None)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="compare_save_")
    os.makedirs(work, exist_ok=True)
    src, out_torch, out_tl = (os.path.join(work, n) for n in ("src.pt", "torch.pt", "torchless.pt"))
    sd = make_state_dict(args.mib)
    torch.save(sd, src)
    plain = torch_save_ms(sd, out_torch, args.runs, sync=False)
    synced = torch_save_ms(sd, out_torch, args.runs, sync=True)
    r = subprocess.run([args.resave, src, out_tl, "--repeat", str(args.runs)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"tl_resave failed: {r.stderr}")
    tl = float(r.stdout.strip().split("=")[1])
    back = torch.load(out_tl, weights_only=True)
    assert all(torch.equal(back[k], v) for k, v in sd.items()), "torchless output differs"
    mb = (args.mib << 20) / 1e6
    print(f"state_dict: {len(sd)} float32 tensors, {args.mib} MiB, best of {args.runs}")
    print(f"torch.save            {plain:9.1f} ms  {mb / plain:6.2f} GB/s")
    print(f"torch.save + fsync    {synced:9.1f} ms  {mb / synced:6.2f} GB/s")
    print(f"torchless save        {tl:9.1f} ms  {mb / tl:6.2f} GB/s  (atomic: temp file, fsync, rename, fsync dir)")
    print(f"speed-up vs torch.save: {plain / tl:.2f}x  (vs torch.save + fsync: {synced / tl:.2f}x)")

    out_st, out_pt = os.path.join(work, "convert.safetensors"), os.path.join(work, "convert.pt")
    cli = lambda out: subprocess.run([args.cli, "convert", src, out], check=True)  # noqa: E731
    conv_st = best_of(args.runs, out_st, lambda: cli(out_st))
    conv_pt = best_of(args.runs, out_pt, lambda: cli(out_pt))
    py_st = best_of(args.runs, out_st, lambda: python_convert(src, out_st))
    print(f"torchless convert -> .safetensors {conv_st:9.1f} ms  {mb / conv_st:6.2f} GB/s  (whole process, goal 1 GB/s)")
    print(f"torchless convert -> .pt          {conv_pt:9.1f} ms  {mb / conv_pt:6.2f} GB/s")
    print(f"python torch.load + safetensors   {py_st:9.1f} ms  {mb / py_st:6.2f} GB/s  (in-process, fsynced)")


if __name__ == "__main__":
    main()
