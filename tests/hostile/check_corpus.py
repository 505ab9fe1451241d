#!/usr/bin/python3
"""Checks the generated hostile corpus itself, with independent tools (zipfile, pickletools,
json, numpy, torch, onnx), so a refusal by torchless can be trusted to come from the one
intended defect:

    check_corpus.py SEEDDIR FILESDIR

  - every seed loads with the tool that wrote it; torch seeds re-packed by make_hostile's zip
    writer are byte-identical (the writer reproduces torch's miniz layout);
  - pickle-level variants (PKL, TEN, TS built from a zip seed): Python's zipfile opens the
    archive and every CRC checks, and every member except data.pkl is byte-identical to the
    seed's, so the defect is inside data.pkl; "semantic" pickle defects still disassemble
    with pickletools (so the byte stream is well-formed and only the meaning is wrong);
  - bombs are real: every quoted-overlap member inflates to exactly its declared size and
    CRC, the large deflate members inflate to their declared sizes (4 GiB streamed);
  - zip container variants still have the seed's data.pkl bytes somewhere in the file;
  - safetensors / npy / ONNX variants: the parts that must stay valid parse (JSON header,
    numpy header literal, protobuf), and numpy/onnx refuse the ones they also reject.
Prints "ok corpus ..." / "FAIL corpus ..." lines and `corpus: N passed, N failed`.
"""
import ast
import io
import json
import os
import pickletools
import struct
import sys
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts"))
import make_hostile as H  # noqa: E402

passed = failed = 0


def check(ok, what, why=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok corpus " + what)
    else:
        failed += 1
        print("FAIL corpus %s: %s" % (what, why))


def attempt(fn):
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - any failure is the answer
        return None, "%s: %s" % (type(e).__name__, str(e)[:200])


# pickle variants whose bytes are a well-formed stream (only the meaning is wrong)
WELL_FORMED = {
    "PKL-01": None, "PKL-02": None, "PKL-04": None, "PKL-05": None, "PKL-06": None, "PKL-07": None,
    "PKL-08": None, "PKL-11": None, "PKL-14": None, "PKL-15": None, "PKL-16": None, "PKL-18": None,
    "TEN-01": None, "TEN-02": None, "TEN-03": None, "TEN-04": None, "TEN-05": None, "TEN-06": None,
    "TEN-08": None, "TEN-10": None, "TEN-11": None, "TS-02": None, "TS-03": None}
# ... except these variants, which break the stream on purpose
BROKEN = {"PKL-08-text-persid", "PKL-11-binget-unset", "PKL-11-long-binget-0xffffffff",
          "PKL-11-memoize-empty-stack", "PKL-04-reduce-on-int", "PKL-01-inst-os-system",
          "PKL-18-binbytes8-2^62-stream"}


def check_seeds(seeddir):
    import numpy as np
    import onnx
    import torch

    class Net(torch.nn.Module):  # the class whole_model.pt names as __main__ Net
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 3)
            self.bn = torch.nn.BatchNorm1d(3)
    sys.modules["__main__"].Net = Net
    seeds = json.load(open(os.path.join(seeddir, "seeds.json")))
    for name, s in sorted(seeds.items()):
        p = os.path.join(seeddir, s["file"])
        k = s["kind"]
        if name == "whole_model":
            fn = lambda: torch.load(p)  # our own seed, written just now
        elif k in ("torch-zip", "torch-legacy"):  # protocol 4 needs the full unpickler in 1.13
            fn = lambda: torch.load(p, weights_only=name != "torch_p4")
        elif k == "torchscript":
            fn = lambda: torch.jit.load(p).state_dict()
        elif k == "npy":
            fn = lambda: np.load(p)
        elif k == "npz":
            fn = lambda: dict(np.load(p))
        elif k == "onnx":
            fn = lambda: onnx.checker.check_model(onnx.load(p))
        elif k == "safetensors":
            fn = lambda: H.Families(seeddir, "/nonexistent").st_parse(data=open(p, "rb").read())
        else:
            fn = lambda: json.load(open(p))
        _, err = attempt(fn)
        check(err is None, "seed %s loads" % name, err)
        if k in ("torch-zip", "torchscript"):
            data = open(p, "rb").read()
            check(H.write_zip(H.read_zip(data))[0] == data, "seed %s re-packs byte-identical" % name)


