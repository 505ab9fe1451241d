#!/usr/bin/python3
"""Test data for the safetensors, npy/npz, HF-sharded and ONNX-initializer readers.

Usage: make_simplefmt.py OUTDIR   (writes OUTDIR/simplefmt/...)

Valid files come from real writers where Debian has one: numpy.save / numpy.lib.format for
.npy, numpy.savez / savez_compressed for .npz, torch.onnx.export and onnx.helper for ONNX, torch.save for .bin shards. python3-safetensors
is not packaged in Debian 12, so safetensors files are written by write_safetensors() below,
exactly as formats.md section 8 describes the reference writer (dtype-rank ordering, compact
header with __metadata__ first, space padding to 8 bytes). HF indexes follow transformers:
json.dumps(indent=2, sort_keys=True) + newline, shards split by huggingface_hub's rule.

expected.json: {relative path: [[name, dtype, shape, sha256 of C-contiguous bytes], ...]}
hostile.json:  [{"file", "reader", "id", "code"}, ...]   one defect per file
"""
import hashlib
import io
import json
import os
import shutil
import struct
import sys
import zipfile

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(sys.argv[1], "simplefmt")
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)
torch.manual_seed(0)
rng = np.random.default_rng(0)

EXPECTED = {}
HOSTILE = []


def path(rel):
    p = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def write(rel, data):
    with open(path(rel), "wb") as f:
        f.write(data)


def hostile(rel, reader, cid, code, data=None):
    if data is not None:
        write(rel, data)
    HOSTILE.append({"file": rel, "reader": reader, "id": cid, "code": code})


def sha(b):
    return hashlib.sha256(b).hexdigest()


# ---- torch tensors: bytes and names -----------------------------------------------------
TORCH_NAMES = {
    torch.float32: ("float32", "F32"), torch.float64: ("float64", "F64"),
    torch.float16: ("float16", "F16"), torch.bfloat16: ("bfloat16", "BF16"),
    torch.int8: ("int8", "I8"), torch.uint8: ("uint8", "U8"), torch.int16: ("int16", "I16"),
    torch.int32: ("int32", "I32"), torch.int64: ("int64", "I64"), torch.bool: ("bool", "BOOL"),
    torch.complex64: ("complex64", "C64"),
}
# Reference writer order: descending Dtype enum rank.
ST_RANK = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0",
           "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]


def tbytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def texpect(name, t):
    return [name, TORCH_NAMES[t.dtype][0], list(t.shape), sha(tbytes(t))]


def safetensors_bytes(tensors, metadata=None, pad=True):
    """tensors: {name: torch tensor}. Returns the file bytes, per formats.md 8."""
    names = sorted(tensors, key=lambda n: (-ST_RANK.index(TORCH_NAMES[tensors[n].dtype][1]), n))
    header, data, off = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for n in names:
        b = tbytes(tensors[n])
        header[n] = {"dtype": TORCH_NAMES[tensors[n].dtype][1], "shape": list(tensors[n].shape),
                     "data_offsets": [off, off + len(b)]}
        data += b
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data, names


def write_safetensors(rel, tensors, metadata={"format": "pt"}, pad=True):
    data, names = safetensors_bytes(tensors, metadata, pad)
    write(rel, data)
    EXPECTED[rel] = [texpect(n, tensors[n]) for n in names]


def raw_st(header, data=b"", pad=True):
    """A safetensors file from a header given as JSON text (for hostile variants)."""
    h = header.encode() if isinstance(header, str) else header
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


