#!/usr/bin/env python3
"""The serve JSON writer, metrics registry and multipart parser against their Python references.

  run_jsonmetrics.py --bin build/bin/serve-jsonmetrics-test --work build/testdata/serve_jsonmetrics
  run_jsonmetrics.py --seeds DIR        only write the fuzz_multipart seeds

Checks (one "ok NAME" / "FAIL NAME: ..." line each, then "serve_jsonmetrics: N passed, N failed"):
- the C++ unit checks (serve-jsonmetrics-test unit), counted one by one;
- floats: 10^6 float32 (random bit patterns, subnormals, zeros, infinities, NaNs, extremes,
  typical model outputs) against json.dumps(float(np.float32(x))) (what FastAPI sends for
  tensor.tolist()); 10^5 doubles against json.dumps; 2x10^5 float32 in shortest float32 digits
  (numpy's format_float_scientific(unique=True)) laid out by Python's repr; NaN/inf -> null;
- strings: random byte strings against json.dumps(b.decode("utf-8", "replace"), ensure_ascii=False);
- metrics: the exposition parsed by prometheus_client's text_string_to_metric_families;
- multipart: generated bodies parsed by python-multipart (with Starlette's callbacks) and by
  parse_multipart must give the same parts; bodies only this parser accepts (RFC 2046 preamble,
  transport padding, token header names) must give the generator's parts; mutated bodies may
  differ only in the documented ways.
"""
import argparse
import json
import logging
import os
import random
import struct
import subprocess
import sys

import numpy as np

logging.getLogger("multipart").setLevel(logging.CRITICAL)  # it logs every refusal as a warning

results = []


def report(name, ok, detail=""):
    results.append(ok)
    print(("ok " if ok else "FAIL ") + name + ("" if ok else ": " + detail))


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


# --- floats -----------------------------------------------------------------------------------

def json_float(x):
    s = json.dumps(x, allow_nan=True)
    return "null" if s in ("NaN", "Infinity", "-Infinity") else s


