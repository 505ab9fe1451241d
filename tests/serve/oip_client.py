"""A minimal client for the Open Inference Protocol's binary tensor data extension, written
from the extension's text (not from the server's code), for the serve suites.

    body, n = binary_request({"inputs": [...]}, [blob, ...])   # n: Inference-Header-Content-Length
    header, blobs = parse_binary_response(response)              # blobs: {output name: bytes}
"""
import json
import struct

import numpy as np

NUMPY = {"BOOL": np.bool_, "UINT8": np.uint8, "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8", "INT8": np.int8,
         "INT16": "<i2", "INT32": "<i4", "INT64": "<i8", "FP16": "<f2", "FP32": "<f4", "FP64": "<f8"}


def binary_request(header, blobs):
    """The body of a request whose JSON part is `header` (its inputs' binary_data_size set by
    the caller) followed by `blobs` in order; returns (body, JSON length)."""
    js = json.dumps(header, separators=(",", ":")).encode()
    return js + b"".join(blobs), len(js)


def post_binary(session, url, header, blobs, content_type="application/octet-stream", timeout=30):
    body, n = binary_request(header, blobs)
    return session.post(url, data=body, timeout=timeout,
                        headers={"Inference-Header-Content-Length": str(n), "Content-Type": content_type})


def encode_bytes(items):
    """BYTES tensor raw data: each element a 4-byte little-endian length, then its bytes."""
    return b"".join(struct.pack("<I", len(b)) + b for b in items)


def decode_bytes(raw):
    """The inverse of encode_bytes; raises ValueError when the prefixes do not add up."""
    out, at = [], 0
    while at < len(raw):
        if at + 4 > len(raw):
            raise ValueError("cut-off length prefix")
        (n,) = struct.unpack_from("<I", raw, at)
        at += 4
        if at + n > len(raw):
            raise ValueError("element runs past the end")
        out.append(raw[at:at + n])
        at += n
    return out


def parse_binary_response(resp):
    """(JSON header, {output name: raw bytes}) of a response; checks the framing: the header
    length, that each binary output has binary_data_size and no data, and that the sizes add up
    to the rest of the body exactly. Raises ValueError on any violation."""
    body = resp.content
    n = resp.headers.get("Inference-Header-Content-Length")
    if n is None:
        return json.loads(body), {}
    n = int(n)
    if n > len(body):
        raise ValueError(f"Inference-Header-Content-Length {n} > body {len(body)}")
    header = json.loads(body[:n])
    blobs, at = {}, n
    for o in header.get("outputs", []):
        size = (o.get("parameters") or {}).get("binary_data_size")
        if size is None:
            continue
        if "data" in o:
            raise ValueError(f"output {o['name']} has both data and binary_data_size")
        if at + size > len(body):
            raise ValueError(f"output {o['name']}: {size} bytes run past the body")
        blobs[o["name"]] = body[at:at + size]
        at += size
    if at != len(body):
        raise ValueError(f"binary sizes add up to {at - n}, the body has {len(body) - n} after the header")
    return header, blobs


def to_array(raw, datatype, shape):
    return np.frombuffer(raw, dtype=NUMPY[datatype]).reshape(shape)
