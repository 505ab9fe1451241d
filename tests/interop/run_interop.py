#!/usr/bin/python3
"""Interop suite: files written by python3-torch (and numpy, onnx) read by torchless.

    run_interop.py --cli build/bin/torchless --work DIR [--only REGEX] [--no-generate]
    run_interop.py --work DIR --dry-run      # the oracle alone: what every fixture should give
    run_interop.py --work DIR --self-test    # checks the comparison itself, no CLI needed

Runs make_fixtures.py DIR (fixtures + DIR/expected.json from the oracle), then
`torchless inspect FILE --json --sha256` on every fixture, and compares: the format, the
ordered list of tensor names, each tensor's dtype, shape and sha256, and the plain values
(floats bit for bit, ints and bools and strings by type and value). Prints "ok NAME" or
"FAIL NAME: first difference" per fixture, then `interop: N passed, N failed`; exits 1 if
anything failed.
"""
import argparse
import copy
import json
import os
import re
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def same_value(a, b):
    """Exact equality of two JSON scalars: same type, floats compared bit for bit (-0.0 != 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    return a == b


def show(v):
    return json.dumps(v, ensure_ascii=False)


def compare(expected, got):
    """The first difference between the oracle's expectation and inspect --json, or None."""
    if not isinstance(got, dict):
        return f"output is a {type(got).__name__}, not an object"
    for key in ("format", "tensors", "values"):
        if key not in got:
            return f"output has no '{key}'"
    if got["format"] != expected["format"]:
        return f"format: expected {show(expected['format'])}, got {show(got['format'])}"
    want, have = expected["tensors"], got["tensors"]
    if not isinstance(have, list):
        return "'tensors' is not a list"
    for i in range(max(len(want), len(have))):
        if i >= len(have):
            return f"tensor #{i} {show(want[i]['name'])} missing (got {len(have)} tensors, expected {len(want)})"
        h = have[i]
        if not isinstance(h, dict):
            return f"tensor #{i} is not an object"
        if i >= len(want):
            return f"unexpected tensor #{i} {show(h.get('name'))} (got {len(have)} tensors, expected {len(want)})"
        w = want[i]
        if h.get("name") != w["name"]:
            return f"tensor #{i}: expected name {show(w['name'])}, got {show(h.get('name'))}"
        for field in ("dtype", "shape", "sha256"):
            if h.get(field) != w[field]:
                return f"tensor {show(w['name'])}: {field} expected {show(w[field])}, got {show(h.get(field))}"
    want, have = expected["values"], got["values"]
    if not isinstance(have, dict):
        return "'values' is not an object"
    for name, v in want.items():
        if name not in have:
            return f"value {show(name)} missing (expected {show(v)})"
        if not same_value(v, have[name]):
            return f"value {show(name)}: expected {show(v)}, got {show(have[name])}"
    for name in have:
        if name not in want:
            return f"unexpected value {show(name)} = {show(have[name])}"
    return None


