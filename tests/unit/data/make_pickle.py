#!/usr/bin/python3
"""Writes the pickle unit tests' data into OUTDIR/pickle (usage: make_pickle.py OUTDIR).

cases.json lists every case: the pickle file, the VM mode (strict / opaque / permissive), the
expected outcome ("ok" or an error code name) and, for "ok", the expected value as a canonical
description string (desc() below; pickle_test.cc computes the same string from the Value tree)
or the expected state dict of a whole-model / TorchScript pickle. Storages live in
<case dir>/data/<key> as raw bytes, read by the test's persistent_load.

Sources: pickle.dumps at protocols 2-5 (plain data), torch.save / torch.jit.save (data.pkl and
data/ extracted from the zip), numpy scalars and arrays, a custom Pickler for tensor rebuild
calls torch.save cannot produce (metadata, v3, hostile arguments), and byte-assembled hostile
streams (hostile-inputs.md 5.3 / 5.4).
"""
import collections
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np
import torch
import torch.jit._pickle  # noqa: F401 (referenced as torch.jit._pickle below)

OUT = os.path.join(sys.argv[1], "pickle")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)
CASES = []


def esc(b):
    return "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else "\\x%02x" % c for c in b)


def tsha(t):
    t = t.detach().resolve_conj().resolve_neg().contiguous().reshape(-1)
    return hashlib.sha256(t.view(torch.uint8).numpy().tobytes()).hexdigest()


