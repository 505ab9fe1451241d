#!/usr/bin/python3
"""`torchless diff` against files torch writes.

    run_diff.py --cli build/bin/torchless --work DIR

torch saves a checkpoint, a copy with one float moved one ulp, and the same weights as
safetensors (the interop suite's faithful writer); then checks diff's exit codes (0 equal,
1 different, 2 error) and its --json. Prints "ok CASE" / "FAIL CASE: why", then
`diff: N passed, N failed`; exits 1 if anything failed.
"""
import argparse
import collections
import json
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import save_safetensors  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--cli", required=True)
ap.add_argument("--work", required=True)
args = ap.parse_args()
os.makedirs(args.work, exist_ok=True)
p = lambda name: os.path.join(args.work, name)  # noqa: E731

g = torch.Generator().manual_seed(6)
sd = collections.OrderedDict([("enc.weight", torch.randn(8, 4, generator=g)), ("enc.bias", torch.randn(8, generator=g)),
                              ("head.weight", torch.randn(3, 8, generator=g).half()), ("step", torch.tensor(7))])
torch.save({"model_state_dict": sd, "epoch": 3}, p("ckpt.pth"))
save_safetensors(dict(sd), p("model.safetensors"))
ulp = collections.OrderedDict((k, v.clone()) for k, v in sd.items())
ulp["enc.bias"][5] = torch.nextafter(ulp["enc.bias"][5], torch.tensor(float("inf")))
torch.save(ulp, p("ulp.pth"))
fewer = collections.OrderedDict(list(sd.items())[:-1])
torch.save(fewer, p("fewer.pth"))
with open(p("garbage.pth"), "wb") as f:
    f.write(b"PK\x03\x04 not a checkpoint")

passed = failed = 0


def case(name, argv, rc, check=None):
    global passed, failed
    r = subprocess.run([args.cli, "diff"] + argv, capture_output=True, text=True)
    why = None
    if r.returncode != rc:
        why = f"exit {r.returncode}, expected {rc}: {r.stdout[-300:]}{r.stderr[-300:]}"
    elif check:
        try:
            why = check(r)
        except Exception as e:  # a malformed output is a failure, not a crash
            why = f"{type(e).__name__}: {e}"
    if why:
        failed += 1
        print(f"FAIL {name}: {why}")
    else:
        passed += 1
        print(f"ok {name}")


def js(r):
    return json.loads(r.stdout)


case("same file", [p("ckpt.pth"), p("ckpt.pth"), "--rtol", "0", "--atol", "0"], 0)
case("pth vs safetensors", [p("ckpt.pth"), p("model.safetensors"), "--rtol", "0", "--atol", "0", "--json"], 0,
     lambda r: None if js(r)["equal"] is True and [t["name"] for t in js(r)["tensors"]] == list(sd)
     and all(t["status"] == "equal" for t in js(r)["tensors"]) else r.stdout)
expected_ulp = (ulp["enc.bias"][5].double() - sd["enc.bias"][5].double()).item()
case("one ulp at zero tolerance", [p("ckpt.pth"), p("ulp.pth"), "--rtol", "0", "--atol", "0", "--json"], 1,
     lambda r: None if js(r)["equal"] is False and [(t["name"], t["status"]) for t in js(r)["tensors"] if t["status"] != "equal"]
     == [("enc.bias", "different")] and next(t for t in js(r)["tensors"] if t["name"] == "enc.bias")["max_abs"] == expected_ulp
     else r.stdout)
case("one ulp at default tolerance", [p("ckpt.pth"), p("ulp.pth")], 0)
case("one ulp, table names it", [p("ulp.pth"), p("model.safetensors"), "--rtol", "0", "--atol", "0"], 1,
     lambda r: None if r.stdout.splitlines()[0].startswith("enc.bias  different") and "different" in r.stdout.splitlines()[-1]
     else r.stdout)
case("missing name", [p("ckpt.pth"), p("fewer.pth"), "--json"], 1,
     lambda r: None if [(t["name"], t["status"]) for t in js(r)["tensors"]][-1] == ("step", "only_a") else r.stdout)
case("unreadable file", [p("ckpt.pth"), p("garbage.pth")], 2,
     lambda r: None if r.stderr.startswith("torchless: error [") else r.stderr)
case("missing file", [p("ckpt.pth"), p("nonexistent.pth")], 2)
case("bad option", [p("ckpt.pth"), p("ckpt.pth"), "--rtol", "-1"], 2)

print(f"diff: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
