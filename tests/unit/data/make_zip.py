#!/usr/bin/env python3
"""Writes the zip reader's unit-test archives into OUTDIR/zip (OUTDIR = argv[1]).

Valid archives come from real writers: torch.save, torch.jit.save and Python's zipfile. Each
valid archive X gets a sidecar X.members listing "name<TAB>size<TAB>crc32<TAB>method" as
Python's zipfile reads them (an independent reader), which the tests compare against.

Hostile archives are valid ones parsed into the small zip model below and re-serialised with
exactly one defect; the file name starts with the ZIP class (hostile-inputs.md 5.2) it
exercises. offsets.txt lists "file offset" for defects whose offset the script knows.
Deterministic; no downloads.
"""
import io
import os
import shutil
import struct
import sys
import warnings
import zipfile

import torch

OUT = os.path.join(sys.argv[1], "zip")
shutil.rmtree(OUT, ignore_errors=True)  # no stale files from older runs
os.makedirs(OUT)
OFFSETS = []  # (file, offset of the defect)


# ---- a zip model that round-trips torch's and Python's archives byte for byte -------------

class Member:
    """One member: local header fields, data, descriptor bytes, central record fields."""

    def __init__(self):
        self.gap = b""        # bytes written after the descriptor (a defect)
        self.coffset = None   # central offset override (None: where the local header is)
        self.z64 = ()         # central fields saturated and moved into a zip64 extra
        self.z64_omit = False # saturate them but leave the zip64 extra out (a defect)
        self.csig = 0x02014B50
        self.comment_len = None


class Archive:
    def __init__(self):
        self.members = []
        self.zip64 = False
        self.comment = b""
        self.head = b""       # bytes before the first local header
        self.tail = b""       # bytes after the EOCD's comment
        self.cd_gap = b""     # bytes between the directory and the end records
        self.ends = {}        # overrides of end-record fields (see build())


def parse(data):
    a = Archive()
    eocd = data.rindex(b"PK\x05\x06")
    _, _, _, _, n, cd_size, cd_off, clen = struct.unpack("<IHHHHIIH", data[eocd:eocd + 22])
    a.comment = data[eocd + 22:eocd + 22 + clen]
    assert eocd + 22 + clen == len(data)
    if eocd >= 20 and data[eocd - 20:eocd - 16] == b"PK\x06\x07":
        a.zip64 = True
        z64 = struct.unpack("<IIQI", data[eocd - 20:eocd])[2]
        n, cd_size, cd_off = struct.unpack("<QQQ", data[z64 + 32:z64 + 56])
    p = cd_off
    for _ in range(n):
        m = Member()
        (_, m.cmade, m.cver, m.cflags, m.cmethod, m.ctime, m.cdate, m.ccrc, m.ccsize, m.cusize,
         nl, el, cl, m.cdisk, m.cint, m.cext, m.offset) = struct.unpack("<IHHHHHHIIIHHHHHII", data[p:p + 46])
        assert 0xFFFFFFFF not in (m.ccsize, m.cusize, m.offset)
        m.cname = data[p + 46:p + 46 + nl]
        m.cextra = data[p + 46 + nl:p + 46 + nl + el]
        m.ccomment = data[p + 46 + nl + el:p + 46 + nl + el + cl]
        p += 46 + nl + el + cl
        a.members.append(m)
    order = sorted(a.members, key=lambda m: m.offset)
    assert order == a.members
    for i, m in enumerate(a.members):
        h = m.offset
        (_, m.lver, m.lflags, m.lmethod, m.ltime, m.ldate, m.lcrc, m.lcsize, m.lusize, nl, el) = \
            struct.unpack("<IHHHHHIIIHH", data[h:h + 30])
        m.lname = data[h + 30:h + 30 + nl]
        m.lextra = data[h + 30 + nl:h + 30 + nl + el]
        start = h + 30 + nl + el
        m.data = data[start:start + m.ccsize]
        nxt = a.members[i + 1].offset if i + 1 < n else cd_off
        m.desc = data[start + m.ccsize:nxt]
    return a