def f32_bits(rng, n):
    """n float32 bit patterns: specials first, then a mix of distributions."""
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.1, 0.5, 1e-4, 1e-5, 1e16, 1e15,
                        9.999999e15, 1.0000001e16, 3.4028235e38, -3.4028235e38, 1.1754944e-38,
                        1.1754942e-38, 1e-45, -1e-45, 16777216.0, 16777217.0, 0.075407877, 0.0001,
                        0.00010000001, 0.000099999997], dtype=np.float32).view(np.uint32)
    extra = np.array([0x7fc00000, 0xffc00000, 0x7f800001, 0x7fffffff, 0x00000001, 0x007fffff,
                      0x00800000, 0x7f7fffff, 0x80000001], dtype=np.uint32)
    parts = [special, extra]
    k = (n - len(special) - len(extra)) // 8
    parts.append(rng.integers(0, 2**32, size=3 * k, dtype=np.uint64).astype(np.uint32))  # any pattern
    sub = rng.integers(1, 0x800000, size=k, dtype=np.uint32) | (rng.integers(0, 2, size=k, dtype=np.uint32) << 31)
    parts.append(sub)                                                                    # subnormals
    parts.append(rng.random(k, dtype=np.float32).view(np.uint32))                       # [0, 1)
    parts.append(rng.standard_normal(k).astype(np.float32).view(np.uint32))             # logits
    parts.append(np.exp(rng.uniform(-104, 88.7, size=k)).astype(np.float32).view(np.uint32))  # magnitudes
    rest = n - sum(len(p) for p in parts)
    ints = rng.integers(-2**24, 2**24, size=rest).astype(np.float32)                     # integers
    ints[: rest // 4] *= np.float32(10) ** rng.integers(-12, 12, size=rest // 4).astype(np.float32)
    parts.append(ints.view(np.uint32))
    return np.concatenate(parts).astype("<u4")


def f64_bits(rng, n):
    special = [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1.0, 0.1, 1e16, 1e15, 9999999999999998.0,
               1e-4, 1e-5, 5e-324, 1.7976931348623157e308, 2.2250738585072014e-308, 2**53, 2**53 + 2,
               123456789012345678.0, 0.3]
    for b in (1e16, 1e-4, 1e-5, 1e22, 1e23):
        special += [np.nextafter(b, 0), np.nextafter(b, np.inf)]
    s = np.array(special, dtype=np.float64).view(np.uint64)
    k = (n - len(s)) // 4
    parts = [s, rng.integers(0, 2**64, size=2 * k, dtype=np.uint64),
             rng.random(k).view(np.uint64),
             (rng.standard_normal(k) * 10.0 ** rng.integers(-30, 30, size=k)).view(np.uint64)]
    rest = n - sum(len(p) for p in parts)
    parts.append(rng.integers(-2**62, 2**62, size=rest).astype(np.float64).view(np.uint64))
    return np.concatenate(parts).astype("<u8")


def shortest_f32(x):
    """Python's repr layout of the shortest float32 digits of x (numpy's Dragon4)."""
    if not np.isfinite(x):
        return "null"
    mantissa, exp = np.format_float_scientific(x, unique=True).split("e")
    # <= 9 significant digits survive the trip through a double, so repr keeps them and lays
    # them out by Python's rules.
    return repr(float(mantissa + "e" + exp))


def check_floats(binary, work, rng):
    sets = []
    b32 = f32_bits(rng, 10**6)
    sets.append(("f32py", b32, [json_float(float(x)) for x in b32.view(np.float32)]))
    b64 = f64_bits(rng, 10**5)
    sets.append(("f64", b64, [json_float(float(x)) for x in b64.view(np.float64)]))
    bs = np.concatenate([b32[:100000], f32_bits(rng, 100000)])
    sets.append(("f32short", bs, [shortest_f32(x) for x in bs.view(np.float32)]))
    for kind, bits, want in sets:
        bits_path = os.path.join(work, kind + ".bin")
        want_path = os.path.join(work, kind + ".txt")
        bits.tofile(bits_path)
        with open(want_path, "w") as f:
            f.write("\n".join(want) + "\n")
        r = run([binary, "golden", kind, bits_path, want_path])
        report("golden %s (%d values vs Python)" % (kind, len(bits)), r.returncode == 0, r.stdout[-2000:])


# --- strings ----------------------------------------------------------------------------------

def random_bytes_string(rng):
    pieces = []
    for _ in range(rng.randrange(0, 12)):
        kind = rng.randrange(8)
        if kind == 0:
            pieces.append(bytes(rng.randrange(0, 0x20) for _ in range(rng.randrange(1, 4))))
        elif kind == 1:
            pieces.append(rng.choice([b'"', b"\\", b"\x7f", b"/", b"\\u0041", b"\xe2\x80\xa8", b"\xe2\x80\xa9"]))
        elif kind == 2:
            pieces.append(bytes(rng.randrange(0x80, 0x100) for _ in range(rng.randrange(1, 5))))  # often invalid
        elif kind == 3:
            cp = rng.choice([rng.randrange(0x80, 0x800), rng.randrange(0x800, 0xD800), rng.randrange(0xE000, 0x10000),
                             rng.randrange(0x10000, 0x110000)])
            pieces.append(chr(cp).encode())
        elif kind == 4:
            pieces.append(rng.choice([b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x9f\x98",
                                      b"\xef\xbf\xbf", b"\xf4\x8f\xbf\xbf"]))
        else:
            pieces.append("".join(chr(rng.randrange(0x20, 0x7f)) for _ in range(rng.randrange(1, 20))).encode())
    return b"".join(pieces)


def check_strings(binary, work, rng):
    strs = [random_bytes_string(rng) for _ in range(20000)]
    strs += [b"", b"plain", bytes(range(256))]
    in_path, want_path = os.path.join(work, "strings.bin"), os.path.join(work, "strings.txt")
    with open(in_path, "wb") as f:
        for s in strs:
            f.write(struct.pack("<I", len(s)) + s)
    with open(want_path, "wb") as f:
        for s in strs:
            f.write(json.dumps(s.decode("utf-8", "replace"), ensure_ascii=False).encode() + b"\n")
    r = run([binary, "strings", in_path, want_path])
    report("strings (%d vs json.dumps, ensure_ascii=False)" % len(strs), r.returncode == 0, r.stdout[-2000:])


# --- metrics ----------------------------------------------------------------------------------

def check_metrics(binary):
    from prometheus_client.parser import text_string_to_metric_families
    r = run([binary, "render"])
    if r.returncode != 0:
        report("metrics render", False, r.stdout[-2000:])
        return
    try:
        fams = {f.name: f for f in text_string_to_metric_families(r.stdout)}
    except Exception as e:  # noqa: BLE001 - any parser error is the failure reported
        report("metrics parsed by prometheus_client", False, repr(e))
        return
    report("metrics parsed by prometheus_client", True)

    def samples(name):
        return {(s.name, tuple(sorted(s.labels.items()))): s.value for s in fams[name].samples}

    ok = fams["torchless_inference_request_success"].type == "counter"
    s = samples("torchless_inference_request_success")
    ok = ok and s.get(("torchless_inference_request_success_total", (("model", "mlp"), ("version", "1")))) == 42
    weird = "quote\"back\\slash\nnewline \u00e9"
    ok = ok and s.get(("torchless_inference_request_success_total", (("model", weird), ("version", "2")))) == 7
    report("metrics counter values and escaped labels", ok, repr(s))

    s = samples("torchless_inference_request_failure")
    report("metrics three labels", s == {("torchless_inference_request_failure_total",
                                          (("model", "mlp"), ("reason", "rejected"), ("version", "1"))): 3}, repr(s))
    g = samples("torchless_inference_pending_request_count")
    g2 = samples("torchless_model_load_duration_seconds")
    report("metrics gauges", fams["torchless_inference_pending_request_count"].type == "gauge" and
           list(g.values()) == [5.0] and list(g2.values()) == [0.125], repr(g) + repr(g2))

    h = fams["torchless_inference_request_duration_seconds"]
    buckets = [(float(x.labels["le"]), x.value) for x in h.samples if x.name.endswith("_bucket")]
    bounds = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
              10, float("inf")]
    obs = [0.00003, 0.0004, 0.002, 0.002, 0.7, 20.0]
    want = [(b, sum(1 for o in obs if o <= b)) for b in bounds]
    tot = {x.name: x.value for x in h.samples if not x.name.endswith("_bucket")}
    ok = h.type == "histogram" and buckets == want and tot["torchless_inference_request_duration_seconds_count"] == 6
    ok = ok and abs(tot["torchless_inference_request_duration_seconds_sum"] - sum(obs)) < 1e-12
    report("metrics latency histogram (spec buckets, cumulative, +Inf)", ok, repr(buckets) + repr(tot))

    h = fams["torchless_inference_batch_size"]
    buckets = [(x.labels["le"], x.value) for x in h.samples if x.name.endswith("_bucket")]
    want = [("1.0", 2), ("2.0", 2), ("4.0", 3), ("8.0", 3), ("16.0", 3), ("32.0", 4), ("64.0", 5), ("+Inf", 5)]
    report("metrics batch histogram buckets 1..64", buckets == want, repr(buckets))

    c = samples("torchless_http_connections")
    report("metrics unlabelled counter", c == {("torchless_http_connections_total", ()): 9}, repr(c))

    proc = {}
    for name in ("process_cpu_seconds", "process_resident_memory_bytes", "process_open_fds",
                 "process_start_time_seconds", "process_virtual_memory_bytes", "process_max_fds"):
        if name in fams:
            proc[name] = fams[name].samples[0].value
    import time
    ok = (len(proc) == 6 and 0 <= proc["process_cpu_seconds"] < 3600 and proc["process_resident_memory_bytes"] > 1e5
          and 3 <= proc["process_open_fds"] < proc["process_max_fds"]
          and abs(proc["process_start_time_seconds"] - time.time()) < 120)
    report("metrics process_* values plausible", ok, repr(proc))