def desc(v):
    """The canonical description of a value, mirrored by desc() in pickle_test.cc."""
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "f:" + struct.pack(">d", v).hex()
    if isinstance(v, str):
        return 's"' + esc(v.encode("utf-8")) + '"'
    if isinstance(v, (bytes, bytearray)):
        return 'b"' + esc(bytes(v)) + '"'
    if isinstance(v, np.generic):
        return desc(v.item())
    if isinstance(v, np.ndarray):
        return desc(torch.from_numpy(np.ascontiguousarray(v)))
    if isinstance(v, torch.Tensor):
        return "T(%s,[%s],%s)" % (str(v.dtype)[6:], ",".join(str(s) for s in v.shape), tsha(v))
    if isinstance(v, (torch.dtype, torch.layout)):
        return "Gtorch." + str(v)[6:]
    if isinstance(v, torch.device):
        return desc(str(v))
    if isinstance(v, collections.OrderedDict):
        s = "OD{" + ",".join(desc(k) + ":" + desc(x) for k, x in v.items()) + "}"
        return s + ("@" + desc(dict(vars(v))) if vars(v) else "")
    if isinstance(v, dict):
        return "{" + ",".join(desc(k) + ":" + desc(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(desc(x) for x in v) + "]"
    if isinstance(v, tuple):
        return "(" + ",".join(desc(x) for x in v) + ")"
    if isinstance(v, (set, frozenset)):
        return "{set:" + ",".join(sorted(desc(x) for x in v)) + "}"
    if isinstance(v, complex):
        return "Obuiltins.complex(%s,%s)" % (desc(v.real), desc(v.imag))
    if isinstance(v, (slice, range)):
        return "Obuiltins.%s(%s,%s,%s)" % (type(v).__name__, desc(v.start), desc(v.stop), desc(v.step))
    cls = type(v)
    return "O%s.%s()" % (cls.__module__, cls.__qualname__) + ("[" + desc(vars(v)) + "]" if vars(v) else "")


def case(name, data, expect="ok", mode="strict", **kw):
    path = os.path.join(OUT, name + ".pkl")
    with open(path, "wb") as f:
        f.write(data)
    CASES.append(dict(name=name, file=name + ".pkl", expect=expect, mode=mode, **kw))


# ---- plain data at protocols 2..5 ------------------------------------------------------------
class Plain:
    def __init__(self):
        self.a = 1
        self.b = [1.5, "x"]


shared = [1, 2]
od = collections.OrderedDict([("z", 1), ("a", 2)])
PLAIN = {
    "scalars": [None, True, False, 0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1, 2**31,
                2**63 - 1, -2**63, 2**63, -2**63 - 1, 2**64, 2**100, -(2**100), 10**30, 1.5, -0.0,
                float("inf"), 1e300, 2.5e-310],
    "strings": ["hello", "", "ünïcødé ☃ 😀", "a" * 300, "tab\tnl\nquote\"bs\\"],
    "bytes": [b"", b"\x00\xff bytes", bytes(range(256)) * 2, bytearray(b"ba"), bytearray()],
    "nested": ((1, (2, (3, ()))), [[], [[]]], {"a": {"b": {"c": [1, 2]}}}),
    "sets": [{1, 2, "x"}, frozenset({(1, 2), "y"}), set(), frozenset()],
    "keys": {1: "int", "k": "str", None: "none", (1, "a"): "tuple", 2.5: "float", b"by": "bytes", -7: 0},
    "shared": [shared, shared, {"s": shared}],
    "odict": od,
    "misc": [1 + 2j, slice(1, 10, 2), range(1, 10, 3)],
}
for proto in (2, 3, 4, 5):
    case("plain_p%d" % proto, pickle.dumps(PLAIN, protocol=proto), desc=desc(PLAIN))
    case("object_p%d" % proto, pickle.dumps([Plain(), Plain()], protocol=proto), mode="opaque",
         desc=desc([Plain(), Plain()]), warn="__main__.Plain")
    case("object_strict_p%d" % proto, pickle.dumps(Plain(), protocol=proto), expect="forbidden")
case("float32_dtype", pickle.dumps([torch.float32, torch.bfloat16, torch.Size([2, 3]),
                                    torch.device("cuda", 1), torch.device("cpu")], protocol=2),
     desc=desc([torch.float32, torch.bfloat16, (2, 3), "cuda:1", "cpu"]))


# ---- torch.save / torch.jit.save: data.pkl and data/ extracted from the zip -------------------
def extract(name, buf):
    d = os.path.join(OUT, name)
    os.makedirs(os.path.join(d, "data"), exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(buf)) as z:
        for n in z.namelist():
            parts = n.split("/", 1)[1]
            if parts == "data.pkl" or parts.startswith("data/"):
                with open(os.path.join(d, parts), "wb") as f:
                    f.write(z.read(n))
    return name + "/data.pkl", name


def saved(obj):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=True)
    return buf.getvalue()


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2, bias=False))
        self.bn = torch.nn.BatchNorm1d(2)
        self.scale = torch.nn.Parameter(torch.ones(2))
        self.register_buffer("steps", torch.arange(3))

    def forward(self, x):
        return self.bn(self.net(x)) * self.scale


net = Net()
sd = net.state_dict()
views_base = torch.arange(12.0).reshape(3, 4)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
net(torch.randn(5, 4)).sum().backward()
opt.step()
checkpoint = {
    "epoch": 7, "loss": 0.125, "model_state_dict": net.state_dict(),
    "optimizer_state_dict": opt.state_dict(), "note": "run α", "flags": {"amp": False},
    "views": {"base": views_base, "T": views_base.t(), "row1": views_base[1], "col2": views_base[:, 2],
              "expand": torch.ones(1).expand(3)},
    "dtypes": [torch.zeros(2, dtype=d) + 1 for d in (torch.float16, torch.bfloat16, torch.int8, torch.uint8,
                                                    torch.int16, torch.int32, torch.int64, torch.bool,
                                                    torch.float64, torch.complex64, torch.complex128)],
    "scalar_tensor": torch.tensor(3.5),
    "empty": torch.zeros(0, 3),
    "np": [np.float64(0.5), np.float32(0.25), np.int64(-7), np.int32(9), np.uint8(200), np.bool_(True),
           np.float16(1.5), np.uint64(2**64 - 1)],
}
f, d = extract("state_dict", saved(sd))
case("state_dict", open(os.path.join(OUT, f), "rb").read(), desc=desc(sd), storage=d)
f, d = extract("checkpoint", saved(checkpoint))
case("checkpoint", open(os.path.join(OUT, f), "rb").read(), desc=desc(checkpoint), storage=d)
case("checkpoint_opaque", open(os.path.join(OUT, f), "rb").read(), mode="opaque", desc=desc(checkpoint), storage=d)