def build(a):
    """Serialises an Archive; every offset and count is recomputed unless overridden."""
    out = bytearray(a.head)
    for m in a.members:
        m.offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, m.lver, m.lflags, m.lmethod, m.ltime, m.ldate,
                           m.lcrc, m.lcsize, m.lusize, len(m.lname), len(m.lextra))
        out += m.lname + m.lextra + m.data + m.desc + m.gap
    cd = len(out)
    for m in a.members:
        vals = {"usize": m.cusize, "csize": m.ccsize, "off": m.offset if m.coffset is None else m.coffset}
        z = b""
        for f in ("usize", "csize", "off"):
            if f in m.z64:
                z += struct.pack("<Q", vals[f])
                vals[f] = 0xFFFFFFFF
        extra = (b"" if m.z64_omit or not z else struct.pack("<HH", 1, len(z)) + z) + m.cextra
        clen = len(m.ccomment) if m.comment_len is None else m.comment_len
        out += struct.pack("<IHHHHHHIIIHHHHHII", m.csig, m.cmade, m.cver, m.cflags, m.cmethod, m.ctime,
                           m.cdate, m.ccrc, vals["csize"], vals["usize"], len(m.cname), len(extra), clen,
                           m.cdisk, m.cint, m.cext, vals["off"])
        out += m.cname + extra + m.ccomment
    n = len(a.members)
    e = {"disk": 0, "cd_disk": 0, "count_disk": n, "count": n, "cd_size": len(out) - cd, "cd_off": cd,
         "z64_size": 44, "z64_disk": 0, "z64_count": n, "z64_cd_size": len(out) - cd, "z64_cd_off": cd,
         "loc_disk": 0, "loc_disks": 1, "comment_len": len(a.comment)}
    out += a.cd_gap
    e["loc_off"] = len(out)
    e.update(a.ends)
    e["loc_off"] += e.pop("loc_shift", 0)
    if a.zip64:
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, e["z64_size"], 0x031E, 0x2D, e["z64_disk"], 0,
                           e["z64_count"], e["z64_count"], e["z64_cd_size"], e["z64_cd_off"])
        out += struct.pack("<IIQI", 0x07064B50, e["loc_disk"], e["loc_off"], e["loc_disks"])
    out += struct.pack("<IHHHHIIH", 0x06054B50, e["disk"], e["cd_disk"], e["count_disk"], e["count"],
                       e["cd_size"], e["cd_off"], e["comment_len"])
    out += a.comment + a.tail
    return bytes(out)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def write_valid(name, data):
    """A valid archive, its sidecar from Python's zipfile, and a check that the model round-trips."""
    write(name, data)
    assert build(parse(data)) == data, name
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        lines = ["%s\t%d\t%08x\t%d" % (i.filename, i.file_size, zipfile.crc32(z.read(i)), i.compress_type)
                 for i in z.infolist()]
    with open(os.path.join(OUT, name + ".members"), "w") as f:
        f.write("".join(line + "\n" for line in lines))


def variant(name, base, mutate, offset=None):
    """Writes `base` re-serialised after mutate(archive); offset(archive) locates the defect."""
    a = parse(base)
    mutate(a)
    data = build(a)
    write(name, data)
    if offset is not None:
        OFFSETS.append((name, offset(a)))
    return data


# ---- valid archives from real writers -------------------------------------------------------

torch.manual_seed(0)
torch.save({"w": torch.arange(6.0).reshape(2, 3), "b": torch.tensor([1, 2, 3]), "e": torch.zeros(0),
            "h": torch.randn(40).half()}, os.path.join(OUT, "torch_small.pt"))
TORCH = open(os.path.join(OUT, "torch_small.pt"), "rb").read()
write_valid("torch_small.pt", TORCH)

buf = io.BytesIO()
torch.save([torch.ones(3), 7], buf)
write_valid("torch_buffer.pt", buf.getvalue())


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.register_buffer("scale", torch.full((3,), 2.0))

    def forward(self, x):
        return self.fc(x) * self.scale


torch.jit.save(torch.jit.script(Net()), os.path.join(OUT, "torchscript.pt"))
SCRIPT = open(os.path.join(OUT, "torchscript.pt"), "rb").read()
write_valid("torchscript.pt", SCRIPT)

