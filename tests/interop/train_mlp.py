#!/usr/bin/python3
"""The tutorial training loop in Python: the oracle of torchless-train-demo (issue 5).

Same model, data, order and hyper-parameters as tools/train_demo: the MLP
Linear(10,32)-ReLU-Linear(32,1), MSE loss, the optimizer stepped once per mini-batch of 32 rows
taken in file order (adam: Adam(lr=1e-2); adamw: AdamW(lr=1e-2, weight_decay=1e-2,
amsgrad=True); sgd: SGD(lr=1e-2, momentum=0.9, nesterov=True, weight_decay=1e-4)), the
scheduler once per epoch (step: StepLR(step_size=2, gamma=0.5); cosine: CosineAnnealingLR(
T_max=5)). The data set is one .npy of shape [N, 11]: ten inputs, then the target.

    train_mlp.py data DATA.npy [--rows 256] [--seed 0]
    train_mlp.py train --data DATA.npy --epochs N --out CKPT.pt [--from CKPT.pt] [--seed S]
                       [--optimizer adam|adamw|sgd] [--scheduler step|cosine]
    train_mlp.py commit CKPT.pt DIR STEP     # place a checkpoint in CheckpointManager's layout

A checkpoint is the dict the PyTorch tutorials save: epoch (completed epochs),
model_state_dict, optimizer_state_dict, scheduler_state_dict, loss (last epoch's mean).
"""
import argparse
import datetime
import json
import os
import shutil

import numpy as np
import torch
import torch.nn as nn

BATCH = 32
OPTIMIZERS = {
    "adam": lambda p: torch.optim.Adam(p, lr=1e-2),
    "adamw": lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=1e-2, amsgrad=True),
    "sgd": lambda p: torch.optim.SGD(p, lr=1e-2, momentum=0.9, nesterov=True, weight_decay=1e-4),
}
SCHEDULERS = {
    "step": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
    "cosine": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5),
}


def make_data(path, rows, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, 10)).astype(np.float32)
    w = rng.standard_normal(10).astype(np.float32)
    y = (np.tanh(x @ w) + 0.1 * rng.standard_normal(rows)).astype(np.float32)
    np.save(path, np.concatenate([x, y[:, None]], axis=1))


def model():
    return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))


def train(data, epochs, out, start=None, seed=0, optimizer="adam", scheduler="step"):
    """Trains up to `epochs` completed epochs (from `start` when given) and saves `out`."""
    torch.manual_seed(seed)
    net = model()
    opt = OPTIMIZERS[optimizer](net.parameters())
    sched = SCHEDULERS[scheduler](opt)
    epoch, loss = 0, float("nan")
    if start:
        ckpt = torch.load(start)
        net.load_state_dict(ckpt["model_state_dict"])
        opt.load_state_dict(ckpt["optimizer_state_dict"])
        sched.load_state_dict(ckpt["scheduler_state_dict"])
        epoch = ckpt["epoch"]
    d = torch.from_numpy(np.load(data))
    x, y = d[:, :10], d[:, 10:]
    while epoch < epochs:
        total = 0.0
        for i in range(0, len(d), BATCH):
            opt.zero_grad()
            batch_loss = nn.functional.mse_loss(net(x[i:i + BATCH]), y[i:i + BATCH])
            batch_loss.backward()
            opt.step()
            total += batch_loss.item() * len(x[i:i + BATCH])
        sched.step()
        epoch += 1
        loss = total / len(d)
    torch.save({"epoch": epoch, "model_state_dict": net.state_dict(), "optimizer_state_dict": opt.state_dict(),
                "scheduler_state_dict": sched.state_dict(), "loss": loss}, out)
    return net


def commit(ckpt, directory, step):
    """Places `ckpt` as DIR/step-XXXXXXXX-<UTC>/checkpoint.pt + meta.json, the committed layout
    of torchless::CheckpointManager (docs/checkpointing.md), through a temporary name."""
    now = datetime.datetime.now(datetime.timezone.utc)
    name = "step-%08d-%s" % (step, now.strftime("%Y%m%dT%H%M%SZ"))
    tmp = os.path.join(directory, ".tmp-python-" + name)
    os.makedirs(tmp)
    shutil.copy(ckpt, os.path.join(tmp, "checkpoint.pt"))
    epoch = torch.load(ckpt)["epoch"]
    with open(os.path.join(tmp, "meta.json"), "w") as f:
        json.dump({"step": step, "epoch": epoch, "metrics": {}, "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "torchless_version": "python", "file": "checkpoint.pt"}, f)
    os.rename(tmp, os.path.join(directory, name))
    return os.path.join(directory, name, "checkpoint.pt")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("data")
    d.add_argument("path")
    d.add_argument("--rows", type=int, default=256)
    d.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True)
    t.add_argument("--epochs", type=int, required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--from", dest="start")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    t.add_argument("--scheduler", choices=sorted(SCHEDULERS), default="step")
    c = sub.add_parser("commit")
    c.add_argument("ckpt")
    c.add_argument("dir")
    c.add_argument("step", type=int)
    a = ap.parse_args()
    if a.cmd == "data":
        make_data(a.path, a.rows, a.seed)
    elif a.cmd == "train":
        train(a.data, a.epochs, a.out, a.start, a.seed, a.optimizer, a.scheduler)
    else:
        print(commit(a.ckpt, a.dir, a.step))


if __name__ == "__main__":
    main()
