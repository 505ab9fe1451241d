#!/usr/bin/python3
"""Checkpoint suite (issue 5): CheckpointManager directories read by python3-torch and the CLI.

    run_checkpoint.py --cli build/bin/torchless --tool build/bin/tl_checkpoint --work DIR [--kill-rounds 100]

tl_checkpoint saves training-style checkpoints through a CheckpointManager (their content is a
function of the step, see tests/tools/tl_checkpoint.cc); then:
  layout     `torchless checkpoint list --json` and `latest`, retention (--keep), every committed
             checkpoint.pt loads with torch.load and holds its step's values, uses only GLOBALs on
             torch 2.x's weights_only allowlist, and meta.json says step, epoch, metrics;
  prune      `torchless checkpoint prune DIR --keep 1` removes the older ones;
  async      asynchronous saves: nothing lost, in order;
  python     a checkpoint Python commits in the documented layout (train_mlp.py commit) is listed
             and found as latest; an empty directory has no latest (exit 1, not_found);
  kill       SIGKILL of a saving loop at random moments, many rounds: after each, `latest` is
             complete and loadable, nothing partial is listed, and the next run resumes after it.
Prints "ok NAME" / "FAIL NAME: why", then `checkpoint: N passed, N failed`; exits 1 on failure.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train_mlp  # noqa: E402
from run_writeback import check_file  # noqa: E402


class Fail(Exception):
    pass


def expect_content(path, step):
    """The checkpoint tl_checkpoint writes for `step`, checked value by value."""
    problem = check_file(path)
    if problem:
        raise Fail("%s: %s" % (path, problem))
    c = torch.load(path)
    w = c["model_state_dict"]["fc.weight"]
    want_w = ((torch.arange(w.numel(), dtype=torch.int64) + step) % 1000).float()
    if c["epoch"] != step or c["loss"] != 1.0 / (step + 1) or not torch.equal(w, want_w) or \
            c["model_state_dict"]["fc.bias"].tolist() != [step, 2 * step, 3 * step] or \
            c["optimizer_state_dict"]["state"][0]["step"].item() != step or \
            c["optimizer_state_dict"]["param_groups"] != [{"lr": 0.1, "params": [0]}]:
        raise Fail("%s does not hold step %d's checkpoint" % (path, step))


class Suite:
    def __init__(self, cli, tool, work):
        self.cli, self.tool, self.work = cli, tool, work

    def fresh(self, name):
        d = os.path.join(self.work, name)
        shutil.rmtree(d, ignore_errors=True)
        return d

    def run_tool(self, d, first, last, *extra):
        r = subprocess.run([self.tool, "run", d, str(first), str(last)] + [str(x) for x in extra],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise Fail("tl_checkpoint exited %d: %s" % (r.returncode, r.stderr.strip()[:300]))

    def cli_json(self, *args):
        r = subprocess.run([self.cli, "checkpoint"] + list(args) + ["--json"], capture_output=True, text=True)
        if r.returncode != 0:
            raise Fail("checkpoint %s exited %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()[:300]))
        return json.loads(r.stdout)

    def listed_steps(self, d):
        return [c["step"] for c in self.cli_json("list", d)]

    def latest_path(self, d):
        r = subprocess.run([self.cli, "checkpoint", "latest", d], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None


def case_layout(s):
    d = s.fresh("layout")
    s.run_tool(d, 1, 5, "--keep", 3)
    entries = s.cli_json("list", d)
    if [c["step"] for c in entries] != [3, 4, 5]:
        raise Fail("listed steps %s, want [3, 4, 5] (--keep 3)" % [c["step"] for c in entries])
    for c in entries:
        expect_content(c["path"], c["step"])
        meta = json.load(open(os.path.join(os.path.dirname(c["path"]), "meta.json")))
        if meta["step"] != c["step"] or meta["epoch"] != c["step"] or meta["metrics"] != {"loss": 1.0 / (c["step"] + 1)} \
                or meta["file"] != "checkpoint.pt" or not meta["created_at"].endswith("Z"):
            raise Fail("meta.json %s" % meta)
        if c["bytes"] != os.path.getsize(c["path"]):
            raise Fail("bytes %s" % c)
    latest = s.latest_path(d)
    if latest != entries[-1]["path"]:
        raise Fail("latest %s, want %s" % (latest, entries[-1]["path"]))
    if [e for e in os.listdir(d) if e.startswith(".tmp-")]:
        raise Fail("leftovers %s" % os.listdir(d))


def case_prune(s):
    d = s.fresh("prune")
    s.run_tool(d, 1, 4)
    removed = s.cli_json("prune", d, "--keep", "1")
    if sorted(c["step"] for c in removed) != [1, 2, 3] or s.listed_steps(d) != [4]:
        raise Fail("prune removed %s, left %s" % ([c["step"] for c in removed], s.listed_steps(d)))


def case_async(s):
    d = s.fresh("async")
    s.run_tool(d, 1, 8, "--async", "--kib", 256)
    if s.listed_steps(d) != list(range(1, 9)):
        raise Fail("async saves left %s" % s.listed_steps(d))
    for c in s.cli_json("list", d):
        expect_content(c["path"], c["step"])


def case_python(s):
    d = s.fresh("python")
    s.run_tool(d, 1, 2)
    src = os.path.join(s.work, "python_ckpt.pt")
    torch.save({"epoch": 7, "model_state_dict": {"w": torch.ones(2)}}, src)
    path = train_mlp.commit(src, d, 7)
    if s.listed_steps(d) != [1, 2, 7] or s.latest_path(d) != path:
        raise Fail("a Python-committed checkpoint: listed %s, latest %s" % (s.listed_steps(d), s.latest_path(d)))
    empty = s.fresh("empty")
    os.makedirs(empty)
    r = subprocess.run([s.cli, "checkpoint", "latest", empty], capture_output=True, text=True)
    if r.returncode != 1 or "[not_found]" not in r.stderr:
        raise Fail("latest of an empty directory: exit %d %s" % (r.returncode, r.stderr.strip()))


def kill_rounds(s, rounds, seed=5):
    """(passed, failed): SIGKILL a saving loop, check latest, resume after it."""
    d = s.fresh("kill")
    rng = random.Random(seed)
    passed = failed = 0
    next_step, seen_latest = 1, 0
    for i in range(rounds):
        p = subprocess.Popen([s.tool, "run", d, str(next_step), str(next_step + 10000), "--keep", "3", "--kib", "512"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.0, 0.25))
        p.send_signal(signal.SIGKILL)
        p.wait()
        try:
            entries = s.cli_json("list", d)
            for c in entries:  # every listed checkpoint is complete
                expect_content(c["path"], c["step"])
            steps = [c["step"] for c in entries]
            if steps != sorted(steps) or (steps and steps[-1] < seen_latest):
                raise Fail("steps %s after a latest of %d" % (steps, seen_latest))
            if steps:
                if s.latest_path(d) != entries[-1]["path"]:
                    raise Fail("latest is not the newest listed")
                seen_latest = steps[-1]
                next_step = steps[-1] + 1  # resume after the latest
            passed += 1
        except Fail as e:
            failed += 1
            print("FAIL kill %d: %s" % (i, e))
    strays = len([e for e in os.listdir(d) if e.startswith(".tmp-")])
    print("%s kill: %d rounds, latest reached step %d, %d stray .tmp-* (removed by the next open)"
          % ("ok" if not failed else "FAIL", rounds, seen_latest, strays))
    if seen_latest < rounds // 4:
        failed += 1
        print("FAIL kill: too few saves completed (%d) to exercise resuming" % seen_latest)
    return passed, failed


CASES = [("layout", case_layout), ("prune", case_prune), ("async", case_async), ("python", case_python)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--tool", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--kill-rounds", type=int, default=100)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    s = Suite(os.path.abspath(a.cli), os.path.abspath(a.tool), os.path.abspath(a.work))
    passed = failed = 0
    for name, fn in CASES:
        try:
            fn(s)
            print("ok %s" % name)
            passed += 1
        except Exception as e:  # noqa: BLE001 - one case fails, the suite goes on
            print("FAIL %s: %s" % (name, e))
            failed += 1
    if a.kill_rounds:
        kp, kf = kill_rounds(s, a.kill_rounds)
        passed += kp
        failed += kf
    print("checkpoint: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