# --- multipart --------------------------------------------------------------------------------

BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?"


def py_multipart(body, boundary):
    """python-multipart 0.0.5 driven as Starlette 0.26 drives it: [(name, filename, ctype, data)]
    or ("error", message). A body whose closing boundary never comes is an error here (the
    parser itself only stops)."""
    import multipart.multipart as mp
    parts, cur, hdr = [], {}, {"name": b"", "value": b""}

    def part_begin():
        cur.clear()
        cur.update(headers=[], data=b"", cd=None)

    def part_data(d, s, e):
        cur["data"] += d[s:e]

    def part_end():
        parts.append((cur["name"], cur["filename"], cur["ctype"], cur["data"]))

    def header_field(d, s, e):
        hdr["name"] += d[s:e]

    def header_value(d, s, e):
        hdr["value"] += d[s:e]

    def header_end():
        field = hdr["name"].lower()
        if field == b"content-disposition":
            cur["cd"] = hdr["value"]
        cur["headers"].append((field, hdr["value"]))
        hdr["name"], hdr["value"] = b"", b""

    def headers_finished():
        _, opts = mp.parse_options_header(cur["cd"])
        if b"name" not in opts:
            raise ValueError('The Content-Disposition header field "name" must be provided.')
        cur["name"], cur["filename"] = opts[b"name"], opts.get(b"filename")
        types = [v for k, v in cur["headers"] if k == b"content-type"]
        cur["ctype"] = types[0].strip(b" \t") if types else b""

    cb = dict(on_part_begin=part_begin, on_part_data=part_data, on_part_end=part_end,
              on_header_field=header_field, on_header_value=header_value, on_header_end=header_end,
              on_headers_finished=headers_finished)
    p = mp.MultipartParser(boundary, cb)
    try:
        p.write(body)
    except Exception as e:  # noqa: BLE001 - python-multipart raises several kinds
        return ("error", str(e))
    if p.state != mp.STATE_END:
        return ("error", "incomplete")
    return parts


