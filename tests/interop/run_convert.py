#!/usr/bin/python3
"""Convert suite (issue 4): the real CLI `torchless convert` / `torchless diff` against torch.

    run_convert.py --cli build/bin/torchless --work DIR [--only REGEX] [--kill-rounds 20]

Files are written by python3-torch at test time; every output is read back by torch.load
(weights_only=True) or by make_fixtures.py's independent safetensors reader, and every torch
file we write passes run_writeback.py's check_file (zip layout, compat opcodes, GLOBALs on
torch 2.x's weights_only allowlist). Cases:
  roundtrip   run_writers.py's source (every dtype torch 1.13 and safetensors share, views,
              slices, a transpose, tied weights, 0-dim, empty) .pt -> .safetensors -> .pt,
              .pt -> .pt, and through safetensors shards and .bin shards (each .bin shard
              also loaded by torch directly, following the index's weight_map): names,
              dtypes, shapes and bytes identical; tied names share a storage afterwards.
  cast        --dtype bfloat16/float16/float32/float64 equal torch's .to() bit for bit (NaN
              payloads and signs, infinities, subnormals, halfway points, fp16 overflow,
              every fp16 and bf16 bit pattern, 200k random float32 and float64 patterns);
              other dtypes untouched; tied weights stay tied; --dtype int8 is a usage error.
  extract     a training checkpoint, a whole-model pickle, traced and scripted TorchScript,
              an nn.DataParallel state dict with --strip-prefix (no argument), --strip-prefix
              P, --only, --key: the output equals model.state_dict() (names in order).
  format      the output format from OUT's extension or --to; unknown extension -> exit 2.
  diff        a file and its conversion compare equal both ways; a cast does not at rtol 0.
  torch2_profile  torch2_profile.py: uint16/32/64 and float8 written as torch 2.x writes them.
  kill        kill_writers.py: SIGKILL during convert to safetensors, torch and shards.
Prints "ok NAME" / "FAIL NAME: why" per case, then `convert: N passed, N failed`; exits 1
on failure.
"""
import argparse
import collections
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kill_writers  # noqa: E402
import torch2_profile  # noqa: E402
from make_fixtures import dtype_name, read_safetensors  # noqa: E402
from run_writers import raw, source  # noqa: E402
from run_writeback import check_file, storage_ptr  # noqa: E402

torch.set_num_threads(1)


class Fail(Exception):
    pass


class Suite:
    def __init__(self, cli, work):
        self.cli, self.work = cli, work
        self.torch_files, self.torch_bad = 0, []  # torch files through check_file, those refused

    def p(self, *parts):
        return os.path.join(self.work, *parts)

    def tl(self, *argv):
        return subprocess.run([self.cli] + [str(a) for a in argv], capture_output=True, text=True)

    def convert(self, *argv):
        r = self.tl("convert", *argv)
        if r.returncode != 0:
            raise Fail("convert %s exited %d: %s" % (" ".join(map(str, argv)), r.returncode, r.stderr.strip()[-300:]))
        return r

    def refused(self, argv, rc, out, contains=""):
        """convert ARGV must exit `rc` (a tuple: any of them), print `contains`, write nothing."""
        r = self.tl("convert", *argv)
        if r.returncode not in (rc if isinstance(rc, tuple) else (rc,)):
            raise Fail("convert %s: exit %d, expected %s: %s" % (" ".join(argv), r.returncode, rc, r.stderr.strip()))
        if contains not in r.stderr:
            raise Fail("convert %s: stderr lacks %r: %s" % (" ".join(argv), contains, r.stderr.strip()))
        left = glob.glob(out) + glob.glob(os.path.join(os.path.dirname(out), "." + os.path.basename(out) + ".tmp-*"))
        if left:
            raise Fail("convert %s left %s behind" % (" ".join(argv), left))

    def load_pt(self, path):
        """torch.load(weights_only=True) of a torch file we wrote, after run_writeback's check."""
        problem = check_file(path)
        self.torch_files += 1
        if problem:
            self.torch_bad.append(os.path.basename(path))
            raise Fail("%s: %s" % (os.path.basename(path), problem))
        return torch.load(path, weights_only=True)


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def same(want, got, ordered=False):
    """want: name -> tensor; got: name -> tensor, or name -> (dtype, shape, bytes) from the
    independent safetensors reader. Raises Fail at the first difference."""
    if (list(got) != list(want)) if ordered else (sorted(got) != sorted(want)):
        raise Fail("names %s != %s" % (list(got), list(want)))
    for name, t in want.items():
        g = got[name]
        dt, shape, data = (dtype_name(g.dtype), list(g.shape), raw(g)) if isinstance(g, torch.Tensor) else g
        if (dt, shape) != (dtype_name(t.dtype), list(t.shape)):
            raise Fail("%s: %s %s != %s %s" % (name, dt, shape, dtype_name(t.dtype), list(t.shape)))
        if data != raw(t):
            raise Fail("%s: bytes differ" % name)


