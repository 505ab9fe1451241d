#!/usr/bin/python3
"""Crash safety of the writers (issue 4): SIGKILL `torchless convert` at random moments while
it writes a ~64 MiB file, many times, for each output kind:
  safetensors  kill_out.safetensors
  torch        kill_out.pt (torch.save's zip layout)
  shards       shards/model.safetensors --shard-size 24MB (3 shards, then the index)
After every kill the final name must either not exist or be a complete file equal to the
source: safetensors through the independent reader of make_fixtures.py (sha256 of every
tensor) and converted again by torchless, which must reproduce the same bytes; torch files
through torch.load(weights_only=True); shards: every shard present is complete, and once the
index exists, it names every tensor and the shards it names hold the source. Never a
truncated file. Leftover `.NAME.tmp-*` files are allowed; they are counted, reported and
removed.

    kill_writers.py --cli build/bin/torchless --work DIR [--rounds 20] [--kind safetensors|torch|shards]
Prints one line per round, then `kill: N passed, N failed (S stray temporary files)`.
run_convert.py runs it for every kind.
"""
import argparse
import glob
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import read_safetensors  # noqa: E402

KINDS = {"safetensors": ("kill_out.safetensors", []), "torch": ("kill_out.pt", []),
         "shards": (os.path.join("shards", "model.safetensors"), ["--shard-size", "24MB"])}


def sha(b):
    return hashlib.sha256(b).hexdigest()


def check_safetensors(cli, path, want, shard=False):
    """Problem with a safetensors file that exists, or None. A shard holds part of `want`."""
    got = {k: sha(v[2]) for k, v in read_safetensors(path).items()}
    if (any(want.get(k) != s for k, s in got.items()) or not got) if shard else got != want:
        return "%s: content differs from the source" % os.path.basename(path)
    check = path + ".check.safetensors"
    try:
        if subprocess.run([cli, "convert", path, check], stderr=subprocess.PIPE).returncode != 0:
            return "torchless cannot read %s back" % os.path.basename(path)
        if open(path, "rb").read() != open(check, "rb").read():
            return "torchless read back something else from %s" % os.path.basename(path)
    finally:
        if os.path.exists(check):
            os.remove(check)
    return None


def check_torch(path, want):
    got = {k: sha(t.contiguous().numpy().tobytes()) for k, t in torch.load(path, weights_only=True).items()}
    return None if got == want else "content differs from the source"


def check_shards(cli, index_path, want):
    d = os.path.dirname(index_path)
    for shard in sorted(glob.glob(os.path.join(d, "model-*-of-*.safetensors"))):
        problem = check_safetensors(cli, shard, want, shard=True)
        if problem:
            return problem
    if not os.path.exists(index_path + ".index.json"):
        return None
    weight_map = json.load(open(index_path + ".index.json"))["weight_map"]
    if sorted(weight_map) != sorted(want):
        return "index names %s" % sorted(weight_map)
    got = {}
    for shard in set(weight_map.values()):
        if not os.path.exists(os.path.join(d, shard)):
            return "index written before shard %s" % shard
        got.update((k, sha(v[2])) for k, v in read_safetensors(os.path.join(d, shard)).items())
    return None if got == want else "shards differ from the source"


def run(cli, work, kind="safetensors", rounds=20, seed=4):
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "kill_src.pt")
    g = torch.Generator().manual_seed(seed)
    sd = {"a.weight": torch.randn(4096, 2048, generator=g), "b.weight": torch.randn(2048, 4096, generator=g).t(),
          "c.bias": torch.arange(1000, dtype=torch.int64)}
    torch.save(sd, src)
    want = {k: sha(t.contiguous().numpy().tobytes()) for k, t in sd.items()}
    name, extra = KINDS[kind]
    out = os.path.join(work, name)
    out_dir = os.path.dirname(out)
    final = out + ".index.json" if kind == "shards" else out  # the name written last
    cmd = [cli, "convert", src, out] + extra
    rng = random.Random(seed)

    def clean():
        if kind == "shards":
            shutil.rmtree(out_dir, ignore_errors=True)
            os.makedirs(out_dir)
        elif os.path.exists(out):
            os.remove(out)

    full = 0  # the slowest of three uninterrupted runs: kills spread over the whole write
    for _ in range(3):
        clean()
        t0 = time.monotonic()
        subprocess.run(cmd, check=True)
        full = max(full, time.monotonic() - t0)
    if not os.path.exists(final):
        raise RuntimeError("%s did not write %s" % (" ".join(cmd), final))
    passed = failed = strays = 0
    outcomes = {"absent": 0, "complete": 0}
    for i in range(rounds):
        clean()
        delay = rng.uniform(0, 1.2 * full)
        p = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        tmps = glob.glob(os.path.join(out_dir, ".*.tmp-*"))
        strays += len(tmps)
        for t in tmps:
            os.remove(t)
        state = "complete" if os.path.exists(final) else "absent"
        try:
            if kind == "shards":
                problem = check_shards(cli, out, want)
            elif state == "absent":
                problem = None
            elif kind == "torch":
                problem = check_torch(out, want)
            else:
                problem = check_safetensors(cli, out, want)
        except Exception as e:  # a truncated or malformed file
            problem = "unreadable: %s: %s" % (type(e).__name__, str(e)[:200])
        outcomes[state] += 1
        shards = len(glob.glob(os.path.join(out_dir, "model-*-of-*.safetensors"))) if kind == "shards" else 0
        tag = "%s after %.3fs of %.3fs (rc %s): %s%s" % (kind, delay, full, p.returncode, state,
                                                       " (%d shards)" % shards if kind == "shards" else "")
        if problem:
            failed += 1
            print("FAIL kill %d %s: %s" % (i, tag, problem))
        else:
            passed += 1
            print("ok kill %d %s" % (i, tag))
    clean()
    os.remove(src)
    print("kill %s outcomes: %d absent, %d complete; %d stray temporary files" % (
        kind, outcomes["absent"], outcomes["complete"], strays))
    return passed, failed, strays


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--kind", choices=sorted(KINDS), action="append")
    a = ap.parse_args()
    total_p = total_f = total_s = 0
    for kind in a.kind or sorted(KINDS):
        p, f, s = run(a.cli, a.work, kind, a.rounds)
        total_p, total_f, total_s = total_p + p, total_f + f, total_s + s
    print("kill: %d passed, %d failed (%d stray temporary files)" % (total_p, total_f, total_s))
    sys.exit(1 if total_f else 0)


if __name__ == "__main__":
    main()