def cpp_multipart(binary, work, cases):
    path = os.path.join(work, "multipart.cases")
    with open(path, "wb") as f:
        for boundary, body in cases:
            f.write(struct.pack("<I", len(boundary)) + boundary + struct.pack("<I", len(body)) + body)
    r = subprocess.run([binary, "multipart", path], stdout=subprocess.PIPE, check=True)
    out = []
    for line in r.stdout.decode().splitlines():
        j = json.loads(line)
        if j["ok"]:
            out.append([(bytes.fromhex(p["name"]), None if p["filename"] is None else bytes.fromhex(p["filename"]),
                         bytes.fromhex(p["content_type"]), bytes.fromhex(p["data"])) for p in j["parts"]])
        else:
            out.append(("error", j["code"] + ": " + j["error"]))
    assert len(out) == len(cases)
    return out


def rand_boundary(rng):
    style = rng.randrange(4)
    if style == 0:
        return ("----WebKitFormBoundary" + "".join(rng.choice(BCHARS[:62]) for _ in range(16))).encode()
    if style == 1:
        return os.urandom(16).hex().encode()
    n = rng.randrange(1, 71)
    return "".join(rng.choice(BCHARS) for _ in range(n)).encode()


def rand_param_value(rng, lenient):
    """(text as written in the header, value python-multipart reads)."""
    kind = rng.randrange(6)
    if kind == 0:
        v = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789_.-") for _ in range(rng.randrange(1, 12)))
        return v.encode(), v.encode()
    if kind == 1:
        v = "".join(chr(rng.choice([rng.randrange(0x20, 0x7f), rng.randrange(0xa0, 0x3000)]))
                    for _ in range(rng.randrange(0, 12))).replace("\\", "").replace('"', "")
        return b'"' + v.encode() + b'"', v.encode()
    if kind == 2:  # escapes
        raw = rng.choice([rb'a\"b', rb'\\server\share\f.png', rb'x\\y', rb'q\"', rb'\"\"', rb'sp ace\;x'])
        return b'"' + raw + b'"', raw.replace(b"\\\\", b"\\").replace(b'\\"', b'"')
    if kind == 3:
        return b'"C:\\\\Users\\\\me\\\\cat.jpg"', b"C:\\Users\\me\\cat.jpg"
    if kind == 4:
        return b'"semi;colon=and,comma"', b"semi;colon=and,comma"
    return b'"file"', b"file"


def ends_part(tail):
    """Whether the bytes after a "\\r\\n--boundary" make it a delimiter (RFC 2046)."""
    return tail.startswith(b"--") or tail.lstrip(b" \t").startswith(b"\r\n")


