#!/usr/bin/env python3
"""Hostile-input generator (specs/hostile-inputs.md 6.1).

    python3 scripts/make_hostile.py SEEDDIR OUTDIR

Reads the seed corpus written by tests/hostile/make_seeds.py (small valid files listed in
SEEDDIR/seeds.json) and writes, for every class id of the catalogue, one or more variants to
OUTDIR/<FAMILY>/<ID>-<variant>.<ext> (a directory for classes that need several files, such as
sharded indexes), plus OUTDIR/manifest.json.

Python standard library only. The tools here are built so that every field is under control:
  - a zip reader/writer reproducing torch's miniz layout (formats.md 1.3): a seed re-packed by
    it is byte-identical, so a mutation changes exactly the field it means to;
  - a pickle disassembler/assembler at opcode level with a stack simulator that finds the
    op span of any value (tensor arguments, persistent ids), so values can be replaced
    without disturbing the memo (the old value is built, then POPped, then the new one pushed);
  - a JSON emitter that can write duplicate keys and raw tokens;
  - a minimal protobuf wire reader/writer for ONNX.
Each file carries exactly one defect; files that cannot (marked "combined") only assert
"refused within bounds". Bombs are small on disk and would need > 1 GiB in a vulnerable reader.
Manifest entries: id, family, variant, file, seed, expected ("corrupt", "unsupported",
"forbidden", "limit_exceeded", or "ok" for inputs that must load), accept (other codes the
spec's wording also allows, see "ambiguous"), context (what the message must name: member,
offset, limit, substrings), args (extra CLI args), create (fifo/socket made at run time),
status ("run" or "later" with a reason), defect (one line), bytes.
"""
import bz2
import gzip
import io
import json
import lzma
import os
import pickletools
import shutil
import stat
import struct
import sys
import tarfile
import zlib

# ------------------------------------------------------------------------------------------
# zip: reader and writer reproducing torch's miniz layout


def u16(b, o):
    return struct.unpack_from("<H", b, o)[0]


def u32(b, o):
    return struct.unpack_from("<I", b, o)[0]


def u64(b, o):
    return struct.unpack_from("<Q", b, o)[0]


def allow(entry, nbytes, why):
    """Widens an entry's heap bound by `nbytes` where one input byte must become a value."""
    entry["heap_allowance_bytes"] = nbytes
    entry["heap_bound"] += " + " + why


class Member:
    """One zip record. `data` holds the bytes as stored (compressed for method 8). Every
    central-directory field can be changed through `central` (applied after defaults), every
    local-header field through `local` (name, version, flags, method, crc, csize, usize)."""

    def __init__(self, name, data, method=0, crc=None, usize=None, flags=None, version=None,
                 made=0, ext_attr=0, int_attr=0, central_extra=b"", comment=b"", descriptor=None):
        self.name = name.encode() if isinstance(name, str) else name
        self.data = data
        self.method = method
        self.usize = len(data) if usize is None else usize
        self.crc = zlib.crc32(data) if crc is None else crc
        self.flags = (0x0808 if data else 0x0800) if flags is None else flags
        self.version = (20 if method == 8 else 0) if version is None else version
        self.made = made
        self.ext_attr = ext_attr
        self.int_attr = int_attr
        self.central_extra = central_extra
        self.comment = comment
        self.descriptor = descriptor  # None: as torch (bit 3 and data); True/False/bytes
        self.local = {}
        self.central = {}
        self.desc = {}  # descriptor overrides: sig (bytes or b''), crc, csize, usize, wide

    def copy(self):
        m = Member(self.name, self.data, self.method, self.crc, self.usize, self.flags,
                   self.version, self.made, self.ext_attr, self.int_attr, self.central_extra,
                   self.comment, self.descriptor)
        m.local, m.central, m.desc = dict(self.local), dict(self.central), dict(self.desc)
        return m