# ---- safetensors ------------------------------------------------------------------------
def make_safetensors():
    ts = {
        "w": torch.arange(6, dtype=torch.float32).reshape(2, 3),
        "b": torch.tensor([1.5, -2, 3], dtype=torch.bfloat16),
        "d": torch.randn(3, 2, dtype=torch.float64),
        "h": torch.randn(5, dtype=torch.float16),
        "i8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
        "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i32": torch.tensor([[1, -2], [3, -4]], dtype=torch.int32),
        "i64": torch.tensor([2 ** 40, -1], dtype=torch.int64),
        "flag": torch.tensor([True, False, True]),
        "z": torch.randn(2, dtype=torch.complex64),
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0, 3),
        "layer.0.weight": torch.randn(4, 4),
    }
    write_safetensors("st/all_dtypes.safetensors", ts, metadata={"format": "pt", "note": "x"})
    # Unpadded (older writers): 8 + N is odd, so 4-byte tensors sit at odd addresses (ST-12).
    odd = {"a": torch.randn(3), "b": torch.arange(5, dtype=torch.int64)}
    for k in range(8):
        data, names = safetensors_bytes(odd, {"format": "pt", "pad": "x" * k}, pad=False)
        if struct.unpack("<Q", data[:8])[0] % 2 == 1:
            break
    write("st/unaligned.safetensors", data)
    EXPECTED["st/unaligned.safetensors"] = [texpect(n, odd[n]) for n in names]
    write_safetensors("st/no_metadata.safetensors", {"x": torch.randn(2, 2)}, metadata=None)

    # Hostile: one defect each.
    f32 = torch.arange(6, dtype=torch.float32).numpy().tobytes()  # 24 bytes
    ok = '"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}'

    def st(rel, cid, code, header, data=f32, pad=True):
        hostile("st/hostile/" + rel, "safetensors", cid, code, raw_st(header, data, pad))

    hostile("st/hostile/st01_short.safetensors", "safetensors", "ST-01", "corrupt", b"\x10\0\0\0")
    hostile("st/hostile/st01_past_eof.safetensors", "safetensors", "ST-01", "corrupt",
            struct.pack("<Q", 4096) + b'{"w":{}}')
    hostile("st/hostile/st02_huge_n.safetensors", "safetensors", "ST-02", "limit_exceeded",
            struct.pack("<Q", 100_000_001) + b"{}" + b" " * 6)
    st("st03_not_brace.safetensors", "ST-03", "corrupt", " {" + ok + "}")
    st("st03_invalid_json.safetensors", "ST-03", "corrupt", "{" + ok + ",}")
    st("st03_bad_utf8.safetensors", "ST-03", "corrupt", b'{"w\xff":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}')
    st("st03_deep.safetensors", "ST-03", "corrupt",
       '{"__metadata__":{"a":' + "[" * 100 + "]" * 100 + "}," + ok + "}")
    st("st03_tab_padding.safetensors", "ST-03", "corrupt", "{" + ok + "}\t", pad=False)
    st("st03_nul_padding.safetensors", "ST-03", "corrupt", "{" + ok + "}\0", pad=False)
    st("st04_dup_tensor.safetensors", "ST-04", "corrupt", "{" + ok + "," + ok + "}")
    st("st04_dup_metadata.safetensors", "ST-04", "corrupt",
       '{"__metadata__":{},"__metadata__":{},' + ok + "}")
    st("st04_dup_field.safetensors", "ST-04", "corrupt",
       '{"w":{"dtype":"F32","dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}')
    st("st05_missing_dtype.safetensors", "ST-05", "corrupt", '{"w":{"shape":[2,3],"data_offsets":[0,24]}}')
    st("st05_unknown_field.safetensors", "ST-05", "corrupt",
       '{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24],"x":1}}')
    st("st05_negative_dim.safetensors", "ST-05", "corrupt", '{"w":{"dtype":"F32","shape":[-2,3],"data_offsets":[0,24]}}')
    st("st05_float_dim.safetensors", "ST-05", "corrupt", '{"w":{"dtype":"F32","shape":[2.0,3],"data_offsets":[0,24]}}')
    st("st05_exp_offset.safetensors", "ST-05", "corrupt", '{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,2.4e1]}}')
    st("st05_three_offsets.safetensors", "ST-05", "corrupt", '{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24,24]}}')
    st("st05_string_shape.safetensors", "ST-05", "corrupt", '{"w":{"dtype":"F32","shape":"2,3","data_offsets":[0,24]}}')
    two = lambda a, b: ('{"a":{"dtype":"F32","shape":[3],"data_offsets":[%d,%d]},'
                        '"b":{"dtype":"F32","shape":[3],"data_offsets":[%d,%d]}}' % (a[0], a[1], b[0], b[1]))
    st("st06_gap.safetensors", "ST-06", "corrupt", two((0, 12), (16, 28)), f32 + b"\0" * 4)
    st("st06_overlap.safetensors", "ST-06", "corrupt", two((0, 12), (8, 20)), f32[:20])
    st("st06_first_not_zero.safetensors", "ST-06", "corrupt", two((4, 16), (16, 28)), f32 + b"\0" * 4)
    st("st06_trailing.safetensors", "ST-06", "corrupt", "{" + ok + "}", f32 + b"PK\x05\x06")
    st("st06_begin_after_end.safetensors", "ST-06", "corrupt", '{"w":{"dtype":"F32","shape":[0],"data_offsets":[24,0]}}')
    st("st06_past_end.safetensors", "ST-06", "corrupt", "{" + ok + "}", f32[:16])
    st("st07_size_mismatch.safetensors", "ST-07", "corrupt", '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,24]}}')
    st("st08_overflow.safetensors", "ST-08", "corrupt",
       '{"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,24]}}')
    st("st08_bytes_overflow.safetensors", "ST-08", "corrupt",  # 2^62 elements fit, x 4 bytes do not
       '{"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,24]}}')
    st("st09_unknown_dtype.safetensors", "ST-09", "unsupported", '{"w":{"dtype":"F7","shape":[6],"data_offsets":[0,24]}}')
    st("st09_subbyte_bits.safetensors", "ST-09", "corrupt", '{"w":{"dtype":"F4","shape":[3],"data_offsets":[0,24]}}')
    st("st10_metadata_number.safetensors", "ST-10", "corrupt", '{"__metadata__":{"format":1},' + ok + "}")
    st("st10_metadata_nested.safetensors", "ST-10", "corrupt", '{"__metadata__":{"a":{"b":"c"}},' + ok + "}")
    st("st10_metadata_array.safetensors", "ST-10", "corrupt", '{"__metadata__":["pt"],' + ok + "}")
    st("st11_empty_name.safetensors", "ST-11", "corrupt", '{"":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}')
    st("st11_nul_name.safetensors", "ST-11", "corrupt", '{"a\\u0000b":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}')
    st("st11_lone_surrogate.safetensors", "ST-11", "corrupt", '{"\\ud800":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}')
    st("st11_long_name.safetensors", "ST-11", "corrupt",
       '{"' + "n" * 5000 + '":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}')