def tied(got, groups):
    """Every group of names shares one storage in `got`; different groups do not."""
    ptrs = [{storage_ptr(got[n]) for n in names} for names in groups]
    for names, ps in zip(groups, ptrs):
        if len(ps) != 1:
            raise Fail("%s do not share a storage" % names)
    if len({next(iter(ps)) for ps in ptrs}) != len(groups):
        raise Fail("untied names share a storage")


# ---- a. round trips -------------------------------------------------------------------------

TIED = [["model.embed.weight", "lm_head.weight"]]


def roundtrip_source():
    sd = source()
    big = torch.arange(40, dtype=torch.int16)
    sd.update({"view.step": big[3:30:4], "expand": torch.tensor([1.5, -2.5])[:1].expand(4),
               "channels_last": torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2).to(
                   memory_format=torch.channels_last)})
    return sd


def case_roundtrip_safetensors(s):
    sd = roundtrip_source()
    torch.save(sd, s.p("rt.pt"))
    s.convert(s.p("rt.pt"), s.p("rt.safetensors"))
    s.convert(s.p("rt.safetensors"), s.p("rt_back.pt"))
    got = s.load_pt(s.p("rt_back.pt"))
    same(sd, got)
    tied(got, TIED)


def case_roundtrip_torch(s):
    # .pt -> .pt keeps views of one storage as views: strides, offsets and sharing as torch had.
    sd = roundtrip_source()
    torch.save(sd, s.p("rt.pt"))
    s.convert(s.p("rt.pt"), s.p("rt_pt.pt"))
    got = s.load_pt(s.p("rt_pt.pt"))
    same(sd, got, ordered=True)
    tied(got, TIED + [["view.t", "view.slice"]])
    for name, t in sd.items():
        if t.numel() and (got[name].stride(), got[name].storage_offset()) != (t.stride(), t.storage_offset()):
            raise Fail("%s: stride/offset %s/%d != %s/%d" % (name, got[name].stride(), got[name].storage_offset(),
                                                            t.stride(), t.storage_offset()))


def index_of(path, shard_glob):
    """The index next to `path`, checked against the shard files present."""
    index = json.load(open(path + ".index.json"))
    files = sorted(os.path.basename(f) for f in glob.glob(os.path.join(os.path.dirname(path), shard_glob)))
    if len(files) < 2 or sorted(set(index["weight_map"].values())) != files:
        raise Fail("shards %s, index names %s" % (files, sorted(set(index["weight_map"].values()))))
    return index


def case_roundtrip_safetensors_shards(s):
    # Read back through the directory: it stands for its model.safetensors.index.json.
    sd = roundtrip_source()
    torch.save(sd, s.p("rt.pt"))
    d = fresh(s.p("st_shards"))
    s.convert(s.p("rt.pt"), os.path.join(d, "model.safetensors"), "--shard-size", 200)
    index = index_of(os.path.join(d, "model.safetensors"), "model-*-of-*.safetensors")
    got = {}
    for shard in sorted(set(index["weight_map"].values())):
        got.update(read_safetensors(os.path.join(d, shard)))
    aliases = {n for names in TIED for n in names[1:]}  # stored once, named in the alias metadata
    same({k: v for k, v in sd.items() if k not in aliases}, got)
    s.convert(d, s.p("st_shards_back.pt"))
    back = s.load_pt(s.p("st_shards_back.pt"))
    same(sd, back)
    tied(back, TIED)


