#!/usr/bin/python3
"""Crash safety of the writers (issue 4 point 4): SIGKILL tl_convert_st at random moments
while it writes a ~64 MiB safetensors file, many times. After every kill the final name must
either not exist or be a complete file that torchless reads back equal to the source (checked
by converting it again with the tool, which must reproduce the same bytes, and by the
independent reader against the source's sha256). Never a truncated file. Leftover
`.NAME.tmp-*` files are allowed; they are counted, reported and removed.

    kill_writers.py --tool PATH --work DIR [--rounds 40]
Prints one line per round, then `kill: N passed, N failed (S stray temporary files)`.
"""
import argparse
import glob
import hashlib
import os
import random
import signal
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import read_safetensors  # noqa: E402


def run(tool, work, rounds=40, seed=4):
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "kill_src.pt")
    g = torch.Generator().manual_seed(seed)
    sd = {"a.weight": torch.randn(4096, 2048, generator=g), "b.weight": torch.randn(2048, 4096, generator=g).t(),
          "c.bias": torch.arange(1000, dtype=torch.int64)}
    torch.save(sd, src)
    want = {k: hashlib.sha256(t.contiguous().numpy().tobytes()).hexdigest() for k, t in sd.items()}
    out = os.path.join(work, "kill_out.safetensors")
    check = os.path.join(work, "kill_check.safetensors")
    rng = random.Random(seed)

    def clean():
        for p in (out, check):
            if os.path.exists(p):
                os.remove(p)

    clean()
    t0 = time.monotonic()
    subprocess.run([tool, src, out], check=True)
    full = time.monotonic() - t0
    passed = failed = strays = 0
    outcomes = {"absent": 0, "complete": 0}
    for i in range(rounds):
        clean()
        delay = rng.uniform(0, 1.2 * full)
        p = subprocess.Popen([tool, src, out], stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        tmps = glob.glob(os.path.join(work, ".kill_out.safetensors.tmp-*"))
        strays += len(tmps)
        for t in tmps:
            os.remove(t)
        problem = None
        if not os.path.exists(out):
            state = "absent"
        else:
            state = "complete"
            try:
                got = read_safetensors(out)
                sums = {k: hashlib.sha256(v[2]).hexdigest() for k, v in got.items()}
                if sums != want:
                    problem = "content differs from the source"
                elif subprocess.run([tool, out, check], stderr=subprocess.PIPE).returncode != 0:
                    problem = "torchless cannot read it back"
                elif open(out, "rb").read() != open(check, "rb").read():
                    problem = "torchless read back something else"
            except Exception as e:  # a truncated or malformed file
                problem = "unreadable: %s" % e
        outcomes[state] += 1
        tag = "after %.3fs of %.3fs (rc %s): %s" % (delay, full, p.returncode, state)
        if problem:
            failed += 1
            print("FAIL kill %d %s: %s" % (i, tag, problem))
        else:
            passed += 1
            print("ok kill %d %s" % (i, tag))
    clean()
    os.remove(src)
    print("kill outcomes: %d absent, %d complete; %d stray temporary files" % (outcomes["absent"], outcomes["complete"], strays))
    return passed, failed, strays


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--rounds", type=int, default=40)
    a = ap.parse_args()
    p, f, s = run(a.tool, a.work, a.rounds)
    print("kill: %d passed, %d failed (%d stray temporary files)" % (p, f, s))
    sys.exit(1 if f else 0)


if __name__ == "__main__":
    main()
