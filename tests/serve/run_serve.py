#!/usr/bin/python3
"""The protocol suite of `torchless serve` against real servers on 127.0.0.1 (specs/serving.md
2.2 /predict, 2.3 OIP REST + binary + classification, 3 repository, 4 image end to end,
5 batching, 6.1 metrics, 6.8 OpenAPI and /docs, 10 conformance).

    run_serve.py --cli build/bin/torchless --work build/testdata/serve [--only SECTION ...]

Test data is made here: the benchmark models (harness.make_models), small ONNX graphs, images
and repositories (serve_models.py). /predict is compared byte for byte with the FastAPI app
(/work/shared/bench/fastapi_peer.py under uvicorn) and value for value with `torchless run`
and PyTorch. Prints one line per failure and `serve: N passed, M failed`.
"""
import argparse
import base64
import concurrent.futures as cf
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import harness  # noqa: E402
import oip_client as oc  # noqa: E402
import serve_models as sm  # noqa: E402
from harness import BENCH, Checks, Server, free_port  # noqa: E402

c = Checks("serve")
check = c.check
JSON = {"Content-Type": "application/json"}
OCTET = "application/octet-stream"


def body_is(name, r, status, body=None, headers=None):
    """Status, and when given the exact body (bytes/str, or a dict compared as compact JSON)
    and headers."""
    want = body
    if isinstance(body, (dict, list)):
        want = json.dumps(body, separators=(",", ":"))
    if isinstance(want, str):
        want = want.encode()
    ok = r.status_code == status and (want is None or r.content == want)
    for k, v in (headers or {}).items():
        ok = ok and r.headers.get(k) == v
    return check(name, ok, f"got {r.status_code} {r.content[:300]!r} {dict(r.headers) if headers else ''}"
                           f" want {status} {want[:300] if want else ''!r} {headers or ''}")


def jbody(r):
    try:
        return json.loads(r.content)
    except ValueError:
        return None


def error_is(name, r, status, message=None):
    """An OIP error: status and {"error": "<message>"} (message checked when given)."""
    j = jbody(r)
    ok = r.status_code == status and isinstance(j, dict) and list(j) == ["error"] and isinstance(j["error"], str)
    if ok and message is not None:
        ok = j["error"] == message
    return check(name, ok, f"got {r.status_code} {r.content[:300]!r}, want {status} {{\"error\": {message!r}}}")


def detail_is(name, r, status, detail=None):
    """A FastAPI-style plain error: status and {"detail": "<text>"}."""
    j = jbody(r)
    ok = r.status_code == status and isinstance(j, dict) and list(j) == ["detail"] and isinstance(j["detail"], str)
    if ok and detail is not None:
        ok = j["detail"] == detail if isinstance(detail, str) else bool(detail.match(j["detail"]))
    return check(name, ok, f"got {r.status_code} {r.content[:300]!r}, want {status} {{\"detail\": {detail!r}}}")


def validation_is(name, r, loc, type_, msg=None):
    """422 {"detail":[{"loc":loc,"msg":...,"type":type_}]} with exactly those members."""
    j = jbody(r)
    ok = (r.status_code == 422 and isinstance(j, dict) and list(j) == ["detail"] and isinstance(j["detail"], list)
          and len(j["detail"]) == 1 and list(j["detail"][0]) == ["loc", "msg", "type"]
          and j["detail"][0]["loc"] == loc and j["detail"][0]["type"] == type_
          and isinstance(j["detail"][0]["msg"], str) and (msg is None or j["detail"][0]["msg"] == msg))
    return check(name, ok, f"got {r.status_code} {r.content[:300]!r}, want 422 loc={loc} type={type_} msg={msg!r}")


def py_f32(x):
    """How Python prints float(np.float32(x)) with float32's shortest digits (the OIP FP32 rule)."""
    x = np.float32(x)
    if not np.isfinite(x):
        return "null"
    return repr(float(np.format_float_scientific(x, unique=True)))


def raw_data_text(body, index=0):
    """The text of the index-th "data":[...] array of a response body (numbers only)."""
    found = re.findall(rb'"data":\[([^\]]*)\]', body)
    return found[index].decode() if len(found) > index else None


def multipart(parts, boundary="tlboundary7MA4YWxkTrZu0gW"):
    """A multipart/form-data body from [(name, filename or None, content type or None, bytes)]."""
    out = b""
    for name, filename, ctype, data in parts:
        out += f"--{boundary}\r\n".encode()
        disp = f'Content-Disposition: form-data; name="{name}"'
        if filename is not None:
            disp += f'; filename="{filename}"'
        out += disp.encode() + b"\r\n"
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def post_multipart(s, parts, path="/predict"):
    body, ctype = multipart(parts)
    return s.post(path, data=body, headers={"Content-Type": ctype})


def torchless_run(cli, model, x, tmp):
    """`torchless run MODEL --input input=x.npy --output-dir D`: the first output as an array."""
    d = Path(tempfile.mkdtemp(dir=tmp))
    np.save(d / "x.npy", x)
    out = d / "out"
    r = harness.run_cli(cli, "run", model, "--input", f"input={d / 'x.npy'}", "--output-dir", out)
    if r.returncode != 0:
        raise RuntimeError(f"torchless run failed: {r.stderr[-500:]}")
    files = sorted(out.glob("*.npy"))
    return np.load(files[0])