def case_roundtrip_bin_shards(s):
    sd = roundtrip_source()
    torch.save(sd, s.p("rt.pt"))
    d = fresh(s.p("bin_shards"))
    s.convert(s.p("rt.pt"), os.path.join(d, "pytorch_model.bin"), "--to", "torch", "--shard-size", 200)
    index = index_of(os.path.join(d, "pytorch_model.bin"), "pytorch_model-*-of-*.bin")
    got = {}
    for shard in sorted(set(index["weight_map"].values())):
        part = s.load_pt(os.path.join(d, shard))  # torch reads each shard itself
        for name in part:
            if index["weight_map"].get(name) != shard:
                raise Fail("%s found in %s, index says %s" % (name, shard, index["weight_map"].get(name)))
        got.update(part)
    same(sd, got)
    tied(got, TIED)
    s.convert(os.path.join(d, "pytorch_model.bin.index.json"), s.p("bin_shards_back.pt"))
    back = s.load_pt(s.p("bin_shards_back.pt"))
    same(sd, back)
    tied(back, TIED)


# ---- b. casts -------------------------------------------------------------------------------

def f32_bits(*u):
    return torch.tensor(np.array(u, dtype=np.uint32).view(np.float32))


def cast_source():
    g = torch.Generator().manual_seed(3)
    special32 = f32_bits(
        0x7FC00000, 0xFFC00000, 0x7F800001, 0xFFBFFFFF, 0x7FA00000,  # NaNs: quiet, negative, payloads
        0x7F800000, 0xFF800000, 0x00000000, 0x80000000,  # +-inf, +-0
        0x00000001, 0x807FFFFF, 0x00400000,  # float32 subnormals
        0x3F808000, 0x3F818000, 0x3F808001, 0x3F807FFF,  # bf16 halfway (to even, up) and neighbours
        0x3F801000, 0x3F803000, 0x3F801001,  # fp16 halfway points and a neighbour
        0x7F7FFFFF, 0x477FE000, 0x477FF000, 0x477FEFFF, 0x47800000,  # max; 65504, 65520 (-> inf), below, 65536
        0x33000000, 0x33400000, 0x33000001, 0x387FC000, 0x38800000)  # fp16 subnormal range and its edges
    special64 = torch.tensor([1e300, -1e300, 5e-324, -5e-324, 3.4028235677973366e38, 3.4028235677973362e38,
                              1 + 2**-24, 1 + 2**-24 + 2**-60, 1 + 2**-8 + 2**-40, 1 + 2**-11 + 2**-40,
                              float("nan"), -float("nan"), float("inf"), 1e-46, 7e-46, 65520.0, 65519.99, -0.0],
                             dtype=torch.float64)
    rnd32 = torch.randint(0, 2**32, (200000,), generator=g, dtype=torch.int64).numpy().astype(np.uint32)
    rnd64 = torch.randint(-2**63, 2**63 - 1, (200000,), generator=g, dtype=torch.int64).numpy()
    w = torch.randn(6, 4, generator=g)
    return collections.OrderedDict([
        ("special32", special32), ("special64", special64),
        ("random32", torch.tensor(rnd32.view(np.float32))), ("random64", torch.tensor(rnd64.view(np.float64))),
        ("all_f16", torch.tensor(np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16))),
        ("all_bf16", torch.arange(-32768, 32768, dtype=torch.int32).to(torch.int16).view(torch.bfloat16)),
        ("strided", torch.randn(8, 6, generator=g, dtype=torch.float64).t()[1:5]),
        ("tied.a", w), ("tied.b", w),
        ("i32", torch.arange(-3, 3, dtype=torch.int32)), ("u8", torch.arange(250, 256, dtype=torch.uint8)),
        ("bool", torch.tensor([True, False])), ("c64", torch.randn(3, generator=g, dtype=torch.complex64)),
        ("i64", torch.tensor([2**62 + 1, -7])),
    ])


