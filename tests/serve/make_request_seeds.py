#!/usr/bin/python3
"""Seeds for fuzz_serve_request: valid and near-valid request bodies for each route.
The first byte picks the route (0 /predict JSON, 1 OIP JSON, 2 OIP binary: two more bytes give
Inference-Header-Content-Length), as fuzz_serve_request.cc reads them."""
import json
import os
import struct
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
seeds = {}
seeds["predict_flat"] = b"\x00" + json.dumps({"values": [0.1, 0.2, 0.3, 0.4]}).encode()
seeds["predict_nested"] = b"\x00" + json.dumps({"values": [[1, 2, 3, 4]]}).encode()
seeds["predict_bad"] = b"\x00" + b'{"values": [1, "a", true, null]}'
pair = {"id": "7", "parameters": {"binary_data_output": False},
        "inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "data": [[1, 2, 3, 4], [5, 6, 7, 8]]},
                   {"name": "k", "shape": [2, 2], "datatype": "INT64", "data": [1, 2, 3, 4]}],
        "outputs": [{"name": "z"}, {"name": "y", "parameters": {"binary_data": True, "classification": 2}}]}
seeds["oip_json"] = b"\x01" + json.dumps(pair).encode()
header = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "parameters": {"binary_data_size": 16}},
                     {"name": "k", "shape": [1, 2], "datatype": "INT64", "parameters": {"binary_data_size": 16}}]}
h = json.dumps(header).encode()
blob = struct.pack("<4f", 1, 2, 3, 4) + struct.pack("<2q", 5, 6)
seeds["oip_binary"] = b"\x02" + struct.pack(">H", len(h)) + h + blob
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}")
