#!/usr/bin/python3
"""torchless bench load vs torch.load, side by side, on a float32 state_dict.

usage: bench/compare_load.py [--cli build/bin/torchless] [--mib 256] [--work DIR] [--runs 5]

Writes a state_dict of float32 tensors (ResNet-like mix of shapes) totalling --mib MiB with
python3-torch, warms the page cache, then reports medians: torchless open_ms / read_all_ms
against torch.load (which reads every byte), and the ratios. A benchmark, not a test.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch


def make_state_dict(path, mib):
    torch.manual_seed(0)
    target = mib << 20
    sd, total, i = {}, 0, 0
    shapes = [(512, 512, 3, 3), (256, 256, 3, 3), (1000, 512), (512,), (4096, 1024)]
    while total < target:
        shape = shapes[i % len(shapes)]
        t = torch.randn(*shape)
        if total + t.numel() * 4 > target:
            t = torch.randn((target - total) // 4)
        sd[f"layer{i}.weight"] = t
        total += t.numel() * 4
        i += 1
    torch.save(sd, path)
    return len(sd)


def torch_load_ms(path, runs):
    torch.load(path)
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        torch.load(path, map_location="cpu")
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="build/bin/torchless")
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", default=tempfile.gettempdir())
    a = ap.parse_args()
    path = os.path.join(a.work, f"bench_sd_{a.mib}mib.pt")
    if not os.path.exists(path):
        n = make_state_dict(path, a.mib)
        print(f"wrote {path}: {n} tensors, {os.path.getsize(path) / 2**20:.1f} MiB", file=sys.stderr)
    out = subprocess.run([a.cli, "bench", "load", path, "--json", "--runs", str(a.runs)],
                         check=True, capture_output=True, text=True).stdout
    tl = json.loads(out)
    tm = torch_load_ms(path, a.runs)
    print(f"{'':24}{'torchless':>12}{'torch.load':>12}{'ratio':>9}")
    print(f"{'open (ms)':24}{tl['open_ms']:12.2f}{tm:12.1f}{tm / tl['open_ms']:8.1f}x")
    print(f"{'open + read all (ms)':24}{tl['read_all_ms']:12.2f}{tm:12.1f}{tm / tl['read_all_ms']:8.1f}x")
    print(json.dumps({"file_mib": a.mib, "torchless_open_ms": tl["open_ms"],
                      "torchless_read_all_ms": tl["read_all_ms"], "torch_load_ms": tm,
                      "open_speedup": tm / tl["open_ms"], "read_all_speedup": tm / tl["read_all_ms"]}))


if __name__ == "__main__":
    main()