# ---- npy --------------------------------------------------------------------------------
def npy_entry(a, name):
    le = a.astype(a.dtype.newbyteorder("<"))  # torchless hands out little-endian values
    return [name, NP_NAMES[le.dtype.str], list(a.shape), sha(np.ascontiguousarray(le).tobytes())]


def npy_expect(rel, a, name):
    EXPECTED[rel] = [npy_entry(a, name)]


NP_NAMES = {"<f2": "float16", "<f4": "float32", "<f8": "float64", "|b1": "bool", "|u1": "uint8",
            "|i1": "int8", "<i2": "int16", "<i4": "int32", "<i8": "int64", "<u2": "uint16",
            "<u4": "uint32", "<u8": "uint64", "<c8": "complex64", "<c16": "complex128"}


def npy_header(d, version=1):
    """The bytes numpy would write for header dict text `d` (padding as numpy 1.24 does)."""
    h = d.encode() if isinstance(d, str) else d
    pre = 10 if version == 1 else 12
    h += b" " * (-(pre + len(h) + 1) % 64) + b"\n"
    size = struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([version, 0]) + size + h


def make_npy():
    for descr in NP_NAMES:
        dt = np.dtype(descr)
        if dt.kind == "b":
            a = rng.integers(0, 2, size=(3, 4)).astype(dt)
        elif dt.kind in "iu":
            info = np.iinfo(dt)
            a = rng.integers(info.min, info.max, size=(3, 4), dtype=dt, endpoint=True)
        elif dt.kind == "c":
            a = (rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))).astype(dt)
        else:
            a = rng.standard_normal((3, 4)).astype(dt)
        rel = "npy/" + NP_NAMES[descr] + ".npy"
        np.save(path(rel), a)
        npy_expect(rel, a, NP_NAMES[descr])
    cases = {
        "fortran2d": np.asfortranarray(rng.standard_normal((3, 5)).astype(np.float32)),
        "fortran3d": np.asfortranarray(np.arange(24, dtype=np.int64).reshape(2, 3, 4)),
        "scalar": np.array(2.5, dtype=np.float64),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "onedim": np.arange(7, dtype=np.int16),
        "bigendian_f4": rng.standard_normal((2, 3)).astype(">f4"),
        "bigendian_i8": np.arange(-3, 3, dtype=">i8"),
        "bigendian_c16": (np.arange(3) + 1j * np.arange(3, 6)).astype(">c16"),
    }
    for name, a in cases.items():
        rel = "npy/" + name + ".npy"
        np.save(path(rel), a)
        npy_expect(rel, a, name)
    for v in (2, 3):
        a = rng.standard_normal((2, 3)).astype(np.float32)
        rel = "npy/v%d.npy" % v
        with open(path(rel), "wb") as f:
            np.lib.format.write_array(f, a, version=(v, 0))
        npy_expect(rel, a, "v%d" % v)

    f4 = np.arange(6, dtype=np.float32).tobytes()
    good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"

    def bad(rel, cid, code, header, data=f4, version=1):
        hostile("npy/hostile/" + rel, "npy", cid, code, npy_header(header, version) + data)

    hostile("npy/hostile/npy01_short.npy", "npy", "NPY-01", "corrupt", b"\x93NUMPY\x01\x00")
    hostile("npy/hostile/npy01_version.npy", "npy", "NPY-01", "unsupported", npy_header(good)[:6] + b"\x04\x00" + npy_header(good)[8:] + f4)
    hostile("npy/hostile/npy02_past_eof.npy", "npy", "NPY-02", "corrupt", b"\x93NUMPY\x01\x00\x00\x10{'descr'")
    big = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + " " * 20000
    bad("npy02_too_big.npy", "NPY-02", "limit_exceeded", big, version=2)
    bad("npy03_dup_key.npy", "NPY-03", "corrupt", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }")
    bad("npy03_missing_key.npy", "NPY-03", "corrupt", "{'descr': '<f4', 'shape': (2, 3), }")
    bad("npy03_extra_key.npy", "NPY-03", "corrupt", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1, }")
    bad("npy03_expression.npy", "NPY-03", "corrupt", "{'descr': '<f4', 'fortran_order': False, 'shape': (2*3,), }")
    bad("npy03_call.npy", "NPY-03", "corrupt", "{'descr': '<f4', 'fortran_order': __import__('os'), 'shape': (2, 3), }")
    bad("npy03_trailing.npy", "NPY-03", "corrupt", good + " x")
    # Real writers for the dtype refusals.
    for rel, a, cid, code in [
        ("npy04_object.npy", np.array([1, "a", None], dtype=object), "NPY-04", "forbidden"),
        ("npy04_structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]), "NPY-04", "unsupported"),
        ("npy04_unicode.npy", np.array(["ab", "cd"]), "NPY-04", "unsupported"),
        ("npy04_datetime.npy", np.array(["2020-01-01"], dtype="datetime64[D]"), "NPY-04", "unsupported"),
    ]:
        np.save(path("npy/hostile/" + rel), a, allow_pickle=True)
        hostile("npy/hostile/" + rel, "npy", cid, code)
    bad("npy04_no_order.npy", "NPY-04", "corrupt", "{'descr': 'f4', 'fortran_order': False, 'shape': (2, 3), }")
    bad("npy05_not_bool.npy", "NPY-05", "corrupt", "{'descr': '<f4', 'fortran_order': 1, 'shape': (2, 3), }")
    bad("npy06_negative.npy", "NPY-06", "corrupt", "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }")
    bad("npy06_float_dim.npy", "NPY-06", "corrupt", "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 3), }")
    bad("npy06_overflow.npy", "NPY-06", "corrupt",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }")
    bad("npy06_rank.npy", "NPY-06", "limit_exceeded",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "1, " * 65 + "), }")
    bad("npy07_short.npy", "NPY-07", "corrupt", good, f4[:20])
    bad("npy07_trailing.npy", "NPY-07", "corrupt", good, f4 + b"PK\x05\x06")


# ---- HF sharded checkpoints -------------------------------------------------------------
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10, 8)
        self.fc1 = torch.nn.Linear(8, 16)
        self.norm = torch.nn.LayerNorm(16)
        self.fc2 = torch.nn.Linear(16, 8)
        self.head = torch.nn.Linear(8, 10, bias=False)
        self.head.weight = self.emb.weight  # tied, as language models do


