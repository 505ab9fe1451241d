#!/usr/bin/python3
"""Train-demo suite (issue 5): a training run moves between Python and C++ (LibTorch) through
CheckpointManager checkpoints in PyTorch's own layout.

    run_train_demo.py --demo build/bin/torchless-train-demo --cli build/bin/torchless --work DIR [--kill-rounds 100]

For Adam, AdamW (amsgrad) and SGD (momentum, nesterov, weight decay), each with StepLR and
CosineAnnealingLR (7 epochs: past T_max=5, where Python's recursive cosine formula turns):
  python_to_cpp  Python (tests/interop/train_mlp.py) trains 2 epochs and commits its checkpoint
                 into the demo's directory; the demo resumes to 7; its epoch-4 and epoch-7
                 checkpoints equal Python training 4 and 7 epochs straight within 1e-5 (the
                 achieved difference is printed);
  cpp_to_python  the demo trains 2 epochs; Python torch.loads the checkpoint, loads model,
                 optimizer and scheduler with their load_state_dict() and continues to 4 and to
                 7; the weights equal the demo's epoch-4 and epoch-7 checkpoints of a straight
                 run within 1e-5; every file the demo wrote names only GLOBALs on torch 2.x's
                 weights_only allowlist.
  kill           the demo is SIGKILLed at random moments of a long run, --kill-rounds times,
                 each round resuming from the latest: after every kill `torchless checkpoint
                 latest` is complete (torch.load, every key, epoch = step), and the run goes on.
Prints "ok NAME" / "FAIL NAME: why", then `train_demo: N passed, N failed`; exits 1 on failure.
"""
import argparse
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

TOL = 1e-5
EPOCHS, MIDDLE, SPLIT = 7, 4, 2  # the 2 + 2 = 4, and on to 7 (past cosine's T_max = 5)
KEYS = {"epoch", "model_state_dict", "optimizer_state_dict", "scheduler_state_dict", "loss"}


class Fail(Exception):
    pass


class Suite:
    def __init__(self, demo, cli, work):
        self.demo, self.cli, self.work = demo, cli, work
        self.data = os.path.join(work, "data.npy")
        train_mlp.make_data(self.data, 256, 0)
        self.worst = 0.0

    def fresh(self, name):
        d = os.path.join(self.work, name)
        shutil.rmtree(d, ignore_errors=True)
        return d

    def run_demo(self, d, epochs, opt, sched, *extra):
        r = subprocess.run([self.demo, "--data", self.data, "--epochs", str(epochs), "--checkpoint-dir", d,
                            "--optimizer", opt, "--scheduler", sched] + list(extra), capture_output=True, text=True)
        if r.returncode != 0:
            raise Fail("demo exited %d: %s" % (r.returncode, r.stderr.strip()[:300]))
        return r.stdout

    def at_epoch(self, d, epoch):
        """The checkpoint of `epoch` in a demo directory (every epoch is kept)."""
        for name in os.listdir(d):
            if name.startswith("step-%08d-" % epoch):
                return os.path.join(d, name, "checkpoint.pt")
        raise Fail("no checkpoint of epoch %d in %s" % (epoch, d))

    def latest(self, d):
        r = subprocess.run([self.cli, "checkpoint", "latest", d], capture_output=True, text=True)
        if r.returncode != 0:
            raise Fail("checkpoint latest: %s" % r.stderr.strip()[:300])
        return r.stdout.strip()

    def compare(self, a_path, b_path, what):
        a, b = torch.load(a_path), torch.load(b_path)
        diff = max((a["model_state_dict"][k] - b["model_state_dict"][k]).abs().max().item()
                   for k in a["model_state_dict"])
        self.worst = max(self.worst, diff)
        if not diff <= TOL or a["epoch"] != b["epoch"]:
            raise Fail("%s: max weight difference %.3g (epochs %s, %s)" % (what, diff, a["epoch"], b["epoch"]))
        return diff


def python_to_cpp(s, opt, sched):
    tag = "%s_%s" % (opt, sched)
    p2, p4, p7 = (os.path.join(s.work, "py_%s_%d.pt" % (tag, e)) for e in (SPLIT, MIDDLE, EPOCHS))
    for epochs, path in ((SPLIT, p2), (MIDDLE, p4), (EPOCHS, p7)):
        train_mlp.train(s.data, epochs, path, optimizer=opt, scheduler=sched)
    d = s.fresh("p2c_" + tag)
    os.makedirs(d)
    train_mlp.commit(p2, d, SPLIT)
    out = s.run_demo(d, EPOCHS, opt, sched, "--resume")
    if "resumed from" not in out:
        raise Fail("the demo did not resume: %s" % out[:200])
    s.compare(p4, s.at_epoch(d, MIDDLE), "Python %d + C++ %d epochs vs Python %d" % (SPLIT, MIDDLE - SPLIT, MIDDLE))
    return s.compare(p7, s.latest(d), "Python %d + C++ %d epochs vs Python %d" % (SPLIT, EPOCHS - SPLIT, EPOCHS))