many = collections.OrderedDict(("layer%d.weight" % i, torch.full((4,), float(i))) for i in range(5000))
f, d = extract("many", saved(many))
case("many", open(os.path.join(OUT, f), "rb").read(), desc=desc(many), storage=d)

f, d = extract("whole_model", saved(net))
case("whole_model", open(os.path.join(OUT, f), "rb").read(), mode="opaque", storage=d, walk="module",
     state_dict=[[k, desc(v)] for k, v in net.state_dict().items()], warn="__main__.Net")
case("whole_model_strict", open(os.path.join(OUT, f), "rb").read(), expect="forbidden", storage=d)


class Scripted(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())
        self.bn = torch.nn.BatchNorm1d(3)
        self.sizes: list = [1, 2, 3]
        self.ratios: list = [0.5, 1.5]

    def forward(self, x):
        return self.bn(self.net(x)) * self.sizes[0] * self.ratios[0]


scripted = torch.jit.script(Scripted().eval())
buf = io.BytesIO()
torch.jit.save(scripted, buf)
f, d = extract("torchscript", buf.getvalue())
case("torchscript", open(os.path.join(OUT, f), "rb").read(), mode="opaque", storage=d, walk="torchscript",
     state_dict=[[k, desc(v)] for k, v in scripted.state_dict().items()])

# numpy: scalars become numbers, simple arrays tensors, the rest inert objects.
npdata = {"f8": np.float64(-2.75), "i8": np.int64(2**40), "b": np.bool_(False),
          "arr": np.arange(6, dtype=np.float32).reshape(2, 3),
          "fortran": np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3)),
          "u8": np.array([1, 255], dtype=np.uint8), "c": np.array([1 + 2j], dtype=np.complex64)}
for proto in (2, 4):
    case("numpy_p%d" % proto, pickle.dumps(npdata, protocol=proto), desc=desc(npdata))
case("numpy_odd", pickle.dumps([np.array(["a", 1], dtype=object), np.array([1.0], dtype=">f4"),
                                np.complex128(1 + 1j)], protocol=2), mode="opaque", desc="*")


# ---- rebuild calls torch.save never writes, through a custom pickler ---------------------------
class St:
    def __init__(self, cls, key, numel):
        self.cls, self.key, self.numel = cls, key, numel


class Call:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


class SynthPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, St):
            return ("storage", obj.cls, obj.key, "cpu", obj.numel) if obj.numel is not None else obj.key
        return None


def synth(obj, proto=2):
    b = io.BytesIO()
    SynthPickler(b, protocol=proto).dump(obj)
    return b.getvalue()


SD = os.path.join(OUT, "synth")
os.makedirs(os.path.join(SD, "data"), exist_ok=True)
base = torch.arange(12, dtype=torch.float32) * 0.5 - 2
cbase = torch.complex(torch.arange(6.0), torch.arange(6.0) + 10)
ibase = torch.arange(6, dtype=torch.int64) - 3
hbase = torch.arange(8, dtype=torch.float16)
for key, t in (("0", base), ("1", cbase), ("2", ibase), ("3", hbase)):
    open(os.path.join(SD, "data", key), "wb").write(t.view(torch.uint8).numpy().tobytes())
F = St(torch.FloatStorage, "0", 12)
C = St(torch.ComplexFloatStorage, "1", 6)
I = St(torch.LongStorage, "2", 6)
U = St(torch.UntypedStorage, "3", 16)
OD = collections.OrderedDict
u = torch._utils


def newer_torch_global(module, name):
    """Functions torch 2.x pickles reference but this torch lacks: a stand-in under the same
    name, so the pickler writes the same GLOBAL (it is never called)."""
    mod = sys.modules[module]
    if not hasattr(mod, name):
        def stand_in(*args):
            raise RuntimeError("stand-in")
        stand_in.__module__, stand_in.__qualname__, stand_in.__name__ = module, name, name
        setattr(mod, name, stand_in)