def split_shards(sd, max_size):
    """huggingface_hub's rule: names in order, a new shard when the next storage would not fit;
    names sharing a storage go to the storage's shard. Returns (shards, total_size)."""
    shards, sizes, where, total = [{}], [0], {}, 0
    for name, t in sd.items():
        key = t.untyped_storage().data_ptr() if hasattr(t, "untyped_storage") else t.storage().data_ptr()
        if key in where:
            shards[where[key]][name] = t
            continue
        size = t.numel() * t.element_size()
        if sizes[-1] + size > max_size and shards[-1]:
            shards.append({})
            sizes.append(0)
        shards[-1][name] = t
        sizes[-1] += size
        where[key] = len(shards) - 1
        total += size
    return shards, total


def write_index(rel, shards_by_file, total_size, extra_weight_map=None):
    wm = {n: f for f, names in shards_by_file.items() for n in names}
    if extra_weight_map:
        wm.update(extra_weight_map)
    text = json.dumps({"metadata": {"total_size": total_size}, "weight_map": wm}, indent=2, sort_keys=True) + "\n"
    write(rel, text.encode())
    return sorted(wm)


def make_hf():
    net = Net()
    sd = net.state_dict()
    # safetensors shards: safetensors cannot hold shared storage; like transformers, drop the tie.
    st_sd = {k: v.clone() for k, v in sd.items() if k != "head.weight"}
    shards, total = split_shards(st_sd, 700)
    files = {}
    n = len(shards)
    for i, s in enumerate(shards):
        fname = "model-%05d-of-%05d.safetensors" % (i + 1, n)
        data, _ = safetensors_bytes(s, {"format": "pt"})
        write("hf/st/" + fname, data)
        files[fname] = list(s)
    names = write_index("hf/st/model.safetensors.index.json", files, total)
    EXPECTED["hf/st/model.safetensors.index.json"] = [texpect(k, st_sd[k]) for k in names]
    assert n >= 3, n

    # .bin shards with the tied pair in one shard (torch.save keeps the sharing).
    bshards, btotal = split_shards(sd, 700)
    bfiles = {}
    for i, s in enumerate(bshards):
        fname = "pytorch_model-%05d-of-%05d.bin" % (i + 1, len(bshards))
        torch.save(s, path("hf/bin/" + fname))
        bfiles[fname] = list(s)
    names = write_index("hf/bin/pytorch_model.bin.index.json", bfiles, btotal)
    EXPECTED["hf/bin/pytorch_model.bin.index.json"] = [texpect(k, sd[k]) for k in names]

    # The Hugging Face cache layout: snapshot files are symlinks into the repo's blobs/.
    repo = "hf/cache/models--org--net"
    for fname in files:
        with open(path("hf/st/" + fname), "rb") as f:
            blob = f.read()
        write(repo + "/blobs/" + sha(blob), blob)
        os.makedirs(path(repo + "/snapshots/abc123/x"), exist_ok=True)
        os.symlink("../../blobs/" + sha(blob), path(repo + "/snapshots/abc123/" + fname))
    shutil.copy(path("hf/st/model.safetensors.index.json"), path(repo + "/snapshots/abc123/model.safetensors.index.json"))
    EXPECTED[repo + "/snapshots/abc123/model.safetensors.index.json"] = EXPECTED["hf/st/model.safetensors.index.json"]

    # Hostile indexes: each in its own directory with copies of the good shards.
    first = [f for f in sorted(files) if len(files[f]) > 1][0]  # a shard with several tensors
    first_names = files[first]

    def case(name, cid, code, index_obj=None, index_text=None, setup=None, fname="model.safetensors.index.json"):
        d = "hf/hostile/" + name
        for f in files:
            shutil.copy(path("hf/st/" + f), path(d + "/" + f))
        if setup:
            setup(d)
        if index_text is None:
            index_obj = index_obj if index_obj is not None else {"metadata": {"total_size": total},
                                                                 "weight_map": {n: f for f, ns in files.items() for n in ns}}
            index_text = json.dumps(index_obj, indent=2, sort_keys=True) + "\n"
        write(d + "/" + fname, index_text.encode())
        hostile(d + "/" + fname, "hf_index", cid, code)

    def wm(**changes):
        m = {n: f for f, ns in files.items() for n in ns}
        m.update(changes)
        return {"metadata": {"total_size": total}, "weight_map": m}

    t0 = first_names[0]
    case("idx01_dotdot", "IDX-01", "forbidden", wm(**{t0: "../" + first}))
    case("idx01_absolute", "IDX-01", "forbidden", wm(**{t0: "/etc/passwd"}))
    case("idx01_subdir", "IDX-01", "forbidden", wm(**{t0: "sub/" + first}))
    case("idx01_backslash", "IDX-01", "forbidden", wm(**{t0: "..\\" + first}))

    def outside_link(d):
        os.makedirs(path("hf/hostile/outside"), exist_ok=True)
        shutil.copy(path("hf/st/" + first), path("hf/hostile/outside/" + first))
        os.remove(path(d + "/" + first))
        os.symlink(os.path.abspath(path("hf/hostile/outside/" + first)), path(d + "/" + first))
    case("idx01_symlink_out", "IDX-01", "forbidden", setup=outside_link)
    case("idx02_missing_shard", "IDX-02", "corrupt", setup=lambda d: os.remove(path(d + "/" + first)))
    case("idx02_missing_tensor", "IDX-02", "corrupt", wm(**{"ghost.weight": first}))
    m = wm()
    del m["weight_map"][t0]
    case("idx02_extra_tensor", "IDX-02", "corrupt", m)

    def dup_in_two(d):
        # the last shard also holds the first shard's first tensor
        last = [f for f in sorted(files) if f != first][-1]
        s = {k: st_sd[k] for k in files[last]}
        s[t0] = st_sd[t0]
        data, _ = safetensors_bytes(s, {"format": "pt"})
        write(d + "/" + last, data)
    case("idx03_in_two_shards", "IDX-03", "corrupt", setup=dup_in_two)
    text = json.dumps(wm(), indent=2, sort_keys=True)
    line = '    "%s": "%s",\n' % (t0, first)
    case("idx03_listed_twice", "IDX-03", "corrupt", index_text=text.replace(line, line + line, 1) + "\n")
    case("idx04_not_string", "IDX-04", "corrupt", wm(**{t0: 3}))
    case("idx04_weight_map_list", "IDX-04", "corrupt", {"metadata": {"total_size": total}, "weight_map": [first]})
    case("idx04_total_size_string", "IDX-04", "corrupt", dict(wm(), metadata={"total_size": str(total)}))
    case("idx04_total_size_float", "IDX-04", "corrupt", dict(wm(), metadata={"total_size": total + 0.5}))

    def zip_shard(d):
        torch.save({k: st_sd[k] for k in files[first]}, path(d + "/" + first))
    case("idx05_zip_for_safetensors", "IDX-05", "corrupt", setup=zip_shard)

    def pickle_shard(d):
        torch.save({k: st_sd[k] for k in files[first]}, path(d + "/" + first), _use_new_zipfile_serialization=False)
    case("idx05_pickle_shard", "IDX-05", "corrupt", setup=pickle_shard)

    def hardlink(d):
        os.link(path(d + "/" + first), path(d + "/copy.safetensors"))
    case("idx06_same_inode", "IDX-06", "corrupt",
         wm(**{n: "copy.safetensors" for n in first_names[1:]}),
         setup=hardlink)


