#!/usr/bin/python3
"""Unit-test data for the torch readers and load_state_dict(): written by python3-torch.

Writes OUTDIR/torch/*.pt files and OUTDIR/torch/expected.json with, per file, the state-dict
names load_state_dict() must find (as torch itself sees them) and the values of a few tensors.
"""
import json
import os
import sys

import torch
import torch.nn as nn

out = os.path.join(sys.argv[1], "torch")
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
expected = {}


def record(name, sd, **extra):
    expected[name] = {"names": list(sd.keys()),
                      "first": sd[next(iter(sd))].flatten()[:4].tolist() if sd else [], **extra}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.fc2 = nn.Linear(3, 2)
        self.register_buffer("scratch", torch.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.bn(self.fc1(x)))


net = Net()
sd = net.state_dict()

torch.save(sd, os.path.join(out, "state_dict.pt"))
record("state_dict.pt", sd)

opt = torch.optim.Adam(net.parameters(), lr=1e-3)
net(torch.randn(5, 4)).sum().backward()
opt.step()
ckpt = {"epoch": 3, "model_state_dict": net.state_dict(), "optimizer_state_dict": opt.state_dict(), "loss": 0.25}
torch.save(ckpt, os.path.join(out, "checkpoint.ckpt"))
record("checkpoint.ckpt", net.state_dict())

torch.save({"model": net.state_dict(), "step": 7}, os.path.join(out, "under_model.bin"))
record("under_model.bin", net.state_dict())

dp = nn.DataParallel(net)
torch.save(dp.state_dict(), os.path.join(out, "data_parallel.pth"))
record("data_parallel.pth", net.state_dict(), prefixed=list(dp.state_dict().keys()))

torch.save(net, os.path.join(out, "whole_model.pt"))
record("whole_model.pt", net.state_dict())

torch.save(sd, os.path.join(out, "legacy.pt"), _use_new_zipfile_serialization=False)
record("legacy.pt", sd)

torch.save(net, os.path.join(out, "legacy_whole_model.pt"), _use_new_zipfile_serialization=False)
record("legacy_whole_model.pt", net.state_dict())

traced = torch.jit.trace(net.eval(), torch.randn(2, 4))
torch.jit.save(traced, os.path.join(out, "traced.ts.pt"))
record("traced.ts.pt", torch.jit.load(os.path.join(out, "traced.ts.pt")).state_dict())

torch.save({"a": {"b": 1}, "c": [1, 2]}, os.path.join(out, "no_tensors.pt"))

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