def inspect(cli, path):
    """Runs the CLI; returns (parsed JSON, None) or (None, what went wrong)."""
    try:
        p = subprocess.run([cli, "inspect", path, "--json", "--sha256"], capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        return None, "timed out after 300 s"
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, f"exit {p.returncode}: {err[0] if err else '(no message)'}"
    try:
        return json.loads(p.stdout.decode("utf-8")), None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, f"output is not JSON: {e}"


# --- self-test: every kind of difference must be caught -------------------------------------


def mutations(e):
    """(description, mutated copy of the expectation) pairs; each must compare as different."""
    out = []

    def mutate(desc, fn):
        m = copy.deepcopy(e)
        if fn(m) is not False:
            out.append((desc, m))

    t, v = e["tensors"], e["values"]
    mutate("format", lambda m: m.update(format="torch-zip" if e["format"] != "torch-zip" else "torchscript"))
    mutate("missing 'values'", lambda m: m.pop("values"))
    mutate("tensor dropped", lambda m: m["tensors"].pop() if t else False)
    mutate("tensor added", lambda m: m["tensors"].append(dict(t[0] if t else {}, name="extra")))
    mutate("tensors swapped", lambda m: (m["tensors"].reverse() if len({x["name"] for x in t}) > 1 else False))
    mutate("tensor renamed", lambda m: m["tensors"][0].update(name=t[0]["name"] + "x") if t else False)
    mutate("dtype", lambda m: m["tensors"][-1].update(dtype="float64" if t[-1]["dtype"] != "float64" else "float32") if t else False)
    mutate("shape", lambda m: m["tensors"][0].update(shape=t[0]["shape"] + [1]) if t else False)
    mutate("sha256", lambda m: m["tensors"][0].update(sha256="0" + t[0]["sha256"][1:] if t[0]["sha256"][0] != "0"
                                                      else "1" + t[0]["sha256"][1:]) if t else False)
    mutate("sha256 absent", lambda m: m["tensors"][0].pop("sha256") if t else False)
    mutate("value dropped", lambda m: m["values"].popitem() if v else False)
    mutate("value added", lambda m: m["values"].update({"extra.value": 1}))

    def first(kind):
        return next((k for k, x in v.items() if type(x) is kind), None)

    def retype(m, kind, fn):
        k = first(kind)
        if k is None:
            return False
        m["values"][k] = fn(v[k])

    mutate("float off by one ulp", lambda m: retype(m, float, lambda x: struct.unpack("<d", struct.pack("<q", struct.unpack("<q", struct.pack("<d", x))[0] + 1))[0]))
    mutate("float as int", lambda m: retype(m, float, lambda x: int(x) if x == int(x) else 0))
    mutate("int as float", lambda m: retype(m, int, float))
    mutate("int as bool", lambda m: retype(m, int, lambda x: x != 0))
    mutate("bool as int", lambda m: retype(m, bool, int))
    mutate("null as 0", lambda m: retype(m, type(None), lambda x: 0))
    mutate("string changed", lambda m: retype(m, str, lambda x: x + " "))
    mutate("big int as number", lambda m: next((m["values"].update({k: int(x)}) for k, x in v.items()
                                                if type(x) is str and re.fullmatch(r"-?\d+", x)), False))
    mutate("-0.0 as 0.0", lambda m: next((m["values"].update({k: 0.0}) for k, x in v.items()
                                          if type(x) is float and x == 0 and str(x).startswith("-")), False))
    return out


def self_test(expected):
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        print(("ok " if ok else "FAIL ") + what)
        passed, failed = passed + ok, failed + (not ok)

    for e in expected:  # the oracle's own answer must compare equal, also after a JSON round trip
        got = json.loads(json.dumps({k: e[k] for k in ("format", "tensors", "values")}))
        diff = compare(e, got)
        check(diff is None, f"self-test identical {e['name']}" + (f": {diff}" if diff else ""))
    seen = set()
    for e in expected:
        for desc, m in mutations(e):
            if (e["format"], desc) in seen:
                continue
            seen.add((e["format"], desc))
            diff = compare(e, json.loads(json.dumps(m)))
            check(diff is not None, f"self-test detects {desc} in {e['name']}" + (f": {diff}" if diff else ""))
    return passed, failed


def dry_run(expected):
    for e in expected:
        print(f"{e['name']}  ({e['format']}, {len(e['tensors'])} tensors, {len(e['values'])} values)")
        for t in e["tensors"]:
            print(f"  {t['name']}  {t['dtype']} {t['shape']}  {t['sha256'][:16]}")
        for k, v in e["values"].items():
            print(f"  {k} = {show(v)}")
    print(f"interop dry run: {len(expected)} fixtures")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", help="the torchless binary")
    ap.add_argument("--work", required=True, help="directory for fixtures and expected.json")
    ap.add_argument("--only", help="regular expression: run the fixtures whose name matches")
    ap.add_argument("--no-generate", action="store_true", help="reuse the fixtures already in --work")
    ap.add_argument("--dry-run", action="store_true", help="print the oracle's expectations, run no CLI")
    ap.add_argument("--self-test", action="store_true", help="check the comparison logic, run no CLI")
    args = ap.parse_args()
    if not (args.cli or args.dry_run or args.self_test):
        ap.error("--cli is required unless --dry-run or --self-test")

    if not args.no_generate:
        subprocess.run([sys.executable, os.path.join(HERE, "make_fixtures.py"), args.work], check=True)
    with open(os.path.join(args.work, "expected.json"), encoding="utf-8") as f:
        expected = json.load(f)
    if args.only:
        expected = [e for e in expected if re.search(args.only, e["name"])]

    if args.dry_run:
        dry_run(expected)
        return 0
    if args.self_test:
        passed, failed = self_test(expected)
    else:
        passed = failed = 0
        for e in expected:
            got, err = inspect(args.cli, os.path.join(args.work, e["name"]))
            diff = err or compare(e, got)
            print(f"FAIL {e['name']}: {diff}" if diff else f"ok {e['name']}", flush=True)
            passed, failed = passed + (diff is None), failed + (diff is not None)
    print(f"interop: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