# ---- ONNX -------------------------------------------------------------------------------
class Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4 * 6 * 6, 5)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).flatten(1))


# (ONNX type, numpy dtype of the stored bytes, torchless dtype name)
ONNX_TYPES = [
    (TensorProto.FLOAT, np.float32, "float32"), (TensorProto.DOUBLE, np.float64, "float64"),
    (TensorProto.FLOAT16, np.float16, "float16"), (TensorProto.BFLOAT16, np.uint16, "bfloat16"),
    (TensorProto.INT64, np.int64, "int64"), (TensorProto.INT32, np.int32, "int32"),
    (TensorProto.INT16, np.int16, "int16"), (TensorProto.INT8, np.int8, "int8"),
    (TensorProto.UINT8, np.uint8, "uint8"), (TensorProto.UINT16, np.uint16, "uint16"),
    (TensorProto.UINT32, np.uint32, "uint32"), (TensorProto.UINT64, np.uint64, "uint64"),
    (TensorProto.BOOL, np.bool_, "bool"), (TensorProto.COMPLEX64, np.complex64, "complex64"),
    (TensorProto.COMPLEX128, np.complex128, "complex128"),
]


def onnx_value(np_dtype, shape):
    dt = np.dtype(np_dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, size=shape).astype(dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)
    if dt.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    return rng.standard_normal(shape).astype(dt)