def rand_data(rng, boundary):
    """Part data full of near-boundaries ("\\r\\n--" + a prefix of the boundary, the boundary
    followed by another byte, "--boundary" not after a line break) but no delimiter."""
    delim = b"\r\n--" + boundary
    while True:
        data = bytearray()
        for _ in range(rng.randrange(0, 6)):
            kind = rng.randrange(6)
            if kind == 0:
                data += os.urandom(rng.randrange(0, 2000))
            elif kind == 1:
                data += b"\r\n--" + boundary[: rng.randrange(0, len(boundary))]
            elif kind == 2:
                data += b"\r\n--" + boundary + bytes([rng.choice(b"xX0=_\x00\xff")])
            elif kind == 3:
                data += b"--" + boundary + b"\r\n"
            elif kind == 4:
                data += rng.choice([b"\r", b"\n", b"\r\n", b"\r\r\n", b"\r\n\r\n", b"-"])
            else:
                data += boundary
        # The part's data follows the CRLF of the empty header line.
        framed = b"\r\n" + bytes(data) + delim
        at = framed.find(delim)
        while at != -1 and not ends_part(framed[at + len(delim):] + b"\r\n") and at < len(framed) - len(delim):
            at = framed.find(delim, at + 1)
        if at == len(framed) - len(delim):
            return bytes(data)


def rand_case(rng, lenient=False):
    """(boundary, body, expected parts) of a well-formed body; lenient adds what only RFC 2046
    allows (preamble, transport padding, token header names)."""
    boundary = rand_boundary(rng)
    nparts = rng.choice([1, 1, 2, 3, 5, 16]) if rng.random() < 0.9 else rng.randrange(1, 17)
    body = b""
    if rng.random() < 0.2:
        body += b"\r\n" * rng.randrange(1, 3)
    if lenient and rng.random() < 0.6:
        body += b"This is the preamble.\r\nIt is ignored." + b"\r\n"
    parts = []
    for _ in range(nparts):
        body += b"--" + boundary + (rng.choice([b" ", b"\t", b"  \t"]) if lenient and rng.random() < 0.5 else b"") + b"\r\n"
        headers = []
        name_txt, name = rand_param_value(rng, lenient)
        cd = rng.choice([b"Content-Disposition", b"content-disposition", b"CONTENT-DISPOSITION"]) + b": form-data"
        params = [b"name" + rng.choice([b"=", b" = ", b"="]) + name_txt]
        filename = None
        if rng.random() < 0.5:
            fn_txt, filename = rand_param_value(rng, lenient)
            if filename[1:3] == b":\\" or filename[:2] == b"\\\\":  # python-multipart's IE6 fix
                filename = filename.split(b"\\")[-1]
            params.append(b"filename=" + fn_txt)
        if rng.random() < 0.2:
            params.append(b"foo=bar")
        rng.shuffle(params)
        cd += b"".join(rng.choice([b"; ", b";", b";  "]) + p for p in params)
        headers.append(cd)
        ctype = b""
        if rng.random() < 0.6:
            ctype = rng.choice([b"image/jpeg", b"image/png", b"text/plain; charset=utf-8", b"application/octet-stream"])
            headers.append(rng.choice([b"Content-Type: ", b"content-type:", b"Content-type:  "]) + ctype)
        if rng.random() < 0.3:
            headers.append(b"X-Extra-Header: some value")
        if lenient and rng.random() < 0.5:
            headers.append(b"X-Trace_1: 42")
        rng.shuffle(headers)
        body += b"".join(h + b"\r\n" for h in headers) + b"\r\n"
        data = rand_data(rng, boundary)
        body += bytes(data) + b"\r\n"
        parts.append((name, filename, ctype, bytes(data)))
    body += b"--" + boundary + b"--"
    if rng.random() < 0.5:
        body += rng.choice([b"\r\n", b"\r\nepilogue\r\n", b"\r\n--" + boundary + b"\r\nafter the end"])
    return boundary, body, parts


def mutate(rng, body):
    kind = rng.randrange(6)
    i = rng.randrange(0, len(body) + 1)
    if kind == 0:
        return body[:i]
    if kind == 1:
        return body[:i] + body[i + 1:]
    if kind == 2 and i < len(body):
        return body[:i] + bytes([rng.randrange(256)]) + body[i + 1:]
    if kind == 3:
        return body[:i] + bytes([rng.choice(b"\r\n-\"; :\\=\x00")]) + body[i:]
    if kind == 4:
        return body.replace(b"\r\n", b"\n", 1 + rng.randrange(3))
    return body[:i] + body[i:].replace(b"\r\n", b"\r\n ", 1)