for fn in ("_rebuild_tensor_v3", "_rebuild_parameter_with_state", "_rebuild_device_tensor_from_cpu_tensor"):
    newer_torch_global("torch._utils", fn)


def v2(st, off, size, stride, *rest, rg=False, hooks=None):
    return Call(u._rebuild_tensor_v2, st, off, size, stride, rg, OD() if hooks is None else hooks, *rest)


def strided(t, off, size, stride):
    return torch.as_strided(t, size, stride, off)


ok_synth = {
    "v2_view": (v2(F, 1, (2, 3), (3, 1)), strided(base, 1, (2, 3), (3, 1))),
    "v2_transposed": (v2(F, 0, (4, 3), (1, 4)), strided(base, 0, (4, 3), (1, 4))),
    "v2_expand": (v2(F, 5, (4, 3), (0, 1)), strided(base, 5, (4, 3), (0, 1))),
    "v2_scalar": (v2(F, 11, (), ()), base[11]),
    "v2_empty": (v2(F, 0, (0, 5), (5, 1)), torch.zeros(0, 5)),
    "v2_neg": (v2(F, 2, (3, 2), (1, 3), {"neg": True}), -strided(base, 2, (3, 2), (1, 3))),
    "v2_conj": (v2(C, 1, (2, 2), (2, 1), {"conj": True}), strided(cbase, 1, (2, 2), (2, 1)).conj()),
    "v2_conj_neg": (v2(C, 0, (3,), (2,), {"conj": True, "neg": True}), -strided(cbase, 0, (3,), (2,)).conj()),
    "v2_neg_int": (v2(I, 0, (6,), (1,), {"neg": True}), -ibase),
    "v2_meta_false": (v2(F, 0, (2,), (1,), {"neg": False}), base[:2]),
    "v3_half": (Call(u._rebuild_tensor_v3, U, 2, (2, 3), (3, 1), False, OD(), torch.float16),
                strided(hbase, 2, (2, 3), (3, 1))),
    "v1": (Call(u._rebuild_tensor, F, 3, (3,), (2,)), strided(base, 3, (3,), (2,))),
    "parameter": (Call(u._rebuild_parameter, v2(F, 0, (4,), (1,), rg=True), True, OD()), base[:4]),
    "parameter_state": (Call(u._rebuild_parameter_with_state, v2(F, 0, (4,), (1,)), True, OD(), {}), base[:4]),
    "from_type": (Call(torch._tensor._rebuild_from_type_v2, u._rebuild_tensor_v2, torch.Tensor,
                       (F, 0, (2,), (1,), False, OD()), {}), base[:2]),
    "device_from_cpu": (Call(u._rebuild_device_tensor_from_cpu_tensor, v2(F, 0, (3,), (1,)), torch.float32,
                             "cpu", False), base[:3]),
    "layout": (torch.sparse_coo, torch.sparse_coo),
    "jit_lists": ([Call(torch.jit._pickle.build_intlist, [1, 2]), Call(torch.jit._pickle.build_doublelist, [0.5]),
                   Call(torch.jit._pickle.build_boollist, [True]),
                   Call(torch.jit._pickle.build_tensorlist, [v2(F, 0, (1,), (1,))]),
                   Call(torch.jit._pickle.restore_type_tag, {"a": 1}, "Dict[str, int]")],
                  [[1, 2], [0.5], [True], [base[:1]], {"a": 1}]),
    "shared_storage": ([v2(F, 0, (2,), (1,)), v2(F, 2, (2,), (1,))], [base[:2], base[2:4]]),
}
for name, (obj, value) in ok_synth.items():
    case("synth_" + name, synth(obj), desc=desc(value), storage="synth")