def check_cast(s, dtype, ext):
    sd = cast_source()
    torch.save(sd, s.p("cast.pt"))
    out = s.p("cast_%s.%s" % (dtype, ext))
    s.convert(s.p("cast.pt"), out, "--dtype", dtype)
    want = collections.OrderedDict(
        (k, t.to(getattr(torch, dtype)) if t.is_floating_point() else t) for k, t in sd.items())
    if ext == "safetensors":
        got = read_safetensors(out)
        del want["tied.b"]  # stored once, an alias of tied.a
        same(want, got)
    else:
        got = s.load_pt(out)
        same(want, got, ordered=True)
        tied(got, [["tied.a", "tied.b"]])


def case_cast_bfloat16(s):
    check_cast(s, "bfloat16", "safetensors")


def case_cast_float16(s):
    check_cast(s, "float16", "pt")


def case_cast_float32(s):
    check_cast(s, "float32", "pt")


def case_cast_float64(s):
    check_cast(s, "float64", "pt")


def case_cast_not_floating(s):
    torch.save(cast_source(), s.p("cast.pt"))
    s.refused([s.p("cast.pt"), s.p("cast_int8.pt"), "--dtype", "int8"], 2, s.p("cast_int8.pt"), "--dtype")
    s.refused([s.p("cast.pt"), s.p("cast_bad.pt"), "--dtype", "float17"], 2, s.p("cast_bad.pt"), "--dtype")


# ---- c. extraction --------------------------------------------------------------------------

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.body = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
        self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.emb.weight  # tied

    def forward(self, ids):
        return self.head(self.body(self.emb(ids)))


NET_TIED = [["emb.weight", "head.weight"]]


def trained():
    torch.manual_seed(5)
    m = Net()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    loss = m(torch.tensor([1, 2, 3, 4])).square().mean()
    loss.backward()
    opt.step()
    m.eval()
    return m, opt, float(loss)


def check_extract(s, name, obj_or_path, *flags, want=None, tied_groups=NET_TIED):
    """Saves obj (or uses a file already written), converts it to .pt with flags, compares the
    output to `want` (default: the trained Net's state_dict()), names in order."""
    m, _, _ = trained()
    src = s.p("ex_%s.pt" % name)
    if obj_or_path is not None:
        torch.save(obj_or_path, src)
    out = s.p("ex_%s_out.pt" % name)
    s.convert(src, out, *flags)
    got = s.load_pt(out)
    same(m.state_dict() if want is None else want, got, ordered=True)
    tied(got, tied_groups)


def case_extract_checkpoint(s):
    m, opt, loss = trained()
    check_extract(s, "checkpoint", {"model_state_dict": m.state_dict(), "optimizer_state_dict": opt.state_dict(),
                                    "epoch": 3, "loss": loss})


def case_extract_whole_model(s):
    check_extract(s, "whole", trained()[0])


def case_extract_torchscript_traced(s):
    m = trained()[0]
    torch.jit.save(torch.jit.trace(m, torch.tensor([1, 2])), s.p("ex_traced.pt"))
    check_extract(s, "traced", None)


def case_extract_torchscript_scripted(s):
    torch.jit.save(torch.jit.script(trained()[0]), s.p("ex_scripted.pt"))
    check_extract(s, "scripted", None)


def case_extract_dataparallel(s):
    dp = nn.DataParallel(trained()[0]).state_dict()
    if not all(k.startswith("module.") for k in dp):
        raise Fail("DataParallel names without module.: %s" % list(dp))
    check_extract(s, "dataparallel_kept", dp, want=dp, tied_groups=[["module.emb.weight", "module.head.weight"]])
    check_extract(s, "dataparallel", dp, "--strip-prefix")
    # --only sees the names after the prefix is gone
    want = collections.OrderedDict((k, v) for k, v in trained()[0].state_dict().items() if k.startswith("body."))
    check_extract(s, "dataparallel_only", dp, "--only", r"^body\.", "--strip-prefix", want=want, tied_groups=[])