def typed_tensor(name, code, a):
    """A TensorProto holding `a` in the typed field ONNX uses for `code` (what onnx.helper
    writes with raw=False)."""
    t = TensorProto(name=name, data_type=code, dims=list(a.shape))
    flat = a.reshape(-1)
    if code == TensorProto.FLOAT:
        t.float_data.extend(flat.tolist())
    elif code == TensorProto.COMPLEX64:
        t.float_data.extend(flat.view(np.float32).tolist())
    elif code == TensorProto.DOUBLE:
        t.double_data.extend(flat.tolist())
    elif code == TensorProto.COMPLEX128:
        t.double_data.extend(flat.view(np.float64).tolist())
    elif code == TensorProto.INT64:
        t.int64_data.extend(flat.tolist())
    elif code in (TensorProto.UINT32, TensorProto.UINT64):
        t.uint64_data.extend(flat.tolist())
    elif code == TensorProto.FLOAT16:
        t.int32_data.extend(flat.view(np.uint16).tolist())
    else:
        t.int32_data.extend(flat.astype(np.int64).tolist())
    return t


def onnx_model(inits, nodes=None):
    graph = helper.make_graph(nodes or [], "g", [], [helper.make_tensor_value_info("o", TensorProto.FLOAT, [1])],
                              initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def make_onnx():
    m = Small().eval()
    torch.onnx.export(m, torch.randn(1, 3, 8, 8), path("onnx/exported.onnx"), opset_version=13,
                      do_constant_folding=False, keep_initializers_as_inputs=False)
    model = onnx.load(path("onnx/exported.onnx"))
    EXPECTED["onnx/exported.onnx"] = [
        [t.name, str(numpy_helper.to_array(t).dtype), list(t.dims), sha(np.ascontiguousarray(numpy_helper.to_array(t)).tobytes())]
        for t in model.graph.initializer]
    assert all(t.HasField("raw_data") for t in model.graph.initializer)

    typed, raw, exp_typed, exp_raw = [], [], [], []
    for code, npdt, tname in ONNX_TYPES:
        a = onnx_value(npdt, (2, 3))
        b = np.ascontiguousarray(a).tobytes()
        typed.append(typed_tensor("t_" + tname, code, a))
        exp_typed.append(["t_" + tname, tname, [2, 3], sha(b)])
        raw.append(TensorProto(name="r_" + tname, data_type=code, dims=[2, 3], raw_data=b))
        exp_raw.append(["r_" + tname, tname, [2, 3], sha(b)])
    scalar = numpy_helper.from_array(np.array(1.5, dtype=np.float32), "scalar")
    empty = TensorProto(name="empty", data_type=TensorProto.FLOAT, dims=[0, 4])
    onnx.save(onnx_model(typed + [scalar, empty]), path("onnx/typed.onnx"))
    EXPECTED["onnx/typed.onnx"] = exp_typed + [["scalar", "float32", [], sha(np.float32(1.5).tobytes())],
                                               ["empty", "float32", [0, 4], sha(b"")]]
    # onnx.helper's own conversion (raw=False) for the types it handles.
    hm = [helper.make_tensor("h_f16", TensorProto.FLOAT16, [3], np.array([1, -2, 0.5], dtype=np.float16)),
          helper.make_tensor("h_i8", TensorProto.INT8, [3], [-5, 0, 7]),
          helper.make_tensor("h_c64", TensorProto.COMPLEX64, [2], [1 + 2j, 3 - 4j])]
    onnx.save(onnx_model(hm), path("onnx/helper.onnx"))
    EXPECTED["onnx/helper.onnx"] = [
        ["h_f16", "float16", [3], sha(np.array([1, -2, 0.5], dtype=np.float16).tobytes())],
        ["h_i8", "int8", [3], sha(np.array([-5, 0, 7], dtype=np.int8).tobytes())],
        ["h_c64", "complex64", [2], sha(np.array([1 + 2j, 3 - 4j], dtype=np.complex64).tobytes())]]
    onnx.save(onnx_model(raw), path("onnx/raw.onnx"))
    EXPECTED["onnx/raw.onnx"] = exp_raw

    # External data written by onnx itself.
    ext = onnx.load(path("onnx/exported.onnx"))
    os.makedirs(path("onnx/ext/x"), exist_ok=True)
    onnx.save_model(ext, path("onnx/ext/model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    EXPECTED["onnx/ext/model.onnx"] = EXPECTED["onnx/exported.onnx"]

    # Hostile.
    good = onnx_model([numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "w")])
    gb = good.SerializeToString()
    hostile("onnx/hostile/onnx01_truncated.onnx", "onnx", "ONNX-01", "corrupt", gb[:len(gb) // 2])
    hostile("onnx/hostile/onnx01_wire_type.onnx", "onnx", "ONNX-01", "corrupt", gb + b"\x0f\x00")
    hostile("onnx/hostile/onnx01_field_zero.onnx", "onnx", "ONNX-01", "corrupt", gb + b"\x00\x00")
    hostile("onnx/hostile/onnx01_long_varint.onnx", "onnx", "ONNX-01", "corrupt", gb + b"\x08" + b"\xff" * 11 + b"\x01")
    # Graph in attribute in node in graph ... 30 times: 90 message levels.
    g = helper.make_graph([], "g0", [], [])
    for i in range(30):
        node = helper.make_node("If", ["c"], ["o%d" % i], then_branch=g, else_branch=helper.make_graph([], "e", [], []))
        g = helper.make_graph([node], "g%d" % (i + 1), [], [])
    deep = helper.make_model(g)
    hostile("onnx/hostile/onnx02_deep.onnx", "onnx", "ONNX-02", "limit_exceeded", deep.SerializeToString())

    def ext_case(name, cid, code, location, setup=None, extra=None, offset="0", length="24"):
        d = "onnx/hostile/%s" % name
        os.makedirs(path(d + "/x"), exist_ok=True)
        write(d + "/weights.bin", np.arange(6, dtype=np.float32).tobytes())
        if setup:
            setup(d)
        t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 3], data_location=TensorProto.EXTERNAL)
        for k, v in [("location", location), ("offset", offset), ("length", length)] + (extra or []):
            if v is not None:
                e = t.external_data.add()
                e.key, e.value = k, v
        hostile(d + "/model.onnx", "onnx", cid, code, onnx_model([t]).SerializeToString())

    ext_case("onnx00_ext_ok_control", None, None, "weights.bin")
    HOSTILE.pop()  # the control is valid: listed under expected instead
    EXPECTED["onnx/hostile/onnx00_ext_ok_control/model.onnx"] = [["w", "float32", [2, 3], sha(np.arange(6, dtype=np.float32).tobytes())]]
    ext_case("onnx03_dotdot", "ONNX-03", "forbidden", "../onnx00_ext_ok_control/weights.bin")
    ext_case("onnx03_sub_dotdot", "ONNX-03", "forbidden", "x/../../onnx00_ext_ok_control/weights.bin")
    ext_case("onnx03_absolute", "ONNX-03", "forbidden", "/etc/passwd")
    ext_case("onnx03_drive", "ONNX-03", "forbidden", "C:weights.bin")
    ext_case("onnx03_url", "ONNX-03", "forbidden", "http://example.com/weights.bin")
    ext_case("onnx04_symlink", "ONNX-04", "forbidden", "link.bin",
             setup=lambda d: os.symlink("weights.bin", path(d + "/link.bin")))
    ext_case("onnx04_symlink_dir", "ONNX-04", "forbidden", "sub/weights.bin",
             setup=lambda d: os.symlink(".", path(d + "/sub")))
    ext_case("onnx04_hardlink", "ONNX-04", "forbidden", "hard.bin",
             setup=lambda d: os.link(path(d + "/weights.bin"), path(d + "/hard.bin")))
    ext_case("onnx05_unknown_key", "ONNX-05", "corrupt", "weights.bin", extra=[("basepath", "/")])
    ext_case("onnx05_negative_offset", "ONNX-05", "corrupt", "weights.bin", offset="-4")
    ext_case("onnx05_length_mismatch", "ONNX-05", "corrupt", "weights.bin", length="20")
    ext_case("onnx05_past_end", "ONNX-05", "corrupt", "weights.bin", offset="8")
    ext_case("onnx05_huge_length", "ONNX-05", "corrupt", "weights.bin", length="1125899906842624")

    def init_case(name, cid, code, t):
        hostile("onnx/hostile/%s.onnx" % name, "onnx", cid, code, onnx_model([t]).SerializeToString())

    f6 = np.arange(6, dtype=np.float32)
    init_case("onnx06_raw_short", "ONNX-06", "corrupt",
              TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 3], raw_data=f6.tobytes()[:20]))
    init_case("onnx06_typed_count", "ONNX-06", "corrupt",
              TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 3], float_data=f6.tolist()[:5]))
    init_case("onnx06_both", "ONNX-06", "corrupt",
              TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 3], float_data=f6.tolist(), raw_data=f6.tobytes()))
    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 3], raw_data=f6.tobytes(),
                    data_location=TensorProto.EXTERNAL)
    e = t.external_data.add()
    e.key, e.value = "location", "weights.bin"
    init_case("onnx06_external_and_inline", "ONNX-06", "corrupt", t)
    init_case("onnx06_wrong_field", "ONNX-06", "corrupt",
              TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 3], int64_data=[0] * 6))
    init_case("onnx06_narrow_range", "ONNX-06", "corrupt",
              TensorProto(name="w", data_type=TensorProto.UINT8, dims=[2], int32_data=[1, 300]))
    init_case("onnx07_negative_dim", "ONNX-07", "corrupt",
              TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[-2, 3], raw_data=f6.tobytes()))
    init_case("onnx07_overflow", "ONNX-07", "corrupt",
              TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2 ** 31, 2 ** 31, 2 ** 31]))
    init_case("onnx08_numel", "ONNX-08", "limit_exceeded",
              TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2 ** 20, 2 ** 20, 2]))
    seg = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 3], raw_data=f6.tobytes())
    seg.segment.begin, seg.segment.end = 0, 6
    init_case("onnx08_segment", "ONNX-08", "unsupported", seg)
    init_case("onnx08_string", "ONNX-08", "unsupported",
              TensorProto(name="w", data_type=TensorProto.STRING, dims=[1], string_data=[b"x"]))
    dup = onnx_model([TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[0]),
                      TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[0])])
    hostile("onnx/hostile/onnx_dup_name.onnx", "onnx", "G-3", "corrupt", dup.SerializeToString())