class Peer:
    """The FastAPI app of the benchmark (fastapi_peer.py) under uvicorn, for /predict parity."""

    def __init__(self, model):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, MODEL=str(model))
        self.proc = subprocess.Popen(["/usr/bin/python3", "-m", "uvicorn", "fastapi_peer:app", "--host", "127.0.0.1",
                                      "--port", str(self.port), "--log-level", "warning"],
                                     cwd=BENCH, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait(self, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"fastapi peer exited: {self.proc.stderr.read().decode()[-1000:]}")
            try:
                if requests.get(self.base + "/openapi.json", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("fastapi peer not up in time")

    def post(self, path, **kw):
        return requests.post(self.base + path, timeout=30, **kw)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_refused(cli, args, timeout=60):
    """Runs `serve ARGS` that must refuse to start: (exit code or None if it became ready, stderr)."""
    s = Server(cli, args)
    try:
        s.ready_timeout = timeout
        s.start()
    except RuntimeError as e:
        return (s.proc.returncode if s.proc else None), str(e)
    s.stop()
    return None, "the server started"


# =============================================================================================
# 2.2 POST /predict (JSON) against `torchless run`, PyTorch and the FastAPI app
# =============================================================================================

def section_predict(cli, models, work, peer):
    x = np.load(models / "mlp.in.npy").astype(np.float32)       # (1, 10)
    torch_out = np.load(models / "mlp.out.npy")
    rng = np.random.default_rng(11)
    vectors = [x[0]] + [rng.standard_normal(10).astype(np.float32) for _ in range(3)]
    with Server(cli, [models / "mlp.onnx"]) as s:
        # Values: against `torchless run` (exactly) and PyTorch (1e-6).
        for i, v in enumerate(vectors):
            r = s.post("/predict", json={"values": [float(f) for f in v]})
            j = jbody(r)
            if not check(f"predict/value{i} 200", r.status_code == 200 and isinstance(j, dict)
                         and list(j) == ["prediction"], f"{r.status_code} {r.content[:200]!r}"):
                continue
            got = np.array(j["prediction"], dtype=np.float64)
            ref = torchless_run(cli, models / "mlp.onnx", v[None, :], work)
            check(f"predict/value{i} shape [1,1]", got.shape == (1, 1), f"{got.shape}")
            check(f"predict/value{i} == torchless run", got.shape == ref.shape and
                  np.array_equal(got.astype(np.float32), ref), f"{got.ravel()} vs {ref.ravel()}")
            if i == 0:
                check("predict/value0 == PyTorch within 1e-6", np.allclose(got, torch_out, rtol=0, atol=1e-6),
                      f"{got.ravel()} vs {torch_out.ravel()}")
        check("predict/JSON content type", r.headers.get("Content-Type") == "application/json", r.headers.get("Content-Type"))

        # Byte-equal with the FastAPI app: successes and its 4xx validation errors.
        peer.wait()
        same = [
            ("vector", {"values": [float(f) for f in vectors[0]]}),
            ("vector 2", {"values": [float(f) for f in vectors[1]]}),
            ("mixed ints and floats", {"values": [1, 0.5, -2, 0.25, 3, 0.0, 1e-3, 7, -0.125, 2]}),
            ("extra member ignored", {"values": [0.1] * 10, "other": {"x": 1}}),
            ("tiny values", {"values": [1e-30, -1e-30, 5e-8, 1e-5, 0.0001, 1e10, -3.5, 2.0, 1e-40, 0.3]}),
            ("missing values", {}),
            ("missing values, other member", {"value": [1.0] * 10}),
            ("not a dict: array", [1, 2, 3]),
            ("not a dict: string", "text"),
            ("not a dict: number", 5),
            ("not a dict: null", None),
            ("values a number", {"values": 5}),
            ("values a string", {"values": "0.1,0.2"}),
            ("values an object", {"values": {"a": 1}}),
            ("values null", {"values": None}),
        ]
        raw_same = [
            ("duplicate key: the last wins", b'{"values": [1, 2], "values": [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]}'),
            ("escaped member name", b'{"\\u0076alues": [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]}'),
            ("integer literal above 2^64", b'{"values": [99999999999999999999999, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]}'),
            ("whitespace around the document", b' \n {"values": [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]} \n'),
        ]
        for name, data in [(n, json.dumps(d).encode()) for n, d in same] + raw_same:
            ours, theirs = s.post("/predict", data=data, headers=JSON), peer.post("/predict", data=data, headers=JSON)
            if theirs.status_code == 200:
                # Two engines: the last float32 bits may differ. The body is what Python writes
                # for our value, and the value is TorchScript's within 1e-6 (relative 1e-5).
                jo, jt = jbody(ours), jbody(theirs)
                ok = ours.status_code == 200 and jo and list(jo) == ["prediction"] and ours.content == json.dumps(
                    {"prediction": [[float(np.float32(v)) for v in row] for row in jo["prediction"]]},
                    separators=(",", ":")).encode() and np.allclose(jo["prediction"], jt["prediction"], rtol=1e-5, atol=1e-6)
                check(f"predict/fastapi parity: {name} (Python's bytes for our value, TorchScript's value)", ok,
                      f"ours {ours.status_code} {ours.content[:240]!r} theirs {theirs.content[:240]!r}")
                continue
            check(f"predict/fastapi parity: {name}", (ours.status_code, ours.content) == (theirs.status_code, theirs.content),
                  f"ours {ours.status_code} {ours.content[:240]!r} theirs {theirs.status_code} {theirs.content[:240]!r}")
        data = json.dumps({"values": [0.5] * 10}).encode()
        for ctype in ["Application/JSON", "application/json; charset=UTF-8"]:
            ours, theirs = s.post("/predict", data=data, headers={"Content-Type": ctype}), \
                peer.post("/predict", data=data, headers={"Content-Type": ctype})
            check(f"predict/fastapi parity: Content-Type {ctype} (media types are case-insensitive)",
                  ours.status_code == theirs.status_code == 200, f"ours {ours.status_code} {ours.content[:200]!r} theirs {theirs.status_code}")
        ours, theirs = s.post("/predict", data=b"", headers=JSON), peer.post("/predict", data=b"", headers=JSON)
        check("predict/fastapi parity: empty body", (ours.status_code, ours.content) == (theirs.status_code, theirs.content),
              f"ours {ours.status_code} {ours.content!r} theirs {theirs.status_code} {theirs.content!r}")
        # Malformed JSON: status and structure (msg text may differ; FastAPI's ctx is omitted).
        for name, data in [("trailing comma", b'{"values": [1, 2,]}'), ("cut off", b'{"values": [0.1, 0.2'),
                           ("bare word", b'{"values": nope}'), ("garbage", b'\x01\x02'),
                           ("double comma", b'{"values": [1, 2,, 3]}')]:
            ours, theirs = s.post("/predict", data=data, headers=JSON), peer.post("/predict", data=data, headers=JSON)
            jo, jt = jbody(ours), jbody(theirs)
            ok = ours.status_code == theirs.status_code == 422 and jo and jt
            if ok:
                do, dt = jo["detail"][0], jt["detail"][0]
                ok = (list(do) == ["loc", "msg", "type"] and do["type"] == dt["type"] == "value_error.jsondecode"
                      and len(do["loc"]) == 2 and do["loc"][0] == "body" and isinstance(do["loc"][1], int))
            check(f"predict/fastapi parity (structure): malformed JSON, {name}", ok,
                  f"ours {ours.status_code} {ours.content[:200]!r} theirs {theirs.status_code} {theirs.content[:200]!r}")
            if ok:
                check(f"predict/malformed JSON {name}: loc offset as FastAPI's", do["loc"] == dt["loc"],
                      f"ours {do['loc']} theirs {dt['loc']}")

        # Deliberate differences (FastAPI answers 500).
        ten = [0.5] * 10
        diffs = [
            ("wrong length", {"values": ten[:9]}, 422,
             {"detail": [{"loc": ["body", "values"], "msg": "expected shape [10], got [9]", "type": "value_error.shape"}]}),
            ("strings", {"values": [0.1, 0.2, 0.3, "x"] + ten[:6]}, 422,
             {"detail": [{"loc": ["body", "values", 3], "msg": "value is not a valid number", "type": "type_error.number"}]}),
            ("booleans", {"values": [True, False] * 5}, 422,
             {"detail": [{"loc": ["body", "values", 0], "msg": "value is not a valid number", "type": "type_error.number"}]}),
            ("empty list", {"values": []}, 422, None),
            ("integers", {"values": list(range(10))}, 200, None),
        ]
        for name, doc, status, body in diffs:
            ours, theirs = s.post("/predict", json=doc), peer.post("/predict", json=doc)
            check(f"predict/difference {name}: FastAPI answers 500", theirs.status_code == 500, f"{theirs.status_code}")
            if body is not None:
                body_is(f"predict/difference {name}: ours {status}", ours, status, body)
            else:
                check(f"predict/difference {name}: ours {status}", ours.status_code == status, f"{ours.status_code} {ours.content[:200]!r}")
        # A boolean among floats: torch.tensor promotes it (FastAPI 200); ours refuses it (422).
        body_is("predict/boolean among floats: 422", s.post("/predict", json={"values": [0.1, True] + ten[:8]}), 422,
                {"detail": [{"loc": ["body", "values", 1], "msg": "value is not a valid number", "type": "type_error.number"}]})
        validation_is("predict/empty list is a shape error", s.post("/predict", json={"values": []}),
                      ["body", "values"], "value_error.shape")
        a = jbody(s.post("/predict", json={"values": list(range(10))}))
        b = jbody(s.post("/predict", json={"values": [float(i) for i in range(10)]}))
        check("predict/integers give the floats' answer", a is not None and a == b, f"{a} vs {b}")

        predict_errors(s)
        r = post_multipart(s, [("file", "cat.png", "image/png", sm.image_bytes(sm.test_image(64, 48), "PNG"))])
        body_is("predict/image to the mlp: 415", r, 415, {"detail": "model 'mlp' does not accept images"})
        section_oip_mlp_single(s)


def predict_errors(s):
    """The /predict error table (2.2) rows the JSON protocol layer answers."""
    ten = [0.5] * 10
    validation_is("predict/error: invalid JSON", s.post("/predict", data=b'{"values": [1, 2,, 3]}', headers=JSON),
                  ["body", 17], "value_error.jsondecode")
    body_is("predict/error: empty body", s.post("/predict", data=b"", headers=JSON), 422,
            {"detail": [{"loc": ["body"], "msg": "field required", "type": "value_error.missing"}]})
    body_is("predict/error: top level not an object", s.post("/predict", json=[1, 2]), 422,
            {"detail": [{"loc": ["body"], "msg": "value is not a valid dict", "type": "type_error.dict"}]})
    body_is("predict/error: values missing", s.post("/predict", json={"x": 1}), 422,
            {"detail": [{"loc": ["body", "values"], "msg": "field required", "type": "value_error.missing"}]})
    body_is("predict/error: values not an array", s.post("/predict", json={"values": 3}), 422,
            {"detail": [{"loc": ["body", "values"], "msg": "value is not a valid list", "type": "type_error.list"}]})
    body_is("predict/error: element not a number", s.post("/predict", json={"values": [1, 2, 3, "4"] + ten[:6]}), 422,
            {"detail": [{"loc": ["body", "values", 3], "msg": "value is not a valid number", "type": "type_error.number"}]})
    body_is("predict/error: null element", s.post("/predict", json={"values": [None] + ten[:9]}), 422,
            {"detail": [{"loc": ["body", "values", 0], "msg": "value is not a valid number", "type": "type_error.number"}]})
    body_is("predict/error: wrong count (spec example)", s.post("/predict", json={"values": [0.5]}), 422,
            {"detail": [{"loc": ["body", "values"], "msg": "expected shape [10], got [1]", "type": "value_error.shape"}]})
    validation_is("predict/error: ragged nesting", s.post("/predict", json={"values": [[1, 2, 3, 4, 5], [1, 2, 3, 4]]}),
                  ["body", "values"], "value_error.shape")
    validation_is("predict/error: nested with the wrong shape", s.post("/predict", json={"values": [ten]}),
                  ["body", "values"], "value_error.shape")
    validation_is("predict/error: element an array in a flat vector", s.post("/predict", json={"values": [1.0] * 9 + [[1.0]]}),
                  ["body", "values"], "value_error.shape")
    deep = b'{"values": ' + b"[" * 40 + b"1" + b"]" * 40 + b"}"
    body_is("predict/error: nesting deeper than 32", s.post("/predict", data=deep, headers=JSON), 422,
            {"detail": [{"loc": ["body"], "msg": "maximum nesting depth 32 exceeded", "type": "value_error.jsondecode"}]})
    body_is("predict/error: text/plain 415", s.post("/predict", data=b'{"values":[1]}', headers={"Content-Type": "text/plain"}),
            415, {"detail": "Unsupported Media Type: expected application/json or multipart/form-data"})
    body_is("predict/error: no Content-Type 415", s.post("/predict", data=b'{"values":[1]}', headers={"Content-Type": ""}),
            415, {"detail": "Unsupported Media Type: expected application/json or multipart/form-data"})
    r = s.post("/predict", data=json.dumps({"values": ten}).encode(), headers={"Content-Type": "application/json; charset=utf-8"})
    check("predict/charset parameter ignored", r.status_code == 200, f"{r.status_code} {r.content[:200]!r}")
    r = s.post("/predict", data=gzip.compress(json.dumps({"values": ten}).encode()),
               headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    detail_is("predict/error: compressed body 415", r, 415)
    r = s.get("/predict")
    body_is("predict/error: GET 405 with Allow: POST", r, 405, {"detail": "Method Not Allowed"}, {"Allow": "POST"})
    body_is("predict/error: unknown path 404", s.get("/nothing/here"), 404, {"detail": "Not Found"})
    body_is("predict/error: unknown path POST 404", s.post("/predictions", json={"values": ten}), 404, {"detail": "Not Found"})
    body_is("predict/error: multipart to the mlp is 415 before framing is read",
            s.post("/predict", data=b"--x\r\nno headers end", headers={"Content-Type": "multipart/form-data; boundary=y"}),
            415, {"detail": "model 'mlp' does not accept images"})
    # Body over its limit, declared in Content-Length: answered before the body is read.
    raw = s.raw(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 16777217\r\n\r\n",
                read_timeout=3)
    head, _, rest = raw.partition(b"\r\n\r\n")
    check("predict/error: body over 16 MiB 413", head.startswith(b"HTTP/1.1 413") and
          rest.startswith(b'{"detail":"request body larger than 16777216 bytes"}'), f"{raw[:300]!r}")
    raw = s.raw(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 30000000\r\n\r\n",
                read_timeout=3)
    head, _, rest = raw.partition(b"\r\n\r\n")
    check("predict/error: declared body of 30 MB: 413", head.startswith(b"HTTP/1.1 413") and
          rest.startswith(b'{"detail":"request body larger than 16777216 bytes"}'), f"{raw[:300]!r}")
    # A large but valid body (parsed off the I/O thread) still works.
    big = json.dumps({"values": ten, "pad": "x" * 400_000}).encode()
    r = s.post("/predict", data=big, headers=JSON)
    check("predict/large body (offloaded parse) 200", r.status_code == 200, f"{r.status_code} {r.content[:200]!r}")


def section_oip_mlp_single(s):
    """OIP routes of the single-file mlp server (version 1 only)."""
    r = s.get("/v2/models/mlp")
    body_is("oip/mlp single file metadata", r, 200,
            {"name": "mlp", "versions": ["1"], "platform": "onnx_onnxv1",
             "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 10]}],
             "outputs": [{"name": "output", "datatype": "FP32", "shape": [-1, 1]}]})
    spec = {"id": "42", "parameters": {"binary_data_output": False, "timeout": 200000},
            "inputs": [{"name": "input", "shape": [2, 10], "datatype": "FP32",
                        "data": [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]}],
            "outputs": [{"name": "output", "parameters": {"binary_data": False}}]}
    r = s.post("/v2/models/mlp/infer", json=spec)
    j = jbody(r)
    ok = r.status_code == 200 and j and list(j) == ["model_name", "model_version", "id", "outputs"] \
        and j["model_name"] == "mlp" and j["model_version"] == "1" and j["id"] == "42" and len(j["outputs"]) == 1 \
        and j["outputs"][0]["name"] == "output" and j["outputs"][0]["datatype"] == "FP32" \
        and j["outputs"][0]["shape"] == [2, 1] and len(j["outputs"][0]["data"]) == 2
    check("oip/spec example request", ok, f"{r.status_code} {r.content[:300]!r}")
    if ok:
        p0 = jbody(s.post("/predict", json={"values": spec["inputs"][0]["data"][0]}))["prediction"][0][0]
        p1 = jbody(s.post("/predict", json={"values": spec["inputs"][0]["data"][1]}))["prediction"][0][0]
        d = j["outputs"][0]["data"]
        check("oip/spec example rows equal /predict's", np.allclose(d, [p0, p1], rtol=0, atol=1e-6), f"{d} vs {[p0, p1]}")
        check("oip/FP32 printed with float32 shortest digits", raw_data_text(r.content) == ",".join(py_f32(v) for v in d),
              f"{raw_data_text(r.content)} vs {[py_f32(v) for v in d]}")


def section_predict_shapes(cli, models):
    """/predict on a model whose sample is not a vector (mnist_cnn: [1, 28, 28]): nested values
    of the per-sample shape, or flat with its element count."""
    x = np.load(models / "mnist_cnn.in.npy").astype(np.float32)  # (1, 1, 28, 28)
    ref = np.load(models / "mnist_cnn.out.npy")
    with Server(cli, [models / "mnist_cnn.onnx"]) as s:
        nested = s.post("/predict", json={"values": x[0].tolist()})
        flat = s.post("/predict", json={"values": x.ravel().tolist()})
        j = jbody(nested)
        check("predict/nested [1,28,28] values == PyTorch within 1e-5", nested.status_code == 200 and
              np.allclose(np.array(j["prediction"]), ref, rtol=0, atol=1e-5), f"{nested.status_code} {nested.content[:200]!r}")
        check("predict/flat 784 values == nested values (same bytes)", flat.status_code == 200 and flat.content == nested.content,
              f"{flat.status_code} {flat.content[:200]!r}")
        check("predict/nested prediction keeps the batch dimension [1, 10]",
              nested.status_code == 200 and np.array(j["prediction"]).shape == (1, 10), "")
        for name, v in [("nested without the channel", x[0, 0].tolist()), ("flat 783 values", x.ravel()[:783].tolist()),
                        ("ragged rows", [[row[:27] if i == 5 else row for i, row in enumerate(x[0, 0].tolist())]])]:
            validation_is(f"predict/mnist {name}: 422 shape", s.post("/predict", json={"values": v}), ["body", "values"],
                          "value_error.shape")
        r = s.post("/predict", json={"values": [[[0.5] * 28] * 28] * 1, "other": None})
        check("predict/mnist nested values of the right shape, another member ignored", r.status_code == 200, f"{r.status_code}")


# =============================================================================================
# 2.3 Open Inference Protocol on the protocol repository
# =============================================================================================

DT_VALUES = {
    "BOOL": [True, False, True, False, False, True],
    "UINT8": [0, 255, 7, 128, 1, 254],
    "UINT16": [0, 65535, 7, 32768, 1, 300],
    "UINT32": [0, 4294967295, 7, 2147483648, 1, 70000],
    "UINT64": [0, 18446744073709551615, 7, 9007199254740993, 1, 2 ** 63],
    "INT8": [-128, 127, 0, -1, 5, -7],
    "INT16": [-32768, 32767, 0, -1, 5, -300],
    "INT32": [-2147483648, 2147483647, 0, -1, 5, -70000],
    "INT64": [-9223372036854775808, 9223372036854775807, 0, -1, 9007199254740993, -5],
    "FP16": [0.1, -2.5, 65504.0, 6e-08, 1e-05, -0.0],
    "FP32": [0.1, 1e-05, 1e16, 3.4028235e38, 0.0001, -0.0],
    "FP64": [0.1, 1e-300, 1.7976931348623157e308, 5e-324, 1e16, -0.0],
}


def expected_array(dt, values):
    return np.array(values, dtype=oc.NUMPY[dt]).reshape(2, 3)


def same_bits(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def section_oip(s, models):
    body_is("oip/health live", s.get("/v2/health/live"), 200, {"live": True})
    body_is("oip/health ready", s.get("/v2/health/ready"), 200, {"ready": True})
    r = s.get("/v2")
    j = jbody(r)
    check("oip/server metadata", r.status_code == 200 and j and list(j) == ["name", "version", "extensions"]
          and j["name"] == "torchless" and isinstance(j["version"], str) and re.fullmatch(r"\d+\.\d+\.\d+.*", j["version"])
          and j["extensions"] == ["binary_tensor_data", "classification"], f"{r.status_code} {r.content!r}")
    mlp_meta = {"name": "mlp", "versions": ["1", "2"], "platform": "onnx_onnxv1",
                "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 10]}],
                "outputs": [{"name": "output", "datatype": "FP32", "shape": [-1, 1]}]}
    body_is("oip/model metadata (spec example)", s.get("/v2/models/mlp"), 200, mlp_meta)
    body_is("oip/model metadata of version 1", s.get("/v2/models/mlp/versions/1"), 200, dict(mlp_meta, versions=["1"]))
    body_is("oip/model metadata of version 2", s.get("/v2/models/mlp/versions/2"), 200, dict(mlp_meta, versions=["2"]))
    body_is("oip/unknown version 404", s.get("/v2/models/mlp/versions/3"), 404, {"error": "unknown version '3' of model 'mlp'"})
    body_is("oip/unknown model 404", s.get("/v2/models/foo"), 404, {"error": "unknown model 'foo'"})
    body_is("oip/unknown model ready 404", s.get("/v2/models/foo/ready"), 404, {"error": "unknown model 'foo'"})
    body_is("oip/model ready", s.get("/v2/models/mlp/ready"), 200, {"name": "mlp", "ready": True})
    body_is("oip/model version ready", s.get("/v2/models/mlp/versions/1/ready"), 200, {"name": "mlp", "ready": True})
    error_is("oip/unknown version ready 404", s.get("/v2/models/mlp/versions/7/ready"), 404)
    error_is("oip/unknown /v2 route 404", s.get("/v2/nothing"), 404)
    error_is("oip/unknown model subroute 404", s.get("/v2/models/mlp/stats"), 404)
    error_is("oip/infer unknown model 404", s.post("/v2/models/foo/infer", json={"inputs": []}), 404, "unknown model 'foo'")
    error_is("oip/infer unknown version 404", s.post("/v2/models/mlp/versions/9/infer", json={"inputs": []}), 404,
             "unknown version '9' of model 'mlp'")
    error_is("oip/infer version 0 404", s.post("/v2/models/mlp/versions/0/infer", json={"inputs": []}), 404)
    body_is("oip/metadata of the image model lists the raw input", s.get("/v2/models/resnet18"), 200,
            {"name": "resnet18", "versions": ["1"], "platform": "onnx_onnxv1",
             "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 3, 224, 224]},
                        {"name": "image", "datatype": "BYTES", "shape": [-1]}],
             "outputs": [{"name": "output", "datatype": "FP32", "shape": [-1, 1000]}]})
    body_is("oip/metadata of an unbatched model", s.get("/v2/models/fixed"), 200,
            {"name": "fixed", "versions": ["1"], "platform": "onnx_onnxv1",
             "inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 3]}],
             "outputs": [{"name": "y", "datatype": "FP32", "shape": [2, 3]}]})
    body_is("oip/metadata of a variable second dimension", s.get("/v2/models/rows"), 200,
            {"name": "rows", "versions": ["1"], "platform": "onnx_onnxv1",
             "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, -1]}],
             "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, -1]}]})

    oip_versions(s, models)
    oip_datatypes(s)
    oip_pair(s)
    oip_parameters(s)
    oip_binary_framing(s)
    oip_classification(s)
    oip_errors(s)


def infer(s, model, inputs, version=None, **extra):
    path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "") + "/infer"
    return s.post(path, json=dict(extra, inputs=inputs))


def fp32_input(name, arr):
    arr = np.asarray(arr, dtype=np.float32)
    return {"name": name, "datatype": "FP32", "shape": list(arr.shape), "data": [float(v) for v in arr.ravel()]}


def out_array(j, i=0):
    o = j["outputs"][i]
    return np.array(o["data"], dtype=np.float64).reshape(o["shape"])


def oip_versions(s, models):
    x = np.random.default_rng(5).standard_normal((3, 10)).astype(np.float32)
    r1 = infer(s, "mlp", [fp32_input("input", x)], version=1)
    r2 = infer(s, "mlp", [fp32_input("input", x)], version=2)
    rl = infer(s, "mlp", [fp32_input("input", x)])
    j1, j2, jl = jbody(r1), jbody(r2), jbody(rl)
    if not check("oip/versions: three answers 200", r1.status_code == r2.status_code == rl.status_code == 200,
                 f"{r1.status_code} {r2.status_code} {rl.status_code} {rl.content[:200]!r}"):
        return
    check("oip/versions: model_version echoes the version used",
          (j1["model_version"], j2["model_version"], jl["model_version"]) == ("1", "2", "2"),
          f"{j1['model_version']} {j2['model_version']} {jl['model_version']}")
    check("oip/versions: version 2 answers version 1 + 1", np.allclose(out_array(j2), out_array(j1) + 1, rtol=0, atol=1e-5),
          f"{out_array(j1).ravel()} {out_array(j2).ravel()}")
    check("oip/versions: latest is version 2", out_array(jl).tolist() == out_array(j2).tolist(), "")
    check("oip/versions: no id member without one in the request", "id" not in jl, f"{list(jl)}")
    # Flat and nested data give the same answer; three rows = three single rows.
    nested = {"name": "input", "datatype": "FP32", "shape": [3, 10], "data": [[float(v) for v in row] for row in x]}
    rn = infer(s, "mlp", [nested], version=1)
    check("oip/nested data == flat data", rn.status_code == 200 and jbody(rn)["outputs"] == j1["outputs"],
          f"{rn.status_code} {rn.content[:200]!r}")
    singles = [out_array(jbody(infer(s, "mlp", [fp32_input("input", x[i:i + 1])], version=1)))[0, 0] for i in range(3)]
    check("oip/three rows == three single requests", np.allclose(out_array(j1).ravel(), singles, rtol=0, atol=1e-6),
          f"{out_array(j1).ravel()} vs {singles}")
    ref = np.load(models / "mlp.out.npy")
    r = infer(s, "mlp", [fp32_input("input", np.load(models / "mlp.in.npy"))], version=1)
    check("oip/mlp == PyTorch within 1e-6", r.status_code == 200 and np.allclose(out_array(jbody(r)), ref, rtol=0, atol=1e-6),
          f"{r.content[:200]!r} vs {ref}")


def oip_datatypes(s):
    for dt, values in DT_VALUES.items():
        model = f"id_{dt.lower()}"
        want = expected_array(dt, values)
        # JSON in, JSON out (flat and nested).
        for layout, data in [("flat", values), ("nested", [values[:3], values[3:]])]:
            r = infer(s, model, [{"name": "x", "datatype": dt, "shape": [2, 3], "data": data}])
            j = jbody(r)
            ok = r.status_code == 200 and j and j["outputs"][0]["datatype"] == dt and j["outputs"][0]["shape"] == [2, 3]
            if ok:
                got = np.array(j["outputs"][0]["data"], dtype=object)
                ok = len(got) == 6 and same_bits(np.array(list(got), dtype=oc.NUMPY[dt]).reshape(2, 3), want)
                if dt == "BOOL":
                    ok = ok and all(isinstance(v, bool) for v in j["outputs"][0]["data"])
                elif not dt.startswith("FP"):
                    ok = ok and all(isinstance(v, int) and not isinstance(v, bool) for v in j["outputs"][0]["data"])
            check(f"oip/datatype {dt} JSON round trip ({layout})", ok, f"{r.status_code} {r.content[:300]!r}")
        # Binary in, JSON out; JSON in, binary out; binary in, binary out.
        blob = want.astype(oc.NUMPY[dt]).tobytes()
        head = {"inputs": [{"name": "x", "datatype": dt, "shape": [2, 3], "parameters": {"binary_data_size": len(blob)}}]}
        r = oc.post_binary(s.session, s.url(f"/v2/models/{model}/infer"), head, [blob])
        j = jbody(r)
        ok = r.status_code == 200 and j and same_bits(np.array(j["outputs"][0]["data"], dtype=oc.NUMPY[dt]).reshape(2, 3), want)
        check(f"oip/datatype {dt} binary in, JSON out", ok, f"{r.status_code} {r.content[:300]!r}")
        r = infer(s, model, [{"name": "x", "datatype": dt, "shape": [2, 3], "data": values}],
                  outputs=[{"name": "y", "parameters": {"binary_data": True}}])
        try:
            h, blobs = oc.parse_binary_response(r)
            o = h["outputs"][0]
            ok = (r.status_code == 200 and r.headers.get("Content-Type") == OCTET and "data" not in o
                  and o["parameters"] == {"binary_data_size": len(blob)} and o["datatype"] == dt
                  and same_bits(oc.to_array(blobs["y"], dt, o["shape"]).astype(oc.NUMPY[dt]), want))
            why = f"{r.status_code} {r.content[:200]!r}"
        except (ValueError, KeyError, TypeError) as e:
            ok, why = False, f"{e}: {r.status_code} {r.content[:200]!r}"
        check(f"oip/datatype {dt} JSON in, binary out", ok, why)
        head["parameters"] = {"binary_data_output": True}
        r = oc.post_binary(s.session, s.url(f"/v2/models/{model}/infer"), head, [blob])
        try:
            h, blobs = oc.parse_binary_response(r)
            ok = r.status_code == 200 and blobs.get("y") == blob
            why = f"{r.status_code} {r.content[:200]!r}"
        except (ValueError, KeyError) as e:
            ok, why = False, f"{e}: {r.status_code} {r.content[:200]!r}"
        check(f"oip/datatype {dt} binary in, binary out (byte-exact)", ok, why)
    # FP32 and FP64 are printed with their shortest digits in Python's layout.
    r = infer(s, "id_fp32", [{"name": "x", "datatype": "FP32", "shape": [2, 3], "data": DT_VALUES["FP32"]}])
    want = ",".join(py_f32(v) for v in DT_VALUES["FP32"])
    check("oip/FP32 text: shortest float32 digits, Python layout", raw_data_text(r.content) == want,
          f"{raw_data_text(r.content)} vs {want}")
    r = infer(s, "id_fp64", [{"name": "x", "datatype": "FP64", "shape": [2, 3], "data": DT_VALUES["FP64"]}])
    want = ",".join(repr(float(v)) for v in DT_VALUES["FP64"])
    check("oip/FP64 text: shortest double digits, Python layout", raw_data_text(r.content) == want,
          f"{raw_data_text(r.content)} vs {want}")
    r = infer(s, "id_fp32", [{"name": "x", "datatype": "FP32", "shape": [1, 3], "data": [1, 2.0, 1e-7]}])
    check("oip/JSON integers accepted for FP32", r.status_code == 200 and jbody(r)["outputs"][0]["data"] == [1.0, 2.0, 1e-7],
          f"{r.status_code} {r.content[:200]!r}")
    r = s.post("/v2/models/id_fp32/infer", headers=JSON,
               data=b'{"inputs":[{"name":"x","datatype":"FP32","shape":[1,3],"data":[99999999999999999999999,0,0]}]}')
    check("oip/FP32 takes an integer literal above 2^64 (any JSON number)",
          # FP32 answers are the shortest float32 digits: compare as float32
          r.status_code == 200 and [np.float32(x) for x in jbody(r)["outputs"][0]["data"]] == [np.float32(1e23), 0, 0],
          f"{r.status_code} {r.content[:200]!r}")
    r = infer(s, "id_int32", [{"name": "x", "datatype": "INT32", "shape": [1, 3], "data": [1.0, 2e3, -4.0]}])
    check("oip/integral doubles accepted for INT32", r.status_code == 200 and jbody(r)["outputs"][0]["data"] == [1, 2000, -4],
          f"{r.status_code} {r.content[:200]!r}")
    # Values the datatype cannot hold, and types that do not match: 400.
    bad = [("UINT8 256", "UINT8", [256, 0, 0]), ("UINT8 -1", "UINT8", [-1, 0, 0]), ("INT8 -129", "INT8", [-129, 0, 0]),
           ("UINT64 2^64", "UINT64", [18446744073709551616, 0, 0]), ("INT32 1.5", "INT32", [1.5, 0, 0]),
           ("INT64 string", "INT64", ["1", 0, 0]), ("BOOL 1", "BOOL", [1, True, False]),
           ("BOOL null", "BOOL", [None, True, False]), ("FP32 string", "FP32", ["0.1", 0, 0]),
           ("FP32 true", "FP32", [True, 0, 0]), ("FP16 null", "FP16", [None, 0, 0])]
    for name, dt, data in bad:
        error_is(f"oip/400 value: {name}", infer(s, f"id_{dt.lower()}", [{"name": "x", "datatype": dt, "shape": [1, 3],
                                                                         "data": data}]), 400)
    for name, model, dt in [("FP64 to an FP32 input", "id_fp32", "FP64"), ("lower-case fp32", "id_fp32", "fp32"),
                            ("INT32 to an INT64 input", "id_int64", "INT32"), ("BF16", "id_fp16", "BF16"),
                            ("BYTES to FP32", "id_fp32", "BYTES")]:
        error_is(f"oip/400 datatype: {name}", infer(s, model, [{"name": "x", "datatype": dt, "shape": [1, 3], "data": [1, 2, 3]}]), 400)


def oip_pair(s):
    a = np.arange(8, dtype=np.float32).reshape(2, 4) / 4
    b = np.full((2, 4), 2.0, dtype=np.float32)
    r = infer(s, "pair", [fp32_input("a", a), fp32_input("b", b)])
    j = jbody(r)
    ok = r.status_code == 200 and [o["name"] for o in j["outputs"]] == ["sum", "diff", "prod"]
    check("oip/two inputs: all outputs in model order", ok, f"{r.status_code} {r.content[:300]!r}")
    if ok:
        check("oip/two inputs: values", np.array_equal(out_array(j, 0), a + b) and np.array_equal(out_array(j, 1), a - b)
              and np.array_equal(out_array(j, 2), a * b), f"{j}")
    r = infer(s, "pair", [fp32_input("b", b), fp32_input("a", a)], outputs=[{"name": "prod"}, {"name": "sum"}])
    j = jbody(r)
    ok = r.status_code == 200 and [o["name"] for o in j["outputs"]] == ["prod", "sum"]
    check("oip/outputs selection and order (inputs in any order)", ok and np.array_equal(out_array(j, 0), a * b)
          and np.array_equal(out_array(j, 1), a + b), f"{r.status_code} {r.content[:300]!r}")
    r = infer(s, "pair", [fp32_input("a", a), fp32_input("b", b)], outputs=[{"name": "diff"}])
    check("oip/one output selected", r.status_code == 200 and [o["name"] for o in jbody(r)["outputs"]] == ["diff"],
          f"{r.status_code} {r.content[:200]!r}")
    error_is("oip/400 unknown output", infer(s, "pair", [fp32_input("a", a), fp32_input("b", b)], outputs=[{"name": "max"}]), 400)
    error_is("oip/400 duplicate output", infer(s, "pair", [fp32_input("a", a), fp32_input("b", b)],
                                               outputs=[{"name": "sum"}, {"name": "sum"}]), 400)
    r = infer(s, "pair", [fp32_input("a", a), fp32_input("b", b)], outputs=[])
    check("oip/empty outputs list: every output", r.status_code == 200 and [o["name"] for o in jbody(r)["outputs"]]
          == ["sum", "diff", "prod"], f"{r.status_code} {r.content[:200]!r}")
    error_is("oip/400 output binary_data not a bool", infer(s, "pair", [fp32_input("a", a), fp32_input("b", b)],
                                                            outputs=[{"name": "sum", "parameters": {"binary_data": "yes"}}]), 400)
    error_is("oip/400 output without a name", infer(s, "pair", [fp32_input("a", a), fp32_input("b", b)], outputs=[{}]), 400)
    error_is("oip/400 unknown input", infer(s, "pair", [fp32_input("a", a), fp32_input("c", b)]), 400)
    error_is("oip/400 duplicate input", infer(s, "pair", [fp32_input("a", a), fp32_input("a", a), fp32_input("b", b)]), 400)
    error_is("oip/400 missing input", infer(s, "pair", [fp32_input("a", a)]), 400)
    error_is("oip/400 batch sizes disagree", infer(s, "pair", [fp32_input("a", a), fp32_input("b", b[:1])]), 400)
    # Mixed JSON and binary inputs.
    blob = b.tobytes()
    head = {"inputs": [fp32_input("a", a), {"name": "b", "datatype": "FP32", "shape": [2, 4],
                                            "parameters": {"binary_data_size": len(blob)}}],
            "outputs": [{"name": "sum", "parameters": {"binary_data": True}}, {"name": "diff"}]}
    r = oc.post_binary(s.session, s.url("/v2/models/pair/infer"), head, [blob])
    try:
        h, blobs = oc.parse_binary_response(r)
        ok = (r.status_code == 200 and [o["name"] for o in h["outputs"]] == ["sum", "diff"]
              and np.array_equal(oc.to_array(blobs["sum"], "FP32", [2, 4]), a + b)
              and np.array_equal(np.array(h["outputs"][1]["data"], np.float32).reshape(2, 4), a - b))
        why = f"{r.status_code} {r.content[:300]!r}"
    except (ValueError, KeyError) as e:
        ok, why = False, f"{e}: {r.content[:300]!r}"
    check("oip/mixed JSON + binary inputs and outputs", ok, why)


def oip_parameters(s):
    x = [fp32_input("input", np.ones((1, 10)))]
    r = infer(s, "mlp", x, id="req-7")
    check("oip/id echoed", r.status_code == 200 and jbody(r).get("id") == "req-7", f"{r.content[:200]!r}")
    r = infer(s, "mlp", x, id="")
    check("oip/empty id echoed", r.status_code == 200 and jbody(r).get("id") == "", f"{r.content[:200]!r}")
    r = infer(s, "mlp", x, id='a"b\\c\u00e9')
    check("oip/id with escapes echoed", r.status_code == 200 and jbody(r).get("id") == 'a"b\\c\u00e9', f"{r.content[:200]!r}")
    error_is("oip/400 id not a string", infer(s, "mlp", x, id=42), 400)
    error_is("oip/400 id over 256 bytes", infer(s, "mlp", x, id="x" * 257), 400)
    r = infer(s, "mlp", x, id="x" * 256)
    check("oip/id of 256 bytes accepted", r.status_code == 200, f"{r.status_code}")
    r = infer(s, "mlp", x, parameters={"timeout": 200000, "priority": 3, "custom": {"a": 1}})
    check("oip/timeout and unknown request parameters accepted", r.status_code == 200, f"{r.status_code} {r.content[:200]!r}")
    error_is("oip/400 binary_data_output not a bool", infer(s, "mlp", x, parameters={"binary_data_output": 1}), 400)
    error_is("oip/400 timeout negative", infer(s, "mlp", x, parameters={"timeout": -5}), 400)
    error_is("oip/400 parameters not an object", infer(s, "mlp", x, parameters=[1]), 400)
    # binary_data_output on the request, overridden per output.
    a, b = np.ones((1, 4), np.float32), np.full((1, 4), 3, np.float32)
    r = infer(s, "pair", [fp32_input("a", a), fp32_input("b", b)], parameters={"binary_data_output": True},
              outputs=[{"name": "sum"}, {"name": "diff", "parameters": {"binary_data": False}}])
    try:
        h, blobs = oc.parse_binary_response(r)
        ok = (r.status_code == 200 and set(blobs) == {"sum"} and "data" in h["outputs"][1]
              and h["outputs"][1]["data"] == [-2.0] * 4 and oc.to_array(blobs["sum"], "FP32", [1, 4]).tolist() == [[4.0] * 4])
        why = f"{r.content[:300]!r}"
    except (ValueError, KeyError) as e:
        ok, why = False, f"{e}: {r.content[:300]!r}"
    check("oip/binary_data_output with a per-output override", ok, why)
    r = infer(s, "pair", [fp32_input("a", a), fp32_input("b", b)], parameters={"binary_data_output": True})
    try:
        h, blobs = oc.parse_binary_response(r)
        ok = r.status_code == 200 and list(blobs) == ["sum", "diff", "prod"] and all("data" not in o for o in h["outputs"])
        why = f"{r.content[:300]!r}"
    except ValueError as e:
        ok, why = False, f"{e}"
    check("oip/binary_data_output: every output binary, in order", ok, why)
    r = infer(s, "pair", [fp32_input("a", a), fp32_input("b", b)], parameters={"binary_data_output": False})
    check("oip/binary_data_output false: plain JSON", r.status_code == 200 and r.headers.get("Content-Type") == "application/json"
          and "Inference-Header-Content-Length" not in r.headers, f"{r.headers}")


def oip_binary_framing(s):
    """Bad framing of the binary extension: every case 400."""
    url = s.url("/v2/models/id_fp32/infer")
    blob = np.arange(6, dtype=np.float32).tobytes()

    def head(size=24, **inp):
        return {"inputs": [dict({"name": "x", "datatype": "FP32", "shape": [2, 3], "parameters": {"binary_data_size": size}}, **inp)]}

    def post(body, n, ctype=OCTET):
        return s.session.post(url, data=body, headers={"Inference-Header-Content-Length": str(n), "Content-Type": ctype}, timeout=30)

    js = json.dumps(head()).encode()
    r = post(js + blob, len(js))
    check("oip/binary framing: a correct request 200", r.status_code == 200, f"{r.status_code} {r.content[:200]!r}")
    r = post(js + blob, len(js), ctype="application/json")
    check("oip/binary framing: any Content-Type with the header", r.status_code == 200, f"{r.status_code}")
    error_is("oip/binary framing: header length > body", post(js + blob, len(js) + len(blob) + 1), 400)
    error_is("oip/binary framing: header length cuts the JSON", post(js + blob, len(js) - 3), 400)
    error_is("oip/binary framing: header length not a number", post(js + blob, "12x"), 400)
    error_is("oip/binary framing: negative header length", post(js + blob, -1), 400)
    error_is("oip/binary framing: trailing bytes", post(js + blob + b"\0\0\0\0", len(js)), 400)
    error_is("oip/binary framing: missing bytes", post(js + blob[:20], len(js)), 400)
    js2 = json.dumps(head(size=20)).encode()
    error_is("oip/binary framing: size != count x 4", post(js2 + blob[:20], len(js2)), 400)
    js3 = json.dumps(head(data=[0, 1, 2, 3, 4, 5])).encode()
    error_is("oip/binary framing: data and binary_data_size", post(js3 + blob, len(js3)), 400)
    js4 = json.dumps(head(size="24")).encode()
    error_is("oip/binary framing: binary_data_size a string", post(js4 + blob, len(js4)), 400)
    js5 = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 3]}]}).encode()
    error_is("oip/binary framing: neither data nor binary_data_size", post(js5, len(js5)), 400)
    # Two binary inputs: concatenated in JSON order.
    a, b = np.arange(4, dtype=np.float32), np.arange(4, 8, dtype=np.float32)
    h = {"inputs": [{"name": "b", "datatype": "FP32", "shape": [1, 4], "parameters": {"binary_data_size": 16}},
                    {"name": "a", "datatype": "FP32", "shape": [1, 4], "parameters": {"binary_data_size": 16}}],
         "outputs": [{"name": "diff"}]}
    r = oc.post_binary(s.session, s.url("/v2/models/pair/infer"), h, [b.tobytes(), a.tobytes()])
    check("oip/binary framing: blobs follow the JSON order of the inputs",
          r.status_code == 200 and jbody(r)["outputs"][0]["data"] == (a - b).tolist(), f"{r.status_code} {r.content[:200]!r}")
    # Unaligned binary data (a 1-byte JSON offset) still reads right.
    head1 = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 3], "parameters": {"binary_data_size": 24}}]}
    js6 = json.dumps(head1).encode()
    js6 += b" " * ((1 - len(js6)) % 8)  # JSON length = 1 mod 8: the doubles start unaligned
    v = np.array([0.1, -2.0, 1e300])
    r = s.session.post(s.url("/v2/models/id_fp64/infer"), data=js6 + v.tobytes(),
                       headers={"Inference-Header-Content-Length": str(len(js6)), "Content-Type": OCTET})
    check("oip/binary framing: unaligned blob", r.status_code == 200 and jbody(r)["outputs"][0]["data"] == v.tolist(),
          f"{r.status_code} {r.content[:200]!r}")


