#!/usr/bin/python3
"""Test data for cast(): sources and torch's own `.to(dtype)` results, as raw bytes.

Usage: make_cast.py OUTDIR   (writes OUTDIR/cast/...)

cases.txt has one line per case: `SRC_DTYPE DST_DTYPE NUMEL SRC_FILE DST_FILE`; each file holds
the C-contiguous little-endian bytes of the tensor (bool as 0/1 bytes). Sources cover random
values over many magnitudes, NaN (with payloads and sign), +-inf, +-0, float32 / float16 /
bfloat16 subnormals, exact halfway points between neighbouring float16 and bfloat16 values,
float64 values that round twice (float64 -> float32 -> float16), the overflow edge of float16,
every float16 and bfloat16 bit pattern, and integers over their whole range. Floating sources
cast to integers only hold values whose truncation fits the target (torch leaves the rest
undefined).
"""
import os
import sys

import numpy as np
import torch

OUT = os.path.join(sys.argv[1], "cast")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(4)
FLOATS = [torch.float64, torch.float32, torch.float16, torch.bfloat16]
INTS = [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8]
NAME = {torch.float64: "float64", torch.float32: "float32", torch.float16: "float16",
        torch.bfloat16: "bfloat16", torch.int64: "int64", torch.int32: "int32",
        torch.int16: "int16", torch.int8: "int8", torch.uint8: "uint8", torch.bool: "bool",
        torch.complex64: "complex64", torch.complex128: "complex128"}
cases = []


def raw(t):
    t = t.contiguous().reshape(-1)
    if t.dtype in (torch.bfloat16, torch.float16):
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def add(tag, src, dst_dtypes):
    src_file = f"{tag}.src"
    with open(os.path.join(OUT, src_file), "wb") as f:
        f.write(raw(src))
    for d in dst_dtypes:
        dst_file = f"{tag}.{NAME[d]}"
        out = src.to(d)
        if d == torch.bfloat16 and src.is_floating_point():
            # torch's vectorised -> bfloat16 kernels write NaN as 0xFFFF, its scalar path
            # (c10::detail::round_to_nearest_even: a 0-dim tensor, a float64 tensor's tail) as
            # 0x7FC0: the position decides. torchless follows the vector kernels; each NaN's
            # expected bits are taken from a full vector of it.
            for i in torch.nonzero(torch.isnan(src)).flatten().tolist():
                out[i] = src[i:i + 1].repeat(64).to(d)[0]
        with open(os.path.join(OUT, dst_file), "wb") as f:
            f.write(raw(out))
        cases.append(f"{NAME[src.dtype]} {NAME[d]} {src.numel()} {src_file} {dst_file}")


def halfway_points(dtype, count):
    """float32 values exactly halfway between neighbouring `dtype` values (and their mirrors)."""
    bits = rng.integers(0, 0x7C00 if dtype == torch.float16 else 0x7F80, count).astype(np.int16)
    lo = torch.from_numpy(bits).view(dtype).float()
    hi = torch.from_numpy(bits + 1).view(dtype).float()
    mid = (lo.double() + hi.double()) / 2
    return torch.cat([mid, -mid]).float()


def special_f32():
    nan_payloads = np.array([0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FA12345, 0xFFFFFFFF, 0x7FC00001],
                            dtype=np.uint32).view(np.float32)
    sub = np.array([1, 2, 0x1FFF, 0x2000, 0x7FFFFF, 0x400000], dtype=np.uint32).view(np.float32)
    edges = [0.0, -0.0, np.inf, -np.inf, 65504.0, 65519.99, 65520.0, 65536.0, -65520.0, 1e10, 3.4e38,
             6.1035156e-05, 6.097555e-05, 5.9604645e-08, 2.9802322e-08, 2.9802326e-08, 1e-8, 1e-45,
             3.3895314e38, 3.3961776e38, 1.0, -1.0, 0.5, 1.0009765625, 1.00048828125]
    return torch.from_numpy(np.concatenate([nan_payloads, sub, -sub, np.array(edges, np.float32)]))


def random_f32(n):
    mag = rng.uniform(-40, 40, n)
    v = rng.standard_normal(n) * 10.0 ** mag
    with np.errstate(over="ignore"):  # beyond float32's range: inf, kept on purpose
        return torch.from_numpy(v.astype(np.float32))


def int_safe(dtype):
    lo, hi = (0.0, 255.99) if dtype == torch.uint8 else (-127.99, 127.99)
    v = np.concatenate([rng.uniform(lo, hi, 2000), [0.0, -0.0, 0.5, -0.5, 0.99, -0.99, 1.0, 127.0, 255.0][: 9 if dtype == torch.uint8 else 8]])
    if dtype == torch.uint8:
        v = np.abs(v)
    return torch.from_numpy(v)


# floating sources to floating types and bool
f32 = torch.cat([special_f32(), random_f32(20000), halfway_points(torch.float16, 4000),
                 halfway_points(torch.bfloat16, 4000)])
add("f32", f32, FLOATS + [torch.bool])
twice = halfway_points(torch.float16, 2000).double()
twice = torch.cat([twice * (1 + 2.0 ** -40), twice * (1 - 2.0 ** -40), twice])
bf_twice = halfway_points(torch.bfloat16, 2000).double()
bf_twice = torch.cat([bf_twice * (1 + 2.0 ** -40), bf_twice * (1 - 2.0 ** -40)])
f64 = torch.cat([f32.double(), torch.from_numpy(rng.standard_normal(5000) * 10.0 ** rng.uniform(-300, 300, 5000)),
                 twice, bf_twice, torch.tensor([1e300, -1e300, 5e-324, float("nan")], dtype=torch.float64)])
add("f64", f64, FLOATS + [torch.bool])
every16 = torch.arange(-32768, 32768, dtype=torch.int32).to(torch.int16)
add("f16", every16.view(torch.float16), FLOATS + [torch.bool])
add("bf16", every16.view(torch.bfloat16), FLOATS + [torch.bool])

# floating sources to integers (values whose truncation fits)
for d in INTS:
    v = int_safe(d)
    for s in FLOATS:
        add(f"{NAME[s]}_int_{NAME[d]}", v.to(s), [d])

# integer and bool sources to everything
ranges = {torch.int64: (-2 ** 63, 2 ** 63 - 1), torch.int32: (-2 ** 31, 2 ** 31 - 1),
          torch.int16: (-2 ** 15, 2 ** 15 - 1), torch.int8: (-128, 127), torch.uint8: (0, 255)}
for s, (lo, hi) in ranges.items():
    v = rng.integers(lo, hi, 5000, dtype=np.int64, endpoint=True)
    small = rng.integers(max(lo, -70000), min(hi, 70000), 3000, dtype=np.int64, endpoint=True)
    v = torch.from_numpy(np.concatenate([v, small, [lo, hi, 0, 1, 2049, 16777217, 65504, 65520][:8]]).clip(lo, hi)).to(s)
    add(NAME[s], v, FLOATS + INTS + [torch.bool])
add("bool", torch.from_numpy(rng.integers(0, 2, 100).astype(bool)), FLOATS + INTS + [torch.bool])

# complex
c = torch.complex(f32[:8000], f32.flip(0)[:8000])
add("c64", c, [torch.complex64, torch.complex128])
add("c128", torch.complex(f64[:8000], f64.flip(0)[:8000]), [torch.complex64, torch.complex128])

with open(os.path.join(OUT, "cases.txt"), "w") as f:
    f.write("\n".join(cases) + "\n")