def zip_members(data):
    z = zipfile.ZipFile(io.BytesIO(data))
    return z, {i.filename: z.read(i) for i in z.infolist()}


def check_pickle_variants(entries, files, seeddir):
    seed_members = {}
    for e in entries:
        if e["status"] != "run" or e.get("seed") not in ("torch_p2", "torch_p4", "torchscript"):
            continue
        if e["family"] not in ("PKL", "TEN", "TS") or not e["file"].endswith(".pt"):
            continue
        name = "%s-%s" % (e["id"], e["variant"])
        data = open(os.path.join(files, e["file"]), "rb").read()
        if e["seed"] not in seed_members:
            seed_members[e["seed"]] = zip_members(open(os.path.join(seeddir, e["seed"] + ".pt"), "rb").read())[1]
        seed = seed_members[e["seed"]]
        res, err = attempt(lambda: zip_members(data))
        if err:
            check(False, name + " zip intact", err)
            continue
        z, mem = res
        bad = z.testzip()
        check(bad is None, name + " zip CRCs", "bad CRC in %s" % bad)
        pkl = [n for n in mem if n.endswith("/data.pkl")][0]
        if e["id"] in ("TEN-01", "TEN-07", "TEN-09", "TEN-12") or e["id"].startswith("TS-0") and e["id"] not in ("TS-02", "TS-03"):
            continue  # these change members on purpose
        same = all(mem.get(n) == b for n, b in seed.items() if not n.endswith("/data.pkl"))
        check(same and set(mem) == set(seed), name + " only data.pkl differs")
        if e["id"] in WELL_FORMED and name not in BROKEN:
            _, err = attempt(lambda: list(pickletools.genops(mem[pkl])))
            check(err is None, name + " pickle well-formed", err)
            # dis also checks the stack discipline; semantic defects pass it (not run on the
            # deep-nesting files: dis indents every line by the mark depth)
            if e["id"] in ("PKL-01", "PKL-02", "PKL-07", "PKL-08", "TEN-01", "TEN-02", "TEN-03",
                           "TEN-04", "TEN-05", "TEN-08", "TEN-10", "PKL-15", "PKL-16", "PKL-18"):
                _, err2 = attempt(lambda: pickletools.dis(mem[pkl], out=io.StringIO()))
                check(err2 is None, name + " pickle stack-consistent", err2)


def inflate_check(data, off, csize, usize, crc, what):
    d = zlib.decompressobj(-15)
    n, c, pos, step = 0, 0, off, 1 << 20
    end = off + csize
    while pos < end:
        chunk = d.decompress(data[pos:min(end, pos + step)], 1 << 26)
        n += len(chunk)
        c = zlib.crc32(chunk, c)
        while d.unconsumed_tail:
            chunk = d.decompress(d.unconsumed_tail, 1 << 26)
            n += len(chunk)
            c = zlib.crc32(chunk, c)
        pos += step
    check(n == usize and c == crc & 0xFFFFFFFF and d.eof, what,
          "inflated %d (declared %d), crc %08x (declared %08x), eof %s" % (n, usize, c, crc, d.eof))