def cpp_to_python(s, opt, sched):
    tag = "%s_%s" % (opt, sched)
    d2, d7 = s.fresh("c2p2_" + tag), s.fresh("c2p7_" + tag)
    s.run_demo(d2, SPLIT, opt, sched)
    s.run_demo(d7, EPOCHS, opt, sched)
    for d in (d2, d7):
        for name in os.listdir(d):
            if name.startswith("step-"):
                problem = check_file(os.path.join(d, name, "checkpoint.pt"))
                if problem:
                    raise Fail("%s: %s" % (name, problem))
    out4, out7 = (os.path.join(s.work, "py_from_cpp_%s_%d.pt" % (tag, e)) for e in (MIDDLE, EPOCHS))
    train_mlp.train(s.data, MIDDLE, out4, start=s.latest(d2), optimizer=opt, scheduler=sched)
    train_mlp.train(s.data, EPOCHS, out7, start=s.latest(d2), optimizer=opt, scheduler=sched)
    s.compare(s.at_epoch(d7, MIDDLE), out4, "C++ %d + Python %d epochs vs C++ %d" % (SPLIT, MIDDLE - SPLIT, MIDDLE))
    return s.compare(s.latest(d7), out7, "C++ %d + Python %d epochs vs C++ %d" % (SPLIT, EPOCHS - SPLIT, EPOCHS))


def kill_rounds(s, rounds, seed=3):
    """(passed, failed): SIGKILL the demo mid-run, check latest, resume."""
    d = s.fresh("kill")
    rng = random.Random(seed)
    passed = failed = interrupted = 0
    last_epoch = 0
    for i in range(rounds):
        p = subprocess.Popen([s.demo, "--data", s.data, "--epochs", "1000000", "--checkpoint-dir", d, "--resume",
                              "--keep", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Wait for the first epoch line (LibTorch loads for ~0.5 s), then kill somewhere later.
        first = p.stdout.readline()
        if first.startswith("resumed"):
            first = p.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.15))
        p.send_signal(signal.SIGKILL)
        p.wait()
        try:
            if not first.startswith("epoch"):
                raise Fail("the demo printed %r before the kill: %s" % (first, p.stderr.read()[:300]))
            interrupted += any(n.startswith(".tmp-") for n in os.listdir(d))
            path = s.latest(d)
            c = torch.load(path)
            step = int(os.path.basename(os.path.dirname(path)).split("-")[1])
            if set(c) != KEYS or c["epoch"] != step or c["epoch"] < last_epoch:
                raise Fail("latest %s: keys %s, epoch %s (step %d, previous latest %d)"
                           % (path, sorted(c), c.get("epoch"), step, last_epoch))
            last_epoch = c["epoch"]
            passed += 1
        except Fail as e:
            failed += 1
            print("FAIL kill %d: %s" % (i, e))
    # The run still continues normally from where the kills left it.
    try:
        out = s.run_demo(d, last_epoch + 2, "adam", "step", "--resume", "--keep", "3")
        if "resumed from" not in out or torch.load(s.latest(d))["epoch"] != last_epoch + 2:
            raise Fail("the final resume did not continue: %s" % out[:200])
        passed += 1
    except Fail as e:
        failed += 1
        print("FAIL kill resume: %s" % e)
    print("%s kill: %d rounds (%d interrupted a save in progress), reached epoch %d, then resumed to %d"
          % ("ok" if not failed else "FAIL", rounds, interrupted, last_epoch, last_epoch + 2))
    return passed, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--kill-rounds", type=int, default=100)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    s = Suite(os.path.abspath(a.demo), os.path.abspath(a.cli), os.path.abspath(a.work))
    passed = failed = 0
    for opt in ("adam", "adamw", "sgd"):
        for sched in ("step", "cosine"):
            for name, fn in (("python_to_cpp", python_to_cpp), ("cpp_to_python", cpp_to_python)):
                try:
                    diff = fn(s, opt, sched)
                    print("ok %s %s+%s: max weight difference %.3g" % (name, opt, sched, diff))
                    passed += 1
                except Exception as e:  # noqa: BLE001 - one case fails, the suite goes on
                    print("FAIL %s %s+%s: %s" % (name, opt, sched, e))
                    failed += 1
    print("largest weight difference over all cases: %.3g (tolerance %g)" % (s.worst, TOL))
    if a.kill_rounds:
        kp, kf = kill_rounds(s, a.kill_rounds)
        passed += kp
        failed += kf
    print("train_demo: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
