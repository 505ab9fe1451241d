#!/usr/bin/python3
"""Writes the seed corpus for the hostile-input generator (specs/hostile-inputs.md 6.1).

    /usr/bin/python3 tests/hostile/make_seeds.py SEEDDIR

Every seed is a small *valid* file written by the real tool (torch, numpy, onnx); the
generator (scripts/make_hostile.py) derives one-defect variants from them, and the regression
runner checks that each seed itself loads (the control). SEEDDIR/seeds.json lists them:
{"name": {"file": relative path, "kind": ...}}. Deterministic: fixed seeds, no downloads.
"""
import json
import os
import struct
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper


class Net(torch.nn.Module):
    """A tiny module defined in __main__, so torch.save(model) names `__main__ Net`."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.bn = torch.nn.BatchNorm1d(3)

    def forward(self, x):
        return self.bn(self.fc(x))


def write_safetensors(path, tensors, metadata=None):
    """safetensors per formats.md 8 (the python package is not a dependency)."""
    codes = {np.float32: "F32", np.float64: "F64", np.int64: "I64", np.float16: "F16",
             np.int32: "I32", np.uint8: "U8"}
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr)
        data = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": codes[arr.dtype.type], "shape": list(arr.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def write_npy_v3(path, arr):
    """A v3 .npy by hand: numpy only picks v3 for non-ASCII field names (structured dtypes,
    which torchless refuses), so the seed is a plain '<f4' array with a v3 header."""
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %r, }" % (arr.shape,)
    total = 12 + len(header) + 1
    header += " " * (-total % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x03\x00" + struct.pack("<I", len(header)) + header.encode("utf-8"))
        f.write(arr.astype("<f4").tobytes())


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    np.random.seed(0)
    seeds = {}

    def add(name, rel, kind):
        seeds[name] = {"file": rel, "kind": kind}

    net = Net().eval()
    sd = net.state_dict()
    torch.save(sd, os.path.join(out, "torch_p2.pt"))  # protocol 2, torch 1.13 zip layout
    add("torch_p2", "torch_p2.pt", "torch-zip")
    torch.save(sd, os.path.join(out, "torch_p4.pt"), pickle_protocol=4)
    add("torch_p4", "torch_p4.pt", "torch-zip")
    torch.save(sd, os.path.join(out, "legacy.pt"), _use_new_zipfile_serialization=False)
    add("legacy", "legacy.pt", "torch-legacy")
    torch.save(net, os.path.join(out, "whole_model.pt"))
    add("whole_model", "whole_model.pt", "torch-zip")

    traced = torch.jit.trace(net, torch.randn(2, 4))
    torch.jit.save(traced, os.path.join(out, "torchscript.pt"))
    add("torchscript", "torchscript.pt", "torchscript")

    arrays = [(k, v.numpy()) for k, v in sd.items()]
    write_safetensors(os.path.join(out, "model.safetensors"), arrays, {"format": "pt"})
    add("safetensors", "model.safetensors", "safetensors")

    shard_dir = os.path.join(out, "sharded")
    os.makedirs(shard_dir, exist_ok=True)
    halves = [arrays[:2], arrays[2:]]
    weight_map, total = {}, 0
    for i, part in enumerate(halves):
        shard = "model-%05d-of-%05d.safetensors" % (i + 1, len(halves))
        write_safetensors(os.path.join(shard_dir, shard), part, {"format": "pt"})
        for name, arr in part:
            weight_map[name] = shard
            total += arr.nbytes
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    with open(os.path.join(shard_dir, "model.safetensors.index.json"), "w") as f:
        f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")
    add("hf_index", "sharded/model.safetensors.index.json", "hf-sharded")

    a = np.arange(6, dtype="<f4").reshape(2, 3)
    np.lib.format.write_array(open(os.path.join(out, "v1.npy"), "wb"), a, version=(1, 0))
    add("npy_v1", "v1.npy", "npy")
    np.lib.format.write_array(open(os.path.join(out, "v2.npy"), "wb"), a, version=(2, 0))
    add("npy_v2", "v2.npy", "npy")
    write_npy_v3(os.path.join(out, "v3.npy"), a)
    add("npy_v3", "v3.npy", "npy")
    np.savez(os.path.join(out, "arrays.npz"), x=a, y=np.arange(4, dtype="<i8"))
    add("npz", "arrays.npz", "npz")

    # ONNX: one initializer in raw_data, one in typed float_data.
    w = np.random.randn(3, 4).astype(np.float32)
    b = np.random.randn(3).astype(np.float32)
    w_init = numpy_helper.from_array(w, "fc.weight")  # raw_data
    b_init = helper.make_tensor("fc.bias", TensorProto.FLOAT, [3], b.tolist())  # float_data
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], ["y"], transB=1)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])], [w_init, b_init])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "model.onnx"))
    add("onnx", "model.onnx", "onnx")

    ext_dir = os.path.join(out, "onnx_ext")
    os.makedirs(ext_dir, exist_ok=True)
    ext_model = onnx.load(os.path.join(out, "model.onnx"))
    onnx.save(ext_model, os.path.join(ext_dir, "model.onnx"), save_as_external_data=True,
              all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
    add("onnx_ext", "onnx_ext/model.onnx", "onnx")

    with open(os.path.join(out, "seeds.json"), "w") as f:
        json.dump(seeds, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