def oip_classification(s):
    scores = [[0.1, 0.9, 0.3, 0.7, 0.2], [-1.25, -0.5, 12345.678, 0.0, -3.0]]
    r = infer(s, "classifier", [fp32_input("x", scores)], outputs=[{"name": "scores", "parameters": {"classification": 2}}])

    def triton(row, k, labels):
        order = sorted(range(len(row)), key=lambda i: (-np.float32(row[i]), i))[:k]
        return ["%f:%d" % (float(np.float32(row[i])), i) + (f":{labels[i]}" if labels else "") for i in order]

    want = triton(scores[0], 2, sm.CLASSIFIER_LABELS) + triton(scores[1], 2, sm.CLASSIFIER_LABELS)
    j = jbody(r)
    ok = r.status_code == 200 and j["outputs"][0] == {"name": "scores", "datatype": "BYTES", "shape": [2, 2], "data": want}
    check("oip/classification 2 with labels (Triton's \"%f:index:label\")", ok, f"{r.content[:300]!r} want {want}")
    r = infer(s, "id_fp32", [{"name": "x", "datatype": "FP32", "shape": [1, 3], "data": [0.5, 2.25, -1]}],
              outputs=[{"name": "y", "parameters": {"classification": 3}}])
    want = triton([0.5, 2.25, -1], 3, None)
    check("oip/classification without labels (\"%f:index\")", r.status_code == 200 and jbody(r)["outputs"][0]["data"] == want,
          f"{r.content[:300]!r} want {want}")
    r = infer(s, "classifier", [fp32_input("x", scores[:1])],
              outputs=[{"name": "scores", "parameters": {"classification": 1, "binary_data": True}}])
    try:
        h, blobs = oc.parse_binary_response(r)
        ok = (r.status_code == 200 and h["outputs"][0]["datatype"] == "BYTES" and h["outputs"][0]["shape"] == [1, 1]
              and oc.decode_bytes(blobs["scores"]) == [triton(scores[0], 1, sm.CLASSIFIER_LABELS)[0].encode()])
        why = f"{r.content[:300]!r}"
    except (ValueError, KeyError) as e:
        ok, why = False, f"{e}: {r.content[:300]!r}"
    check("oip/classification as binary BYTES (length prefixes)", ok, why)
    r = infer(s, "pair", [fp32_input("a", np.ones((1, 4))), fp32_input("b", np.ones((1, 4)))],
              outputs=[{"name": "sum", "parameters": {"classification": 1}}, {"name": "diff"}])
    j = jbody(r)
    check("oip/classification on one output, the other plain", r.status_code == 200
          and j["outputs"][0]["datatype"] == "BYTES" and j["outputs"][1]["datatype"] == "FP32", f"{r.content[:300]!r}")
    error_is("oip/400 classification 0", infer(s, "classifier", [fp32_input("x", scores)],
                                               outputs=[{"name": "scores", "parameters": {"classification": 0}}]), 400)
    error_is("oip/400 classification not an integer", infer(s, "classifier", [fp32_input("x", scores)],
                                                            outputs=[{"name": "scores", "parameters": {"classification": "2"}}]), 400)


