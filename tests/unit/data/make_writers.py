#!/usr/bin/python3
"""Data for safetensors_writer_test.cc: OUTDIR/writers/src.pt (torch.save of a state dict with
one tensor per dtype NumPy and safetensors share, views and odd shapes) and, per tensor,
OUTDIR/writers/npy/NAME.npy written by numpy.save (bfloat16 widened to float32 first), the
bytes save_npy must reproduce."""
import os
import sys

import numpy as np
import torch


def main():
    out = os.path.join(sys.argv[1], "writers")
    os.makedirs(os.path.join(out, "npy"), exist_ok=True)
    g = torch.Generator().manual_seed(4)
    base = torch.randn(6, 5, generator=g)
    sd = {
        "f32": torch.arange(6, dtype=torch.float32).reshape(2, 3) - 2.5,
        "f64": torch.randn(3, 4, generator=g, dtype=torch.float64),
        "f16": torch.randn(1, 2, 3, generator=g).half(),
        "bf16": torch.tensor([1.5, -2.0, 3.0, float("nan"), float("inf"), 1e-40]).bfloat16(),
        "i8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "u8": torch.arange(200, 256, dtype=torch.uint8),
        "i16": torch.tensor([-32768, 7, 32767], dtype=torch.int16),
        "i32": torch.tensor([[-(2**31), 5], [2**31 - 1, 0]], dtype=torch.int32),
        "i64": torch.tensor([-(2**63), 2**63 - 1, 12345678901], dtype=torch.int64),
        "bool": torch.tensor([[True, False], [False, True]]),
        "c64": torch.randn(3, generator=g, dtype=torch.complex64),
        "c128": torch.randn(2, generator=g, dtype=torch.complex128),
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0, 4),
        "long1d": torch.arange(123456, dtype=torch.int32),
        "transposed": base.t(),            # a non-contiguous view
        "sliced": base[1:5:2, 1:4],         # strided view with an offset
    }
    torch.save(sd, os.path.join(out, "src.pt"))
    for name, t in sd.items():
        # save_npy always writes C order (numpy.save would mark a transposed view Fortran order)
        a = (t.float() if t.dtype == torch.bfloat16 else t).numpy().copy(order="C")
        np.save(os.path.join(out, "npy", name + ".npy"), a)


if __name__ == "__main__":
    main()