def central(data):
    """(name, method, crc, csize, usize, local offset) of every central record, raw."""
    eocd = data.rfind(b"PK\x05\x06")
    z64 = H.u64(data, eocd - 20 + 8)
    n, off = H.u64(data, z64 + 32), H.u64(data, z64 + 48)
    out = []
    for _ in range(n):
        ln, le, lc = H.u16(data, off + 28), H.u16(data, off + 30), H.u16(data, off + 32)
        name = data[off + 46:off + 46 + ln]
        method, crc = H.u16(data, off + 10), H.u32(data, off + 16)
        csize, usize, loff = H.u32(data, off + 20), H.u32(data, off + 24), H.u32(data, off + 42)
        extra = data[off + 46 + ln:off + 46 + ln + le]
        if extra[:2] == b"\x01\x00":
            vals = [H.u64(extra, 4 + 8 * i) for i in range(H.u16(extra, 2) // 8)]
            if usize == 0xFFFFFFFF:
                usize = vals.pop(0)
            if csize == 0xFFFFFFFF:
                csize = vals.pop(0)
        out.append((name, method, crc, csize, usize, loff))
        off += 46 + ln + le + lc
    return out


def data_start(data, loff):
    return loff + 30 + H.u16(data, loff + 26) + H.u16(data, loff + 28)


def check_bombs(entries, files):
    by = {"%s-%s" % (e["id"], e["variant"]): e for e in entries if e["status"] == "run"}
    q = open(os.path.join(files, by["ZIP-13-quoted-overlap-64"]["file"]), "rb").read()
    recs = [r for r in central(q) if b"/q/" in r[0]]
    starts = [r[5] for r in recs]
    check(len(set(starts)) == 64, "ZIP-13 64 distinct local headers")
    for r in (recs[0], recs[31], recs[-1]):
        check(q[r[5] + 30:r[5] + 30 + len(r[0])] == r[0], "ZIP-13 %s local name matches" % r[0].decode())
        inflate_check(q, data_start(q, r[5]), r[3], r[4], r[2], "ZIP-13 %s inflates as declared" % r[0].decode())
    total = sum(r[4] for r in recs)
    check(total > 1 << 30, "ZIP-13 would inflate to > 1 GiB (%d)" % total)
    o = open(os.path.join(files, by["ZIP-12-overlap-64"]["file"]), "rb").read()
    recs = [r for r in central(o) if b"/bomb/" in r[0]]
    check(len(recs) == 64 and len({r[5] for r in recs}) == 1, "ZIP-12 64 records, one local header")
    inflate_check(o, data_start(o, recs[0][5]), recs[0][3], recs[0][4], recs[0][2], "ZIP-12 kernel inflates as declared")
    check(sum(r[4] for r in recs) >= 1 << 30, "ZIP-12 would inflate to >= 1 GiB")
    for key, marker, limit in [("ZIP-14-inflated-over-limit", b"/extra/big", 4 << 30),
                               ("ZIP-15-total-over-limit", b"/extra/part0", None)]:
        d = open(os.path.join(files, by[key]["file"]), "rb").read()
        r = [r for r in central(d) if r[0].endswith(marker)][0]
        check(r[4] / r[3] < 1000, "%s ratio %.0f:1 under 1,032" % (key, r[4] / r[3]))
        if limit:
            check(r[4] > limit, "%s declared %d > 4 GiB" % (key, r[4]))
        inflate_check(d, data_start(d, r[5]), r[3], r[4], r[2], key + " member inflates as declared")
        if not limit:
            parts = [r for r in central(d) if b"/extra/part" in r[0]]
            check(all(p[4] <= 4 << 30 for p in parts) and sum(p[4] for p in parts) > 16 << 30,
                  key + " members under 4 GiB each, total > 16 GiB")
    # the zip-container variants keep data.pkl's bytes: the defect is in the container
    seed = zipfile.ZipFile(os.path.join(os.path.dirname(files), "seeds", "torch_p2.pt")).read("torch_p2/data.pkl")
    for n, e in by.items():
        if e["family"] == "ZIP" and e["expected"] != "ok" and "method" not in n and "inflates" not in n \
                and "bzip2" not in n and "short-file" not in n:
            d = open(os.path.join(files, e["file"]), "rb").read()
            check(seed in d, n + " keeps data.pkl intact")


def check_zip_defects(entries, files):
    """Where Python's zipfile is strict enough, it must reject the same container defects."""
    rejects = ["ZIP-01-no-eocd", "ZIP-01-short-file",
               "ZIP-04-directory-past-eof", "ZIP-04-bad-record-signature", "ZIP-06-name",
               "ZIP-10-crc-data-pkl"]
    by = {"%s-%s" % (e["id"], e["variant"]): e for e in entries if e["status"] == "run"}
    for n in rejects:
        data = open(os.path.join(files, by[n]["file"]), "rb").read()

        def read_all():
            z = zipfile.ZipFile(io.BytesIO(data))
            for i in z.infolist():
                z.read(i)
        _, err = attempt(read_all)
        check(err is not None, n + " rejected by Python's zipfile too")
    for n in ("ZIP-10-crc-zero", "ZIP-02-gap-between-members", "ZIP-17-dotdot", "ZIP-09-descriptor-crc-mismatch"):
        data = open(os.path.join(files, by[n]["file"]), "rb").read()
        _, err = attempt(lambda: zipfile.ZipFile(io.BytesIO(data)).infolist())
        check(err is None, n + " directory still readable by zipfile (defect is elsewhere)", err)


def check_formats(entries, files):
    import numpy as np
    import onnx
    for e in entries:
        if e["status"] != "run":
            continue
        n = "%s-%s" % (e["id"], e["variant"])
        p = os.path.join(files, e["file"]) if not os.path.isabs(e["file"]) else e["file"]
        if e["family"] == "ST" and e["id"] in ("ST-04", "ST-05", "ST-06", "ST-07", "ST-08", "ST-09", "ST-10", "ST-11"):
            data = open(p, "rb").read()
            hdr = data[8:8 + H.u64(data, 0)].decode("utf-8", "surrogatepass")
            pairs = []
            _, err = attempt(lambda: json.loads(hdr, object_pairs_hook=lambda kv: pairs.append(kv) or dict(kv)))
            check(err is None, n + " header is JSON", err)
            if e["id"] == "ST-04":
                check(any(len(kv) != len(dict(kv)) for kv in pairs), n + " has a duplicate key")
        if e["family"] == "NPY" and e["file"].endswith(".npy"):
            data = open(p, "rb").read()
            if e["id"] in ("NPY-04", "NPY-05", "NPY-06", "NPY-07") and e["expected"] != "ok":
                v = data[6]
                hl = H.u16(data, 8) if v == 1 else H.u32(data, 8)
                text = data[10 if v == 1 else 12:][:hl].decode("utf-8")
                _, err = attempt(lambda: ast.literal_eval(text))
                check(err is None, n + " header is a Python literal (defect is in its values)", err)
            if e["expected"] not in ("ok",) and e["id"] != "NPY-04":
                _, err = attempt(lambda: np.load(p, allow_pickle=False))
                # numpy itself accepts these (torchless is deliberately stricter)
                if e["variant"] not in ("extra-key", "duplicate-key", "fortran-int", "float-dim", "ndim-65",
                                        "negative-dim", "data-long"):
                    check(err is not None, n + " refused by numpy too")
            if e["variant"] == "object":
                _, err = attempt(lambda: np.load(p, allow_pickle=False))
                check(err is not None and "allow_pickle" in err, n + " numpy refuses it as a pickle", err)
        if e["family"] == "ONNX" and e["id"] in ("ONNX-03", "ONNX-05", "ONNX-06", "ONNX-07", "ONNX-08"):
            _, err = attempt(lambda: onnx.load(p, load_external_data=False))
            check(err is None, n + " is a well-formed protobuf", err)
        if e["family"] == "ONNX" and e["variant"] in ("length-past-end", "varint-11-bytes", "wire-type-7"):
            _, err = attempt(lambda: onnx.load(p))
            check(err is not None, n + " rejected by onnx.load too")


def main():
    seeddir, files = sys.argv[1], sys.argv[2]
    entries = json.load(open(os.path.join(files, "manifest.json")))["entries"]
    seen = set()
    for e in entries:
        key = (e["id"], e["variant"])
        check(key not in seen, "unique %s-%s" % key)
        seen.add(key)
        if e["status"] == "run":
            check(e["expected"] in ("ok", "corrupt", "unsupported", "forbidden", "limit_exceeded"),
                  "%s-%s expected code" % key, e["expected"])
            path = e["file"] if os.path.isabs(e["file"]) else os.path.join(files, e["file"])
            check(os.path.lexists(path) or e.get("create"), "%s-%s file exists" % key)
        else:
            check(bool(e.get("reason")), "%s-%s later with a reason" % key)
    check_seeds(seeddir)
    check_pickle_variants(entries, files, seeddir)
    check_zip_defects(entries, files)
    check_bombs(entries, files)
    check_formats(entries, files)
    print("corpus: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