def read_zip(data):
    """Members of a valid zip (central directory order), with stored/compressed bytes."""
    eocd = data.rfind(b"PK\x05\x06")
    count, cd_size, cd_off = u16(data, eocd + 10), u32(data, eocd + 12), u32(data, eocd + 16)
    if cd_off == 0xFFFFFFFF or count == 0xFFFF:
        z64 = u64(data, eocd - 20 + 8)
        count, cd_size, cd_off = u64(data, z64 + 32), u64(data, z64 + 40), u64(data, z64 + 48)
    members, p = [], cd_off
    for _ in range(count):
        assert data[p:p + 4] == b"PK\x01\x02"
        made, ver, flags, method = u16(data, p + 4), u16(data, p + 6), u16(data, p + 8), u16(data, p + 10)
        crc, csize, usize = u32(data, p + 16), u32(data, p + 20), u32(data, p + 24)
        n, e, c = u16(data, p + 28), u16(data, p + 30), u16(data, p + 32)
        int_attr, ext_attr, off = u16(data, p + 36), u32(data, p + 38), u32(data, p + 42)
        name = data[p + 46:p + 46 + n]
        extra = data[p + 46 + n:p + 46 + n + e]
        q = 0
        while q + 4 <= len(extra):  # zip64 extra, standard order
            hid, hl = u16(extra, q), u16(extra, q + 2)
            if hid == 1:
                vals = [u64(extra, q + 4 + 8 * i) for i in range(hl // 8)]
                if usize == 0xFFFFFFFF:
                    usize = vals.pop(0)
                if csize == 0xFFFFFFFF:
                    csize = vals.pop(0)
                if off == 0xFFFFFFFF:
                    off = vals.pop(0)
            q += 4 + hl
        ln, le = u16(data, off + 26), u16(data, off + 28)
        start = off + 30 + ln + le
        m = Member(name, data[start:start + csize], method, crc, usize, flags, ver, made,
                   ext_attr, int_attr, b"", data[p + 46 + n + e:p + 46 + n + e + c])
        members.append(m)
        p += 46 + n + e + c
    return members


class ZipWriter:
    """Writes records in the torch layout (64-byte aligned data via an "FB" local extra,
    descriptors after non-empty records, zip64 end records always) unless told otherwise.
    `layout` records the offset of every structure so mutations can patch a single field."""

    def __init__(self, align=64):
        self.buf = bytearray()
        self.align = align
        self.records = []  # central records: dicts
        self.layout = {"members": {}}

    def raw(self, b):
        off = len(self.buf)
        self.buf += b
        return off

    def local_region(self, m, off):
        """Local header + data + descriptor of member m placed at `off` (bytes)."""
        L = {"name": m.name, "version": m.version, "flags": m.flags, "method": m.method,
             "crc": m.crc, "csize": len(m.data), "usize": m.usize, "time": 0, "date": 0,
             "extra": None}
        if m.flags & 8:
            L.update(crc=0, csize=0, usize=0)
        L.update(m.local)
        big = len(m.data) >= 0xFFFFFFFF or m.usize >= 0xFFFFFFFF
        z64 = b""
        if big or off >= 0xFFFFFFFF:  # miniz: usize, 0 [, own offset]
            vals = (struct.pack("<QQ", m.usize, 0) if big else b"") + (
                struct.pack("<Q", off) if off >= 0xFFFFFFFF else b"")
            z64 = struct.pack("<HH", 1, len(vals)) + vals
            if not (m.flags & 8):
                L.update(csize=0xFFFFFFFF if big else L["csize"], usize=0xFFFFFFFF if big else L["usize"])
        extra = L["extra"]
        if extra is None:
            extra = z64
            if self.align:
                pad = (self.align - (off + 30 + len(L["name"]) + 4 + len(z64)) % self.align) % self.align
                extra += b"FB" + struct.pack("<H", pad) + b"Z" * pad
        hdr = b"PK\x03\x04" + struct.pack(
            "<HHHHHIIIHH", L["version"], L["flags"], L["method"], L["time"], L["date"],
            L["crc"] & 0xFFFFFFFF, L["csize"] & 0xFFFFFFFF, L["usize"] & 0xFFFFFFFF,
            len(L["name"]), len(extra)) + L["name"] + extra
        desc = b""
        want = m.descriptor if m.descriptor is not None else bool(m.flags & 8 and m.data)
        if isinstance(want, bytes):
            desc = want
        elif want:
            d = {"sig": b"PK\x07\x08", "crc": m.crc, "csize": len(m.data), "usize": m.usize,
                 "wide": big or off >= 0xFFFFFFFF}
            d.update(m.desc)
            fmt = "<IQQ" if d["wide"] else "<III"
            desc = d["sig"] + struct.pack(fmt, d["crc"] & 0xFFFFFFFF, d["csize"], d["usize"])
        return hdr, desc

    def add(self, m, offset=None):
        """Appends m's local region; adds its central record (at `offset` if given)."""
        off = len(self.buf)
        hdr, desc = self.local_region(m, off)
        self.buf += hdr
        data_off = len(self.buf)
        self.buf += m.data
        desc_off = len(self.buf)
        self.buf += desc
        self.layout["members"].setdefault(m.name, {"local": off, "data": data_off, "desc": desc_off,
                                                   "end": len(self.buf)})
        self.central(m, off if offset is None else offset)
        return off

    def central(self, m, off):
        r = {"made": m.made, "version": m.version, "flags": m.flags, "method": m.method,
             "time": 0, "date": 0, "crc": m.crc, "csize": len(m.data), "usize": m.usize,
             "name": m.name, "extra": m.central_extra, "comment": m.comment, "disk": 0,
             "int_attr": m.int_attr, "ext_attr": m.ext_attr, "offset": off, "z64": None}
        r.update(m.central)
        self.records.append(r)
        return r

    def central_bytes(self, r):
        vals, csize, usize, off = b"", r["csize"], r["usize"], r["offset"]
        if r["z64"] is None:
            if usize >= 0xFFFFFFFF:
                vals += struct.pack("<Q", usize)
                usize = 0xFFFFFFFF
            if csize >= 0xFFFFFFFF:
                vals += struct.pack("<Q", csize)
                csize = 0xFFFFFFFF
            if off >= 0xFFFFFFFF:
                vals += struct.pack("<Q", off)
                off = 0xFFFFFFFF
            extra = (struct.pack("<HH", 1, len(vals)) + vals if vals else b"") + r["extra"]
        else:  # explicit zip64 extra (or b"" to omit it) with the sentinels as given
            extra = r["z64"] + r["extra"]
        return b"PK\x01\x02" + struct.pack(
            "<HHHHHHIIIHHHHHII", r["made"], r["version"], r["flags"], r["method"], r["time"],
            r["date"], r["crc"] & 0xFFFFFFFF, csize & 0xFFFFFFFF, usize & 0xFFFFFFFF,
            len(r["name"]), len(extra), len(r["comment"]), r["disk"], r["int_attr"],
            r["ext_attr"] & 0xFFFFFFFF, off & 0xFFFFFFFF) + r["name"] + extra + r["comment"]

    def finish(self, zip64=True, comment=b"", eocd=None, z64rec=None, locator=None):
        """Central directory, zip64 record + locator (torch always writes them), EOCD.
        eocd / z64rec / locator: dicts of field overrides."""
        cd_off = len(self.buf)
        self.layout["central"] = []
        for r in self.records:
            self.layout["central"].append(len(self.buf))
            self.buf += self.central_bytes(r)
        cd_size = len(self.buf) - cd_off
        n = len(self.records)
        self.layout.update(cd=cd_off, cd_size=cd_size)
        if zip64:
            z = {"sig": b"PK\x06\x06", "size": 44, "made": 0x031E, "needed": 0x002D, "disk": 0,
                 "cd_disk": 0, "n_disk": n, "n": n, "cd_size": cd_size, "cd_off": cd_off, "tail": b""}
            z.update(z64rec or {})
            self.layout["z64"] = len(self.buf)
            self.buf += z["sig"] + struct.pack("<QHHIIQQQQ", z["size"], z["made"], z["needed"], z["disk"],
                                               z["cd_disk"], z["n_disk"], z["n"], z["cd_size"],
                                               z["cd_off"]) + z["tail"]
            loc = {"sig": b"PK\x06\x07", "disk": 0, "offset": self.layout["z64"], "disks": 1}
            loc.update(locator or {})
            self.layout["locator"] = len(self.buf)
            self.buf += loc["sig"] + struct.pack("<IQI", loc["disk"], loc["offset"], loc["disks"])
        e = {"sig": b"PK\x05\x06", "disk": 0, "cd_disk": 0, "n_disk": min(n, 0xFFFF), "n": min(n, 0xFFFF),
             "cd_size": min(cd_size, 0xFFFFFFFF), "cd_off": min(cd_off, 0xFFFFFFFF), "comment_len": None}
        e.update(eocd or {})
        clen = len(comment) if e["comment_len"] is None else e["comment_len"]
        self.layout["eocd"] = len(self.buf)
        self.buf += e["sig"] + struct.pack("<HHHHIIH", e["disk"], e["cd_disk"], e["n_disk"], e["n"],
                                           e["cd_size"], e["cd_off"], clen) + comment
        return bytes(self.buf)


def write_zip(members, align=64, **finish):
    w = ZipWriter(align)
    for m in members:
        w.add(m)
    return w.finish(**finish), w.layout


def deflate_raw(data, level=9):
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


# ------------------------------------------------------------------------------------------
# pickle: opcode-level disassembler, stack simulator, assembler helpers

OPINFO = {op.name: op for op in pickletools.opcodes}


class Op:
    __slots__ = ("name", "arg", "raw")

    def __init__(self, name, arg, raw):
        self.name, self.arg, self.raw = name, arg, raw

    def __repr__(self):
        return "%s(%r)" % (self.name, self.arg)


def disasm(data):
    """Ops of one pickle up to STOP, FRAMEs dropped (they carry no stack effect); returns
    (ops, protocol, end offset)."""
    items = list(pickletools.genops(data))
    ops, proto = [], 2
    for k, (op, arg, pos) in enumerate(items):
        end = items[k + 1][2] if k + 1 < len(items) else pos + 1
        if op.name == "FRAME":
            continue
        if op.name == "PROTO":
            proto = arg
        ops.append(Op(op.name, arg, data[pos:end]))
    return ops, proto, items[-1][2] + 1


def frame(body_ops_bytes):
    return b"\x95" + struct.pack("<Q", len(body_ops_bytes)) + body_ops_bytes


def asm(parts, proto):
    """Joins ops / raw bytes; protocol >= 4 output gets one FRAME after PROTO."""
    raw = b"".join(p.raw if isinstance(p, Op) else p for p in parts)
    if proto >= 4 and raw[:1] == b"\x80":
        return raw[:2] + frame(raw[2:])
    return raw


class Item:
    __slots__ = ("start", "end", "op", "mark")

    def __init__(self, start, end, op, mark=False):
        self.start, self.end, self.op, self.mark = start, end, op, mark


def simulate(ops):
    """Stack simulation: for every op the items it consumed (consumed[i]) and the item it
    produced (produced[i]); an Item spans the ops that built it, including its PUTs."""
    stack, consumed, produced, memo = [], {}, {}, {}
    for i, op in enumerate(ops):
        info = OPINFO[op.name]
        if op.name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
            stack[-1].end = i
            memo[op.arg if op.name != "MEMOIZE" else len(memo)] = stack[-1]
            continue
        if op.name in ("PROTO", "STOP", "FRAME"):
            continue
        if op.name == "MARK":
            stack.append(Item(i, i, i, True))
            continue
        before, after = info.stack_before, info.stack_after
        popped = []
        if pickletools.markobject in before:
            k = before.index(pickletools.markobject)
            m = max(j for j, it in enumerate(stack) if it.mark)
            popped = stack[m + 1:]
            marker = stack[m]
            del stack[m:]
            below = [stack.pop() for _ in range(k)][::-1]
            popped = below + popped
            start = min([marker.start] + [p.start for p in popped])
        else:
            n = len(before)
            if n:
                popped = stack[-n:]
                del stack[-n:]
            start = min([i] + [p.start for p in popped])
        consumed[i] = popped
        for _ in after:
            it = Item(start, i, i)
            produced[i] = it
            stack.append(it)
    return consumed, produced, memo


def global_name(ops, item, memo_globals):
    op = ops[item.start]
    if op.name == "GLOBAL":
        return op.arg
    if op.name in ("BINGET", "LONG_BINGET", "GET"):
        return memo_globals.get(op.arg)
    return None


def tensors(ops):
    """The REDUCE calls of torch._utils._rebuild_tensor_v2, in order, each as a dict of
    argument items: storage, offset, size, stride, requires_grad, hooks, plus the persistent
    id's items: pid (tuple), tag, type, key, location, numel and the op indices."""
    consumed, produced, memo = simulate(ops)
    memo_globals = {}
    for idx, it in memo.items():
        if ops[it.start].name == "GLOBAL":
            memo_globals[idx] = ops[it.start].arg
    out = []
    for i, op in enumerate(ops):
        if op.name != "REDUCE":
            continue
        fn, args = consumed[i]
        if global_name(ops, fn, memo_globals) != "torch._utils _rebuild_tensor_v2":
            continue
        elems = consumed[args.op]
        t = dict(zip(["storage", "offset", "size", "stride", "requires_grad", "hooks"], elems))
        t["reduce"] = i
        t["args"] = args
        pid_tuple = consumed[t["storage"].op][0]
        t["pid"] = pid_tuple
        t["binpersid"] = t["storage"].op
        t["memo"] = memo
        for name, it in zip(["tag", "type", "key", "location", "numel"], consumed[pid_tuple.op]):
            t[name] = it
        out.append(t)
    return out, consumed, produced


def first_op(ops, item, memo):
    """The op that pushed item's value, following memo GETs."""
    op = ops[item.start]
    while op.name in ("BINGET", "LONG_BINGET", "GET"):
        op = ops[memo[op.arg].start]
    return op


def edit(ops, proto, after=None, replace=None, before=None):
    """New pickle bytes: `after` {op index: bytes inserted after it}, `replace` {op index:
    bytes replacing it}, `before` {op index: bytes inserted before it}."""
    after, replace, before = after or {}, replace or {}, before or {}
    parts = []
    for i, op in enumerate(ops):
        if i in before:
            parts.append(before[i])
        parts.append(replace.get(i, op.raw))
        if i in after:
            parts.append(after[i])
    return asm(parts, proto)


def replace_value(item, new):
    """Insertion (after item's last op) that drops the value and pushes `new` instead: the
    original ops, and their memo entries, stay intact."""
    return {item.end: POP + new}


# opcode encoders
POP, MARK, STOP, TUPLE, TUPLE1, TUPLE2, TUPLE3 = b"0", b"(", b".", b"t", b"\x85", b"\x86", b"\x87"
EMPTY_TUPLE, EMPTY_LIST, EMPTY_DICT, EMPTY_SET = b")", b"]", b"}", b"\x8f"
REDUCE, BUILD, NEWOBJ, SETITEM, SETITEMS, APPEND, APPENDS = b"R", b"b", b"\x81", b"s", b"u", b"a", b"e"
NONE, NEWTRUE, NEWFALSE, BINPERSID, MEMOIZE, STACK_GLOBAL = b"N", b"\x88", b"\x89", b"Q", b"\x94", b"\x93"


def GLOBAL(mod, name):
    mod = mod.encode() if isinstance(mod, str) else mod
    name = name.encode() if isinstance(name, str) else name
    return b"c" + mod + b"\n" + name + b"\n"


def UNI(s):
    b = s.encode("utf-8", "surrogatepass") if isinstance(s, str) else s
    return b"X" + struct.pack("<I", len(b)) + b


def SUNI(s):
    b = s.encode() if isinstance(s, str) else s
    return b"\x8c" + struct.pack("<B", len(b)) + b


def INT(n):
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if 0 <= n < 65536:
        return b"M" + struct.pack("<H", n)
    if -2 ** 31 <= n < 2 ** 31:
        return b"J" + struct.pack("<i", n)
    return LONG1(n)


def LONG1(n, nbytes=None):
    if nbytes is None:
        nbytes = (n.bit_length() + 8) // 8
    return b"\x8a" + bytes([nbytes]) + n.to_bytes(nbytes, "little", signed=True)


def PUT(i):
    return b"r" + struct.pack("<I", i)


def GET(i):
    return b"j" + struct.pack("<I", i)


def TUP(*elems):
    return MARK + b"".join(elems) + TUPLE


def call(mod, name, *args):
    return GLOBAL(mod, name) + TUP(*args) + REDUCE


def simple_pickle(body, proto=2):
    return bytes([0x80, proto]) + body + STOP


def pval(v):
    """Protocol-2 encoding of plain data (for the legacy stream's small pickles)."""
    if v is None:
        return NONE
    if v is True:
        return NEWTRUE
    if v is False:
        return NEWFALSE
    if isinstance(v, int):
        return INT(v)
    if isinstance(v, str):
        return UNI(v)
    if isinstance(v, tuple):
        return TUP(*[pval(x) for x in v])
    if isinstance(v, list):
        return EMPTY_LIST + (MARK + b"".join(pval(x) for x in v) + APPENDS if v else b"")
    if isinstance(v, dict):
        return EMPTY_DICT + (MARK + b"".join(pval(k) + pval(x) for k, x in v.items()) + SETITEMS if v else b"")
    raise TypeError(v)


# ------------------------------------------------------------------------------------------
# JSON emitter that can write duplicate keys and raw tokens


class Pairs(list):
    """A JSON object written from (key, value) pairs in order, duplicates allowed."""


class Raw(str):
    """Text written verbatim."""


def jdump(v):
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, Pairs):
        return "{" + ",".join(jdump(k) + ":" + jdump(x) for k, x in v) + "}"
    if isinstance(v, dict):
        return jdump(Pairs(v.items()))
    if isinstance(v, list):
        return "[" + ",".join(jdump(x) for x in v) + "]"
    return json.dumps(v)


def jpairs(v):
    """A parsed JSON value with objects as Pairs (order kept, so it can be mutated)."""
    return json.loads(json.dumps(v), object_pairs_hook=Pairs)


def pget(pairs, key):
    for k, x in pairs:
        if k == key:
            return x
    raise KeyError(key)


def pset(pairs, key, value):
    for i, (k, _) in enumerate(pairs):
        if k == key:
            pairs[i] = (key, value)
            return
    pairs.append((key, value))


def pdel(pairs, key):
    pairs[:] = [(k, x) for k, x in pairs if k != key]


# ------------------------------------------------------------------------------------------
# protobuf wire format (enough for ONNX ModelProto / GraphProto / TensorProto)


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_varint(b, p):
    n, shift = 0, 0
    while True:
        c = b[p]
        p += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return n, p


def pb_parse(b):
    """[field, wire type, value] list; value is int (varint/fixed) or bytes (length-delimited)."""
    out, p = [], 0
    while p < len(b):
        tag, p = read_varint(b, p)
        f, wt = tag >> 3, tag & 7
        if wt == 0:
            v, p = read_varint(b, p)
        elif wt == 1:
            v, p = u64(b, p), p + 8
        elif wt == 5:
            v, p = u32(b, p), p + 4
        elif wt == 2:
            n, p = read_varint(b, p)
            v, p = b[p:p + n], p + n
        else:
            raise ValueError("wire type %d" % wt)
        out.append([f, wt, v])
    return out


def pb_field(f, wt, v):
    tag = varint(f << 3 | wt)
    if wt == 0:
        return tag + varint(v)
    if wt == 1:
        return tag + struct.pack("<Q", v)
    if wt == 5:
        return tag + struct.pack("<I", v)
    return tag + varint(len(v)) + v


def pb_encode(fields):
    return b"".join(pb_field(*f) for f in fields)


def pb_len(f, v):
    return pb_field(f, 2, v.encode() if isinstance(v, str) else v)


class Onnx:
    """A parsed ONNX model: model fields, graph fields, initializer field lists."""

    def __init__(self, data):
        self.model = pb_parse(data)
        gi = [i for i, f in enumerate(self.model) if f[0] == 7][0]
        self.graph = pb_parse(self.model[gi][2])
        self.inits = [pb_parse(f[2]) for f in self.graph if f[0] == 5]

    def init(self, name):
        for t in self.inits:
            if any(f[0] == 8 and f[2] == name.encode() for f in t):
                return t
        raise KeyError(name)

    def bytes(self, extra_graph=b"", extra_model=b""):
        it = iter(self.inits)
        graph = b"".join(pb_len(5, pb_encode(next(it))) if f[0] == 5 else pb_field(*f)
                         for f in self.graph) + extra_graph
        return b"".join(pb_len(7, graph) if f[0] == 7 else pb_field(*f) for f in self.model) + extra_model


def tset(t, field, wt, value):
    """Replaces every occurrence of `field` in a TensorProto field list by one value (None:
    removes it)."""
    t[:] = [f for f in t if f[0] != field]
    if value is not None:
        t.append([field, wt, value])


def ext_entry(key, value):
    return pb_len(1, key) + pb_len(2, value)


# ------------------------------------------------------------------------------------------
# the generator


class Gen:
    def __init__(self, seeddir, outdir):
        self.seeddir, self.out = seeddir, outdir
        with open(os.path.join(seeddir, "seeds.json")) as f:
            self.seeds = json.load(f)
        self.entries = []

    # -- seeds
    def seed_path(self, name):
        return os.path.join(self.seeddir, self.seeds[name]["file"])

    def seed(self, name):
        with open(self.seed_path(name), "rb") as f:
            return f.read()

    def zip_seed(self, name="torch_p2"):
        """(members, prefix) of a torch zip seed."""
        ms = read_zip(self.seed(name))
        return ms, ms[0].name.split(b"/")[0].decode()

    def member(self, ms, suffix):
        for m in ms:
            if m.name.decode("utf-8", "replace").endswith(suffix):
                return m
        raise KeyError(suffix)

    def pickle_of(self, name="torch_p2"):
        ms, prefix = self.zip_seed(name)
        ops, proto, _ = disasm(self.member(ms, "/data.pkl").data)
        return ops, proto

    # -- output
    def _entry(self, cid, variant, rel, seed, expected, defect, context, accept, args, combined,
               create=None):
        e = {"id": cid, "family": cid.split("-")[0], "variant": variant, "file": rel,
             "seed": seed, "expected": expected, "defect": defect, "context": context or {},
             "status": "run", "time_bound_ms": 1000, "heap_bound": "16 MiB + 4 x file bytes"}
        if accept:
            e["accept"] = accept
        if args:
            e["args"] = args
        if combined:
            e["combined"] = True
        if create:
            e["create"] = create
        self.entries.append(e)
        return e

    def emit(self, cid, variant, ext, data, expected, seed, defect, context=None, accept=None,
             args=None, combined=False):
        fam = cid.split("-")[0]
        rel = "%s/%s-%s.%s" % (fam, cid, variant, ext)
        path = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        e = self._entry(cid, variant, rel, seed, expected, defect, context, accept, args, combined)
        e["bytes"] = len(data)
        return e

    def emit_dir(self, cid, variant, files, main, expected, seed, defect, context=None,
                 accept=None, outside=None):
        """A directory variant: files {relpath: bytes | ("symlink", target) | ("hardlink",
        relpath)}; `outside` files go into a sibling directory <variant>.outside/."""
        fam = cid.split("-")[0]
        base = "%s/%s-%s" % (fam, cid, variant)
        root = os.path.join(self.out, base)
        for d, spec in ((root + ".outside", outside or {}), (root, files)):
            for rel, content in spec.items():
                p = os.path.join(d, rel)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                if isinstance(content, tuple) and content[0] == "symlink":
                    os.symlink(content[1], p)
                elif isinstance(content, tuple) and content[0] == "hardlink":
                    os.link(content[1] if os.path.isabs(content[1]) else os.path.join(d, content[1]), p)
                else:
                    with open(p, "wb") as f:
                        f.write(content)
        e = self._entry(cid, variant, base + "/" + main, seed, expected, defect, context, accept,
                        None, False)
        e["bytes"] = sum(os.lstat(os.path.join(dp, f)).st_size for dp, _, fs in os.walk(root) for f in fs)
        e["dir"] = True
        return e

    def later(self, cid, reason, variant="all"):
        self.entries.append({"id": cid, "family": cid.split("-")[0], "variant": variant,
                             "status": "later", "reason": reason})

    # -- torch zip helpers
    def zip_with(self, ms, name_suffix, data):
        """Members with one member's bytes replaced (stored; CRC recomputed)."""
        out = []
        for m in ms:
            if m.name.decode("utf-8", "replace").endswith(name_suffix):
                m = Member(m.name, data)
            out.append(m)
        return write_zip(out)[0]

    def pkl(self, cid, variant, data, expected, defect, seed="torch_p2", context=None, accept=None,
            combined=False, offset=True, args=None):
        """A torch zip seed whose data.pkl is replaced by `data`."""
        ms, prefix = self.zip_seed(seed)
        ctx = {"member": prefix + "/data.pkl"}
        if offset:
            ctx["offset"] = True
        ctx.update(context or {})
        return self.emit(cid, variant, "pt", self.zip_with(ms, "/data.pkl", data), expected, seed,
                         defect, ctx, accept, args, combined)

    def inject(self, ops, proto, body):
        """Pickle bytes with `body` (pushing one value) evaluated and popped right after PROTO."""
        return edit(ops, proto, after={0: body + POP})

    def add_item(self, ops, proto, key, value):
        """Pickle bytes with key -> value added as the first item of the root state dict (the
        first MARK after the root OrderedDict's REDUCE), so walks over the result reach it."""
        r = next(i for i, op in enumerate(ops) if op.name == "REDUCE")
        m = next(i for i in range(r, len(ops)) if ops[i].name == "MARK")
        return edit(ops, proto, after={m: UNI(key) + value})

    def tensor_edit(self, which, seed="torch_p2", **repl):
        """data.pkl with arguments of tensor #which replaced: repl maps an item name of
        tensors() (offset, size, key, numel, ...) to the bytes pushing its new value."""
        ops, proto = self.pickle_of(seed)
        ts, _, _ = tensors(ops)
        t = ts[which]
        after = {}
        for name, new in repl.items():
            after.update(replace_value(t[name], new))
        return edit(ops, proto, after=after)


# ------------------------------------------------------------------------------------------
# bombs: deflate streams that are small on disk


ZCHUNK = 1 << 26  # 64 MiB of zeros per repeated deflate chunk


def zero_chunk():
    """Raw deflate of 64 MiB of zeros ending in a full flush: byte aligned and history-free,
    so k copies are a valid stream inflating to k x 64 MiB."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(bytes(ZCHUNK)) + c.flush(zlib.Z_FULL_FLUSH)


def noise(n, seed=1):
    """Deterministic incompressible bytes."""
    out, x = bytearray(), seed
    while len(out) < n:
        x = (x * 6364136223846793005 + 1442695040888963407) & ((1 << 64) - 1)
        out += (x >> 11).to_bytes(7, "little")
    return bytes(out[:n])


def zero_bomb(chunks, tail):
    """(deflate bytes, inflated size, crc32) of chunks x 64 MiB zeros then `tail` bytes of
    noise; the noise keeps the ratio well under DEFLATE's 1,032:1 ceiling."""
    zc = zero_chunk()
    t = zlib.compressobj(9, zlib.DEFLATED, -15)
    tn = noise(tail)
    data = zc * chunks + t.compress(tn) + t.flush()
    crc, z = 0, bytes(ZCHUNK)
    for _ in range(chunks):
        crc = zlib.crc32(z, crc)
    crc = zlib.crc32(tn, crc)
    return data, chunks * ZCHUNK + tail, crc


def stored_block(b, final=False):
    return bytes([1 if final else 0]) + struct.pack("<HH", len(b), len(b) ^ 0xFFFF) + b


# ------------------------------------------------------------------------------------------
# families


def escape_like_cli(b):
    """How the CLI escapes bytes in messages (error.cc escape())."""
    return "".join(chr(c) if 0x20 <= c < 0x7F and c != 0x5C else "\\x%02x" % c for c in b)


class Families(Gen):
    # ---------------------------------------------------------------- FMT
    def gen_fmt(self):
        ms, P = self.zip_seed()
        pkl = self.member(ms, "/data.pkl").data
        self.emit("FMT-01", "unknown-magic", "pt", b"\xde\xad\xbe\xef\x0b\xad\xf0\x0d" + bytes(56),
                  "unsupported", None, "64 bytes with no known magic, named .pt",
                  {"hex": "deadbeef0badf00d"})
        self.emit("FMT-01", "raw-pickle-as-pt", "pt", pkl, "corrupt", "torch_p2",
                  "a bare pickle (a zip's data.pkl) named .pt: routed to the legacy reader by its "
                  "0x80 magic, whose first pickle is not the legacy magic number (LEG-01)")
        self.emit("FMT-01", "safetensors-as-ckpt", "ckpt", self.seed("safetensors"), "ok",
                  "safetensors", "valid safetensors named .ckpt: must load by content")
        self.emit("FMT-01", "zip-as-bin", "bin", self.seed("torch_p2"), "ok", "torch_p2",
                  "valid torch zip named .bin: must load by content")
        self.emit("FMT-01", "npy-as-pt", "pt", self.seed("npy_v1"), "ok", "npy_v1",
                  "valid .npy named .pt: must load by content")

        leg = self.seed("legacy")
        z = self.seed("torch_p2")
        self.emit("FMT-02", "legacy-then-zip", "pt", leg + z, "corrupt", "legacy",
                  "legacy stream followed by a whole zip archive (bytes after the last storage)",
                  {"offset": True})
        self.emit("FMT-02", "safetensors-then-zip", "safetensors", self.seed("safetensors") + z,
                  "corrupt", "safetensors", "safetensors whose buffer is followed by a zip archive",
                  {"offset": True})
        self.emit("FMT-02", "npy-then-zip", "npy", self.seed("npy_v1") + z, "corrupt", "npy_v1",
                  "npy whose data is followed by a zip archive", {"offset": True})
        # pickle, then a zip whose offsets are absolute (valid for a reader that scans for the
        # EOCD from the end): detection says pickle, the legacy reader must refuse
        w = ZipWriter()
        w.raw(pkl)
        for m in ms:
            w.add(m)
        self.emit("FMT-02", "pickle-then-zip-directory", "pt", w.finish(), "corrupt", "torch_p2",
                  "a bare pickle followed by a zip whose directory describes the whole file")

        self._entry("FMT-03", "dev-zero", "/dev/zero", None, "unsupported", "a character device",
                    None, None, None, False)
        d = os.path.join(self.out, "FMT", "FMT-03-directory")
        os.makedirs(d, exist_ok=True)
        self._entry("FMT-03", "directory", "FMT/FMT-03-directory", None, "unsupported",
                    "a directory", None, None, None, False)
        self._entry("FMT-03", "fifo", "FMT/FMT-03-fifo.pt", None, "unsupported",
                    "a FIFO with no writer (created at run time): a blocking open never returns",
                    None, None, None, False, create="fifo")
        self._entry("FMT-03", "socket", "FMT/FMT-03-socket.pt", None, "unsupported",
                    "a unix socket (created at run time)", None, None, None, False, create="socket")
        self.emit("FMT-03", "empty", "pt", b"", "corrupt", None, "an empty file")

        self.later("FMT-04", "the file must be truncated by another process during the load; "
                   "needs an in-process harness (library API + a writer thread), not a CLI run")

        inner = self.seed("torch_p2")
        self.emit("FMT-05", "gzip", "pt", gzip.compress(inner, mtime=0), "unsupported", "torch_p2",
                  "a torch zip inside gzip")
        self.emit("FMT-05", "xz", "pt", lzma.compress(inner), "unsupported", "torch_p2",
                  "a torch zip inside xz")
        self.emit("FMT-05", "bzip2", "pt", bz2.compress(inner), "unsupported", "torch_p2",
                  "a torch zip inside bzip2")
        self.emit("FMT-05", "7z", "pt", b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(24) + inner,
                  "unsupported", "torch_p2", "a 7z signature header (nullifAI wrapper)")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
            ti = tarfile.TarInfo("model.pt")
            ti.size, ti.mtime = len(inner), 0
            tf.addfile(ti, io.BytesIO(inner))
        self.emit("FMT-05", "tar", "pt", buf.getvalue(), "unsupported", "torch_p2",
                  "a torch zip inside a POSIX tar")
        nested, _ = write_zip([Member("nested/model.pt", inner)])
        self.emit("FMT-05", "zip-in-zip", "pt", nested, "unsupported", "torch_p2",
                  "a zip whose only member is a torch zip: never opened as a nested archive",
                  accept=["corrupt"])

        # hostile strings in diagnostics: each file has one defect, refused with a message
        # that must carry the string escaped and truncated
        ops, proto = self.pickle_of()
        self.pkl("FMT-06", "ansi-format-global", self.inject(
            ops, proto, GLOBAL(b"os\x1b[2J%n%s", b"system\x1b]0;pwn\x07") + TUP(UNI("id")) + REDUCE),
            "forbidden", "REDUCE of a global whose names carry ANSI escapes and %n/%s",
            context={"escaped": True, "contains": ["%n%s"]}, accept=["corrupt"])
        st = self.st_parse("safetensors")
        name = "%n%s%x\x1b[31m\u202e" + "A" * 400
        hdr = st["header"]
        first = [k for k, _ in hdr if k != "__metadata__"][0]
        ent = pget(hdr, first)
        hdr[:] = [((name if k == first else k), x) for k, x in hdr]
        pset(ent, "shape", [x + 1 for x in pget(ent, "shape")])
        self.emit("FMT-06", "format-string-tensor-name", "safetensors", self.st_bytes(st),
                  "corrupt", "safetensors",
                  "tensor named with %n/%s, ANSI escape, RLO and 400 bytes, whose shape does not "
                  "match its byte range (ST-07)", {"escaped": True, "max_stderr": 2048})
        ms2 = [m for m in ms] + [Member(P + "/" + "\x1b[2J" * 300, b"x")]
        self.emit("FMT-06", "escape-member-name", "pt", write_zip(ms2)[0], "limit_exceeded",
                  "torch_p2", "a 1,202-byte member name of ANSI clear-screen sequences (over "
                  "zip.max_name_bytes)", {"escaped": True, "max_stderr": 2048,
                                          "limit": "zip.max_name_bytes"})

    # ---------------------------------------------------------------- ZIP
    def zp(self, cid, variant, data, expected, defect, context=None, accept=None, args=None,
           combined=False, seed="torch_p2"):
        return self.emit(cid, variant, "pt", data, expected, seed, defect, context, accept, args,
                         combined)

    def gen_zip(self):
        ms, P = self.zip_seed()
        data, lay = write_zip(ms)
        pkl_name = P + "/data.pkl"

        def members(**changes):
            """Copies of the seed members; changes[suffix] = function(member) -> None."""
            out = []
            for m in ms:
                m = m.copy()
                for suf, fn in changes.items():
                    if m.name.decode("utf-8", "replace").endswith(suf):
                        fn(m)
                out.append(m)
            return out

        def setattrs(**kw):
            def fn(m):
                for k, v in kw.items():
                    if k in ("local", "central", "desc"):
                        getattr(m, k).update(v)
                    else:
                        setattr(m, k, v)
            return fn

        # ZIP-01
        self.zp("ZIP-01", "no-eocd", data[:lay["eocd"]], "corrupt",
                "the end-of-central-directory record is cut off")
        self.zp("ZIP-01", "short-file", b"PK\x05\x06" + bytes(14), "corrupt",
                "an 18-byte file starting with an EOCD signature")
        self.zp("ZIP-01", "comment-past-eof", write_zip(ms, eocd={"comment_len": 10})[0], "corrupt",
                "EOCD comment length 10 with no comment bytes: no candidate ends at end of file")
        real = data[lay["eocd"]:]
        fake = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, 46, 0, 0)
        self.zp("ZIP-01", "fake-eocd-in-comment",
                write_zip(ms, comment=fake)[0], "corrupt",
                "the EOCD comment holds a second EOCD (ending at end of file) describing another "
                "archive; the last candidate wins and its directory is not where it says")
        del real

        # ZIP-02
        w = ZipWriter()
        for i, m in enumerate(ms):
            w.add(m)
            if i == 1:
                gap = w.raw(b"HIDDEN-BYTES-GAP" * 2)
        self.zp("ZIP-02", "gap-between-members", w.finish(), "corrupt",
                "32 unaccounted bytes between two members (offsets all correct)",
                {"offset": True})
        w = ZipWriter()
        for m in ms:
            w.add(m)
        w.raw(b"HIDDEN-BYTES-GAP" * 2)
        self.zp("ZIP-02", "gap-before-directory", w.finish(), "corrupt",
                "32 unaccounted bytes between the last member and the central directory",
                {"offset": True})
        self.zp("ZIP-02", "appended-bytes", data + b"APPENDED-DATA", "corrupt",
                "bytes after the EOCD record")
        cds = lay["cd_size"]
        self.zp("ZIP-02", "directory-end-mismatch",
                write_zip(ms, eocd={"cd_size": cds - 8}, z64rec={"cd_size": cds - 8})[0], "corrupt",
                "central directory offset + size ends 8 bytes before the zip64 record")
        del gap

        # ZIP-03
        self.zp("ZIP-03", "sentinel-no-locator",
                write_zip(ms, zip64=False, eocd={"cd_off": 0xFFFFFFFF})[0], "corrupt",
                "EOCD directory offset 0xFFFFFFFF with no zip64 locator")
        self.zp("ZIP-03", "locator-outside-file",
                write_zip(ms, locator={"offset": len(data) + 4096})[0], "corrupt",
                "zip64 locator pointing past end of file")
        self.zp("ZIP-03", "locator-points-at-itself",
                write_zip(ms, locator={"offset": lay["locator"]})[0], "corrupt",
                "zip64 locator pointing at itself")
        self.zp("ZIP-03", "record-short",
                write_zip(ms, z64rec={"size": 28})[0], "corrupt",
                "zip64 end record claims 28 bytes (under the 44 of its fixed fields)")
        self.zp("ZIP-03", "multi-disk", write_zip(ms, locator={"disks": 2})[0], "unsupported",
                "zip64 locator says 2 disks")
        self.zp("ZIP-03", "disk-number", write_zip(ms, z64rec={"disk": 1, "cd_disk": 1})[0],
                "unsupported", "zip64 end record on disk 1")
        self.zp("ZIP-03", "extra-missing", write_zip(members(**{"/data/0": setattrs(
            central={"csize": 0xFFFFFFFF, "usize": 0xFFFFFFFF, "z64": b""})}))[0], "corrupt",
            "central sizes 0xFFFFFFFF without a zip64 extra", {"member": P + "/data/0"})
        self.zp("ZIP-03", "offset-wraps", write_zip(members(**{"/data/0": setattrs(
            central={"offset": 0xFFFFFFFF, "z64": struct.pack("<HHQ", 1, 8, (1 << 64) - 16)})}))[0],
            "corrupt", "zip64 extra local-header offset 2^64-16 (wraps when added to)",
            {"member": P + "/data/0"})

        # ZIP-04
        n = len(ms)
        self.zp("ZIP-04", "directory-past-eof",
                write_zip(ms, eocd={"cd_off": len(data) + 100},
                          z64rec={"cd_off": len(data) + 100})[0], "corrupt",
                "central directory offset past end of file")
        self.zp("ZIP-04", "directory-into-eocd",
                write_zip(ms, eocd={"cd_size": cds + 56}, z64rec={"cd_size": cds + 56})[0], "corrupt",
                "central directory size running into the zip64 end record")
        b = bytearray(data)
        b[lay["central"][1] + 3] = 0x03
        self.zp("ZIP-04", "bad-record-signature", bytes(b), "corrupt",
                "central record 1 signature PK\\x01\\x03", {"offset": True})
        b = bytearray(data)
        struct.pack_into("<H", b, lay["central"][-1] + 28, 0x7FFF)
        self.zp("ZIP-04", "name-past-directory", bytes(b), "corrupt",
                "last central record's name length runs past the directory", {"offset": True})
        self.zp("ZIP-04", "count-mismatch",
                write_zip(ms, eocd={"n": n - 1, "n_disk": n - 1},
                          z64rec={"n": n - 1, "n_disk": n - 1})[0], "corrupt",
                "entry count one less than the records present")

        # ZIP-05
        self.zp("ZIP-05", "count-zip64-2^40",
                write_zip(ms, z64rec={"n": 1 << 40, "n_disk": 1 << 40})[0], "corrupt",
                "zip64 entry count 2^40 for a 600-byte directory")
        self.zp("ZIP-05", "count-16bit-65534",
                write_zip(ms, zip64=False, eocd={"n": 0xFFFE, "n_disk": 0xFFFE})[0], "corrupt",
                "EOCD entry count 65,534 for a 600-byte directory (no zip64)")
        w = ZipWriter()
        for m in ms[:-1]:
            w.add(m)
        w.align = 0
        for i in range(262145 - len(ms)):
            w.add(Member("%s/e/%x" % (P, i), b""))
        w.align = 64
        w.add(ms[-1])
        self.zp("ZIP-05", "entries-over-limit", w.finish(), "limit_exceeded",
                "262,145 real (empty) members: one over zip.max_entries",
                {"limit": "zip.max_entries"})

        # ZIP-06 (data.pkl; bit 3 clear for crc/size)
        for field, ch in [("name", {"local": {"name": (P + "/data.pkX").encode()}}),
                          ("method", {"local": {"method": 8}}),
                          ("flags", {"local": {"flags": 0x0008}}),
                          ("version", {"local": {"version": 20}})]:
            self.zp("ZIP-06", field, write_zip(members(**{"/data.pkl": setattrs(**ch)}))[0],
                    "corrupt", "local header %s differs from the central record" % field,
                    {"member": pkl_name, "offset": True})
        for field, ch in [("crc", {"flags": 0x0800, "local": {"crc": 0x12345678}}),
                          ("size", {"flags": 0x0800, "local": {"csize": 9999, "usize": 9999}})]:
            self.zp("ZIP-06", field + "-no-descriptor",
                    write_zip(members(**{"/data.pkl": setattrs(**ch)}))[0], "corrupt",
                    "bit 3 clear, local header %s differs from the central record" % field,
                    {"member": pkl_name, "offset": True})

        # ZIP-07
        for method, label in [(6, "implode"), (9, "deflate64"), (12, "bzip2"), (14, "lzma"),
                              (93, "zstd"), (95, "xz"), (99, "aes")]:
            def fn(m, method=method):
                if method == 12:
                    m.data = bz2.compress(m.data)
                m.method = method
            self.zp("ZIP-07", "%s-%d" % (label, method), write_zip(members(**{"/data.pkl": fn}))[0],
                    "unsupported", "data.pkl with compression method %d (%s)" % (method, label),
                    {"member": pkl_name, "contains": [str(method)]})

        # ZIP-08
        for label, bit, code in [("encrypted-bit0", 0x0001, "unsupported"),
                                 ("strong-encryption-bit6", 0x0040, "unsupported"),
                                 ("masked-header-bit13", 0x2000, "unsupported"),
                                 ("patched-data-bit5", 0x0020, "unsupported"),
                                 ("reserved-bit8", 0x0100, "corrupt"),
                                 ("reserved-bit14", 0x4000, "corrupt")]:
            self.zp("ZIP-08", label, write_zip(members(**{"/data.pkl": setattrs(flags=0x0808 | bit)}))[0],
                    code, "data.pkl general-purpose flag bit 0x%04x set" % bit, {"member": pkl_name})
        self.zp("ZIP-08", "utf8-flag-invalid-name",
                write_zip(members(**{"/version": setattrs(name=(P + "/vers\xffion").encode("latin1"))}))[0],
                "corrupt", "bit 11 (UTF-8) set on a name containing byte 0xff")

        # ZIP-09
        for label, ch in [("crc-mismatch", {"crc": 0x0BADC0DE}),
                          ("size-mismatch", {"csize": 9999, "usize": 9999}),
                          ("wide-descriptor", {"wide": True})]:
            self.zp("ZIP-09", "descriptor-" + label,
                    write_zip(members(**{"/data.pkl": setattrs(desc=ch)}))[0], "corrupt",
                    "data.pkl data descriptor: %s" % label, {"member": pkl_name})
        self.zp("ZIP-09", "descriptor-missing",
                write_zip(members(**{"/data.pkl": setattrs(descriptor=False)}))[0], "corrupt",
                "bit 3 set but no data descriptor after data.pkl", {"member": pkl_name})

        # ZIP-10
        for suf, label in [("/data.pkl", "data-pkl"), ("/version", "version")]:
            self.zp("ZIP-10", "crc-" + label,
                    write_zip(members(**{suf: setattrs(crc=0xDEADBEEF)}))[0], "corrupt",
                    "%s CRC-32 (central and descriptor) differs from its bytes" % suf[1:],
                    {"member": P + suf})
        self.zp("ZIP-10", "crc-storage", write_zip(members(**{"/data/0": setattrs(crc=0xDEADBEEF)}))[0],
                "corrupt", "storage data/0 CRC-32 wrong; refused before its bytes reach the caller "
                "(--sha256 reads them)", {"member": P + "/data/0"}, args=["--sha256"])
        self.zp("ZIP-10", "crc-zero", write_zip(members(**{"/data.pkl": setattrs(crc=0)}))[0], "ok",
                "data.pkl CRC 0 = not recorded (torch.save with CRC off): accepted outside verify mode")

        # ZIP-11
        self.zp("ZIP-11", "duplicate-storage", write_zip(ms[:2] + [ms[1]] + ms[2:])[0], "corrupt",
                "data/0 stored twice (two local copies, two central records)",
                {"member": P + "/data/0"})
        other = simple_pickle(EMPTY_DICT)
        self.zp("ZIP-11", "duplicate-data-pkl",
                write_zip(ms + [Member(pkl_name, other)])[0], "corrupt",
                "a second data.pkl (an empty dict) after the first", {"member": pkl_name})

        # ZIP-12
        inner = Member(P + "/extra/b", b"inner member bytes", flags=0x0800)
        w = ZipWriter()
        for m in ms:
            w.add(m)
        outer_off = len(w.buf)
        hdr_len = len(w.local_region(Member(P + "/extra/a", b"", flags=0x0800), outer_off)[0])
        inner_off = outer_off + hdr_len
        hdr, _ = ZipWriter(align=0).local_region(inner, inner_off)
        outer = Member(P + "/extra/a", hdr + inner.data, flags=0x0800)
        w.add(outer)
        w.central(inner, inner_off)
        self.zp("ZIP-12", "member-inside-member", w.finish(), "corrupt",
                "member extra/b lies inside the data of member extra/a (all headers consistent)")
        w = ZipWriter()
        for m in ms[:-1]:
            w.add(m)
        tail = ms[-1].copy()
        tail.flags, tail.crc = 0x0800, 0
        tail.local.update(csize=len(tail.data) + 16, usize=len(tail.data) + 16)
        tail.central.update(csize=len(tail.data) + 16, usize=len(tail.data) + 16)
        w.add(tail)
        self.zp("ZIP-12", "member-overlaps-directory", w.finish(), "corrupt",
                "the last member's sizes extend 16 bytes into the central directory (CRC 0 = not "
                "recorded)")
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        kern = c.compress(bytes(16 << 20)) + c.compress(noise(32 << 10)) + c.flush()
        ksize = (16 << 20) + (32 << 10)
        kcrc = zlib.crc32(noise(32 << 10), zlib.crc32(bytes(16 << 20)))
        w = ZipWriter()
        for m in ms:
            w.add(m)
        bomb = Member(P + "/bomb/00", kern, method=8, crc=kcrc, usize=ksize, flags=0x0800)
        off = w.add(bomb)
        for i in range(1, 64):
            w.central(Member(P + "/bomb/%02d" % i, kern, method=8, crc=kcrc, usize=ksize,
                             flags=0x0800), off)
        self.zp("ZIP-12", "overlap-64", w.finish(), "corrupt",
                "Fifield full overlap: 64 central records share one 48 KiB deflate kernel of "
                "16 MiB (1 GiB if inflated per name); names differ from the shared local header",
                combined=True)

        # ZIP-13: quoted overlap (Fifield): member i's stream quotes member i+1's local header
        # in a stored block, then continues into member i+1's stream
        N = 64
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        tailn = noise(24 << 10)
        kern = c.compress(bytes(24 << 20)) + c.compress(tailn) + c.flush()
        kraw_crc = zlib.crc32(tailn, zlib.crc32(bytes(24 << 20)))
        ksize = (24 << 20) + len(tailn)
        w = ZipWriter()
        for m in ms:
            w.add(m)
        base = len(w.buf)
        names = [(P + "/q/%02d" % i).encode() for i in range(N)]
        hlen = 30 + len(names[0])
        # sizes and CRCs from the last member backwards: member i inflates to header i+1 then
        # member i+1's content
        csize, usize = [0] * N, [0] * N
        csize[-1], usize[-1] = len(kern), ksize
        for i in range(N - 2, -1, -1):
            csize[i] = 5 + hlen + csize[i + 1]
            usize[i] = hlen + usize[i + 1]
        offs = [base + i * (hlen + 5) for i in range(N)]
        headers = [None] * N
        crcs = [0] * N
        crcs[-1] = kraw_crc

        def header(i):
            return b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", 20, 0x0800, 8, 0, 0, crcs[i],
                                                csize[i], usize[i], len(names[i]), 0) + names[i]

        kcontent = None
        for i in range(N - 1, -1, -1):
            if i < N - 1:
                prefix = b"".join(headers[i + 1:])
                if kcontent is None:
                    kcontent = bytes(24 << 20) + tailn
                crcs[i] = zlib.crc32(kcontent, zlib.crc32(prefix))
            headers[i] = header(i)
        region = b""
        for i in range(N - 1):
            region += headers[i] + stored_block(headers[i + 1])[:5]
        region += headers[N - 1] + kern
        w.raw(region)
        for i in range(N):
            w.central(Member(names[i], b"", method=8, crc=crcs[i], usize=usize[i],
                             flags=0x0800), offs[i])
            w.records[-1]["csize"] = csize[i]
        self.zp("ZIP-13", "quoted-overlap-64", w.finish(), "corrupt",
                "Fifield quoted overlap: 64 members, each deflate stream quotes the next local "
                "header in a stored block (distinct starts, overlapping extents; 1.5 GiB if "
                "inflated per name)")

        # ZIP-14
        big, bsize, bcrc = zero_bomb(64, 700 << 10)  # 4 GiB + 700 KiB, ratio ~ 900
        w = ZipWriter()
        for m in ms:
            w.add(m)
        w.add(Member(P + "/extra/big", big, method=8, crc=bcrc, usize=bsize))
        self.zp("ZIP-14", "inflated-over-limit", w.finish(), "limit_exceeded",
                "a real 4.7 MB deflate member inflating to 4 GiB + 700 KiB (> "
                "zip.max_inflated_member_bytes; ratio ~900:1)",
                {"limit": "zip.max_inflated_member_bytes"})
        self.zp("ZIP-14", "compressed-past-directory",
                write_zip(members(**{"/data.pkl": setattrs(central={"csize": 0x7FFFFFF0})}))[0],
                "corrupt", "data.pkl central compressed size 0x7ffffff0 (beyond the space before "
                "the directory)", {"member": pkl_name})
        self.zp("ZIP-14", "stored-sizes-differ",
                write_zip(members(**{"/data.pkl": setattrs(usize=len(self.member(ms, "/data.pkl").data) + 10)}))[0],
                "corrupt", "stored data.pkl with uncompressed size = compressed + 10 (central and "
                "descriptor agree)", {"member": pkl_name})

        # ZIP-15
        pdata = self.member(ms, "/data.pkl").data
        small = deflate_raw(bytes(1000))
        w = ZipWriter()
        for m in ms:
            w.add(m)
        w.add(Member(P + "/extra/lie", small, method=8, crc=zlib.crc32(bytes(1000)),
                     usize=len(small) * 4096))
        self.zp("ZIP-15", "ratio-over-1032", w.finish(), "corrupt",
                "deflate member declaring 4096:1 (%d bytes from %d)" % (len(small) * 4096, len(small)))
        for label, delta in [("inflates-more", -1), ("inflates-less", 1)]:
            def fn(m, delta=delta):
                m.data, m.method, m.version = deflate_raw(pdata), 8, 20
                m.usize = len(pdata) + delta
            self.zp("ZIP-15", label, write_zip(members(**{"/data.pkl": fn}))[0], "corrupt",
                    "deflated data.pkl declaring %+d byte(s) against what it inflates to" % delta,
                    {"member": pkl_name})
        part, psize, pcrc = zero_bomb(63, 700 << 10)  # 4 GiB - 64 MiB + 700 KiB each
        w = ZipWriter()
        for m in ms:
            w.add(m)
        for i in range(5):
            w.add(Member(P + "/extra/part%d" % i, part, method=8, crc=pcrc, usize=psize))
        self.zp("ZIP-15", "total-over-limit", w.finish(), "limit_exceeded",
                "five real deflate members of 3.94 GiB each (each under the member limit, "
                "19.7 GiB in total > zip.max_inflated_total_bytes)",
                {"limit": "zip.max_inflated_total_bytes"})

        # ZIP-16
        w = ZipWriter()
        for m in ms:
            w.add(m)
        w.records[1]["offset"] = len(w.buf)
        self.zp("ZIP-16", "local-offset-at-directory", w.finish(), "corrupt",
                "data/0's local header offset = the directory's offset", {"member": P + "/data/0"})
        b = bytearray(data)
        struct.pack_into("<H", b, lay["members"][ms[-1].name]["local"] + 28, 0xFFFF)
        self.zp("ZIP-16", "local-extra-past-eof", bytes(b), "corrupt",
                "last member's local extra length 65,535 (past end of file)",
                {"member": ms[-1].name.decode()})
        self.zp("ZIP-16", "extra-subrecord-overflow",
                write_zip(members(**{"/data.pkl": setattrs(central_extra=struct.pack("<HH", 0xCAFE, 100) + b"abcd")}))[0],
                "corrupt", "central extra sub-record of 100 bytes in a 8-byte block",
                {"member": pkl_name})
        self.zp("ZIP-16", "extra-block-3-bytes",
                write_zip(members(**{"/data.pkl": setattrs(central_extra=b"\x01\x02\x03")}))[0],
                "corrupt", "central extra block of 3 bytes (shorter than a sub-record header)",
                {"member": pkl_name})

        # ZIP-17
        for label, name, code, acc in [
                ("dotdot", P + "/../../etc/evil", "forbidden", None),
                ("absolute", "/etc/evil", "forbidden", None),
                ("drive-letter", "C:/evil", "forbidden", None),
                ("unc", "\\\\server\\share\\evil", "forbidden", None),
                ("backslash", P + "\\data\\evil", "forbidden", None),
                ("nul", P + "/ev\0il", "corrupt", None),
                ("control-char", P + "/ev\x1bil", "corrupt", None),
                ("empty-component", P + "//evil", "corrupt", ["forbidden"]),
                ("dot-component", P + "/./evil", "corrupt", ["forbidden"])]:
            self.zp("ZIP-17", label, write_zip(ms + [Member(name, b"x")])[0], code,
                    "an extra member named %r" % name, accept=acc)

        # ZIP-18
        for label, ln in [("name-1025", 1025), ("name-65535", 65535)]:
            nm = P + "/" + "n" * (ln - len(P) - 1)
            self.zp("ZIP-18", label, write_zip(ms + [Member(nm, b"x")])[0], "limit_exceeded",
                    "a member name of %d bytes (> zip.max_name_bytes)" % ln,
                    {"limit": "zip.max_name_bytes", "max_stderr": 4096})

        # ZIP-19
        def rename(suffix, new):
            return [Member(new, m.data) if m.name.decode().endswith(suffix) else m for m in ms]
        self.zp("ZIP-19", "two-prefixes", write_zip(rename("/version", "otherprefix/version"))[0],
                "corrupt", "version under otherprefix/", {"contains": ["otherprefix"]})
        self.zp("ZIP-19", "top-level-member", write_zip(ms + [Member("stray", b"x")])[0], "corrupt",
                "a member at top level")
        self.zp("ZIP-19", "two-data-pkl",
                write_zip(ms + [Member("otherprefix/data.pkl", pdata)])[0], "corrupt",
                "a second data.pkl under otherprefix/", {"contains": ["otherprefix"]})
        self.zp("ZIP-19", "storage-other-prefix",
                write_zip(rename("/data/0", "otherprefix/data/0"))[0], "corrupt",
                "storage data/0 under otherprefix/ while data.pkl is under %s/" % P,
                {"contains": ["otherprefix"]})

        # ZIP-20
        self.zp("ZIP-20", "directory-with-data",
                write_zip(ms + [Member(P + "/extra/", b"data in a directory entry")])[0], "corrupt",
                "a directory entry (name ending in /) with 25 bytes of data")
        self.later("ZIP-20", "symlink / device external attributes only matter to extraction "
                   "(never followed while loading); needs the extract command", "symlink-device")

    # ---------------------------------------------------------------- PKL
    def gen_pkl(self):
        o2, p2 = self.pickle_of("torch_p2")
        o4, p4 = self.pickle_of("torch_p4")
        o5 = [Op("PROTO", 5, b"\x80\x05")] + o4[1:]
        raw2 = asm(o2, p2)
        I = self.inject

        def A(key, value, ops=o2, proto=p2):
            return self.add_item(ops, proto, key, value)

        # PKL-01
        for label, body, ops, proto, name, acc in [
                ("os-system", call("os", "system", UNI("echo pwned")), o2, p2, "os.system", None),
                ("posix-system", call("posix", "system", UNI("id")), o2, p2, "posix.system", None),
                ("builtins-eval-stack-global", SUNI("builtins") + SUNI("eval") + STACK_GLOBAL +
                 TUP(SUNI("1+1")) + REDUCE, o4, p4, "builtins.eval", None),
                ("pip-main", call("pip", "main", pval(["install", "evil"])), o2, p2, "pip.main", None),
                ("collect-env-run", call("torch.utils.collect_env", "run", UNI("id")), o2, p2,
                 "torch.utils.collect_env.run", None),
                ("inst-os-system", MARK + UNI("id") + b"ios\nsystem\n", o2, p2, "os.system", ["unsupported"]),
                ("obj-os-system", MARK + GLOBAL("os", "system") + UNI("id") + b"o", o2, p2, "os.system",
                 ["unsupported"])]:
            self.pkl("PKL-01", label, I(ops, proto, body), "forbidden",
                     "%s called (REDUCE/INST/OBJ) right after PROTO" % name,
                     seed="torch_p4" if ops is o4 else "torch_p2", context={"contains": [name]}, accept=acc)
        self.pkl("PKL-01", "os-system-as-value", A("evil", call("os", "system", UNI("id"))),
                 "forbidden", "os.system called as the value of a state-dict entry",
                 context={"contains": ["os.system"]})

        # PKL-02
        te = self.tensor_edit
        for label, kw in [("storage-is-int", {"storage": INT(7)}),
                          ("offset-is-string", {"offset": UNI("0")}),
                          ("size-is-string", {"size": UNI("3x4")}),
                          ("stride-floats", {"stride": TUP(b"G" + struct.pack(">d", 4.0), b"G" + struct.pack(">d", 1.0))}),
                          ("hooks-ordereddict-with-args",
                           {"hooks": call("collections", "OrderedDict", pval([("h", 1)]))})]:
            self.pkl("PKL-02", label, te(0, **kw), "corrupt",
                     "_rebuild_tensor_v2 of fc.weight with %s" % label)
        self.pkl("PKL-02", "torch-size-of-strings",
                 A("shape", call("torch", "Size", TUP(UNI("a"), UNI("b")))), "corrupt",
                 "torch.Size(('a', 'b')) as a state-dict value")

        # PKL-03
        for label, body, ops, proto in [
                ("stack-global-ints", INT(1) + INT(2) + STACK_GLOBAL, o4, p4),
                ("stack-global-newline", SUNI("os\nx") + SUNI("system") + STACK_GLOBAL, o4, p4),
                ("global-nul", GLOBAL(b"os\0x", b"system"), o2, p2),
                ("global-invalid-utf8", GLOBAL(b"\xff\xfe", b"system"), o2, p2),
                ("global-empty-module", GLOBAL(b"", b"system"), o2, p2),
                ("global-300-byte-module", GLOBAL(b"a" * 300, b"system"), o2, p2)]:
            self.pkl("PKL-03", label, I(ops, proto, body), "corrupt", "GLOBAL operands: " + label,
                     seed="torch_p4" if ops is o4 else "torch_p2")
        self.pkl("PKL-03", "global-no-newline", raw2[:-1] + b"cos", "corrupt",
                 "GLOBAL at the end with no newline")

        # PKL-04
        for label, body, ops, proto in [
                ("reduce-on-int", INT(5) + EMPTY_TUPLE + REDUCE, o2, p2),
                ("newobj-on-int", INT(5) + EMPTY_TUPLE + NEWOBJ, o2, p2),
                ("newobj-ex-on-int", INT(5) + EMPTY_TUPLE + EMPTY_DICT + b"\x92", o4, p4),
                ("build-on-int", INT(5) + EMPTY_DICT + BUILD, o2, p2),
                ("build-on-tuple", TUP(INT(1)) + EMPTY_DICT + BUILD, o2, p2)]:
            self.pkl("PKL-04", label, I(ops, proto, body), "corrupt", label,
                     seed="torch_p4" if ops is o4 else "torch_p2")
        ts, _, produced = tensors(o2)
        t0 = produced[ts[0]["reduce"]]
        self.pkl("PKL-04", "build-on-tensor",
                 edit(o2, p2, after={t0.end: EMPTY_DICT + UNI("evil") + INT(1) + SETITEM + BUILD}),
                 "corrupt", "BUILD {'evil': 1} on the fc.weight tensor")

        # PKL-05
        root = next(i for i, op in enumerate(o2) if op.name == "REDUCE")
        self.pkl("PKL-05", "setitems-on-list",
                 edit(o2, p2, after={produced[root].end: POP + EMPTY_LIST}), "corrupt",
                 "the root OrderedDict replaced by a list, so the state dict's SETITEMS target a list")
        for label, body in [("setitem-on-tuple", TUP(INT(1)) + INT(1) + INT(2) + SETITEM),
                            ("setitems-odd-count", EMPTY_DICT + MARK + INT(1) + SETITEMS),
                            ("unhashable-key", EMPTY_DICT + EMPTY_LIST + INT(1) + SETITEM)]:
            self.pkl("PKL-05", label, I(o2, p2, body), "corrupt", label)
        self.pkl("PKL-05", "setitem-on-tensor",
                 edit(o2, p2, after={t0.end: INT(1) + INT(2) + SETITEM}), "corrupt",
                 "SETITEM 1 -> 2 on the fc.weight tensor")

        # PKL-06
        for label, body, ops, proto in [("append-on-dict", EMPTY_DICT + INT(1) + APPEND, o2, p2),
                                        ("appends-on-tuple", EMPTY_TUPLE + MARK + INT(1) + APPENDS, o2, p2),
                                        ("additems-on-list", EMPTY_LIST + MARK + INT(1) + b"\x90", o4, p4)]:
            self.pkl("PKL-06", label, I(ops, proto, body), "corrupt", label,
                     seed="torch_p4" if ops is o4 else "torch_p2")

        # PKL-07
        for label, op in [("ext1", b"\x82\x01"), ("ext2", b"\x83\x01\x00"), ("ext4", b"\x84\x01\x00\x00\x00")]:
            self.pkl("PKL-07", label + "-call", I(o2, p2, op + EMPTY_TUPLE + REDUCE), "forbidden",
                     "%s extension code 1, then called" % label.upper())

        # PKL-08 (fc.weight's persistent id)
        for label, kw, code in [
                ("not-a-tuple", {"pid": UNI("storage")}, "corrupt"),
                ("arity-4", {"pid": TUP(UNI("storage"), GLOBAL("torch", "FloatStorage"), UNI("0"), UNI("cpu"))}, "corrupt"),
                ("tag-not-storage", {"tag": UNI("evil")}, "corrupt"),
                ("storage-type-off-table", {"type": GLOBAL("torch", "EvilStorage")}, "corrupt"),
                ("key-not-digits", {"key": UNI("abc")}, "corrupt"),
                ("key-traversal", {"key": UNI("../../../../etc/passwd")}, "forbidden"),
                ("key-backslash", {"key": UNI("..\\..\\x")}, "forbidden"),
                ("key-nul", {"key": UNI("0\0")}, "forbidden"),
                ("location-not-string", {"location": INT(0)}, "corrupt"),
                ("numel-negative", {"numel": INT(-12)}, "corrupt"),
                ("numel-string", {"numel": UNI("12")}, "corrupt")]:
            self.pkl("PKL-08", label, te(0, **kw), code, "fc.weight persistent id: " + label)
        t = ts[0]
        self.pkl("PKL-08", "text-persid",
                 edit(o2, p2, after={t["pid"].end: POP}, replace={t["binpersid"]: b"P0\n"}),
                 "corrupt", "protocol-0 PERSID '0' instead of BINPERSID", accept=["unsupported"])

        # PKL-09 (frames, protocol 4)
        body = b"".join(op.raw for op in o4[1:])
        pr = o4[0].raw
        self.pkl("PKL-09", "frame-past-end", pr + b"\x95" + struct.pack("<Q", len(body) + 1000) + body,
                 "corrupt", "FRAME length 1,000 bytes beyond the stream", seed="torch_p4")
        self.pkl("PKL-09", "frame-2^40", pr + b"\x95" + struct.pack("<Q", 1 << 40) + body,
                 "corrupt", "FRAME length 2^40", seed="torch_p4")
        k = next(i for i, op in enumerate(o4) if op.name == "BINUNICODE" or op.name == "SHORT_BINUNICODE")
        cut = sum(len(op.raw) for op in o4[1:k]) + 2
        self.pkl("PKL-09", "opcode-straddles-frame", pr + b"\x95" + struct.pack("<Q", cut) + body,
                 "corrupt", "the first frame ends inside a string opcode's argument", seed="torch_p4")
        self.pkl("PKL-09", "frame-in-protocol-2", raw2[:2] + frame(raw2[2:]), "corrupt",
                 "FRAME in a protocol-2 pickle")

        # PKL-10 (lengths past the end)
        for label, op, ops, proto, acc in [
                ("binunicode", b"X" + struct.pack("<I", 0xFFFFFFF0), o2, p2, None),
                ("binstring-negative", b"T" + struct.pack("<i", -5), o2, p2, None),
                ("long4", b"\x8b" + struct.pack("<i", 0x7FFFFFFF), o2, p2, ["limit_exceeded"]),
                ("binunicode8", b"\x8d" + struct.pack("<Q", 1 << 62), o4, p4, None),
                ("binbytes", b"B" + struct.pack("<I", 0xFFFFFFF0), o4, p4, None),
                ("binbytes8", b"\x8e" + struct.pack("<Q", 1 << 62), o4, p4, None),
                ("bytearray8", b"\x96" + struct.pack("<Q", 1 << 62), o5, 5, None)]:
            self.pkl("PKL-10", label + "-length", edit(ops, proto, after={0: op}), "corrupt",
                     "%s declaring more bytes than remain" % label,
                     seed="torch_p2" if ops is o2 else "torch_p4", accept=acc)
        self.pkl("PKL-10", "short-binbytes-length", edit(o4, p4, replace={len(o4) - 1: b"C\xffab"}),
                 "corrupt", "SHORT_BINBYTES of 255 with 2 bytes left", seed="torch_p4")

        # PKL-11 (memo)
        self.pkl("PKL-11", "binget-unset", I(o2, p2, b"h\xfa"), "corrupt", "BINGET 250 (never PUT)")
        self.pkl("PKL-11", "long-binget-0xffffffff", I(o2, p2, GET(0xFFFFFFFF)), "corrupt",
                 "LONG_BINGET 0xffffffff (never PUT)")
        self.pkl("PKL-11", "long-binput-0xffffffff", A("v", INT(1) + PUT(0xFFFFFFFF)), "ok",
                 "LONG_BINPUT 0xffffffff: legal for a hash-map memo; a dense memo would need 32 GiB",
                 offset=False)
        e = self.pkl("PKL-11", "memo-over-limit", I(o4, p4, EMPTY_LIST + MEMOIZE * 4194305), "limit_exceeded",
                     "4,194,305 MEMOIZE ops (> pickle.max_memo)", seed="torch_p4",
                     context={"limit": "pickle.max_memo"}, offset=False)
        # One input byte per memo entry: a memo slot (a 40-byte value handle) cannot fit the
        # 4-bytes-per-input-byte bound, so the bound allows 64 B per entry up to the limit.
        allow(e, 64 * 4194304, "64 B x pickle.max_memo")
        self.pkl("PKL-11", "memoize-empty-stack", edit(o4, p4, after={0: MEMOIZE}), "corrupt",
                 "MEMOIZE with an empty stack", seed="torch_p4")

        # PKL-12 (underflow)
        for label, op in [("tuple2-empty-stack", TUPLE2), ("reduce-empty-stack", REDUCE),
                          ("tuple2-across-mark", EMPTY_LIST + MARK + INT(1) + TUPLE2),
                          ("setitem-two-values", EMPTY_DICT + INT(1) + SETITEM),
                          ("build-empty-stack", BUILD)]:
            self.pkl("PKL-12", label, edit(o2, p2, after={0: op}), "corrupt", label)

        # PKL-13 (marks / final stack)
        for label, data in [("tuple-without-mark", I(o2, p2, INT(1) + TUPLE)),
                            ("appends-without-mark", I(o2, p2, EMPTY_LIST + INT(1) + APPENDS)),
                            ("pop-mark-without-mark", edit(o2, p2, after={0: b"1"})),
                            ("mark-open-at-stop", edit(o2, p2, after={0: MARK})),
                            ("two-values-at-stop", edit(o2, p2, after={0: INT(1)})),
                            ("empty-stack-at-stop", edit(o2, p2, before={len(o2) - 1: POP}))]:
            self.pkl("PKL-13", label, data, "corrupt", label)

        # PKL-14 (depth)
        N = 100000
        lim = {"limit": "pickle.max_depth"}
        self.pkl("PKL-14", "lists-100000", A("deep", EMPTY_LIST * N + APPEND * (N - 1)), "limit_exceeded",
                 "100,000 nested lists (EMPTY_LIST x N, APPEND x N-1)", context=lim, offset=False)
        self.pkl("PKL-14", "tuples-100000", A("deep", INT(0) + TUPLE1 * N), "limit_exceeded",
                 "100,000 nested 1-tuples", context=lim, offset=False)
        e = self.pkl("PKL-14", "dicts-100000", A("deep", EMPTY_DICT + (INT(0) + EMPTY_DICT) * N + SETITEM * N),
                     "limit_exceeded", "100,000 nested dicts", context=lim, offset=False)
        # 100,000 one-byte EMPTY_DICTs sit on the stack before the first SETITEM nests them: a
        # dict node, its stack slot and its registry slot cost ~160 B per input byte pair.
        allow(e, 160 * N, "160 B x dicts pushed")
        self.pkl("PKL-14", "marks-100000", edit(o2, p2, after={0: MARK * N + b"1" * N}), "limit_exceeded",
                 "100,000 open MARKs (closed again by POP_MARK)", context=lim, offset=False)

        # PKL-15 (memo expansion)
        B = 900000
        laughs = INT(0) + PUT(B) + POP + b"".join(GET(B + i) * 2 + TUPLE2 + PUT(B + i + 1) + POP
                                                  for i in range(64)) + GET(B + 64)
        vis = {"limit": "pickle.max_visit_nodes"}
        # Its leaves are plain values, so the listing's byte budget fires before the visit count.
        self.pkl("PKL-15", "laughs-64", A("bomb", laughs), "limit_exceeded",
                 "64 memo doublings of a pair: 2^64 leaves when walked as a tree",
                 context={"limit": "flatten.max_bytes"}, offset=False)
        laughs_l = EMPTY_LIST + PUT(B) + POP + b"".join(
            EMPTY_LIST + MARK + GET(B + i) * 2 + APPENDS + PUT(B + i + 1) + POP for i in range(64)) + GET(B + 64)
        self.pkl("PKL-15", "laughs-64-lists", A("bomb", laughs_l), "limit_exceeded",
                 "64 memo doublings of a list", context=vis, offset=False)
        r_mark = next(i for i in range(root, len(o2)) if o2[i].name == "MARK")
        self.pkl("PKL-15", "laughs-64-as-dict-key", edit(o2, p2, after={r_mark: laughs + UNI("v")}),
                 "corrupt", "the 2^64-leaf tuple used as a state-dict key (keys must be shallow)",
                 accept=["limit_exceeded"], offset=False)

        # PKL-16 (cycles)
        self.pkl("PKL-16", "list-contains-itself", A("loop", EMPTY_LIST + PUT(B) + GET(B) + APPEND),
                 "corrupt", "a list appended to itself through the memo")
        self.pkl("PKL-16", "dict-contains-itself",
                 A("loop", EMPTY_DICT + PUT(B) + UNI("self") + GET(B) + SETITEM), "corrupt",
                 "a dict set as its own value through the memo")

        # PKL-17 (big integers)
        ll = {"limit": "pickle.max_long_bytes"}
        self.pkl("PKL-17", "long1-17-bytes", A("big", LONG1(1 << 130)), "limit_exceeded",
                 "LONG1 of 17 bytes", context=ll)
        self.pkl("PKL-17", "long4-2mib", A("big", b"\x8b" + struct.pack("<i", 2 << 20) + b"\x01" * (2 << 20)),
                 "limit_exceeded", "LONG4 of 2 MiB", context=ll)
        self.pkl("PKL-17", "int-text-5000-digits", A("big", b"I" + b"9" * 5000 + b"\n"), "limit_exceeded",
                 "protocol-0 INT with 5,000 digits", accept=["unsupported"])
        self.pkl("PKL-17", "long-text-5000-digits", A("big", b"L" + b"9" * 5000 + b"L\n"), "limit_exceeded",
                 "protocol-0 LONG with 5,000 digits", accept=["unsupported"])
        self.pkl("PKL-17", "bigint-as-offset", te(0, offset=LONG1(1 << 64, 9)), "corrupt",
                 "fc.weight storage offset 2^64 (a 9-byte LONG1: within the limit, not an int64)")

        # PKL-18 (declared counts)
        self.pkl("PKL-18", "numel-2^62", te(0, numel=LONG1(1 << 62)), "corrupt",
                 "fc.weight persistent id numel 2^62 (data/0 holds 48 bytes)")
        self.pkl("PKL-18", "torch-size-2^40-squared",
                 A("shape", call("torch", "Size", TUP(INT(1 << 40), INT(1 << 40)))), "ok",
                 "torch.Size((2^40, 2^40)) as a plain value: nothing may be allocated from it",
                 offset=False)
        self.pkl("PKL-18", "binbytes8-2^62-stream", b"\x80\x04\x8e" + struct.pack("<Q", 1 << 62),
                 "corrupt", "data.pkl is PROTO 4 + BINBYTES8 of 2^62 bytes (11 bytes)", seed="torch_p4")

        # PKL-19 (opcodes / protocol)
        for label, data, acc in [
                ("undefined-0xff", edit(o2, p2, after={0: b"\xff"}), None),
                ("undefined-Z", edit(o2, p2, after={0: b"Z"}), None),
                ("proto-6", edit(o2, p2, replace={0: b"\x80\x06"}), None),
                ("proto-not-first", edit(o2, p2, before={0: INT(1) + POP}), None),
                ("proto-repeated", edit(o2, p2, after={0: b"\x80\x02"}), None),
                ("newer-opcode-in-protocol-2", I(o2, p2, SUNI("x")), ["unsupported", "ok"])]:
            self.pkl("PKL-19", label, data, "corrupt", label, accept=acc)
        self.pkl("PKL-19", "next-buffer", I(o5, 5, b"\x97"), "unsupported",
                 "NEXT_BUFFER (out-of-band buffer) in a protocol-5 pickle", seed="torch_p4")
        self.pkl("PKL-19", "readonly-buffer", I(o5, 5, EMPTY_LIST + b"\x98"), "unsupported",
                 "READONLY_BUFFER in a protocol-5 pickle", seed="torch_p4", accept=["corrupt"])

        # PKL-20 (protocol-0 literals)
        for label, lit in [("int-bad-digits", b"I12x4\n"), ("float-bad", b"F1.2.3\n"),
                           ("string-bad-quote", b"S'abc\n"), ("unicode-bad-escape", b"V\\u12\n")]:
            self.pkl("PKL-20", label, A("v", lit), "corrupt", "protocol-0 literal %r" % lit,
                     accept=["unsupported"])
        self.pkl("PKL-20", "int-no-newline", raw2[:-1] + b"I12", "corrupt",
                 "protocol-0 INT at the end with no newline", accept=["unsupported"])

        # PKL-21 (encodings)
        self.pkl("PKL-21", "surrogate", A("v", UNI(b"\xed\xa0\x80")), "corrupt",
                 "BINUNICODE holding a UTF-8-encoded lone surrogate")
        self.pkl("PKL-21", "overlong", A("v", UNI(b"\xc0\xaf")), "corrupt",
                 "BINUNICODE holding an overlong '/'")
        self.pkl("PKL-21", "nul-in-key", A("fc.we\0ight", INT(1)), "corrupt",
                 "a state-dict key containing NUL")

        # PKL-22 (truncation)
        self.pkl("PKL-22", "no-stop", raw2[:-1], "corrupt", "the stream ends before STOP")
        k = next(i for i, op in enumerate(o2) if op.name == "BINUNICODE")
        pos = sum(len(op.raw) for op in o2[:k]) + 7
        self.pkl("PKL-22", "cut-in-argument", raw2[:pos], "corrupt",
                 "the stream ends inside a BINUNICODE argument")
        self.pkl("PKL-22", "payload-then-break", (raw2[:2] + call("os", "system", UNI("id")) + raw2[2:])[:-40],
                 "forbidden", "nullifAI: os.system call first, then a broken stream (refused, nothing run)",
                 combined=True, offset=False)

        # PKL-23
        self.pkl("PKL-23", "second-stream", raw2 + simple_pickle(EMPTY_DICT), "corrupt",
                 "a second pickle appended after STOP")
        self.pkl("PKL-23", "junk-after-stop", raw2 + b"\0", "corrupt", "one byte after STOP")

    # ---------------------------------------------------------------- TEN
    def gen_ten(self):
        te = self.tensor_edit
        ms, P = self.zip_seed()
        o2, p2 = self.pickle_of()

        def T(cid, variant, data, expected, defect, context=None, accept=None, args=None):
            return self.pkl(cid, variant, data, expected, defect, context=context, accept=accept,
                            offset=False, args=args)

        key0 = {"contains": ["data/0"]}
        T("TEN-01", "numel-larger", te(0, numel=INT(13)), "corrupt",
          "fc.weight numel 13, data/0 holds 12 floats", key0)
        T("TEN-01", "numel-smaller", te(0, numel=INT(11)), "corrupt",
          "fc.weight numel 11, data/0 holds 12 floats", key0)
        longer = [Member(m.name, m.data + b"\0\0\0\0") if m.name.endswith(b"/data/0") else m for m in ms]
        self.emit("TEN-01", "record-longer", "pt", write_zip(longer)[0], "corrupt", "torch_p2",
                  "data/0 is 52 bytes for 12 floats", key0)
        name = {"contains": ["fc.weight"]}
        T("TEN-02", "offset-past-storage", te(0, offset=INT(12)), "corrupt",
          "fc.weight (3,4) at storage offset 12 of 12", name)
        T("TEN-02", "stride-past-storage", te(0, stride=TUP(INT(5), INT(1))), "corrupt",
          "fc.weight (3,4) with stride (5,1) over 12 elements", name)
        T("TEN-03", "negative-size", te(0, size=TUP(INT(-3), INT(4))), "corrupt", "size (-3, 4)")
        T("TEN-03", "negative-stride", te(0, offset=INT(11), stride=TUP(INT(-4), INT(-1))), "corrupt",
          "stride (-4, -1) from offset 11 (stays inside the storage)")
        T("TEN-03", "negative-offset", te(0, offset=INT(-1)), "corrupt", "storage offset -1")
        T("TEN-04", "zero-stride-2^62", te(0, size=TUP(INT(1 << 31), INT(1 << 31)), stride=TUP(INT(0), INT(0))),
          "limit_exceeded", "size (2^31, 2^31) stride (0, 0) over 12 elements: 2^62 logical "
          "elements > tensor.max_numel", {"limit": "tensor.max_numel"})
        T("TEN-04", "zero-stride-2^40", te(0, size=TUP(INT(1 << 20), INT(1 << 20)), stride=TUP(INT(0), INT(0))),
          "ok", "size (2^20, 2^20) stride (0, 0): 2^40 logical elements, a legal view; nothing may "
          "be materialised")
        T("TEN-05", "size-product-overflow",
          te(0, size=TUP(INT(1 << 32), INT(1 << 32), INT(1 << 32)), stride=TUP(INT(0), INT(0), INT(0))),
          "corrupt", "size (2^32, 2^32, 2^32): the product overflows int64")
        T("TEN-05", "extent-overflow", te(0, stride=TUP(INT(1 << 62), INT(1))), "corrupt",
          "stride (2^62, 1) over size (3, 4): 2 x 2^62 overflows int64")
        T("TEN-06", "quantized-storage", te(0, type=GLOBAL("torch", "QInt8Storage"), numel=INT(48)),
          "unsupported", "fc.weight in a QInt8Storage of 48 elements (sizes consistent)")
        T("TEN-06", "sparse-rebuild",
          self.add_item(o2, p2, "sparse", call("torch._utils", "_rebuild_sparse_tensor",
                                               GLOBAL("torch", "sparse_coo"), TUP(EMPTY_TUPLE, EMPTY_TUPLE, EMPTY_TUPLE))),
          "unsupported", "a _rebuild_sparse_tensor value")
        pdata = self.member(ms, "/data.pkl").data
        for label, text, code in [("big", b"big", "unsupported"), ("middle", b"middle", "corrupt")]:
            mm = ms[:1] + [Member(P + "/byteorder", text)] + ms[1:]
            self.emit("TEN-07", "byteorder-" + label, "pt", write_zip(mm)[0], code, "torch_p2",
                      "a byteorder member reading %r" % text.decode())
        mm = ms[:1] + [Member(P + "/byteorder", b"little")] * 2 + ms[1:]
        self.emit("TEN-07", "byteorder-twice", "pt", write_zip(mm)[0], "corrupt", "torch_p2",
                  "two byteorder members")
        del pdata
        T("TEN-08", "ndim-65", te(0, size=TUP(*[INT(1)] * 65), stride=TUP(*[INT(1)] * 65)),
          "limit_exceeded", "fc.weight with 65 dimensions of 1", {"limit": "tensor.max_ndim"})
        T("TEN-08", "size-stride-lengths", te(0, stride=TUP(INT(1))), "corrupt",
          "size of 2 dimensions, stride of 1")
        self.emit("TEN-09", "missing-storage", "pt",
                  write_zip([m for m in ms if not m.name.endswith(b"/data/0")])[0], "corrupt",
                  "torch_p2", "data/0 referenced but absent", key0)
        T("TEN-10", "same-key-other-numel", te(1, key=UNI("0")), "corrupt",
          "fc.bias references key 0 with numel 3 (fc.weight: numel 12)")
        T("TEN-10", "same-key-other-type", te(1, key=UNI("0"), type=GLOBAL("torch", "IntStorage"), numel=INT(12)),
          "corrupt", "fc.bias references key 0 as IntStorage of 12 (fc.weight: FloatStorage of 12; "
          "48 bytes either way)")
        T("TEN-11", "backward-hooks",
          te(0, hooks=GLOBAL("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + INT(0) +
             GLOBAL("builtins", "print") + SETITEM),
          "forbidden", "fc.weight backward_hooks = OrderedDict({0: builtins.print}) (never called)",
          accept=["ok"])
        T("TEN-11", "requires-grad-int", te(0, requires_grad=INT(5)), "corrupt", "requires_grad = 5")
        ts, _, produced = tensors(o2)
        t = ts[0]
        fn_item = [it for it in self._consumed(o2)[t["reduce"]]][0]
        sub = edit(o2, p2, before={fn_item.start: GLOBAL("torch._tensor", "_rebuild_from_type_v2") + MARK},
                   after={fn_item.end: GLOBAL("__main__", "EvilTensor")},
                   replace={t["reduce"]: EMPTY_DICT + TUPLE + REDUCE})
        T("TEN-11", "subclass-rebuild", sub, "forbidden",
          "fc.weight rebuilt through _rebuild_from_type_v2 with type __main__.EvilTensor",
          accept=["ok"])
        unref = ms + [Member(P + "/data/99", b"\0" * 16), Member(P + "/hidden.pkl", simple_pickle(call("os", "system", UNI("id"))))]
        self.emit("TEN-12", "unreferenced-members", "pt", write_zip(unref)[0], "ok", "torch_p2",
                  "an unreferenced data/99 and a stray hidden.pkl calling os.system: never parsed, "
                  "listed (refused only in strict verify mode)")

    def _consumed(self, ops):
        return simulate(ops)[0]

    # ---------------------------------------------------------------- TS
    def gen_ts(self):
        ms, P = self.zip_seed("torchscript")
        evil = simple_pickle(call("os", "system", UNI("touch /tmp/torchless-pwned")))

        def TZ(cid, variant, mm, expected, defect, context=None, accept=None):
            return self.emit(cid, variant, "pt", write_zip(mm)[0], expected, "torchscript", defect,
                             context, accept)

        TZ("TS-01", "code-is-pickle",
           [Member(m.name, evil) if m.name.endswith(b"code/__torch__.py") else m for m in ms], "ok",
           "code/__torch__.py replaced by a pickle calling os.system: never interpreted")
        TZ("TS-01", "extra-pickle", ms + [Member(P + "/extra/evil.pkl", evil)], "ok",
           "extra/evil.pkl calling os.system: listed, never parsed")
        TZ("TS-01", "bytecode-pkl", ms + [Member(P + "/bytecode.pkl", evil)], "ok",
           "bytecode.pkl calling os.system: never parsed")
        ops, proto, _ = disasm(self.member(ms, "/data.pkl").data)
        self.pkl("TS-02", "jit-pickle-unknown-call",
                 self.inject(ops, proto, call("torch.jit._pickle", "evil_helper", UNI("x"))),
                 "forbidden", "a call of torch.jit._pickle.evil_helper (not a typed list builder)",
                 seed="torchscript", context={"contains": ["evil_helper"]})
        d = next(i for i, op in enumerate(ops) if op.name == "EMPTY_DICT")
        m = next(i for i in range(d, len(ops)) if ops[i].name == "MARK")
        inert = UNI("payload") + GLOBAL("__torch__.evil", "Payload") + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT + BUILD
        self.pkl("TS-02", "torch-class-inert", edit(ops, proto, after={m: inert}), "ok",
                 "an attribute holding a __torch__.evil.Payload object (inert, code never looked up)",
                 seed="torchscript", offset=False)
        self.pkl("TS-03", "key-leaves-prefix", self.tensor_edit(0, seed="torchscript", key=UNI("../constants/0")),
                 "forbidden", "a persistent id key '../constants/0'", seed="torchscript", offset=False)
        self.pkl("TS-03", "numel-mismatch", self.tensor_edit(0, seed="torchscript", numel=INT(13)),
                 "corrupt", "numel 13 for a 12-float data/0", seed="torchscript", offset=False)
        for label, text, code, acc in [("not-decimal", b"3x\n", "corrupt", None),
                                       ("above-2^31", b"4294967296\n", "unsupported", ["corrupt"]),
                                       ("too-new", b"999999\n", "unsupported", ["ok"])]:
            TZ("TS-04", "version-" + label,
               [Member(m.name, text) if m.name.endswith(b"/version") else m for m in ms], code,
               "version record %r" % text, accept=acc)
        TZ("TS-05", "debug-pkl-garbage",
           [Member(m.name, b"\xff\xfe garbage, not a pickle") if m.name.endswith(b".debug_pkl") else m
            for m in ms], "ok", "every .debug_pkl replaced by garbage: never parsed")
        TZ("TS-05", "code-pkl-payload", ms + [Member(P + "/code/__torch__/evil.pkl", evil)], "ok",
           "code/__torch__/evil.pkl calling os.system: never parsed")

    # ---------------------------------------------------------------- LEG
    def leg_parse(self):
        data = self.seed("legacy")
        pos, pickles = 0, []
        for _ in range(5):
            _, _, end = disasm(data[pos:])
            pickles.append(data[pos:pos + end])
            pos += end
        ops, proto, _ = disasm(pickles[4])
        keys = [op.arg for op in ops if op.name in ("BINUNICODE", "SHORT_BINUNICODE")]
        recs, p = [], pos
        sizes = {"FloatStorage": 4, "LongStorage": 8, "DoubleStorage": 8, "IntStorage": 4}
        o3, _, _ = disasm(pickles[3])
        ts, _, _ = tensors(o3)
        isz = {first_op(o3, t["key"], t["memo"]).arg: sizes[first_op(o3, t["type"], t["memo"]).arg.split()[1]]
               for t in ts}
        for k in keys:
            n = u64(data, p)
            recs.append(data[p:p + 8 + n * isz[k]])
            p += 8 + n * isz[k]
        assert p == len(data)
        return pickles, keys, recs

    def gen_leg(self):
        pk, keys, recs = self.leg_parse()

        def L(cid, variant, parts, expected, defect, context=None, accept=None):
            return self.emit(cid, variant, "pt", b"".join(parts), expected, "legacy", defect,
                             context, accept)

        seedb = b"".join(pk + recs)
        sysinfo = {"protocol_version": 1001, "little_endian": True,
                   "type_sizes": {"short": 2, "int": 4, "long": 4}}
        L("LEG-01", "bad-magic", [simple_pickle(LONG1(0x1950a86a20f9469cfc6d))] + pk[1:] + recs,
          "corrupt", "first pickle is 0x1950a86a20f9469cfc6d (magic + 1)")
        L("LEG-01", "bare-object-pickle", [pk[3]], "corrupt", "only the object pickle, no magic")
        L("LEG-02", "protocol-1000", pk[:1] + [simple_pickle(INT(1000))] + pk[2:] + recs,
          "unsupported", "protocol version 1000")
        for label, si, code in [
                ("big-endian", dict(sysinfo, little_endian=False), "unsupported"),
                ("long-16", dict(sysinfo, type_sizes={"short": 2, "int": 4, "long": 16}), "unsupported"),
                ("sys-info-list", [1001, True], "corrupt"),
                ("little-endian-int", dict(sysinfo, little_endian=1), "corrupt")]:
            L("LEG-03", label, pk[:2] + [simple_pickle(pval(si))] + pk[3:] + recs, code,
              "sys_info: " + label)
        L("LEG-04", "keys-not-strings", pk[:4] + [simple_pickle(pval(list(range(len(keys)))))] + recs,
          "corrupt", "storage key list of ints")
        L("LEG-04", "duplicate-key", pk[:4] + [simple_pickle(pval(keys + keys[:1]))] + recs + recs[:1],
          "corrupt", "the first key listed twice (with a second record)")
        L("LEG-04", "unreferenced-key", pk[:4] + [simple_pickle(pval(keys + ["99999"]))] + recs + [bytes(8)],
          "corrupt", "a key no tensor references (with an empty record)")
        L("LEG-04", "referenced-key-missing", pk[:4] + [simple_pickle(pval(keys[:-1]))] + recs[:-1],
          "corrupt", "the last referenced key not listed (and its record dropped)")
        extra = ["x%d" % i for i in range(262145 - len(keys))]
        L("LEG-04", "keys-over-limit", pk[:4] + [simple_pickle(pval(keys + extra))] + recs + [bytes(8)] * len(extra),
          "limit_exceeded", "262,145 storage keys (> zip.max_entries), each with an empty record",
          {"limit": "zip.max_entries"}, accept=["corrupt"])
        r0 = recs[0]
        L("LEG-05", "count-overflow", pk + [struct.pack("<Q", 1 << 62) + r0[8:]] + recs[1:], "corrupt",
          "first record's element count 2^62 (x 4 bytes overflows)", {"offset": True})
        L("LEG-05", "count-past-end", pk + [struct.pack("<Q", u64(r0, 0) + 1000) + r0[8:]] + recs[1:],
          "corrupt", "first record's count 1,000 elements past the end", {"offset": True})
        L("LEG-05", "count-vs-numel", pk + [struct.pack("<Q", u64(r0, 0) - 1) + r0[8:-4]] + recs[1:],
          "corrupt", "first record holds 11 elements, its persistent id says 12", {"offset": True})
        o3, pr3, _ = disasm(pk[3])
        ts, consumed, _ = tensors(o3)
        view = consumed[ts[0]["pid"].op][5]
        L("LEG-06", "view-outside-storage",
          pk[:3] + [edit(o3, pr3, after={view.end: POP + TUP(UNI(keys[0]), INT(1000), INT(10))})] + pk[4:] + recs,
          "corrupt", "view metadata (key, offset 1000, size 10) over a 12-element storage")
        L("LEG-07", "trailing-bytes", [seedb, b"TRAILING"], "corrupt", "8 bytes after the last record",
          {"offset": True})
        L("LEG-07", "truncated", [seedb[:-4]], "corrupt", "the last record cut by 4 bytes",
          {"offset": True})
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
            for name, content in [("sys_info", pk[2]), ("pickle", pk[3]), ("storages", b"".join(recs)),
                                  ("tensors", pk[4])]:
                ti = tarfile.TarInfo(name)
                ti.size, ti.mtime = len(content), 0
                tf.addfile(ti, io.BytesIO(content))
        L("LEG-08", "tar-format", [buf.getvalue()], "unsupported",
          "the pre-1.0 tar layout (sys_info, pickle, storages, tensors)")

    # ---------------------------------------------------------------- ST
    def st_parse(self, name=None, data=None):
        data = self.seed(name) if data is None else data
        n = u64(data, 0)
        return {"header": jpairs(json.loads(data[8:8 + n])), "buf": data[8 + n:]}

    def st_bytes(self, st, text=None, pad=True, n=None):
        text = (jdump(st["header"]) if text is None else text)
        text = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        if pad:
            text += b" " * (-len(text) % 8)
        return struct.pack("<Q", len(text) if n is None else n) + text + st["buf"]

    def gen_st(self):
        base = lambda: self.st_parse("safetensors")

        def S(cid, variant, data, expected, defect, context=None, accept=None):
            return self.emit(cid, variant, "safetensors", data, expected, "safetensors", defect,
                             context, accept)

        def mut(fn, **kw):
            st = base()
            fn(st["header"], st)
            return self.st_bytes(st, **kw)

        seedb = self.seed("safetensors")
        S("ST-01", "under-8-bytes", seedb[:5], "corrupt", "a 5-byte file", accept=["unsupported"])
        S("ST-01", "header-past-eof", struct.pack("<Q", u64(seedb, 0) + len(seedb)) + seedb[8:], "corrupt",
          "header length N with 8 + N past end of file")
        S("ST-02", "header-over-limit", struct.pack("<Q", 100000001) + seedb[8:], "limit_exceeded",
          "header length 100,000,001 (> safetensors.max_header_bytes; the file is short)",
          {"limit": "safetensors.max_header_bytes"}, accept=["corrupt"])
        st = base()
        text = jdump(st["header"])
        S("ST-03", "not-utf8", self.st_bytes(st, text=text.encode().replace(b'"pt"', b'"p\xff"')),
          "corrupt", "metadata value with byte 0xff")
        S("ST-03", "first-byte-not-brace", self.st_bytes(st, text="[" + text + "]"), "unsupported",
          "header is a JSON array: no format's magic matches (FMT-01)", accept=["corrupt"])
        S("ST-03", "invalid-json", self.st_bytes(st, text=text[:-1] + ",}"), "corrupt",
          "trailing comma in the header")
        S("ST-03", "nesting-65", self.st_bytes(st, text=text[:-1] + ',"deep":' + "[" * 65 + "]" * 65 + "}"),
          "corrupt", "a value nested 65 deep (> json.max_depth)")
        S("ST-03", "nesting-100000", self.st_bytes(st, text=text[:-1] + ',"deep":' + "[" * 100000 + "]" * 100000 + "}"),
          "corrupt", "a value nested 100,000 deep")
        S("ST-03", "padding-not-spaces", self.st_bytes(st, text=text + "\0\0\t", pad=False), "corrupt",
          "header padded with NUL and TAB")

        def dup_tensor(h, st):
            k, v = [(k, v) for k, v in h if k != "__metadata__"][1]
            h.append((k, v))
        S("ST-04", "tensor-twice", mut(dup_tensor), "corrupt", "fc.bias listed twice",
          {"contains": ["fc.bias"]})
        S("ST-04", "metadata-twice", mut(lambda h, st: h.append(("__metadata__", Pairs([("format", "np")])))),
          "corrupt", "__metadata__ twice", {"contains": ["__metadata__"]})
        S("ST-04", "field-twice", mut(lambda h, st: pget(h, "fc.bias").append(("dtype", "F32"))), "corrupt",
          "dtype twice inside fc.bias", {"contains": ["dtype"]})
        for label, fn in [
                ("missing-dtype", lambda h, st: pdel(pget(h, "fc.bias"), "dtype")),
                ("missing-shape", lambda h, st: pdel(pget(h, "fc.bias"), "shape")),
                ("missing-offsets", lambda h, st: pdel(pget(h, "fc.bias"), "data_offsets")),
                ("unknown-field", lambda h, st: pget(h, "fc.bias").append(("evil", 1))),
                ("shape-negative", lambda h, st: pset(pget(h, "fc.weight"), "shape", [-3, -4])),
                ("shape-string", lambda h, st: pset(pget(h, "fc.bias"), "shape", ["3"])),
                ("shape-fraction", lambda h, st: pset(pget(h, "fc.bias"), "shape", [Raw("3.0")])),
                ("offsets-three", lambda h, st: pset(pget(h, "fc.bias"), "data_offsets", [48, 60, 60])),
                ("offsets-negative", lambda h, st: pset(pget(h, "fc.weight"), "data_offsets", [-48, 0])),
                ("offsets-exponent", lambda h, st: pset(pget(h, "fc.bias"), "data_offsets", [Raw("4.8e1"), 60]))]:
            S("ST-05", label, mut(fn), "corrupt", "entry: " + label)

        def offsets(h):
            return [(k, v) for k, v in h if k != "__metadata__"]

        def shift(h, st, after, by):
            for k, v in offsets(h):
                b, e = pget(v, "data_offsets")
                if b >= after:
                    pset(v, "data_offsets", [b + by, e + by])

        def gap(h, st):
            shift(h, st, 48, 4)
            st["buf"] = st["buf"][:48] + b"GAP!" + st["buf"][48:]

        def first_not_zero(h, st):
            shift(h, st, 0, 4)
            st["buf"] = b"GAP!" + st["buf"]

        def past_end(h, st):
            k, v = offsets(h)[-1]
            b, e = pget(v, "data_offsets")
            pset(v, "data_offsets", [b + 8, e + 8])

        def trailing(h, st):
            st["buf"] += b"TAIL"
        for label, fn in [("begin-after-end", lambda h, st: pset(pget(h, "fc.bias"), "data_offsets", [60, 48])),
                          ("overlap", lambda h, st: pset(pget(h, "fc.bias"), "data_offsets", [44, 56])),
                          ("gap", gap), ("first-not-zero", first_not_zero), ("end-past-buffer", past_end),
                          ("bytes-after-last", trailing)]:
            S("ST-06", label, mut(fn), "corrupt", "data offsets: " + label)
        S("ST-07", "shape-size-mismatch", mut(lambda h, st: pset(pget(h, "fc.weight"), "shape", [3, 5])),
          "corrupt", "fc.weight shape [3,5] over 48 bytes", {"contains": ["fc.weight"]})
        S("ST-08", "shape-product-overflow",
          mut(lambda h, st: pset(pget(h, "fc.weight"), "shape", [1 << 62, 1 << 62])), "corrupt",
          "fc.weight shape [2^62, 2^62]")
        S("ST-08", "bytes-overflow", mut(lambda h, st: pset(pget(h, "fc.weight"), "shape", [1 << 62])),
          "corrupt", "fc.weight shape [2^62] of F32: x 4 overflows")
        S("ST-09", "unknown-dtype", mut(lambda h, st: pset(pget(h, "fc.bias"), "dtype", "F128")),
          "unsupported", "dtype F128", {"contains": ["F128"]})

        def f4(h, st):
            pset(pget(h, "fc.bias"), "dtype", "F4")
            pset(pget(h, "fc.bias"), "shape", [24 * 8 // 4 + 1])  # 97 x 4 bits: not whole bytes
        S("ST-09", "f4-odd-bits", mut(f4), "corrupt", "F4 with 97 elements (388 bits)")
        for label, val in [("nested", Pairs([("format", Pairs([("a", "b")]))])), ("number", Pairs([("format", 1)])),
                           ("null", Pairs([("format", None)])), ("array", Pairs([("format", ["pt"])])),
                           ("not-object", "pt")]:
            S("ST-10", "metadata-" + label, mut(lambda h, st, val=val: pset(h, "__metadata__", val)),
              "corrupt", "__metadata__ " + label)

        def rename(new):
            def fn(h, st):
                h[:] = [(new if k == "fc.bias" else k, v) for k, v in h]
            return fn
        for label, new in [("empty-name", ""), ("nul-name", "fc\0bias"), ("lone-surrogate", "fc\ud800"),
                           ("name-4097", "n" * 4097)]:
            S("ST-11", label, mut(rename(new)), "corrupt", "fc.bias renamed: " + label)

        def many(h, st):
            h.extend(("t%d" % i, Pairs([("dtype", "U8"), ("shape", [0]), ("data_offsets", [0, 0])]))
                     for i in range(262145))
        S("ST-11", "tensors-over-limit", mut(many), "limit_exceeded",
          "262,152 tensors (> zip.max_entries; the extra ones empty)", {"limit": "zip.max_entries"})
        st = base()
        text = jdump(st["header"])
        text += " " * ((-(8 + len(text)) % 8) + 2)  # data starts at 2 mod 8
        S("ST-12", "misaligned-f32", self.st_bytes(st, text=text, pad=False), "ok",
          "data starts at 2 mod 4: F32 tensors must be copied, never viewed misaligned")

    # ---------------------------------------------------------------- IDX
    def gen_idx(self):
        d = os.path.dirname(self.seed_path("hf_index"))
        iname = os.path.basename(self.seed_path("hf_index"))
        with open(os.path.join(d, iname)) as f:
            index = json.load(f, object_pairs_hook=Pairs)
        shards = sorted(set(x for _, x in pget(index, "weight_map")))
        sb = {s: open(os.path.join(d, s), "rb").read() for s in shards}
        s1, s2 = shards

        def files(idx, drop=(), **over):
            out = {iname: (jdump(idx) + "\n").encode() if not isinstance(idx, bytes) else idx}
            for s in shards:
                if s not in drop:
                    out[s] = sb[s]
            out.update(over)
            return out

        def remap(fn):
            idx = jpairs(json.loads(jdump(index)))
            wm = pget(idx, "weight_map")
            for i, (k, v) in enumerate(wm):
                wm[i] = (k, fn(k, v))
            return idx

        def I(variant_id, variant, fl, expected, defect, context=None, accept=None, outside=None):
            return self.emit_dir(variant_id, variant, fl, iname, expected, "hf_index", defect,
                                 context, accept, outside)

        for label, name in [("dotdot", "../IDX-01-dotdot.outside/" + s1),
                            ("absolute", os.path.abspath(os.path.join(self.out, "IDX", "IDX-01-absolute.outside", s1))),
                            ("backslash", "..\\IDX-01-backslash.outside\\" + s1),
                            ("nul", s1 + "\0"),
                            ("drive-letter", "C:" + s1),
                            ("subdirectory", "sub/" + s1)]:
            extra = {"sub/" + s1: sb[s1]} if label == "subdirectory" else {}
            I("IDX-01", label, files(remap(lambda k, v, name=name: name if v == s1 else v), drop=(s1,), **extra),
              "forbidden", "shard name %r" % name, outside={s1: sb[s1]})
        I("IDX-01", "symlink-outside", files(index, drop=(s1,), **{s1: ("symlink", "../IDX-01-symlink-outside.outside/" + s1)}),
          "forbidden", "shard 1 is a symlink to a file outside the model directory", outside={s1: sb[s1]})
        I("IDX-02", "missing-shard", files(index, drop=(s2,)), "corrupt", "shard 2 absent",
          {"contains": [s2]})
        ghost = jpairs(json.loads(jdump(index)))
        pget(ghost, "weight_map").append(("ghost.weight", s1))
        I("IDX-02", "tensor-not-in-shard", files(ghost), "corrupt",
          "the index assigns ghost.weight to shard 1, which lacks it", {"contains": ["ghost.weight"]})
        unl = jpairs(json.loads(jdump(index)))
        pdel(pget(unl, "weight_map"), "fc.bias")
        I("IDX-02", "shard-has-unlisted-tensor", files(unl), "corrupt",
          "shard 1 holds fc.bias, which the index does not list", {"contains": ["fc.bias"]},
          accept=["ok"])
        # shard 2 with fc.bias added (bytes of shard 1's fc.bias)
        st1, st2 = self.st_parse(data=sb[s1]), self.st_parse(data=sb[s2])
        b0, b1 = pget(pget(st1["header"], "fc.bias"), "data_offsets")
        ent = Pairs(pget(st1["header"], "fc.bias"))
        n2 = len(st2["buf"])
        st2["header"].append(("fc.bias", Pairs([("dtype", "F32"), ("shape", pget(ent, "shape")),
                                                ("data_offsets", [n2, n2 + b1 - b0])])))
        st2["buf"] += st1["buf"][b0:b1]
        I("IDX-03", "tensor-in-two-shards", files(index, **{s2: self.st_bytes(st2)}), "corrupt",
          "fc.bias present in both shards (the index names shard 1)", {"contains": ["fc.bias"]})
        dup = jpairs(json.loads(jdump(index)))
        pget(dup, "weight_map").append(("fc.bias", s2))
        I("IDX-03", "listed-twice", files(dup), "corrupt", "fc.bias twice in weight_map",
          {"contains": ["fc.bias"]})
        for label, fn in [("weight-map-array", lambda i: pset(i, "weight_map", [s1, s2])),
                          ("weight-map-int-value", lambda i: pget(i, "weight_map").__setitem__(0, (pget(i, "weight_map")[0][0], 1))),
                          ("total-size-string", lambda i: pset(pget(i, "metadata"), "total_size", "116"))]:
            idx = jpairs(json.loads(jdump(index)))
            fn(idx)
            I("IDX-04", label, files(idx), "corrupt", label)
        idx = jpairs(json.loads(jdump(index)))
        pset(pget(idx, "metadata"), "total_size", pget(pget(idx, "metadata"), "total_size") + 1)
        I("IDX-04", "total-size-wrong", files(idx), "corrupt", "total_size = sum of tensor bytes + 1",
          accept=["ok"])
        I("IDX-04", "index-over-64mib", files((jdump(index) + " " * (64 << 20)).encode()), "limit_exceeded",
          "a valid index followed by 64 MiB of spaces (> index.max_bytes)", {"limit": "index.max_bytes"})
        many = jpairs(json.loads(jdump(index)))
        pget(many, "weight_map").extend(("x.%d" % i, "model-%05d-of-10001.safetensors" % (i + 1))
                                        for i in range(10001))
        I("IDX-04", "shards-over-limit", files(many), "limit_exceeded",
          "10,001 distinct shard names (> index.max_shards; none exist)", {"limit": "index.max_shards"})
        I("IDX-05", "zip-shard", files(index, **{s2: self.seed("torch_p2")}), "corrupt",
          "shard 2 of a safetensors index is a torch zip archive", {"contains": [s2]})
        alias = "model-alias.safetensors"
        al = remap(lambda k, v: alias if k == "fc.bias" else v)
        I("IDX-06", "hardlink-alias", files(al, **{alias: ("hardlink", s1)}), "corrupt",
          "fc.bias mapped to %s, a hard link to shard 1" % alias)
        I("IDX-06", "symlink-alias", files(al, **{alias: ("symlink", s1)}), "corrupt",
          "fc.bias mapped to %s, a symlink to shard 1 in the same directory" % alias)

    # ---------------------------------------------------------------- NPY
    @staticmethod
    def npy(header, data, version=1, magic=b"\x93NUMPY", hlen=None, pad=True):
        h = header.encode("utf-8") if isinstance(header, str) else header
        pre = 10 if version == 1 else 12
        if pad:
            h += b" " * (-(pre + len(h) + 1) % 64) + b"\n"
        n = len(h) if hlen is None else hlen
        size = struct.pack("<H", n) if version == 1 else struct.pack("<I", n)
        return magic + bytes([version, 0]) + size + h + data

    def gen_npy(self):
        data = self.seed("npy_v1")[128:]
        H = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"

        def N(cid, variant, b, expected, defect, context=None, accept=None, seed="npy_v1", ext="npy"):
            return self.emit(cid, variant, ext, b, expected, seed, defect, context, accept)

        N("NPY-01", "bad-magic", self.npy(H, data, magic=b"\x93NUMPZ"), "unsupported", "magic \\x93NUMPZ")
        N("NPY-01", "version-4", self.npy(H, data, version=4), "unsupported", "version 4.0")
        b = bytearray(self.npy(H, data))
        b[7] = 1
        N("NPY-01", "version-1-1", bytes(b), "unsupported", "version 1.1")
        N("NPY-01", "truncated-9-bytes", self.seed("npy_v1")[:9], "corrupt", "the first 9 bytes of a v1 file")
        N("NPY-02", "header-length-past-eof", self.npy(H, data, hlen=60000), "corrupt",
          "header length 60,000 in a 152-byte file")
        N("NPY-02", "header-over-limit", self.npy(H + " " * 20000, data, version=2), "limit_exceeded",
          "a real 20,032-byte header (> npy.max_header_bytes)", {"limit": "npy.max_header_bytes"})
        for label, h in [
                ("duplicate-key", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"),
                ("missing-key", "{'descr': '<f4', 'shape': (2, 3), }"),
                ("extra-key", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'evil': 1, }"),
                ("expression", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1 + 2), }"),
                ("call", "{'descr': __import__('os').system('id'), 'fortran_order': False, 'shape': (2, 3), }"),
                ("trailing-junk", H + " x")]:
            N("NPY-03", label, self.npy(h, data), "corrupt", "header: " + label)
        obj = simple_pickle(pval([1.5 if False else 1, 2, 3, 4, 5, 6]))
        for label, descr, shape, payload, code in [
                ("object", "'|O'", "(6,)", obj, "forbidden"),
                ("structured", "[('a', '<f4'), ('b', '<f4')]", "(3,)", data, "unsupported"),
                ("void", "'|V4'", "(6,)", data, "unsupported"),
                ("unicode", "'<U1'", "(6,)", data, "unsupported"),
                ("bytes", "'|S4'", "(6,)", data, "unsupported"),
                ("datetime", "'<M8[s]'", "(3,)", data, "unsupported"),
                ("big-endian", "'>f4'", "(2, 3)", data, "ok"),  # swapped into an owned buffer
                ("no-byte-order", "'f4'", "(2, 3)", data, "corrupt")]:
            N("NPY-04", label, self.npy("{'descr': %s, 'fortran_order': False, 'shape': %s, }" % (descr, shape), payload),
              code, "descr %s" % descr)
        N("NPY-04", "structured-unicode-name-v3",
          self.npy("{'descr': [('\u00e9', '<f4')], 'fortran_order': False, 'shape': (6,), }", data, version=3),
          "unsupported", "v3 header, structured dtype with a non-ASCII field name", seed="npy_v3")
        N("NPY-05", "fortran-true", self.npy(H.replace("False", "True"), data), "ok",
          "fortran_order True: column-major strides (or unsupported)", accept=["unsupported"])
        N("NPY-05", "fortran-int", self.npy(H.replace("False", "1"), data), "corrupt", "fortran_order 1")
        for label, shape, payload, code in [("negative-dim", "(-2, 3)", data, "corrupt"),
                                            ("float-dim", "(2.0, 3)", data, "corrupt"),
                                            ("product-overflow", "(%d, %d, %d)" % ((1 << 40,) * 3), data, "corrupt"),
                                            ("ndim-65", "(" + "1, " * 65 + ")", data[:4], "limit_exceeded")]:
            N("NPY-06", label, self.npy(H.replace("(2, 3)", shape), payload), code, "shape " + label,
              {"limit": "tensor.max_ndim"} if code == "limit_exceeded" else None)
        N("NPY-07", "data-short", self.npy(H, data[:-4]), "corrupt", "20 data bytes for 6 floats",
          {"offset": True})
        N("NPY-07", "data-long", self.npy(H, data + b"TAIL"), "corrupt", "28 data bytes for 6 floats",
          {"offset": True})
        ms = read_zip(self.seed("npz"))
        for m in ms:
            m.flags, m.version = 0, 20
        ms.append(Member("z.npy", self.npy("{'descr': '|O', 'fortran_order': False, 'shape': (6,), }", obj),
                         flags=0, version=20, made=20))
        N("NPY-07", "npz-object-member", write_zip(ms, align=0, zip64=False)[0], "forbidden",
          "an .npz with an object-dtype member z.npy", {"contains": ["z.npy"]}, seed="npz", ext="npz")

    # ---------------------------------------------------------------- ONNX
    def gen_onnx(self):
        seedb = self.seed("onnx")

        def O(cid, variant, b, expected, defect, context=None, accept=None):
            return self.emit(cid, variant, "onnx", b, expected, "onnx", defect, context, accept)

        m = pb_parse(seedb)
        graph = [f for f in m if f[0] == 7][0][2]
        pre = b"".join(pb_field(*f) for f in m if f[0] != 7)
        O("ONNX-01", "length-past-end", pre + varint(7 << 3 | 2) + varint(len(graph) + 1000) + graph,
          "corrupt", "graph field length 1,000 past the end")
        rest = b"".join(pb_field(*f) for f in m if f[0] != 1)
        O("ONNX-01", "varint-11-bytes", varint(1 << 3) + b"\x88" + b"\x80" * 9 + b"\x00" + rest, "corrupt",
          "ir_version as an 11-byte varint")
        O("ONNX-01", "wire-type-7", seedb + b"\x0f", "corrupt", "a tag with wire type 7")
        O("ONNX-01", "field-number-0", seedb + b"\x02\x00", "corrupt", "a length-delimited field number 0")
        e = self.emit("ONNX-01", "over-2gib", "onnx", b"", "limit_exceeded", "onnx",
                      "a valid model plus an unknown 2 GiB field of zeros (sparse on disk): > "
                      "onnx.max_model_bytes", {"limit": "onnx.max_model_bytes"})
        path = os.path.join(self.out, e["file"])
        head = seedb + varint(99 << 3 | 2) + varint(2 << 30)
        with open(path, "wb") as f:
            f.write(head)
            f.truncate(len(head) + (2 << 30))
        e["bytes"] = len(head) + (2 << 30)
        e["sparse"] = True
        # deep subgraphs: Node{op If, attribute{name then_branch, type GRAPH, g: graph}} x 100
        g = pb_len(2, "leaf")
        for i in range(100):
            attr = pb_len(1, "then_branch") + pb_field(20, 0, 5) + pb_len(6, g)
            node = pb_len(1, "c") + pb_len(2, "y%d" % i) + pb_len(4, "If") + pb_len(5, attr)
            g = pb_len(1, node) + pb_len(2, "g%d" % i)
        model = Onnx(seedb)
        O("ONNX-02", "subgraphs-100", model.bytes(extra_graph=pb_len(1, pb_len(4, "If") + pb_len(5, pb_len(1, "then_branch") + pb_field(20, 0, 5) + pb_len(6, g)))),
          "limit_exceeded", "If nodes nesting graphs 100 deep (> onnx.max_nesting)")
        O("ONNX-02", "groups-100000", seedb + varint(100 << 3 | 3) * 100000 + varint(100 << 3 | 4) * 100000,
          "limit_exceeded", "an unknown field of 100,000 nested groups")

        ext_path = self.seed_path("onnx_ext")
        ext = open(ext_path, "rb").read()
        wbin = open(os.path.join(os.path.dirname(ext_path), "weights.bin"), "rb").read()

        def ext_model(entries=None, tweak=None):
            x = Onnx(ext)
            t = x.init("fc.weight")
            if entries is not None:
                tset(t, 13, 2, None)
                for k, v in entries:
                    t.append([13, 2, ext_entry(k, v)])
            if tweak:
                tweak(x, t)
            return x.bytes()

        orig = [pb_parse(f[2]) for f in Onnx(ext).init("fc.weight") if f[0] == 13]
        orig = [(dict((g[0], g[2].decode()) for g in kv)) for kv in orig]
        orig = [(kv[1], kv[2]) for kv in orig]

        def entries(**over):
            out = [(k, over.pop(k, v)) for k, v in orig]
            return out + list(over.items())

        def D(cid, variant, model_b, expected, defect, files=None, outside=None, context=None, accept=None):
            fl = {"model.onnx": model_b, "weights.bin": wbin}
            fl.update(files or {})
            return self.emit_dir(cid, variant, fl, "model.onnx", expected, "onnx_ext", defect,
                                 context, accept, outside)

        for label, loc in [("dotdot", "../ONNX-03-dotdot.outside/weights.bin"), ("absolute", "/etc/passwd"),
                           ("drive-letter", "C:\\weights.bin"), ("unc", "\\\\server\\share\\weights.bin"),
                           ("url", "http://example.com/weights.bin"),
                           ("subdir-dotdot", "sub/../../ONNX-03-subdir-dotdot.outside/weights.bin")]:
            D("ONNX-03", label, ext_model(entries(location=loc)), "forbidden",
              "external_data location %r" % loc, outside={"weights.bin": wbin},
              files={"sub/keep": b""} if label == "subdir-dotdot" else None)
        D("ONNX-04", "symlink-outside", ext_model(), "forbidden",
          "weights.bin is a symlink to a file outside the model directory",
          files={"weights.bin": ("symlink", "../ONNX-04-symlink-outside.outside/weights.bin")},
          outside={"weights.bin": wbin})
        D("ONNX-04", "hardlink", ext_model(), "forbidden",
          "weights.bin is a hard link (2 links) to a file outside the model directory",
          files={"weights.bin": ("hardlink", os.path.abspath(os.path.join(self.out, "ONNX", "ONNX-04-hardlink.outside", "weights.bin")))},
          outside={"weights.bin": wbin})
        for label, ent in [("unknown-key", entries(evil="1")),
                           ("offset-negative", entries(offset="-1")),
                           ("length-not-decimal", entries(length="0x30")),
                           ("offset-overflow", entries(offset=str((1 << 64) - 1))),
                           ("past-file", entries(length="4800")),
                           ("length-mismatch", entries(length="44"))]:
            D("ONNX-05", label, ext_model(ent), "corrupt", "external_data: " + label)

        def init_tweak(name, fn):
            x = Onnx(seedb)
            fn(x.init(name))
            return x.bytes()

        raw = [f for f in Onnx(seedb).init("fc.weight") if f[0] == 9][0][2]
        O("ONNX-06", "raw-length-mismatch", init_tweak("fc.weight", lambda t: tset(t, 9, 2, raw[:-4])),
          "corrupt", "fc.weight raw_data 44 bytes for 12 floats", {"contains": ["fc.weight"]})
        fd = [f for f in Onnx(seedb).init("fc.bias") if f[0] == 4][0][2]
        O("ONNX-06", "typed-count-mismatch", init_tweak("fc.bias", lambda t: tset(t, 4, 2, fd[:-4])),
          "corrupt", "fc.bias float_data with 2 values for dims [3]", {"contains": ["fc.bias"]})
        O("ONNX-06", "raw-and-typed", init_tweak("fc.bias", lambda t: t.append([9, 2, fd])), "corrupt",
          "fc.bias with both float_data and raw_data", {"contains": ["fc.bias"]})
        D("ONNX-06", "external-plus-inline", ext_model(tweak=lambda x, t: t.append([9, 2, raw])), "corrupt",
          "fc.weight external and with inline raw_data")

        def dims(values):
            def fn(t):
                tset(t, 1, 0, None)
                t[:0] = [[1, 0, v & ((1 << 64) - 1)] for v in values]
            return fn
        O("ONNX-07", "negative-dim", init_tweak("fc.weight", dims([-3, -4])), "corrupt", "dims [-3, -4]")
        O("ONNX-07", "dims-overflow", init_tweak("fc.weight", dims([1 << 62, 1 << 62])), "corrupt",
          "dims [2^62, 2^62]")
        big = (1 << 40) + 1

        def huge(x, t):
            tset(t, 1, 0, None)
            tset(t, 2, 0, 2)  # UINT8
            t[:0] = [[1, 0, big]]
        try:
            e = D("ONNX-08", "numel-over-max", ext_model(entries(offset="0", length=str(big)), tweak=huge),
                  "limit_exceeded", "a UINT8 initializer of 2^40 + 1 elements whose bytes exist (sparse "
                  "external file)", files={"weights.bin": b""}, context={"limit": "tensor.max_numel"})
            os.truncate(os.path.join(self.out, os.path.dirname(e["file"]), "weights.bin"), big)
            e["sparse"] = True
        except OSError as err:
            self.entries = [x for x in self.entries if not (x["id"] == "ONNX-08" and x.get("variant") == "numel-over-max")]
            self.later("ONNX-08", "this filesystem cannot hold a sparse 1 TiB file (%s)" % err, "numel-over-max")
        O("ONNX-08", "segment", init_tweak("fc.weight", lambda t: t.append([3, 2, pb_field(1, 0, 0) + pb_field(2, 0, 12)])),
          "unsupported", "fc.weight with a segment field")
        O("ONNX-08", "string-weights",
          init_tweak("fc.bias", lambda t: (tset(t, 4, 2, None), tset(t, 2, 0, 8), t.extend([[6, 2, b"a"], [6, 2, b"b"], [6, 2, b"c"]]))),
          "unsupported", "fc.bias as a STRING tensor")
        self.gen_onnx_engine()

    def gen_onnx_engine(self):
        """ONNX-09..14: graph-level defects only the engine sees (`torchless run`; `inspect`
        reads initializers only). Models are built with the onnx package, then broken."""
        import onnx
        from onnx import TensorProto as TP, helper as H

        def vi(name, shape=(2,)):
            return H.make_tensor_value_info(name, TP.FLOAT, list(shape))

        def model(nodes, inputs=None, outputs=None, inits=(), opsets=(("", 13),), ir=8):
            g = H.make_graph(nodes, "g", [vi("x")] if inputs is None else inputs,
                             [vi("y")] if outputs is None else outputs, list(inits))
            m = H.make_model(g, opset_imports=[H.make_opsetid(d, v) for d, v in opsets])
            m.ir_version = ir
            return m

        def E(cid, variant, m, expected, defect, context=None):
            b = m if isinstance(m, bytes) else m.SerializeToString()
            e = self.emit(cid, variant, "onnx", b, expected, "onnx", defect, context)
            e["commands"] = ["run"]
            return e

        relu = lambda i, o: H.make_node("Relu", [i], [o])  # noqa: E731
        E("ONNX-09", "cycle", model([relu("b", "a"), relu("a", "b"), relu("b", "y")], inputs=[]), "corrupt",
          "two Relu nodes feeding each other")
        E("ONNX-09", "produced-twice", model([relu("x", "y"), relu("x", "y")]), "corrupt", "y produced by two nodes")
        E("ONNX-09", "input-nowhere", model([H.make_node("Add", ["x", "ghost"], ["y"])]), "corrupt",
          "a node input produced nowhere")
        E("ONNX-09", "empty-output-name", model([relu("x", "y")], outputs=[vi("")]), "corrupt",
          "a graph output with an empty name")
        E("ONNX-10", "custom-domain", model([H.make_node("Evil", ["x"], ["y"], domain="com.evil")],
                                            opsets=(("", 13), ("com.evil", 1))), "unsupported",
          "a custom-domain operator (a native library would implement it)", {"contains": ["Evil"]})
        E("ONNX-10", "unknown-op", model([H.make_node("NoSuchOp", ["x"], ["y"])]), "unsupported",
          "an ai.onnx operator that does not exist", {"contains": ["NoSuchOp"]})
        E("ONNX-10", "opset-18", model([relu("x", "y")], opsets=(("", 18),)), "unsupported",
          "ai.onnx opset 18 (newer than the engine)", {"contains": ["opset 18"]})
        E("ONNX-10", "domain-twice", model([relu("x", "y")], opsets=(("", 13), ("", 12))), "corrupt",
          "ai.onnx imported twice")
        inner = H.make_graph([H.make_node("Identity", ["nowhere"], ["o"])], "body", [], [vi("o")])
        E("ONNX-11", "outer-name-missing",
          model([H.make_node("If", ["c"], ["y"], then_branch=inner, else_branch=inner)],
                inputs=[H.make_tensor_value_info("c", TP.BOOL, [])]), "corrupt",
          "an If branch reading an outer-scope name that does not exist")
        # a Loop of 2^62 iterations over a body that does nothing (scan-output growth is
        # charged to the memory budget like any tensor: the ONNX-12 entries)
        body = H.make_graph([H.make_node("Identity", ["cond"], ["cond_out"]), H.make_node("Identity", ["v"], ["v_out"])],
                            "body", [H.make_tensor_value_info("i", TP.INT64, []), H.make_tensor_value_info("cond", TP.BOOL, []),
                                     vi("v", (1,))],
                            [H.make_tensor_value_info("cond_out", TP.BOOL, []), vi("v_out", (1,))])
        E("ONNX-11", "loop-2^62", model([H.make_node("Loop", ["M", "c", "v0"], ["y"], body=body)], inputs=[],
                                        outputs=[vi("y", (1,))],
                                        inits=[H.make_tensor("M", TP.INT64, [], [1 << 62]),
                                               H.make_tensor("c", TP.BOOL, [], [True]),
                                               H.make_tensor("v0", TP.FLOAT, [1], [1.0])]),
          "limit_exceeded", "Loop trip count 2^62 at run time", {"limit": "engine.max_loop_iterations"})
        for op, args, extra in [("Expand", ["v", "shape"], {}), ("ConstantOfShape", ["shape"], {}),
                                ("Tile", ["v", "shape"], {})]:
            E("ONNX-12", op.lower() + "-2^40",
              model([H.make_node(op, args, ["y"], **extra)], inputs=[],
                    inits=[H.make_tensor("v", TP.FLOAT, [1, 1], [1.0]),
                           H.make_tensor("shape", TP.INT64, [2], [1 << 20, 1 << 20])]),
              "limit_exceeded", op + " towards 2^40 elements from a tiny model", {"limit": "engine.max_tensor_bytes"})
        E("ONNX-12", "range-2^40",
          model([H.make_node("Range", ["a", "b", "d"], ["y"])], inputs=[],
                inits=[H.make_tensor("a", TP.FLOAT, [], [0.0]), H.make_tensor("b", TP.FLOAT, [], [1e13]),
                       H.make_tensor("d", TP.FLOAT, [], [1.0])]),
          "limit_exceeded", "Range of 10^13 elements", {"limit": "engine.max_tensor_bytes"})
        m = model([H.make_node("LeakyRelu", ["x"], ["y"], alpha=0.1)])
        m.graph.node[0].attribute[0].i = 3  # FLOAT attribute that also holds an int
        E("ONNX-13", "attribute-type-mismatch", m, "corrupt", "a FLOAT attribute with the int field set")
        m = model([H.make_node("LeakyRelu", ["x"], ["y"], alpha=0.1)])
        m.graph.node[0].attribute.append(H.make_attribute("alpha", 0.2))
        E("ONNX-13", "attribute-twice", m, "corrupt", "alpha given twice")
        sparse = H.make_sparse_tensor(H.make_tensor("v", TP.FLOAT, [1], [1.0]), H.make_tensor("i", TP.INT64, [1], [0]), [4])
        E("ONNX-13", "sparse-constant", model([H.make_node("Constant", [], ["y"], sparse_value=sparse)], inputs=[]),
          "unsupported", "a Constant holding a sparse tensor")
        E("ONNX-13", "maxpool-strides-0",
          model([H.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2], strides=[0])],
                inputs=[vi("x", (1, 1, 4))], outputs=[vi("y", (1, 1, 2))]),
          "corrupt", "MaxPool strides [0] (ONNX 1.12 shape inference divides by it)", {"contains": ["strides"]})
        E("ONNX-13", "depthtospace-blocksize-2^40",
          model([H.make_node("DepthToSpace", ["x"], ["y"], blocksize=1 << 40)],
                inputs=[vi("x", (1, 4, 2, 2))], outputs=[vi("y", (1, 1, 4, 4))]),
          "corrupt", "DepthToSpace blocksize 2^40 (its square wraps to 0 in ONNX 1.12 shape inference)",
          {"contains": ["blocksize"]})
        E("ONNX-13", "convtranspose-weight-rank-1",
          model([H.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[3, 2], pads=[1, 2, 1, 2])],
                inputs=[vi("x", (1, 1, 3, 3)), vi("w", (3,))], outputs=[vi("y", (1, 1, 7, 3))]),
          "corrupt", "ConvTranspose weight of rank 1 (ONNX 1.12 shape inference reads past its dimensions: SIGSEGV)",
          {"contains": ["rank"]})
        m = model([relu("x", "y")])
        m.ClearField("ir_version")
        E("ONNX-14", "no-ir-version", m, "unsupported", "ir_version missing")
        E("ONNX-14", "ir-version-99", model([relu("x", "y")], ir=99), "unsupported", "ir_version 99")
        m = model([relu("x", "y")])
        m.doc_string = "d" * (17 << 20)
        E("ONNX-14", "doc-string-17MiB", m, "limit_exceeded", "a 17 MiB doc string",
          {"limit": "onnx.max_metadata_bytes"})
        m = model([relu("x", "y")])
        for i in range(20000):
            m.metadata_props.add(key="k%d" % i, value="v" * 1000)
        E("ONNX-14", "metadata-20MB", m, "limit_exceeded", "20,000 metadata properties of 1 kB",
          {"limit": "onnx.max_metadata_bytes"})

    def gen_http(self):
        for i in range(1, 11):
            self.later("HTTP-%02d" % i, "HTTP server class: raw request scripts replayed by the "
                       "serving test client, not a file for `inspect`")

    def run(self):
        for fam in ("fmt", "zip", "pkl", "ten", "ts", "leg", "st", "idx", "npy", "onnx", "http"):
            getattr(self, "gen_" + fam)()
        with open(os.path.join(self.out, "manifest.json"), "w") as f:
            json.dump({"seeds": os.path.abspath(self.seeddir), "entries": self.entries}, f, indent=1)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: make_hostile.py SEEDDIR OUTDIR")
    seeddir, out = sys.argv[1], sys.argv[2]
    for fam in ("FMT", "ZIP", "PKL", "TEN", "TS", "LEG", "ST", "IDX", "NPY", "ONNX"):
        shutil.rmtree(os.path.join(out, fam), ignore_errors=True)
    os.makedirs(out, exist_ok=True)
    g = Families(seeddir, out)
    g.run()
    run = [e for e in g.entries if e["status"] == "run"]
    print("make_hostile: %d classes, %d files, %d later" % (
        len(set(e["id"] for e in g.entries)), len(run), len(g.entries) - len(run)))


if __name__ == "__main__":
    main()
