#!/usr/bin/python3
"""torchless save vs torch.save, side by side, on a float32 state_dict.

usage: bench/compare_save.py [--resave build/bin/tl_resave] [--mib 256] [--work DIR] [--runs 5]

Makes a state_dict of float32 tensors (ResNet-like mix of shapes) totalling --mib MiB and
times, best of --runs: torch.save(sd, path) alone, torch.save followed by fsync (torchless
always fsyncs the file and its directory: the comparison that counts for durability), and
torchless::save of the same tensors (`tl_resave SRC OUT --repeat N`, which loads SRC once, its
tensors mapped and in the page cache, and times only the save). Every run writes a fresh file
(the previous output is removed first, untimed). A benchmark, not a test.
"""
import argparse
import os
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resave", default="build/bin/tl_resave")
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


if __name__ == "__main__":
    main()