# ---- npz --------------------------------------------------------------------------------
def make_npz():
    """numpy.savez (STORED members) and savez_compressed (DEFLATE): one tensor per member,
    named as numpy.load names it (member name without .npy), in directory order."""
    arrays = {
        "x": rng.standard_normal((2, 3)).astype(np.float32),
        "bytes": np.arange(10, dtype=np.uint8),  # alignment 1: always a view when STORED
        "fortran": np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4)),
        "big": np.arange(4, dtype=">f8"),
        "dir/w": np.zeros((0, 2), dtype=np.float16),
    }
    for rel, save in (("npz/savez.npz", np.savez), ("npz/savez_compressed.npz", np.savez_compressed)):
        save(path(rel), **arrays)
        with np.load(path(rel)) as z:  # numpy's own view of the names and order
            EXPECTED[rel] = [npy_entry(z[k], k) for k in z.files]

    def npz(rel, cid, code, **members):
        np.savez(path("npz/hostile/" + rel), **members)
        hostile("npz/hostile/" + rel, "npz", cid, code)
    npz("npz07_object.npz", "NPY-07", "forbidden", a=np.arange(3), z=np.array([1, "a", None], dtype=object))
    npz("npz04_structured.npz", "NPY-04", "unsupported", s=np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
    good = io.BytesIO()
    np.lib.format.write_array(good, np.arange(3))
    with zipfile.ZipFile(path("npz/hostile/npz07_short_member.npz"), "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.npy", good.getvalue()[:-4])  # 4 data bytes missing, inside a deflated member
    hostile("npz/hostile/npz07_short_member.npz", "npz", "NPY-07", "corrupt")
    with zipfile.ZipFile(path("npz/hostile/npz_mixed_members.npz"), "w") as zf:  # neither npz nor torch
        zf.writestr("a.npy", good.getvalue())
        zf.writestr("notes.txt", b"hello")
    hostile("npz/hostile/npz_mixed_members.npz", "npz", "ZIP-19", "corrupt")


make_safetensors()
make_npy()
make_npz()
make_hf()
make_onnx()
with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(EXPECTED, f, indent=1)
with open(os.path.join(OUT, "hostile.json"), "w") as f:
    json.dump(HOSTILE, f, indent=1)
print("make_simplefmt: %d valid files, %d hostile files" % (len(EXPECTED), len(HOSTILE)))