TEXT = b"".join(b"line %d of a compressible text member\n" % i for i in range(200))


def pyzip(compression, comment=b"", **kw):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        z.comment = comment
        z.writestr("pkg/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("pkg/text.txt", TEXT)
        z.writestr("pkg/empty", b"")
        z.writestr("pkg/caf\u00e9.txt", "non-ASCII name".encode())
    return buf.getvalue()


DEFLATED = pyzip(zipfile.ZIP_DEFLATED, b"a comment")
STORED = pyzip(zipfile.ZIP_STORED)
write_valid("py_deflated.zip", DEFLATED)
write_valid("py_stored.zip", STORED)
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:  # members at the top level, as in an .npz
    z.writestr("a.npy", b"not really npy")
    z.writestr("b.npy", b"")
write_valid("py_top_level.zip", buf.getvalue())
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:  # inflates past the first 1 MiB buffer
    z.writestr("pkg/big.bin", b"".join(bytes([i % 251]) * (i % 7 + 1) for i in range(700000)))
write_valid("py_large.zip", buf.getvalue())


class Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then uses data descriptors (bit 3)."""

    def __init__(self):
        self.data = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.data += b
        return len(b)


s = Unseekable()
with zipfile.ZipFile(s, "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("pkg/streamed.txt", "w") as f:
        f.write(TEXT)
    with z.open("pkg/wide.txt", "w", force_zip64=True) as f:  # 64-bit descriptor sizes
        f.write(TEXT[:300])
    with z.open("pkg/empty", "w") as f:
        pass
write_valid("py_streamed.zip", bytes(s.data))

buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    with z.open("pkg/forced.bin", "w", force_zip64=True) as f:
        f.write(bytes(range(256)) * 3)
    z.mkdir("pkg/sub")
    z.writestr("pkg/sub/x", b"x")
write_valid("py_zip64_forced.zip", buf.getvalue())

buf = io.BytesIO()
zipfile.ZipFile(buf, "w").close()
write_valid("py_empty.zip", buf.getvalue())


# Valid variants of the torch archive the model writes: zip64 central extras with saturated
# end record, descriptors without signature, descriptors with 64-bit sizes.
def sat_everything(a):
    for m in a.members:
        m.z64 = ("usize", "csize", "off")
    a.ends.update(disk=0xFFFF, cd_disk=0xFFFF, count_disk=0xFFFF, count=0xFFFF, cd_size=0xFFFFFFFF,
                  cd_off=0xFFFFFFFF)


def desc_nosig(a):
    for m in a.members:
        if m.desc:
            m.desc = m.desc[4:]


def widen(m, announce=True):
    """8-byte descriptor sizes, announced (as APPNOTE 4.3.9.2 requires) by a zip64 extra
    (usize, csize) in the local header."""
    crc, cs, us = struct.unpack("<III", m.desc[4:16])
    m.desc = struct.pack("<IIQQ", 0x08074B50, crc, cs, us)
    if announce:
        m.lextra = struct.pack("<HHQQ", 1, 16, us, cs) + m.lextra


def desc_wide(a):
    for m in a.members:
        if m.desc:
            widen(m)


for name, mutate in (("torch_zip64_extra.pt", sat_everything), ("torch_desc_nosig.pt", desc_nosig),
                     ("torch_desc_wide.pt", desc_wide)):
    a = parse(TORCH)
    mutate(a)
    data = build(a)
    write(name, data)
    with open(os.path.join(OUT, name + ".members"), "w") as f:
        f.write(open(os.path.join(OUT, "torch_small.pt.members")).read())


# ---- hostile archives: one defect each ------------------------------------------------------

def setf(i, **fields):
    def mutate(a):
        for k, v in fields.items():
            setattr(a.members[i], k, v)
    return mutate


def both(i, field, value):
    """The same change in the local header and the central record (l<field>, c<field>)."""
    return setf(i, **{"l" + field: value, "c" + field: value})


def rename(i, name):
    return setf(i, lname=name, cname=name)


def desc_patch(i, crc=None, csize=None, usize=None):
    def mutate(a):
        mm = a.members[i]
        c, cs, us = struct.unpack("<III", mm.desc[4:16])
        mm.desc = struct.pack("<IIII", 0x08074B50, c if crc is None else crc, cs if csize is None else csize,
                              us if usize is None else usize)
    return mutate


def chain(*fs):
    def mutate(a):
        for f in fs:
            f(a)
    return mutate


def data_end(i):
    return lambda a: a.members[i].offset + 30 + len(a.members[i].lname) + len(a.members[i].lextra) + \
        len(a.members[i].data)


def cd_offset(a):
    last = a.members[-1]
    return last.offset + 30 + len(last.lname) + len(last.lextra) + len(last.data) + len(last.desc) + len(last.gap)


TM = parse(TORCH).members
PKL, D0 = 0, 1  # torch_small: data.pkl, data/0 ...

NAMES = [mm.cname for mm in TM]

# ZIP-01
write("zip01-truncated.pt", TORCH[:-1])
write("zip01-half.pt", TORCH[:len(TORCH) // 2])
write("zip01-tiny.zip", b"PK\x05\x06" + bytes(10))
variant("zip01-comment-long.zip", DEFLATED, lambda a: a.ends.update(comment_len=len(a.comment) + 5))
variant("zip01-comment-short.zip", DEFLATED, lambda a: a.ends.update(comment_len=len(a.comment) - 1))
# ZIP-02
variant("zip02-prepended.pt", TORCH, lambda a: setattr(a, "head", b"#!/bin/sh\nexit 0\n"), lambda a: 0)
write("zip02-prepended-raw.pt", b"MZ" + bytes(62) + TORCH)
variant("zip02-appended.pt", TORCH, lambda a: setattr(a, "tail", b"appended"))
variant("zip02-gap-between.pt", TORCH, setf(PKL, gap=b"hidden"), lambda a: data_end(PKL)(a) + 16)
variant("zip02-gap-before-cd.pt", TORCH, setf(len(TM) - 1, gap=b"xyz"), lambda a: cd_offset(a) - 3)
variant("zip02-gap-after-cd.pt", TORCH, lambda a: setattr(a, "cd_gap", b"\0" * 7))
variant("zip02-gap-stored.zip", STORED, setf(1, gap=b"\0\0\0\0"), data_end(1))
# ZIP-03
variant("zip03-sentinel-no-locator.zip", DEFLATED, lambda a: a.ends.update(count=0xFFFF, count_disk=0xFFFF))
variant("zip03-locator-outside.pt", TORCH, lambda a: a.ends.update(loc_off=1 << 40))
variant("zip03-locator-self.pt", TORCH, lambda a: a.ends.update(loc_shift=56))  # points at itself
variant("zip03-record-short.pt", TORCH, lambda a: a.ends.update(z64_size=40))
variant("zip03-multidisk.pt", TORCH, lambda a: a.ends.update(loc_disks=2))
variant("zip03-record-disk.pt", TORCH, lambda a: a.ends.update(z64_disk=1))
variant("zip03-classic-disagrees.pt", TORCH, lambda a: a.ends.update(count=len(a.members) + 1))
variant("zip03-extra-missing.pt", TORCH, setf(D0, z64=("csize",), z64_omit=True))
variant("zip03-extra-short.pt", TORCH, setf(D0, z64=("usize", "csize"), z64_omit=True,
                                             cextra=struct.pack("<HHQ", 1, 8, TM[D0].cusize)))
# ZIP-04
variant("zip04-central-signature.pt", TORCH, setf(D0, csig=0x02014B51))
variant("zip04-count-low.pt", TORCH, lambda a: a.ends.update(z64_count=len(a.members) - 1,
                                                             count=len(a.members) - 1, count_disk=len(a.members) - 1))
variant("zip04-count-high.pt", TORCH, lambda a: a.ends.update(z64_count=len(a.members) + 1,
                                                              count=len(a.members) + 1, count_disk=len(a.members) + 1))
variant("zip04-comment-past-end.pt", TORCH, setf(len(TM) - 1, comment_len=200))
# ZIP-05
variant("zip05-count-huge.pt", TORCH, lambda a: a.ends.update(z64_count=1 << 40, count=0xFFFF, count_disk=0xFFFF))
variant("zip05-count-16bit.zip", DEFLATED, lambda a: a.ends.update(count=0xFFFE, count_disk=0xFFFE))
# ZIP-06
variant("zip06-local-name.pt", TORCH, setf(PKL, lname=NAMES[PKL].replace(b"data.pkl", b"data.pkx")))
variant("zip06-local-method.pt", TORCH, setf(D0, lmethod=8))
variant("zip06-local-flags.pt", TORCH, setf(D0, lflags=0x0008))
variant("zip06-local-version.pt", TORCH, setf(D0, lver=20))
variant("zip06-local-crc.zip", STORED, lambda a: setattr(a.members[1], "lcrc", a.members[1].lcrc ^ 1))
variant("zip06-local-size.zip", STORED, lambda a: setattr(a.members[1], "lusize", a.members[1].lusize + 1))
variant("zip06-local-crc-bit3.pt", TORCH, setf(D0, lcrc=0x1234))
# ZIP-07
variant("zip07-method12.pt", TORCH, both(D0, "method", 12))
variant("zip07-method99.zip", DEFLATED, both(1, "method", 99))
# ZIP-08
variant("zip08-encrypted.pt", TORCH, both(D0, "flags", 0x0809))
variant("zip08-strong-encryption.pt", TORCH, both(D0, "flags", 0x0848))
variant("zip08-patched.pt", TORCH, both(D0, "flags", 0x0828))
variant("zip08-reserved.pt", TORCH, both(D0, "flags", 0x0888))
variant("zip08-bad-utf8.pt", TORCH, rename(D0, NAMES[D0][:-1] + b"\xff"))
# ZIP-09
variant("zip09-descriptor-crc.pt", TORCH, desc_patch(D0, crc=0xDEADBEEF), data_end(D0))
variant("zip09-descriptor-size.pt", TORCH, desc_patch(D0, usize=TM[D0].cusize + 4), data_end(D0))
variant("zip09-descriptor-missing.pt", TORCH, setf(D0, desc=b""), data_end(D0))
# 8-byte sizes without a local zip64 extra: a reader takes the 16-byte form, 8 bytes are left over.
variant("zip09-descriptor-wide-no-zip64.pt", TORCH, lambda a: widen(a.members[D0], announce=False),
        lambda a: data_end(D0)(a) + 16)
# ZIP-10 (the archive opens; reading with CRC verification refuses)
variant("zip10-crc-pkl.pt", TORCH, chain(setf(PKL, ccrc=TM[PKL].ccrc ^ 0x10), desc_patch(PKL, crc=TM[PKL].ccrc ^ 0x10)))
variant("zip10-crc-storage.pt", TORCH, chain(setf(D0, ccrc=TM[D0].ccrc ^ 0x10), desc_patch(D0, crc=TM[D0].ccrc ^ 0x10)))
variant("torch_crc_zero.pt", TORCH, chain(setf(D0, ccrc=0), desc_patch(D0, crc=0)))
variant("zip10-crc-deflated.zip", DEFLATED, lambda a: [setattr(a.members[1], f, a.members[1].ccrc ^ 1)
                                                      for f in ("lcrc", "ccrc")])
# ZIP-11
variant("zip11-duplicate.pt", TORCH, rename(D0 + 1, NAMES[D0]))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("pkg/a", b"first")
        z.writestr("pkg/b", b"other")
        z.writestr("pkg/a", b"second")
    write("zip11-duplicate-python.zip", buf.getvalue())
# ZIP-12
variant("zip12-overlap.pt", TORCH, setf(D0 + 1, coffset=TM[D0].offset), lambda a: a.members[D0].offset)
variant("zip12-extends-into-next.pt", TORCH, setf(D0, ccsize=TM[D0].ccsize + 64, cusize=TM[D0].cusize + 64))
# ZIP-13: a deflate stream followed by junk inside the member's compressed bytes.
variant("zip13-trailing-after-stream.zip", DEFLATED,
        lambda a: [setattr(a.members[1], "data", a.members[1].data + b"JUNK"),
                   setattr(a.members[1], "lcsize", a.members[1].lcsize + 4),
                   setattr(a.members[1], "ccsize", a.members[1].ccsize + 4)])
# ZIP-14
variant("zip14-stored-sizes.pt", TORCH, chain(setf(D0, cusize=TM[D0].cusize + 1), desc_patch(D0, usize=TM[D0].cusize + 1)))
variant("zip14-csize-past-directory.pt", TORCH, setf(D0, ccsize=1 << 30, cusize=1 << 30))
# ZIP-15


def sizes(i, usize):
    def mutate(a):
        mm = a.members[i]
        mm.lusize = mm.cusize = usize(mm)
    return mutate


variant("zip15-ratio.zip", DEFLATED, sizes(1, lambda mm: mm.ccsize * 1033))
variant("zip15-inflates-less.zip", DEFLATED, sizes(1, lambda mm: mm.cusize + 1))
variant("zip15-inflates-more.zip", DEFLATED, sizes(1, lambda mm: mm.cusize - 1))
variant("zip15-truncated-stream.zip", DEFLATED,
        lambda a: [setattr(a.members[1], "data", a.members[1].data[:-3]),
                   setattr(a.members[1], "lcsize", a.members[1].lcsize - 3),
                   setattr(a.members[1], "ccsize", a.members[1].ccsize - 3)])
variant("zip15-garbage-stream.zip", DEFLATED, lambda a: setattr(a.members[1], "data", b"\xff" * len(a.members[1].data)))
# ZIP-16
variant("zip16-offset-at-directory.pt", TORCH, lambda a: setattr(a.members[D0], "coffset", cd_offset(a)))
variant("zip16-extra-overrun.pt", TORCH,
        lambda a: setattr(a.members[D0], "lextra", a.members[D0].lextra[:2] +
                          struct.pack("<H", len(a.members[D0].lextra)) + a.members[D0].lextra[4:]))
variant("zip16-extra-fragment.pt", TORCH, setf(D0, cextra=b"\x00\x00"))
# ZIP-17
top = NAMES[PKL].split(b"/")[0]
variant("zip17-dotdot.pt", TORCH, rename(D0, top + b"/../../etc/passwd"))
variant("zip17-absolute.pt", TORCH, rename(D0, b"/" + NAMES[D0]))
variant("zip17-drive.pt", TORCH, rename(D0, b"C:" + NAMES[D0]))
variant("zip17-backslash.pt", TORCH, rename(D0, NAMES[D0].replace(b"/", b"\\")))
variant("zip17-dot.pt", TORCH, rename(D0, top + b"/./data/0"))
variant("zip17-empty-component.pt", TORCH, rename(D0, top + b"//data/0"))
variant("zip17-nul.pt", TORCH, rename(D0, NAMES[D0] + b"\0.txt"))
variant("zip17-control.pt", TORCH, rename(D0, NAMES[D0] + b"\x1b[31m"))
# ZIP-18
variant("zip18-long-name.pt", TORCH, rename(D0, top + b"/" + b"n" * 2000))
# ZIP-19
variant("zip19-two-prefixes.pt", TORCH, rename(D0, b"other/data/0"))
variant("zip19-top-level-member.pt", TORCH, rename(len(TM) - 1, b"version"))
variant("zip19-top-level-first.pt", TORCH, rename(PKL, b"data.pkl"))
variant("zip19-prefix-of-name.pt", TORCH, rename(D0, top + b"x/data/0"))


# ZIP-20
def attrs(name, mode, data=b"x"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("pkg/data.pkl", b"\x80\x02N.")
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = mode << 16
        z.writestr(info, data)
    return buf.getvalue()


write("zip20-symlink.zip", attrs("pkg/link", 0o120777, b"../../etc/passwd"))
write("zip20-device.zip", attrs("pkg/dev", 0o020644, b""))
write("zip20-fifo.zip", attrs("pkg/fifo", 0o010644, b""))
write("zip20-directory-with-data.zip", attrs("pkg/dir/", 0o040755, b"hidden"))

with open(os.path.join(OUT, "offsets.txt"), "w") as f:
    f.write("".join("%s %d\n" % (n, o) for n, o in OFFSETS))