def case_extract_strip_explicit(s):
    sd = trained()[0].state_dict()
    mixed = collections.OrderedDict([("backbone." + k, v) for k, v in sd.items()] +
                                    [("extra.backbone.x", torch.ones(2))])
    want = collections.OrderedDict(list(sd.items()) + [("extra.backbone.x", mixed["extra.backbone.x"])])
    check_extract(s, "strip_explicit", mixed, "--strip-prefix", "backbone.", want=want)


def case_extract_only(s):
    sd = trained()[0].state_dict()
    want = collections.OrderedDict((k, v) for k, v in sd.items() if re.search(r"^emb|bias$", k))
    check_extract(s, "only", sd, "--only", "^emb|bias$", want=want, tied_groups=[])
    s.refused([s.p("ex_only.pt"), s.p("ex_only_bad.pt"), "--only", "("], (2,), s.p("ex_only_bad.pt"), "--only")


def case_extract_key(s):
    m, opt, _ = trained()
    ema = collections.OrderedDict((k, v * 0.5) for k, v in m.state_dict().items())
    ck = {"model": m.state_dict(), "ema": ema, "optimizer": opt.state_dict(), "epoch": 1}
    check_extract(s, "key", ck, "--key", "ema", want=ema, tied_groups=[])
    check_extract(s, "key_model", ck, "--key", "model")
    s.refused([s.p("ex_key.pt"), s.p("ex_key_none.pt"), "--key", "nope"], 1, s.p("ex_key_none.pt"), "[not_found]")


# ---- d. output format -----------------------------------------------------------------------

def case_output_format(s):
    sd = collections.OrderedDict([("w", torch.randn(3, 2)), ("n", torch.arange(4))])
    torch.save(sd, s.p("fmt.pt"))
    d = fresh(s.p("fmt"))
    for out, to, fmt in [("a.safetensors", None, "safetensors"), ("a.pt", None, "torch"), ("a.pth", None, "torch"),
                         ("a.bin", None, "torch"), ("a.ckpt", None, "torch"), ("A.PT", None, "torch"),
                         ("b.weights", "safetensors", "safetensors"), ("b.data", "torch", "torch"),
                         ("c.pt", "safetensors", "safetensors"), ("c.safetensors", "torch", "torch")]:
        path = os.path.join(d, out)
        s.convert(s.p("fmt.pt"), path, *(["--to", to] if to else []))
        if fmt == "torch":
            if not zipfile.is_zipfile(path):
                raise Fail("%s%s: not a zip" % (out, " --to " + to if to else ""))
            same(sd, s.load_pt(path), ordered=True)
        else:
            if zipfile.is_zipfile(path):
                raise Fail("%s%s: a zip, expected safetensors" % (out, " --to " + to if to else ""))
            same(sd, read_safetensors(path))
    for out in ("x.xyz", "noext", "x.onnx"):
        s.refused([s.p("fmt.pt"), os.path.join(d, out)], 2, os.path.join(d, out), "--to")
    s.refused([s.p("fmt.pt"), os.path.join(d, "y.pt"), "--to", "onnx"], 2, os.path.join(d, "y.pt"), "--to")


# ---- e. diff --------------------------------------------------------------------------------

def diff_json(s, a, b, *flags, rc):
    r = s.tl("diff", a, b, "--json", *flags)
    if r.returncode != rc:
        raise Fail("diff %s %s %s: exit %d, expected %d: %s%s" % (
            os.path.basename(a), os.path.basename(b), " ".join(flags), r.returncode, rc, r.stdout[-300:], r.stderr[-300:]))
    return json.loads(r.stdout)


