#!/usr/bin/python3
"""Test data for diff(): one set of weights as torch.save and as safetensors, and a copy with
one float changed by one ulp.

Usage: make_diff.py OUTDIR   (writes OUTDIR/diff/...)

  model.pth           torch.save of an OrderedDict state dict (float32/16, bfloat16, int64, bool,
                      with NaN and inf values)
  model.safetensors   the same tensors by the faithful safetensors writer of the interop suite
  model_ulp.pth       model.pth with fc.weight[1, 2] moved one ulp up (torch.nextafter)
  ulp.txt             the size of that ulp, as a decimal float
"""
import collections
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "interop"))
from make_fixtures import save_safetensors  # noqa: E402

OUT = os.path.join(sys.argv[1], "diff")
os.makedirs(OUT, exist_ok=True)
g = torch.Generator().manual_seed(4)
sd = collections.OrderedDict()
sd["fc.weight"] = torch.randn(4, 5, generator=g)
sd["fc.bias"] = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0])
sd["half"] = torch.randn(3, generator=g).half()
sd["bf"] = torch.randn(3, generator=g).bfloat16()
sd["steps"] = torch.tensor([1, 2, 2 ** 62], dtype=torch.int64)
sd["mask"] = torch.tensor([True, False])
torch.save(sd, os.path.join(OUT, "model.pth"))
save_safetensors(dict(sd), os.path.join(OUT, "model.safetensors"))

changed = collections.OrderedDict((k, v.clone()) for k, v in sd.items())
w = changed["fc.weight"]
old = w[1, 2].clone()
w[1, 2] = torch.nextafter(old, torch.tensor(float("inf")))
torch.save(changed, os.path.join(OUT, "model_ulp.pth"))
with open(os.path.join(OUT, "ulp.txt"), "w") as f:
    f.write(repr((w[1, 2].double() - old.double()).item()) + "\n")