def oip_errors(s):
    """The OIP error table rows the protocol layer produces (2.3)."""
    good = {"name": "x", "datatype": "FP32", "shape": [1, 3], "data": [1, 2, 3]}
    url = "/v2/models/id_fp32/infer"
    error_is("oip/400 JSON syntax", s.post(url, data=b'{"inputs": [', headers=JSON), 400)
    error_is("oip/400 empty body", s.post(url, data=b"", headers=JSON), 400)
    error_is("oip/400 top level not an object", s.post(url, json=[good]), 400)
    error_is("oip/400 inputs missing", s.post(url, json={}), 400)
    error_is("oip/400 inputs empty", s.post(url, json={"inputs": []}), 400)
    error_is("oip/400 inputs not an array", s.post(url, json={"inputs": good}), 400)
    error_is("oip/400 input not an object", s.post(url, json={"inputs": [1]}), 400)
    error_is("oip/400 input without name", s.post(url, json={"inputs": [{k: v for k, v in good.items() if k != "name"}]}), 400)
    error_is("oip/400 input without datatype", s.post(url, json={"inputs": [{k: v for k, v in good.items() if k != "datatype"}]}), 400)
    error_is("oip/400 input without shape", s.post(url, json={"inputs": [{k: v for k, v in good.items() if k != "shape"}]}), 400)
    error_is("oip/400 input without data", s.post(url, json={"inputs": [{k: v for k, v in good.items() if k != "data"}]}), 400)
    error_is("oip/400 data not an array", s.post(url, json={"inputs": [dict(good, data=5)]}), 400)
    error_is("oip/400 negative dimension", s.post(url, json={"inputs": [dict(good, shape=[-1, 3])]}), 400)
    error_is("oip/400 shape element not an integer", s.post(url, json={"inputs": [dict(good, shape=[1.5, 3])]}), 400)
    error_is("oip/400 wrong rank", s.post(url, json={"inputs": [dict(good, shape=[3])]}), 400)
    error_is("oip/400 fixed dimension differs", s.post(url, json={"inputs": [dict(good, shape=[1, 4], data=[1, 2, 3, 4])]}), 400)
    error_is("oip/400 element count != shape", s.post(url, json={"inputs": [dict(good, data=[1, 2])]}), 400)
    error_is("oip/400 ragged nested data", s.post(url, json={"inputs": [dict(good, shape=[2, 3], data=[[1, 2, 3], [4, 5]])]}), 400)
    error_is("oip/400 nesting that does not match the shape", s.post(url, json={"inputs": [dict(good, shape=[2, 3], data=[[1, 2], [3, 4], [5, 6]])]}), 400)
    error_is("oip/400 data nested deeper than the shape", s.post(url, json={"inputs": [dict(good, data=[[[1, 2, 3]]])]}), 400)
    error_is("oip/400 batch of 0", s.post(url, json={"inputs": [dict(good, shape=[0, 3], data=[])]}), 400)
    error_is("oip/400 batch over max_batch_size (32)", s.post(url, json={"inputs": [dict(good, shape=[33, 3], data=[0] * 99)]}), 400)
    deep = b'{"inputs":[{"name":"x","datatype":"FP32","shape":[1,3],"data":' + b"[" * 40 + b"1" + b"]" * 40 + b"}]}"
    error_is("oip/400 nesting over 32", s.post(url, data=deep, headers=JSON), 400)
    error_is("oip/400 unbatched model: a batch dimension added",
             s.post("/v2/models/fixed/infer", json={"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2, 3], "data": [0] * 6}]}), 400)
    r = s.post("/v2/models/fixed/infer", json={"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 3], "data": [1, 2, 3, 4, 5, 6]}]})
    check("oip/unbatched model infers its fixed shape", r.status_code == 200 and jbody(r)["outputs"][0]["shape"] == [2, 3]
          and jbody(r)["outputs"][0]["data"] == [2.0, 4.0, 6.0, 8.0, 10.0, 12.0], f"{r.status_code} {r.content[:200]!r}")
    # Limits: 413 for the tensor elements, before any data is read.
    r = s.post("/v2/models/rows/infer", json={"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 5_000_000], "data": []}]})
    error_is("oip/413 tensor elements over the limit", r, 413)
    r = s.post("/v2/models/rows/infer", json={"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 1 << 40], "data": []}]})
    error_is("oip/413 huge dimension (no overflow)", r, 413)
    raw = s.raw(b"POST /v2/models/id_fp32/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 16777217\r\n\r\n", read_timeout=3)
    head, _, rest = raw.partition(b"\r\n\r\n")
    check("oip/413 body over 16 MiB, {\"error\"} style", head.startswith(b"HTTP/1.1 413") and rest.startswith(b'{"error":'),
          f"{raw[:300]!r}")
    # 415
    error_is("oip/415 text/plain without the binary header", s.post(url, data=json.dumps({"inputs": [good]}),
                                                                      headers={"Content-Type": "text/plain"}), 415)
    error_is("oip/415 no Content-Type without the binary header", s.post(url, data=json.dumps({"inputs": [good]}),
                                                                          headers={"Content-Type": ""}), 415)
    for ctype in ["application/json; charset=utf-8", "application/json ; charset=utf-8", "Application/JSON"]:
        r = s.post(url, data=json.dumps({"inputs": [good]}), headers={"Content-Type": ctype})
        check(f"oip/Content-Type {ctype!r} accepted", r.status_code == 200, f"{r.status_code} {r.content[:200]!r}")
    error_is("oip/415 compressed request", s.post(url, data=gzip.compress(json.dumps({"inputs": [good]}).encode()),
                                                  headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}), 415)
    r = s.post(url, json={"inputs": [good]})
    check("oip/a correct request after the errors", r.status_code == 200, f"{r.status_code}")
    r = s.get(url)
    error_is("oip/405 GET on infer", r, 405)
    error_is("oip/405 POST on metadata", s.post("/v2/models/id_fp32", json={}), 405)


# =============================================================================================
# 4 Image pipeline end to end (resnet18 with torchless.json, labels.txt)
# =============================================================================================

def section_image(s, models, work):
    import torch
    ts = torch.jit.load(str(models / "resnet18.ts.pt")).eval()
    labels = sm.imagenet_labels()
    img = sm.test_image()
    jpeg, png = sm.image_bytes(img, "JPEG", quality=90), sm.image_bytes(img, "PNG")
    img2 = sm.test_image(257, 300, seed=9).rotate(90, expand=True)
    png2 = sm.image_bytes(img2, "PNG")
    for name, data in [("JPEG", jpeg), ("PNG", png), ("PNG 300x257", png2)]:
        idx, margin = sm.torchvision_argmax(ts, data)
        r = post_multipart(s, [("file", "upload.bin", "application/octet-stream", data)])
        body_is(f"image/predict {name}: label of torch's argmax (margin {margin:.3g})", r, 200, {"prediction": labels[idx]})
        b64 = base64.b64encode(data).decode()
        r = infer(s, "resnet18", [{"name": "image", "datatype": "BYTES", "shape": [1], "data": [b64]}])
        j = jbody(r)
        ok = r.status_code == 200 and j["outputs"][0]["shape"] == [1, 1000] and int(np.argmax(j["outputs"][0]["data"])) == idx
        check(f"image/v2 raw image {name} (base64 JSON): argmax", ok, f"{r.status_code} {r.content[:200]!r} want {idx}")
        r = infer(s, "resnet18", [{"name": "image", "datatype": "BYTES", "shape": [1], "data": [b64.rstrip("=")]}],
                  outputs=[{"name": "output", "parameters": {"classification": 1}}])
        j = jbody(r)
        ok = r.status_code == 200 and len(j["outputs"][0]["data"]) == 1 and \
            j["outputs"][0]["data"][0].split(":", 2)[1:] == [str(idx), labels[idx]]
        check(f"image/v2 raw image {name} (base64 without padding, classification)", ok, f"{r.content[:200]!r}")
        h = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                         "parameters": {"binary_data_size": len(oc.encode_bytes([data]))}}],
             "outputs": [{"name": "output", "parameters": {"binary_data": True}}]}
        r = oc.post_binary(s.session, s.url("/v2/models/resnet18/infer"), h, [oc.encode_bytes([data])])
        try:
            hh, blobs = oc.parse_binary_response(r)
            ok = r.status_code == 200 and int(np.argmax(oc.to_array(blobs["output"], "FP32", [1, 1000]))) == idx
            why = f"{r.content[:200]!r}"
        except (ValueError, KeyError) as e:
            ok, why = False, f"{e} {r.content[:200]!r}"
        check(f"image/v2 raw image {name} (binary BYTES in and out)", ok, why)
    # A batch of two images; the filename, part type and other parts are ignored.
    i1, _ = sm.torchvision_argmax(ts, jpeg)
    i2, _ = sm.torchvision_argmax(ts, png2)
    h = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [2], "parameters": {"binary_data_size": len(oc.encode_bytes([jpeg, png2]))}}]}
    r = oc.post_binary(s.session, s.url("/v2/models/resnet18/infer"), h, [oc.encode_bytes([jpeg, png2])])
    j = jbody(r)
    ok = r.status_code == 200 and j["outputs"][0]["shape"] == [2, 1000] and \
        np.argmax(np.array(j["outputs"][0]["data"]).reshape(2, 1000), axis=1).tolist() == [i1, i2]
    check("image/v2 two images in one request", ok, f"{r.status_code} {r.content[:200]!r}")
    r = post_multipart(s, [("note", None, None, b"hello"), ("file", "x.gif", "image/gif", png2), ("extra", "e.txt", "text/plain", b"x")])
    body_is("image/predict: other parts, filename and part type ignored", r, 200, {"prediction": labels[i2]})

    # Refusals.
    gif = sm.image_bytes(sm.test_image(40, 30), "GIF")
    bmp = sm.image_bytes(sm.test_image(40, 30), "BMP")
    big = sm.png_header_only(20000, 15000)
    truncated = jpeg[: len(jpeg) * 6 // 10]
    unsupported = {"detail": "unsupported image format; expected JPEG or PNG"}
    body_is("image/415 GIF", post_multipart(s, [("file", "a.gif", "image/gif", gif)]), 415, unsupported)
    body_is("image/415 BMP", post_multipart(s, [("file", "a.bmp", "image/bmp", bmp)]), 415, unsupported)
    body_is("image/415 text", post_multipart(s, [("file", "a.jpg", "image/jpeg", b"not an image at all")]), 415, unsupported)
    detail_is("image/400 truncated JPEG", post_multipart(s, [("file", "a.jpg", "image/jpeg", truncated)]), 400,
              re.compile(r"cannot decode image: .+"))
    detail_is("image/400 corrupt PNG", post_multipart(s, [("file", "a.png", "image/png", png[:60] + b"\0" * 200 + png[260:])]),
              400, re.compile(r"cannot decode image: .+"))
    body_is("image/413 PNG header 20000x15000", post_multipart(s, [("file", "a.png", "image/png", big)]), 413,
            {"detail": "image 20000x15000 exceeds the limit of 40000000 pixels"})
    body_is("image/422 no file part", post_multipart(s, [("image", "a.png", "image/png", png)]), 422,
            {"detail": [{"loc": ["body", "file"], "msg": "field required", "type": "value_error.missing"}]})
    body_is("image/400 broken multipart framing",
            s.post("/predict", data=b"--zz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc",
                   headers={"Content-Type": "multipart/form-data; boundary=zz"}), 400,
            {"detail": "There was an error parsing the body"})
    body_is("image/400 multipart without a boundary",
            s.post("/predict", data=multipart([("file", "a.png", None, png)])[0], headers={"Content-Type": "multipart/form-data"}),
            400, {"detail": "There was an error parsing the body"})
    # Multipart bodies have their own limit (20 MiB): 17 MB passes, over 20 MiB is 413 before reading.
    r = post_multipart(s, [("pad", None, None, b"\0" * 17_000_000), ("file", "a.png", "image/png", png)])
    body_is("image/multipart body of 17 MB (over the JSON limit) accepted", r, 200, {"prediction": labels[sm.torchvision_argmax(ts, png)[0]]})
    raw = s.raw(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                b"Content-Length: 20971521\r\n\r\n", read_timeout=3)
    head, _, rest = raw.partition(b"\r\n\r\n")
    check("image/multipart body over 20 MiB: 413", head.startswith(b"HTTP/1.1 413") and
          rest.startswith(b'{"detail":"request body larger than 20971520 bytes"}'), f"{raw[:300]!r}")
    def chunks():
        yield multipart([("file", "a.png", "image/png", png)])[0][:-40]
        for _ in range(22):
            yield b"\0" * (1 << 20)
    r = s.post("/predict", data=chunks(), headers={"Content-Type": multipart([])[1]})
    body_is("image/chunked multipart body over 20 MiB: 413 naming the multipart limit", r, 413,
            {"detail": "request body larger than 20971520 bytes"})
    validation_is("image/JSON to the image model: shape error", s.post("/predict", json={"values": [0.5] * 10}),
                  ["body", "values"], "value_error.shape")
    # The same refusals through the OIP raw image input.
    for name, data, status in [("GIF", gif, 415), ("truncated JPEG", truncated, 400), ("PNG header 20000x15000", big, 413)]:
        r = infer(s, "resnet18", [{"name": "image", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(data).decode()]}])
        error_is(f"image/v2 {status} {name}", r, status)
    error_is("image/v2 400 bad base64", infer(s, "resnet18", [{"name": "image", "datatype": "BYTES", "shape": [1], "data": ["@@@"]}]), 400)
    error_is("image/v2 400 base64 count != shape", infer(s, "resnet18", [{"name": "image", "datatype": "BYTES", "shape": [2],
                                                                         "data": [base64.b64encode(png).decode()]}]), 400)
    error_is("image/v2 400 image and tensor input both", infer(s, "resnet18", [
        {"name": "image", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(png).decode()]},
        {"name": "input", "datatype": "FP32", "shape": [1, 3, 224, 224], "parameters": {"binary_data_size": 0}}]), 400)
    error_is("image/v2 400 image input declared FP32", infer(s, "resnet18", [{"name": "image", "datatype": "FP32", "shape": [1], "data": [1]}]), 400)
    blob = oc.encode_bytes([png])
    for name, payload in [("length prefix past the end", blob[:4] + blob[4:-1]),
                          ("cut-off length prefix", blob + b"\1\0")]:
        h = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": len(payload)}}]}
        error_is(f"image/v2 400 BYTES framing: {name}", oc.post_binary(s.session, s.url("/v2/models/resnet18/infer"), h, [payload]), 400)
    # The tensor input works as well (the preprocessed tensor of the JPEG, binary).
    import torchvision.transforms as T
    from PIL import Image
    import io
    tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    t = tf(Image.open(io.BytesIO(jpeg)).convert("RGB")).unsqueeze(0).numpy()
    h = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 224, 224], "parameters": {"binary_data_size": t.nbytes}}]}
    r = oc.post_binary(s.session, s.url("/v2/models/resnet18/infer"), h, [t.tobytes()])
    check("image/v2 preprocessed tensor input == the image's argmax",
          r.status_code == 200 and int(np.argmax(jbody(r)["outputs"][0]["data"])) == i1, f"{r.status_code} {r.content[:200]!r}")