def case_diff(s):
    sd = roundtrip_source()
    torch.save(sd, s.p("df.pt"))
    s.convert(s.p("df.pt"), s.p("df.safetensors"))
    s.convert(s.p("df.safetensors"), s.p("df_back.pt"))
    for a, b in [("df.pt", "df.safetensors"), ("df.safetensors", "df.pt"), ("df.pt", "df_back.pt")]:
        j = diff_json(s, s.p(a), s.p(b), "--rtol", "0", "--atol", "0", rc=0)
        if j["equal"] is not True or sorted(t["name"] for t in j["tensors"]) != sorted(sd) or \
                any(t["status"] != "equal" for t in j["tensors"]):
            raise Fail("diff %s %s: %s" % (a, b, json.dumps(j)[:300]))


def case_diff_cast(s):
    g = torch.Generator().manual_seed(9)
    sd = collections.OrderedDict([("w", torch.randn(64, 8, generator=g)), ("b", torch.randn(8, generator=g)),
                                  ("steps", torch.arange(3))])
    torch.save(sd, s.p("dc.pt"))
    s.convert(s.p("dc.pt"), s.p("dc_bf16.safetensors"), "--dtype", "bfloat16")
    s.convert(s.p("dc_bf16.safetensors"), s.p("dc_f32.pt"), "--dtype", "float32")
    j = diff_json(s, s.p("dc.pt"), s.p("dc_bf16.safetensors"), "--rtol", "0", "--atol", "0", rc=1)
    if {t["name"]: t["status"] for t in j["tensors"]} != {"w": "dtype", "b": "dtype", "steps": "equal"}:
        raise Fail("f32 vs bf16: %s" % json.dumps(j)[:300])
    j = diff_json(s, s.p("dc.pt"), s.p("dc_f32.pt"), "--rtol", "0", "--atol", "0", rc=1)
    if {t["name"]: t["status"] for t in j["tensors"]} != {"w": "different", "b": "different", "steps": "equal"}:
        raise Fail("f32 vs bf16 -> f32 at rtol 0: %s" % json.dumps(j)[:300])
    worst = max(t["max_rel"] for t in j["tensors"])
    if not 0 < worst <= 2**-8:
        raise Fail("max_rel %g outside (0, 2^-8] for a bfloat16 rounding" % worst)
    diff_json(s, s.p("dc.pt"), s.p("dc_f32.pt"), "--rtol", "0.004", "--atol", "0", rc=0)


CASES = [(name[5:], fn) for name, fn in globals().items() if name.startswith("case_")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", default="", help="run the cases whose name matches this regex")
    ap.add_argument("--kill-rounds", type=int, default=20, help="kill_writers.py rounds per output kind (0: none)")
    a = ap.parse_args()
    s = Suite(os.path.abspath(a.cli), os.path.abspath(a.work))
    os.makedirs(s.work, exist_ok=True)
    passed = failed = 0
    for name, fn in CASES:
        if a.only and not re.search(a.only, name):
            continue
        try:
            fn(s)
            why = None
        except Fail as e:
            why = str(e)
        except Exception as e:  # noqa: BLE001 - a crash in one case fails that case only
            why = "%s: %s" % (type(e).__name__, e)
        if why:
            failed += 1
            print("FAIL %s: %s" % (name, why), flush=True)
        else:
            passed += 1
            print("ok %s" % name, flush=True)
    if s.torch_files:  # f. every torch file above went through run_writeback's check_file
        if s.torch_bad:
            failed += 1
            print("FAIL allowlist: %d of %d torch files: %s" % (len(s.torch_bad), s.torch_files, s.torch_bad[:5]))
        else:
            passed += 1
            print("ok allowlist: %d torch files, layout and every GLOBAL on torch 2.x's weights_only allowlist"
                  % s.torch_files)
    if not a.only or re.search(a.only, "torch2_profile"):  # uint16/32/64 and float8 as torch 2.x writes them
        tp, tf = torch2_profile.run(s.cli, s.p("torch2"))
        passed += tp
        failed += tf
    if a.kill_rounds and (not a.only or re.search(a.only, "kill")):
        for kind in sorted(kill_writers.KINDS):
            kp, kf, strays = kill_writers.run(s.cli, s.p("kill"), kind, a.kill_rounds)
            passed += kp
            failed += kf
    print("convert: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