case("synth_v2_p4", synth(ok_synth["v2_view"][0], 4), desc=desc(ok_synth["v2_view"][1]), storage="synth")
case("synth_hooks_opaque", synth(v2(F, 0, (2,), (1,), hooks=OD([(1, 2)]))), mode="opaque", desc=desc(base[:2]),
     storage="synth", warn="hooks")
case("synth_from_type_state", synth(Call(torch._tensor._rebuild_from_type_v2, u._rebuild_tensor_v2, torch.Tensor,
                                         (F, 0, (2,), (1,), False, OD()), {"x": 1})),
     desc=desc(base[:2]), storage="synth", warn="attributes")

bad_synth = {
    # TEN-02/03/05/08
    "extent": (v2(F, 0, (4, 4), (4, 1)), "corrupt"),
    "extent_offset": (v2(F, 11, (2,), (1,)), "corrupt"),
    "negative_stride": (v2(F, 11, (2,), (-1,)), "corrupt"),
    "negative_size": (v2(F, 0, (-1,), (1,)), "corrupt"),
    "negative_offset": (v2(F, -1, (1,), (1,)), "corrupt"),
    "rank_mismatch": (v2(F, 0, (2, 2), (1,)), "corrupt"),
    "ndim": (v2(F, 0, (1,) * 65, (1,) * 65), "limit_exceeded"),
    "numel": (v2(F, 0, (2**20, 2**20, 2**20), (0, 0, 0)), "limit_exceeded"),
    "numel_overflow": (v2(F, 0, (2**62, 2**62), (0, 0)), "corrupt"),
    # PKL-02 / TEN-11
    "requires_grad_int": (v2(F, 0, (2,), (1,), rg=1), "corrupt"),
    "hooks_strict": (v2(F, 0, (2,), (1,), hooks=OD([(1, 2)])), "forbidden"),
    "storage_not_storage": (v2((1, 2), 0, (2,), (1,)), "corrupt"),
    "size_str": (v2(F, 0, ("2",), (1,)), "corrupt"),
    "size_list": (v2(F, 0, [2], [1]), "corrupt"),
    "offset_float": (v2(F, 0.0, (2,), (1,)), "corrupt"),
    "v2_arity": (Call(u._rebuild_tensor_v2, F, 0, (2,)), "corrupt"),
    "metadata_unknown": (v2(F, 0, (2,), (1,), {"sparse": True}), "unsupported"),
    "metadata_not_bool": (v2(F, 0, (2,), (1,), {"neg": 1}), "corrupt"),
    "v3_dtype_str": (Call(u._rebuild_tensor_v3, U, 0, (2,), (1,), False, OD(), "float16"), "corrupt"),
    "v3_mismatch": (Call(u._rebuild_tensor_v3, F, 0, (2,), (1,), False, OD(), torch.float64), "corrupt"),
    "parameter_not_tensor": (Call(u._rebuild_parameter, [1], True, OD()), "corrupt"),
    "meta": (Call(u._rebuild_meta_tensor_no_storage, torch.float32, (2,), (1,), False), "unsupported"),
    # torch.per_tensor_affine is off the table: opaque mode gets to the handler
    "qtensor": (Call(u._rebuild_qtensor, F, 0, (2,), (1,), (torch.per_tensor_affine, 1.0, 0), False, OD()),
                "unsupported", "opaque"),
    "sparse": (Call(u._rebuild_sparse_tensor, torch.sparse_coo, ()), "unsupported"),
    "from_type_func": (Call(torch._tensor._rebuild_from_type_v2, collections.OrderedDict, torch.Tensor, (), {}),
                       "corrupt"),
    "intlist_floats": (Call(torch.jit._pickle.build_intlist, [1.5]), "corrupt"),
    "size_of_str": (Call(torch.Size, ("a",)), "corrupt"),
    "ordered_dict_args": (Call(collections.OrderedDict, [("a", 1)]), "corrupt"),
    "codecs_wide": (Call(__import__("_codecs").encode, "\u0100", "latin1"), "corrupt"),
    "codecs_utf8": (Call(__import__("_codecs").encode, "x", "utf-8"), "corrupt"),
    "pid_not_tuple": (St(None, "0", None), "corrupt"),
    "pid_key_path": (St(torch.FloatStorage, "../0", 12), "forbidden"),
    "pid_key_letters": (St(torch.FloatStorage, "a", 12), "corrupt"),
    "pid_numel_wrong": (St(torch.FloatStorage, "0", 13), "corrupt"),
    "pid_numel_negative": (St(torch.FloatStorage, "0", -1), "corrupt"),
    "pid_class": (St(torch.Size, "0", 12), "corrupt"),
}
for name, (obj, code, *mode) in bad_synth.items():
    case("synth_bad_" + name, synth(obj), expect=code, mode=(mode or ["strict"])[0], storage="synth")