def section_overload(cli, repo):
    """429 (queue full) and 503 (queue wait expired) with Retry-After: 1, in both error styles.
    One inference worker is kept busy by a batch of sixteen images (a "blocker", about a second
    of resnet18 on one thread); requests sent meanwhile queue behind it (and expire after 50 ms)
    or find the queue full."""
    img = sm.image_bytes(sm.test_image(), "JPEG", quality=90)
    body, ctype = multipart([("file", "a.jpg", "image/jpeg", img)])
    sixteen = oc.encode_bytes([img] * 16)
    with Server(cli, [repo / "resnet18", "--max-batch-size", "16", "--max-queue-size", "2", "--queue-timeout-us", "50000",
                      "--threads", "1"]) as s:
        def predict():
            return requests.post(s.url("/predict"), data=body, headers={"Content-Type": ctype}, timeout=60)

        def v2():
            b64 = base64.b64encode(img).decode()
            return requests.post(s.url("/v2/models/resnet18/infer"), timeout=60,
                                 json={"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "data": [b64]}]})

        def blocker():
            t = time.time()
            h = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [16],
                             "parameters": {"binary_data_size": len(sixteen)}}]}
            r = oc.post_binary(requests, s.url("/v2/models/resnet18/infer"), h, [sixteen], timeout=60)
            return r, time.time() - t

        def behind_blocker(calls):
            with cf.ThreadPoolExecutor(len(calls) + 1) as ex:
                b = ex.submit(blocker)
                time.sleep(0.15)
                rs = list(ex.map(lambda f: f(), calls))
                br, took = b.result()
            check("overload/the blocker itself 200", br.status_code == 200, f"{br.status_code} {br.content[:200]!r}")
            return rs, took

        def styled(name, r, status, predict_style):
            want_body = {"detail": "Too Many Requests" if status == 429 else "Service Unavailable"}
            ok = r.status_code == status and r.headers.get("Retry-After") == "1" and (
                jbody(r) == want_body if predict_style else list(jbody(r) or {}) == ["error"])
            check(name, ok, f"{r.status_code} {r.content[:200]!r} Retry-After={r.headers.get('Retry-After')}")

        (rp, rv), took = behind_blocker([predict, v2])
        styled(f"overload/predict 503 after the queue wait (blocker {took:.2f} s)", rp, 503, True)
        styled(f"overload/v2 503 after the queue wait (blocker {took:.2f} s)", rv, 503, False)
        rs, took = behind_blocker([predict, v2] * 4)
        statuses = [r.status_code for r in rs]
        check("overload/queue of 2: two queued (503 later), six refused 429",
              sorted(statuses) == [429] * 6 + [503] * 2, f"{statuses} (blocker {took:.2f} s)")
        for i, r in enumerate(rs):
            if r.status_code in (429, 503):
                styled(f"overload/{'predict' if i % 2 == 0 else 'v2'} {r.status_code} body and Retry-After", r,
                       r.status_code, i % 2 == 0)
        r = v2()
        check("overload/served again once idle", r.status_code == 200, f"{r.status_code}")
        # The request's own `timeout` parameter (µs of queue wait) behind a blocker.
        with cf.ThreadPoolExecutor(2) as ex:
            b = ex.submit(blocker)
            time.sleep(0.15)
            b64 = base64.b64encode(img).decode()
            r = requests.post(s.url("/v2/models/resnet18/infer"), timeout=60, json={
                "parameters": {"timeout": 1000},
                "inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "data": [b64]}]})
            b.result()
        styled("overload/v2 parameters.timeout 1000 us behind a blocker: 503", r, 503, False)
        m = metric_samples(s.get("/metrics").text)
        lab = dict(model="resnet18", version="1")
        got = {k: metric(m, "torchless_inference_request_failure", **lab, reason=k) for k in ("rejected", "timeout", "invalid")}
        check("overload/metrics: failures rejected 6, timeout 5, invalid 0", got == {"rejected": 6, "timeout": 5, "invalid": 0},
              f"{got}")
        got = (metric(m, "torchless_inference_request_success", **lab), metric(m, "torchless_inference_count", **lab))
        # three blockers of 16 rows and one single request
        check("overload/metrics: 4 successes, 49 rows inferred", got == (4, 49), f"{got}")


# =============================================================================================
# 3 Repository mode and torchless.json
# =============================================================================================

def section_repository(cli, models, work):
    root = work / "repos"
    if root.exists():
        shutil.rmtree(root)
    mlp_v1, mlp_v2 = root / "src" / "v1.onnx", root / "src" / "v2.onnx"
    mlp_v1.parent.mkdir(parents=True)
    shutil.copy(models / "mlp.onnx", mlp_v1)
    sm.mlp_plus_one(models / "mlp.onnx", mlp_v2)

    def mlp_repo(name, config=None, labels=None):
        r = root / name
        for v, f in [(1, mlp_v1), (2, mlp_v2)]:
            (r / "mlp" / str(v)).mkdir(parents=True)
            shutil.copy(f, r / "mlp" / str(v) / "model.onnx")
        if config is not None:
            sm.write_config(r / "mlp", config)
        if labels is not None:
            (r / "mlp" / "labels.txt").write_text(labels)
        return r

    x = {"inputs": [fp32_input("input", np.ones((1, 10)))]}
    # Default policy: the latest version only.
    with Server(cli, [mlp_repo("default")]) as s:
        r = s.get("/v2/models/mlp")
        check("repo/default policy serves the latest version only", r.status_code == 200 and jbody(r)["versions"] == ["2"],
              f"{r.content[:200]!r}")
        error_is("repo/default policy: version 1 is 404", s.post("/v2/models/mlp/versions/1/infer", json=x), 404)
        r = s.post("/predict", json={"values": [1.0] * 10})
        check("repo/the only model serves /predict", r.status_code == 200, f"{r.status_code} {r.content[:200]!r}")
        v2 = jbody(r)["prediction"][0][0] if r.status_code == 200 else None
    with Server(cli, [mlp_repo("specific", {"version_policy": {"specific": [1]}})]) as s:
        r = s.get("/v2/models/mlp")
        check("repo/specific [1]", r.status_code == 200 and jbody(r)["versions"] == ["1"], f"{r.content[:200]!r}")
        r = s.post("/v2/models/mlp/infer", json=x)
        j = jbody(r)
        check("repo/specific [1]: latest is 1, answer = v2 - 1", r.status_code == 200 and j["model_version"] == "1"
              and v2 is not None and abs(j["outputs"][0]["data"][0] - (v2 - 1)) < 1e-5, f"{r.content[:200]!r} v2={v2}")
    with Server(cli, [mlp_repo("latest2", {"version_policy": {"latest": 2}, "name": "mlp"})]) as s:
        r = s.get("/v2/models/mlp")
        check("repo/latest 2 serves both", r.status_code == 200 and jbody(r)["versions"] == ["1", "2"], f"{r.content[:200]!r}")
    # Single model folder mode, --model-name.
    single = mlp_repo("single", {"version_policy": "all"})
    with Server(cli, [single / "mlp"]) as s:
        r = s.get("/v2/models/mlp")
        check("repo/single model folder", r.status_code == 200 and jbody(r)["versions"] == ["1", "2"], f"{r.content[:200]!r}")
        r = s.post("/predict", json={"values": [1.0] * 10})
        check("repo/single model folder serves /predict with the latest", r.status_code == 200 and v2 is not None
              and abs(jbody(r)["prediction"][0][0] - v2) < 1e-6, f"{r.content[:200]!r}")
    with Server(cli, [str(single / "mlp") + "/", "--model-name", "scorer"]) as s:
        check("repo/--model-name on a model folder", s.get("/v2/models/scorer").status_code == 200
              and s.get("/v2/models/mlp").status_code == 404, "")
    with Server(cli, [models / "mlp.onnx", "--model-name", "scorer"]) as s:
        r = s.post("/v2/models/scorer/infer", json=x)
        check("repo/--model-name on a file", r.status_code == 200 and jbody(r)["model_name"] == "scorer"
              and s.get("/v2/models/mlp").status_code == 404, f"{r.content[:200]!r}")
        check("repo/--model-name: /predict still bound", s.post("/predict", json={"values": [1.0] * 10}).status_code == 200, "")
    # --predict-model over several models; without it /predict is 404.
    multi = root / "multi"
    sm.identity_model(multi / "id_int64" / "1" / "model.onnx", "INT64")
    sm.pair_model(multi / "pair" / "1" / "model.onnx")
    with Server(cli, [multi]) as s:
        body_is("repo/several models, no --predict-model: /predict 404", s.post("/predict", json={"values": [1, 2, 3]}),
                404, {"detail": "Not Found"})
    with Server(cli, [multi, "--predict-model", "id_int64"]) as s:
        body_is("repo/--predict-model id_int64: integers", s.post("/predict", json={"values": [1, -2, 9007199254740993]}),
                200, {"prediction": [[1, -2, 9007199254740993]]})
        body_is("repo/--predict-model: integral float accepted", s.post("/predict", json={"values": [1.0, 2, 3]}),
                200, {"prediction": [[1, 2, 3]]})
        validation_is("repo/--predict-model: non-integral value for an integer input", s.post("/predict", json={"values": [1, 2.5, 3]}),
                      ["body", "values", 1], "type_error.integer")
        validation_is("repo/--predict-model: integer out of range", s.post("/predict", json={"values": [1, 2, 2 ** 63]}),
                      ["body", "values", 2], "type_error.integer")
    with Server(cli, [multi, "--predict-model", "pair"]) as s:
        validation_is("repo/--predict-model pair: two inputs refused", s.post("/predict", json={"values": [1, 2, 3, 4]}),
                      ["body", "values"], "value_error.shape")
    code, err = start_refused(cli, [multi, "--predict-model", "nope"])
    check("repo/--predict-model unknown: refused", code not in (None, 0) and "nope" in err, f"{code} {err[-300:]}")
    # Refused at start: unknown keys, labels count, name mismatch, bad policy.
    for name, config, labels, needle in [
        ("unknown top-level key", {"max_batchsize": 4}, None, "max_batchsize"),
        ("unknown key in preprocessing", {"preprocessing": {"kind": "none", "resise": 256}}, None, "resise"),
        ("unknown key in dynamic_batching", {"dynamic_batching": {"max_queue_delay": 5}}, None, "max_queue_delay"),
        ("labels count mismatch", {"postprocessing": {"kind": "argmax", "labels": "labels.txt"}}, "a\nb\nc\n", "labels"),
        ("name differs from the folder", {"name": "other"}, None, "other"),
        ("version_policy specific of a missing version", {"version_policy": {"specific": [5]}}, None, "5"),
        ("wrong datatype declared", {"inputs": [{"name": "input", "datatype": "INT32", "shape": [10]}]}, None, "input"),
        ("not JSON", None, None, "JSON"),
    ]:
        r = mlp_repo("bad-" + re.sub(r"\W+", "-", name), config, labels)
        if config is None:
            (r / "mlp" / "torchless.json").write_text("{not json")
        code, err = start_refused(cli, [r])
        check(f"repo/refused at start: {name}", code not in (None, 0) and needle in err, f"exit {code}: {err[-300:]}")
    # /predict on an unbatched model: values of the declared shape, no batch dimension added.
    with Server(cli, [work / "proto" / "fixed"]) as s:
        body_is("repo/unbatched model: /predict nested", s.post("/predict", json={"values": [[1, 2, 3], [4, 5, 6]]}), 200,
                {"prediction": [[2.0, 4.0, 6.0], [8.0, 10.0, 12.0]]})
        body_is("repo/unbatched model: /predict flat", s.post("/predict", json={"values": [1, 2, 3, 4, 5, 6]}), 200,
                {"prediction": [[2.0, 4.0, 6.0], [8.0, 10.0, 12.0]]})
    # Postprocessing: argmax without labels, top_k with softmax and labels.
    post = root / "post"
    for name, config, labels in [("argmax", {"postprocessing": {"kind": "argmax"}}, None),
                                 ("topk", {"postprocessing": {"kind": "top_k", "top_k": 3, "labels": "labels.txt"}},
                                  sm.CLASSIFIER_LABELS)]:
        sm.classifier_model(post / name / "1" / "model.onnx")
        sm.write_config(post / name, config)
        if labels:
            (post / name / "labels.txt").write_text("\n".join(labels) + "\n")
    scores = [0.1, 0.9, 0.3, 0.7, 0.2]
    with Server(cli, [post / "argmax"]) as s:
        body_is("repo/argmax without labels: the index", s.post("/predict", json={"values": scores}), 200, {"prediction": 1})
    with Server(cli, [post / "topk"]) as s:
        r = s.post("/predict", json={"values": scores})
        x64 = np.array(scores, dtype=np.float32).astype(np.float64)
        soft = np.exp(x64 - x64.max()) / np.exp(x64 - x64.max()).sum()
        order = [1, 3, 2]
        j = jbody(r)
        ok = r.status_code == 200 and j and list(j) == ["prediction", "top_k"] and j["prediction"] == "dog" and \
            [(t["label"], t["index"]) for t in j["top_k"]] == [(sm.CLASSIFIER_LABELS[i], i) for i in order] and \
            all(list(t) == ["label", "index", "score"] for t in j["top_k"]) and \
            np.allclose([t["score"] for t in j["top_k"]], soft[order], rtol=0, atol=1e-6)
        check("repo/top_k 3 with softmax and labels", ok, f"{r.status_code} {r.content[:300]!r} want scores {soft[order]}")
        if ok:
            want = "".join(f'"score":{py_f32(t["score"])}' for t in j["top_k"])
            got = "".join(re.findall(r'"score":[^,}]+', r.text))
            check("repo/top_k scores in float32 shortest digits", got == want, f"{got} vs {want}")
    # predict.enabled / predict.output in torchless.json.
    cfg = root / "cfgpredict"
    sm.twice_model(cfg / "twice" / "1" / "model.onnx")
    sm.write_config(cfg / "twice", {"predict": {"enabled": True, "output": "b"}})
    sm.identity_model(cfg / "id_fp32" / "1" / "model.onnx", "FP32")
    with Server(cli, [cfg]) as s:
        body_is("repo/predict.enabled and predict.output pick the model and output",
                s.post("/predict", json={"values": [1, 2, 3]}), 200, {"prediction": [[2.0, 4.0, 6.0]]})
    sm.write_config(cfg / "id_fp32", {"predict": {"enabled": True}})
    code, err = start_refused(cli, [cfg])
    check("repo/two models enabling /predict: refused", code not in (None, 0) and "predict" in err, f"{code} {err[-300:]}")
    # Labels whose count matches are accepted: argmax over 1 class gives its name.
    with Server(cli, [mlp_repo("labels1", {"postprocessing": {"kind": "argmax", "labels": "labels.txt"}}, "only\n")]) as s:
        body_is("repo/labels file with the right count: /predict gives the label",
                s.post("/predict", json={"values": [1.0] * 10}), 200, {"prediction": "only"})


# =============================================================================================
# 5 Dynamic batching
# =============================================================================================

def metric_samples(text):
    from prometheus_client.parser import text_string_to_metric_families
    out = {}
    for fam in text_string_to_metric_families(text):
        for smp in fam.samples:
            out[(smp.name, tuple(sorted(smp.labels.items())))] = smp.value
    return out


def metric(samples, name, **labels):
    """A sample's value; counters are looked up with and without prometheus_client's _total."""
    key = tuple(sorted(labels.items()))
    for n in (name, name + "_total"):
        if (n, key) in samples:
            return samples[(n, key)]
    return None


def section_batching(cli, repo):
    rng = np.random.default_rng(21)
    with Server(cli, [repo, "--max-batch-size", "8", "--max-queue-delay-us", "2000", "--predict-model", "mlp"]) as s:
        reqs = [rng.standard_normal((1 + i % 4, 10)).astype(np.float32) for i in range(24)]
        single = []
        for x in reqs:
            r = infer(s, "mlp", [fp32_input("input", x)])
            single.append(out_array(jbody(r)) if r.status_code == 200 else None)
        check("batching/single answers", all(a is not None for a in single), "")
        before = metric_samples(s.get("/metrics").text)

        def send(i):
            x = reqs[i % len(reqs)]
            r = requests.post(s.url("/v2/models/mlp/infer"), json={"inputs": [fp32_input("input", x)]}, timeout=60)
            return i, r

        with cf.ThreadPoolExecutor(12) as ex:
            results = list(ex.map(send, range(96)))
        bad = [(i, r.status_code) for i, r in results if r.status_code != 200]
        check("batching/96 concurrent requests of 1..4 rows all 200", not bad, f"{bad[:5]}")
        wrong = [i for i, r in results if r.status_code == 200 and not
                 (out_array(jbody(r)).shape == single[i % len(reqs)].shape
                  and np.allclose(out_array(jbody(r)), single[i % len(reqs)], rtol=1e-6, atol=1e-6))]
        check("batching/each answer equals its own single-request answer", not wrong, f"{len(wrong)} differ, e.g. {wrong[:5]}")
        after = metric_samples(s.get("/metrics").text)
        lab = dict(model="mlp", version="1")
        rows = metric(after, "torchless_inference_count", **lab) - metric(before, "torchless_inference_count", **lab)
        execs = metric(after, "torchless_inference_exec_count", **lab) - metric(before, "torchless_inference_exec_count", **lab)
        want_rows = sum(reqs[i % len(reqs)].shape[0] for i in range(96))
        check("batching/inference_count counts the rows", rows == want_rows, f"{rows} vs {want_rows}")
        check("batching/exec_count < inference_count (batches formed)", 0 < execs < rows, f"exec {execs} rows {rows}")
        hist = metric(after, "torchless_inference_batch_size_count", **lab)
        check("batching/batch_size histogram counts executions",
              hist is not None and hist == metric(after, "torchless_inference_exec_count", **lab), f"{hist}")
        # /predict (one row each) batched together with v2 requests of the same key.
        def send_mixed(i):
            x = reqs[i % len(reqs)]
            if i % 2:
                r = requests.post(s.url("/predict"), json={"values": [float(v) for v in x[0]]}, timeout=60)
                return i, r, np.array(jbody(r)["prediction"]) if r.status_code == 200 else None, single[i % len(reqs)][:1]
            r = requests.post(s.url("/v2/models/mlp/infer"), json={"inputs": [fp32_input("input", x)]}, timeout=60)
            return i, r, out_array(jbody(r)) if r.status_code == 200 else None, single[i % len(reqs)]

        with cf.ThreadPoolExecutor(12) as ex:
            results = list(ex.map(send_mixed, range(48)))
        wrong = [(i, r.status_code) for i, r, got, want in results
                 if got is None or got.shape != want.shape or not np.allclose(got, want, rtol=1e-6, atol=1e-6)]
        check("batching/mixed /predict and v2 requests: each its own answer", not wrong, f"{wrong[:5]}")
        # Rows over max_batch_size: 400 at admission.
        error_is("batching/9 rows over max_batch_size 8: 400", infer(s, "mlp", [fp32_input("input", np.zeros((9, 10)))]), 400)

        # Different per-row shapes never share an execution.
        shapes = [(1, 3), (2, 5), (1, 7), (3, 3), (2, 7), (1, 5)]
        xs = [rng.standard_normal(sh).astype(np.float32) for sh in shapes]

        def send_rows(i):
            x = xs[i % len(xs)]
            r = requests.post(s.url("/v2/models/rows/infer"), json={"inputs": [fp32_input("x", x)]}, timeout=60)
            return i, r

        with cf.ThreadPoolExecutor(12) as ex:
            results = list(ex.map(send_rows, range(72)))
        bad = [(i, r.status_code, r.content[:100]) for i, r in results if r.status_code != 200 or not
               np.array_equal(out_array(jbody(r)).astype(np.float32), 2 * xs[i % len(xs)])]
        check("batching/mixed per-row shapes: every answer is its own 2x", not bad, f"{len(bad)} wrong, e.g. {bad[:3]}")
        m = metric_samples(s.get("/metrics").text)
        lab = dict(model="rows", version="1")
        check("batching/rows model: batches formed", metric(m, "torchless_inference_exec_count", **lab)
              < metric(m, "torchless_inference_count", **lab), "")


# =============================================================================================
# 6.1 /metrics agrees with the requests sent
# =============================================================================================

def section_metrics(cli, models):
    with Server(cli, [models / "mlp.onnx"]) as s:
        sent = {"p200": 7, "p422": 3, "v200": 5, "v400": 2}
        for _ in range(sent["p200"]):
            s.post("/predict", json={"values": [0.25] * 10})
        for _ in range(sent["p422"]):
            s.post("/predict", json={"values": [0.25] * 9})
        for _ in range(sent["v200"]):
            infer(s, "mlp", [fp32_input("input", np.ones((2, 10)))])
        for _ in range(sent["v400"]):
            infer(s, "mlp", [fp32_input("input", np.ones((2, 9)))])
        s.get("/v2/models/mlp")
        s.get("/nowhere")
        r = s.get("/metrics")
        check("metrics/content type 0.0.4", r.headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
              r.headers.get("Content-Type"))
        try:
            m = metric_samples(r.text)
        except Exception as e:  # noqa: BLE001 (a parse failure is the check's result)
            check("metrics/parses with prometheus_client", False, f"{e}")
            return
        check("metrics/parses with prometheus_client", True)
        lab = dict(model="mlp", version="1")
        want = {
            ("torchless_inference_request_success", ()): sent["p200"] + sent["v200"],
            ("torchless_inference_request_failure", (("reason", "invalid"),)): sent["p422"] + sent["v400"],
            ("torchless_inference_request_failure", (("reason", "rejected"),)): 0,
            ("torchless_inference_count", ()): sent["p200"] + 2 * sent["v200"],
        }
        for (name, extra), value in want.items():
            got = metric(m, name, **lab, **dict(extra))
            check(f"metrics/{name}{dict(extra) or ''} == {value}", got == value, f"{got}")
        http = [("/predict", "POST", "200", sent["p200"]), ("/predict", "POST", "422", sent["p422"]),
                ("/v2/models/{name}/infer", "POST", "200", sent["v200"]), ("/v2/models/{name}/infer", "POST", "400", sent["v400"]),
                ("/v2/models/{name}", "GET", "200", 1), ("unknown", "GET", "404", 1)]
        for route, method, code, value in http:
            got = metric(m, "torchless_http_requests_total", route=route, method=method, code=code)
            check(f"metrics/http_requests_total{{{route} {method} {code}}} == {value}", got == value, f"{got}")
        ex = metric(m, "torchless_inference_exec_count", **lab)
        check("metrics/exec_count <= requests", ex is not None and 1 <= ex <= sent["p200"] + sent["v200"], f"{ex}")
        hc = metric(m, "torchless_inference_request_duration_seconds_count", **lab)
        check("metrics/request duration histogram counts the successes", hc == sent["p200"] + sent["v200"], f"{hc}")
        check("metrics/model_ready 1", metric(m, "torchless_model_ready", **lab) == 1, "")
        names = {k[0] for k in m}
        for n in ["torchless_build_info", "torchless_http_connections_active", "torchless_inference_pending_request_count",
                  "torchless_inference_queue_duration_us", "torchless_inference_batch_size_bucket",
                  "torchless_http_request_duration_seconds_bucket", "process_cpu_seconds_total",
                  "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"]:
            check(f"metrics/{n} present", n in names or n + "_total" in names, "")


def section_stuck_log(cli, models):
    """The access log never holds up the server: with stdout a pipe nobody reads (a stalled log
    collector), requests are answered and SIGTERM still ends the process within the drain bounds."""
    port = free_port()
    p = subprocess.Popen([str(cli), "serve", str(models / "mlp.onnx"), "--port", str(port)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        ses = requests.Session()
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if ses.get(f"http://127.0.0.1:{port}/v2/health/ready", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.05)
        codes = {ses.get(f"http://127.0.0.1:{port}/v2/models/mlp", timeout=10).status_code for _ in range(1500)}
        check("log/1500 requests answered with stdout stalled", codes == {200}, f"{codes}")
        p.terminate()
        try:
            code = p.wait(timeout=10)
            check("log/SIGTERM exits with stdout stalled", code in (0, 2), f"exit {code}")
        except subprocess.TimeoutExpired:
            check("log/SIGTERM exits with stdout stalled", False, "still running 10 s after SIGTERM (the log flush blocks)")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


# =============================================================================================
# 6.8 /openapi.json and /docs (check_openapi.py, docs_page.py against a real server)
# =============================================================================================

def run_external(label, cmd, timeout):
    """Runs a checker that prints "ok CASE" / "FAIL CASE: why"; each case counts as one check."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        check(f"{label}/finished within {timeout} s", False, "timeout")
        return
    n = 0
    for line in p.stdout.splitlines():
        if line.startswith("ok "):
            check(f"{label}/{line[3:]}", True)
            n += 1
        elif line.startswith("FAIL "):
            name, _, why = line[5:].partition(": ")
            check(f"{label}/{name}", False, why)
            n += 1
    check(f"{label}/ran (exit {p.returncode}, {n} cases)", n > 0 and (p.returncode == 0) == all(
        not ln.startswith("FAIL ") for ln in p.stdout.splitlines()), (p.stdout + p.stderr)[-500:])


def section_docs(cli, repo, work):
    """A real server of two models (mlp, rows) with the mlp bound to /predict."""
    with Server(cli, [repo, "--predict-model", "mlp"]) as s:
        run_external("openapi", ["/usr/bin/python3", str(HERE / "check_openapi.py"), "--url", s.base], 120)
        r = s.get("/openapi.json")
        j = jbody(r)

        def resolve(p):
            ref = p.get("$ref", "")
            return j["components"]["parameters"].get(ref.rsplit("/", 1)[-1], {}) if ref else p

        params = [resolve(p) for p in (j or {}).get("paths", {}).get("/v2/models/{name}/infer", {}).get("post", {})
                  .get("parameters", [])] if r.status_code == 200 and j else []
        check("openapi/{name} enum is the served models",
              any(p.get("name") == "name" and p.get("schema", {}).get("enum") == ["mlp", "rows"] for p in params), f"{params}")
        r = s.get("/docs")
        check("docs/page 200 with CSP default-src 'self'", r.status_code == 200 and
              r.headers.get("Content-Security-Policy") == "default-src 'self'", f"{r.status_code} {r.headers}")
        if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
            run_external("docs_page", ["/usr/bin/python3", str(HERE / "docs_page.py"), "--url", s.base,
                                       "--out", str(work / "docs")], 170)
        else:
            print("note: chromium not installed, docs_page.py skipped")


# =============================================================================================

SECTIONS = ["predict", "oip", "image", "overload", "repository", "batching", "metrics", "docs"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True, help="the torchless binary")
    ap.add_argument("--work", required=True, help="a scratch directory (models are kept there between runs)")
    ap.add_argument("--only", nargs="*", choices=SECTIONS, help="run only these sections")
    args = ap.parse_args()
    cli, work = Path(args.cli).resolve(), Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    only = set(args.only or SECTIONS)
    t0 = time.time()
    models = harness.make_models(work)
    proto = sm.proto_repository(work / "proto", models)
    sm.double_model(proto / "rows" / "1" / "model.onnx", "rows", ["batch", "n"])
    batch = sm.batching_repository(work / "batch", models)
    tmp = work / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()

    def section(name, fn, *a):
        if name not in only:
            return
        t = time.time()
        try:
            fn(*a)
        except Exception as e:  # noqa: BLE001 (a crashed section is one failure, the rest still runs)
            import traceback
            traceback.print_exc()
            check(f"{name}/section ran to the end", False, f"{type(e).__name__}: {e}")
        print(f"# {name}: {time.time() - t:.1f} s", flush=True)

    peer = Peer(models / "mlp.ts.pt") if "predict" in only else None
    try:
        section("predict", section_predict, cli, models, tmp, peer)
        section("predict", section_predict_shapes, cli, models)
    finally:
        if peer:
            peer.stop()
    if only & {"oip", "image"}:
        try:
            with Server(cli, [proto, "--predict-model", "resnet18"]) as s:
                section("oip", section_oip, s, models)
                section("image", section_image, s, models, tmp)
        except RuntimeError as e:
            check("oip/proto repository server started", False, str(e))
    section("overload", section_overload, cli, proto)
    section("repository", section_repository, cli, models, work)
    section("batching", section_batching, cli, batch)
    section("metrics", section_metrics, cli, models)
    section("metrics", section_stuck_log, cli, models)
    section("docs", section_docs, cli, batch, work)
    print(f"# total {time.time() - t0:.1f} s", flush=True)
    c.finish()


if __name__ == "__main__":
    main()