def check_multipart(binary, work, rng):
    valid = [rand_case(rng) for _ in range(1500)]
    lenient = [rand_case(rng, lenient=True) for _ in range(500)]
    mutated = []
    for b, body, _ in valid[:1500]:
        for _ in range(2):
            mutated.append((b, mutate(rng, body)))
    cases = [(b, body) for b, body, _ in valid] + [(b, body) for b, body, _ in lenient] + mutated
    ours = cpp_multipart(binary, work, cases)

    bad = []
    for (b, body, want), got in zip(valid, ours[: len(valid)]):
        ref = py_multipart(body, b)
        if not (ref == want and got == want):
            bad.append("boundary %r body %r\n  python %r\n  ours %r\n  want %r" % (b, body[:300], ref, got, want))
    report("multipart: %d generated bodies, same parts as python-multipart" % len(valid), not bad,
           "%d differ; first: %s" % (len(bad), bad[0] if bad else ""))

    bad = []
    for (b, body, want), got in zip(lenient, ours[len(valid): len(valid) + len(lenient)]):
        if got != want:
            bad.append("boundary %r body %r\n  ours %r\n  want %r" % (b, body[:300], got, want))
    report("multipart: %d bodies with preamble, padding, token header names" % len(lenient), not bad,
           "%d differ; first: %s" % (len(bad), bad[0] if bad else ""))

    # Mutations: the same parts when both accept; otherwise only the documented differences.
    bad, counts = [], {"both ok": 0, "both refuse": 0, "only python accepts": 0, "only ours accepts": 0}
    for (b, body), got in zip(mutated, ours[len(valid) + len(lenient):]):
        ref = py_multipart(body, b)
        py_ok, our_ok = isinstance(ref, list), isinstance(got, list)
        if py_ok and our_ok:
            counts["both ok"] += 1
            if ref != got:
                bad.append("both accept, different parts: body %r\n  python %r\n  ours %r" % (body[:300], ref, got))
        elif not py_ok and not our_ok:
            counts["both refuse"] += 1
        elif py_ok:
            counts["only python accepts"] += 1
            # We refuse control characters in part headers (python-multipart keeps them).
            if "control character" not in got[1]:
                bad.append("python accepts, ours refuses (%s): body %r\n  python %r" % (got[1], body[:300], ref))
        else:
            counts["only ours accepts"] += 1
            # python-multipart refuses digits and '_' in header names, bytes before the first
            # boundary other than CR/LF, and padding after it.
            if not ("non-alphanumeric character" in ref[1] or "boundary" in ref[1]):
                bad.append("ours accepts, python refuses (%s): body %r\n  ours %r" % (ref[1], body[:300], got))
    report("multipart: %d mutated bodies (%s)" % (len(mutated), ", ".join("%s %d" % kv for kv in counts.items())),
           not bad, "%d unexplained; first: %s" % (len(bad), bad[0] if bad else ""))


def write_seeds(directory):
    rng = random.Random(7)
    os.makedirs(directory, exist_ok=True)
    for i in range(24):
        b, body, _ = rand_case(rng, lenient=bool(i % 2))
        if len(body) > 4096:
            continue
        with open(os.path.join(directory, "seed%02d" % i), "wb") as f:
            f.write(bytes([len(b)]) + b + body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin")
    ap.add_argument("--work")
    ap.add_argument("--seeds")
    args = ap.parse_args()
    if args.seeds:
        write_seeds(args.seeds)
        return 0
    os.makedirs(args.work, exist_ok=True)
    write_seeds(os.path.join(args.work, "seeds"))

    r = run([args.bin, "unit"])
    for line in r.stdout.splitlines():
        if line.startswith("ok "):
            report("unit " + line[3:], True)
        elif line.startswith("FAIL "):
            report("unit " + line[5:], False, "")
    if r.returncode not in (0, 1):
        report("unit binary exit", False, r.stdout[-2000:])

    check_floats(args.bin, args.work, np.random.default_rng(12345))
    check_strings(args.bin, args.work, random.Random(1))
    check_metrics(args.bin)
    check_multipart(args.bin, args.work, random.Random(2))

    passed = sum(results)
    print("serve_jsonmetrics: %d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