# ---- byte-assembled streams --------------------------------------------------------------------
P2 = b"\x80\x02"


def u32(n):
    return struct.pack("<I", n)


def binunicode(s):
    b = s.encode("utf-8", "surrogatepass")
    return b"X" + u32(len(b)) + b


raw = {
    # name: (bytes, mode, expect)
    "os_system": (P2 + b"cos\nsystem\n" + binunicode("ls") + b"\x85R.", "opaque", "forbidden"),
    "os_system_strict": (P2 + b"cos\nsystem\n" + binunicode("ls") + b"\x85R.", "strict", "forbidden"),
    "eval_py2": (P2 + b"c__builtin__\neval\n" + binunicode("1") + b"\x85R.", "opaque", "forbidden"),
    "stack_global_eval": (b"\x80\x04" + b"\x8c\x08builtins\x8c\x04eval\x93" + binunicode("1") + b"\x85R.",
                          "opaque", "forbidden"),
    "deep_lists": (P2 + b"]" * 100000 + b"a" * 99999 + b".", "strict", "limit_exceeded"),
    "deep_marks": (P2 + b"(" * 100000 + b".", "strict", "limit_exceeded"),
    "deep_tuples": (P2 + b"N" + b"\x85" * 100000 + b".", "strict", "limit_exceeded"),
    "memo_chain_depth": (P2 + b"".join(b"]r" + u32(i) + b"0" for i in range(2000)) +
                         b"".join(b"j" + u32(i) + b"j" + u32(i + 1) + b"a0" for i in range(1999)) +
                         b"j" + u32(0) + b".", "strict", "limit_exceeded"),
    "memo_bomb": (P2 + b"Nq\x000" + b"h\x00h\x00\x86q\x000" * 64 + b"h\x00.", "strict", "ok"),
    "memo_bomb_key": (P2 + b"}Nq\x000" + b"h\x00h\x00\x86q\x000" * 64 + b"h\x00K\x01s.", "strict", "corrupt"),
    "setitems_list": (P2 + b"](K\x01K\x02u.", "strict", "corrupt"),
    "setitem_tuple": (P2 + b")K\x01K\x02s.", "strict", "corrupt"),
    "append_dict": (P2 + b"}K\x01a.", "strict", "corrupt"),
    "appends_tuple": (P2 + b")(K\x01e.", "strict", "corrupt"),
    "additems_list": (b"\x80\x04](K\x01\x90.", "strict", "corrupt"),
    "additems_frozenset": (b"\x80\x04(\x91(K\x01\x90.", "strict", "corrupt"),
    "build_int": (P2 + b"K\x01}b.", "strict", "corrupt"),
    "build_plain_dict": (P2 + b"}}b.", "strict", "corrupt"),
    "build_tuple": (P2 + b")}b.", "strict", "corrupt"),
    "undefined_opcode": (P2 + b"\xff.", "strict", "corrupt"),
    "proto_6": (b"\x80\x06N.", "strict", "corrupt"),
    "proto_twice": (P2 + b"\x80\x02N.", "strict", "corrupt"),
    "truncated_string": (P2 + b"X\x05\x00\x00\x00ab", "strict", "corrupt"),
    "no_stop": (P2 + b"K\x01", "strict", "corrupt"),
    "empty": (b"", "strict", "corrupt"),
    "trailing": (P2 + b"K\x01.K", "strict", "corrupt"),
    "huge_binunicode": (P2 + b"X\xff\xff\xff\xff", "strict", "corrupt"),
    "huge_binunicode8": (b"\x80\x04\x8d" + struct.pack("<Q", 2**63) + b"ab.", "strict", "corrupt"),
    "huge_binbytes8": (b"\x80\x04\x8e" + struct.pack("<Q", 2**64 - 1) + b"ab.", "strict", "corrupt"),
    "huge_bytearray8": (b"\x80\x05\x96" + struct.pack("<Q", 2**40) + b"ab.", "strict", "corrupt"),
    "negative_binstring": (P2 + b"T\xff\xff\xff\xffab.", "strict", "corrupt"),
    "long1_200": (P2 + b"\x8a\xc8" + b"\x01" * 200 + b".", "strict", "limit_exceeded"),
    "long4_huge": (P2 + b"\x8b" + u32(10**6) + b".", "strict", "limit_exceeded"),
    "long4_small": (P2 + b"\x8b\x02\x00\x00\x00\x01\x02.", "strict", "ok", "513"),
    "long1_neg_big": (P2 + b"\x8a\x10" + b"\x00" * 15 + b"\x80.", "strict", "ok", str(-2**127)),
    "long1_empty": (P2 + b"\x8a\x00.", "strict", "ok", "0"),
    "long1_9_fits": (P2 + b"\x8a\x09" + b"\xff" * 9 + b".", "strict", "ok", "-1"),
    "self_list": (P2 + b"]q\x00h\x00a.", "strict", "corrupt"),
    "self_list_opaque": (P2 + b"]q\x00h\x00a.", "opaque", "corrupt"),
    "self_dict": (P2 + b"}q\x00K\x01h\x00s.", "strict", "corrupt"),
    "cycle_via_tuple": (P2 + b"]q\x00h\x00\x85a.", "strict", "corrupt"),
    "cycle_unreachable": (P2 + b"]q\x00h\x00a0K\x07.", "strict", "ok", "7"),
    "cycle_object": (P2 + b"c__main__\nX\n)\x81q\x00h\x00b.", "opaque", "corrupt"),
    "proto1_list": (P2 + b"(K\x01l.", "strict", "unsupported"),
    "utf8_invalid": (P2 + b"X\x02\x00\x00\x00\xc3\x28.", "strict", "corrupt"),
    "utf8_surrogate": (P2 + binunicode("\ud800") + b".", "strict", "corrupt"),
    "utf8_overlong": (P2 + b"X\x02\x00\x00\x00\xc0\xaf.", "strict", "corrupt"),
    "utf8_short": (b"\x80\x04\x8c\x01\xff.", "strict", "corrupt"),
    "global_nul": (P2 + b"cos\x00\nsystem\n.", "opaque", "corrupt"),
    "global_no_newline": (P2 + b"c" + b"a" * 300 + b"\n", "opaque", "corrupt"),
    "global_empty": (P2 + b"c\nx\n.", "opaque", "corrupt"),
    "stack_global_ints": (b"\x80\x04K\x01K\x02\x93.", "opaque", "corrupt"),
    "reduce_underflow": (P2 + b"R.", "strict", "corrupt"),
    "reduce_non_callable": (P2 + b"K\x01)R.", "strict", "corrupt"),
    "reduce_args_not_tuple": (P2 + b"ccollections\nOrderedDict\nK\x01R.", "strict", "corrupt"),
    "newobj_function": (P2 + b"ctorch._utils\n_rebuild_tensor_v2\n)\x81.", "strict", "corrupt"),
    "newobj_unknown": (P2 + b"c__main__\nNet\n)\x81.", "opaque", "ok", "O__main__.Net()"),
    "newobj_ex": (b"\x80\x04\x8c\x08__main__\x8c\x03Foo\x93)}\x92.", "opaque", "ok", "O__main__.Foo()"),
    "newobj_ex_kwargs": (b"\x80\x04\x8c\x08__main__\x8c\x03Foo\x93(K\x01t}(\x8c\x01kK\x02u\x92.", "opaque", "ok",
                         'O__main__.Foo(1,{s"k":2})'),
    "object_items": (P2 + b"c__main__\nL\n)\x81(K\x01K\x02eK\x03K\x04s.", "opaque", "ok",
                     "O__main__.L()+[1,2]+{3:4}"),
    "tuple_no_mark": (P2 + b"K\x01t.", "strict", "corrupt"),
    "open_mark_at_stop": (P2 + b"(K\x01.", "strict", "corrupt"),
    "two_values_at_stop": (P2 + b"K\x01K\x02.", "strict", "corrupt"),
    "pop_mark_no_mark": (P2 + b"K\x011.", "strict", "corrupt"),
    "appends_no_target": (P2 + b"(K\x01e.", "strict", "corrupt"),
    "pop_across_mark": (P2 + b"K\x01(\x86.", "strict", "corrupt"),
    "dup_pop_popmark": (P2 + b"K\x012\x86(K\x05K\x061K\x070.", "strict", "ok", "(1,1)"),
    "pop_empty_segment_pops_mark": (P2 + b"K\x01(0.", "strict", "ok", "1"),
    "frame_proto2": (P2 + b"\x95\x02\x00\x00\x00\x00\x00\x00\x00N.", "strict", "corrupt"),
    "frame_too_long": (b"\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00N.", "strict", "corrupt"),
    "frame_straddle": (b"\x80\x04\x95\x01\x00\x00\x00\x00\x00\x00\x00K\x01.", "strict", "corrupt"),
    "frame_nested": (b"\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00\x95\x01\x00\x00\x00\x00\x00\x00\x00N.",
                     "strict", "corrupt"),
    "frame_ok": (b"\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00K\x01.", "strict", "ok", "1"),
    "next_buffer": (b"\x80\x05\x97.", "strict", "unsupported"),
    "readonly_buffer": (b"\x80\x05N\x98.", "strict", "unsupported"),
    "proto0_int": (b"I1\n.", "strict", "unsupported"),
    "text_persid": (P2 + b"P0\n.", "strict", "corrupt"),
    "memo_unset": (P2 + b"h\x05.", "strict", "corrupt"),
    "memoize_empty": (b"\x80\x04\x94.", "strict", "corrupt"),
    "long_binput_max": (P2 + b"Nr\xff\xff\xff\xff0j\xff\xff\xff\xff.", "strict", "ok", "None"),
    "unhashable_key": (P2 + b"}]K\x01s.", "strict", "corrupt"),
    "duplicate_key": (P2 + b"}(X\x01\x00\x00\x00aK\x01X\x01\x00\x00\x00aK\x02u.", "strict", "corrupt"),
    "duplicate_key_numeric": (P2 + b"}(K\x01K\x01\x88K\x02u.", "strict", "corrupt"),
    "ext1_strict": (P2 + b"\x82\x01.", "strict", "forbidden"),
    "ext1_opaque": (P2 + b"\x82\x01.", "opaque", "ok", "Gext.1"),
    "binpersid_empty": (P2 + b"Q.", "strict", "corrupt"),
    "builtins_set_of_lists": (P2 + b"c__builtin__\nset\n]]a\x85R.", "strict", "corrupt"),
    "numpy_scalar_bad_len": (P2 + b"cnumpy.core.multiarray\nscalar\ncnumpy\ndtype\nX\x02\x00\x00\x00f8\x89\x88\x87R"
                             b"C\x03abc\x86R.", "strict", "corrupt"),
}
for name, spec in raw.items():
    data, mode, expect = spec[:3]
    extra = {"desc": spec[3]} if len(spec) > 3 else {}
    case("raw_" + name, data, expect=expect, mode=mode, storage="synth", **extra)
case("raw_os_system_permissive", raw["os_system"][0], mode="permissive", desc='Cos.system(s"ls")',
     warn="os.system")

with open(os.path.join(OUT, "cases.json"), "w") as f:
    json.dump(CASES, f, indent=1)
