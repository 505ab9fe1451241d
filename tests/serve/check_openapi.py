#!/usr/bin/python3
"""The OpenAPI document and the /docs files of `torchless serve` (specs/serving.md 6.8).

    check_openapi.py --url BASE                            a running server
    check_openapi.py --file openapi.json [--assets DIR]    a document [and the page files: DIR/docs/...]
    check_openapi.py --dump DIR                            all that tl-docs-dump wrote: openapi.json and
                                                           the page files, openapi-edge.json, openapi-empty.json
    --no-predict: no model serves /predict; --no-models: none is loaded (no {name} enum either)

Checks that the document validates against the OAS 3.0 JSON Schema of Debian's
openapi-specification package; that every route of the server is there (--no-predict when no model
serves /predict); that every $ref resolves, every path template parameter is declared and the
operationIds are unique; that each example validates against its schema; that {name} is an enum of
the models, each with an infer example that agrees with its metadata and shows at most 64 data
elements; that the FastAPI and OIP schema names exist. Static checks of the served files: no
http:// or https:// anywhere (the document's servers block excepted), the page files total at most
40 KB, the page loads only same-origin files and has no inline script, style or handler. With --url
also the headers (Content-Security-Policy on the page, content types).
Prints "ok CASE" / "FAIL CASE: why", then `openapi: N passed, N failed`; exits 1 if anything failed.
"""
import argparse
import copy
import html.parser
import json
import math
import os
import re
import sys
import urllib.error
import urllib.request

import jsonschema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks  # noqa: E402

OAS_SCHEMA = "/usr/share/openapi-specification/schemas/v3.0/schema.json"
MAX_PAGE_BYTES = 40 * 1024
ROUTES = [("post", "/predict"), ("get", "/v2/health/live"), ("get", "/v2/health/ready"), ("get", "/v2"),
          ("get", "/v2/models/{name}"), ("get", "/v2/models/{name}/versions/{version}"),
          ("get", "/v2/models/{name}/ready"), ("get", "/v2/models/{name}/versions/{version}/ready"),
          ("post", "/v2/models/{name}/infer"), ("post", "/v2/models/{name}/versions/{version}/infer"),
          ("get", "/metrics"), ("get", "/openapi.json"), ("get", "/docs")]
SCHEMAS = ["HTTPValidationError", "ValidationError", "InferenceRequest", "RequestInput", "RequestOutput",
           "InferenceResponse", "ResponseOutput", "ModelMetadata", "TensorMetadata", "ServerMetadata", "Error"]
PAGE_FILES = {"/docs/assets/docs.js", "/docs/assets/docs.css", "/docs/assets/favicon.png"}
METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
URL_RE = re.compile(rb"https?://", re.I)

ap = argparse.ArgumentParser()
src = ap.add_mutually_exclusive_group(required=True)
src.add_argument("--url", help="base URL of a running server")
src.add_argument("--file", help="an openapi.json")
src.add_argument("--dump", help="the directory tl-docs-dump wrote")
ap.add_argument("--assets", help="with --file: the directory tl-docs-dump wrote (docs/index.html, docs/assets/...)")
ap.add_argument("--no-predict", action="store_true", help="no model serves /predict: the route must be absent")
ap.add_argument("--no-models", action="store_true", help="no model is loaded: {name} has no enum, no /predict")
args = ap.parse_args()
args.no_predict |= args.no_models

checks = Checks("openapi")
case = checks.case


def get(path):
    """(status, headers, body) of GET BASE+path."""
    try:
        with urllib.request.urlopen(args.url.rstrip("/") + path, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# ---- load ------------------------------------------------------------------------------------
files = {}  # request path -> bytes of every served file checked statically
headers = {}  # request path -> response headers (--url)
if args.url:
    for p in ["/openapi.json", "/docs", "/docs/"]:
        status, hdrs, body = get(p)
        if status != 200:
            sys.exit(f"GET {p}: HTTP {status}")
        files[p], headers[p] = body, hdrs
else:
    if args.dump:
        args.file, args.assets = os.path.join(args.dump, "openapi.json"), args.dump
    with open(args.file, "rb") as f:
        files["/openapi.json"] = f.read()
    if args.assets:
        with open(os.path.join(args.assets, "docs", "index.html"), "rb") as f:
            files["/docs"] = f.read()
# (label, document, no_predict, no_models)
documents = [("", json.loads(files["/openapi.json"]), args.no_predict, args.no_models)]
if args.dump:
    for name, no_models in (("openapi-edge.json", False), ("openapi-empty.json", True)):
        with open(os.path.join(args.dump, name)) as f:
            documents.append((name + " ", json.load(f), no_models, no_models))
doc = None  # the document being checked


class Refs(html.parser.HTMLParser):
    """The page's src/href values, and whatever CSP would refuse inline."""

    def __init__(self):
        super().__init__()
        self.refs, self.inline, self.in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href"):
            if a.get(k):
                self.refs.append(a[k])
        if tag == "script" and not a.get("src"):
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style>")
        for k in a:
            if k == "style" or k.startswith("on"):
                self.inline.append(f"{k}= on <{tag}>")


page = Refs()
if "/docs" in files:
    page.feed(files["/docs"].decode("utf-8"))
    for ref in page.refs:
        if ref.startswith("/docs/assets/"):
            if args.url:
                status, hdrs, body = get(ref)
                if status != 200:
                    sys.exit(f"GET {ref}: HTTP {status}")
                files[ref], headers[ref] = body, hdrs
            else:
                with open(os.path.join(args.assets, ref.lstrip("/")), "rb") as f:
                    files[ref] = f.read()


# ---- helpers ---------------------------------------------------------------------------------
def pointer(ref):
    if not ref.startswith("#/"):
        raise ValueError(f"not a local $ref: {ref}")
    v = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(v, dict) or part not in v:
            raise KeyError(f"unresolved $ref {ref}")
        v = v[part]
    return v


def deref(o):
    seen = set()
    while isinstance(o, dict) and "$ref" in o:
        if o["$ref"] in seen:
            raise ValueError(f"cyclic $ref {o['$ref']}")
        seen.add(o["$ref"])
        o = pointer(o["$ref"])
    return o


def operations():
    for path, item in doc.get("paths", {}).items():
        for m in METHODS:
            if m in item:
                yield path, m, item[m]


def refs_in(o, where="#"):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "$ref" and isinstance(v, str):
                yield where, v
            else:
                yield from refs_in(v, f"{where}/{k}")
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from refs_in(v, f"{where}/{i}")


def oas_to_jsonschema(o):
    """OAS 3.0 schema objects as JSON Schema draft 4: `nullable: true` adds "null" to the type."""
    if isinstance(o, dict):
        r = {k: oas_to_jsonschema(v) for k, v in o.items()}
        if r.get("nullable") is True and isinstance(r.get("type"), str):
            r["type"] = [r["type"], "null"]
        return r
    if isinstance(o, list):
        return [oas_to_jsonschema(v) for v in o]
    return o


def examples():
    """(where, schema, value) of every example next to a schema."""
    def media(where, m):
        m = deref(m)
        if "schema" not in m:
            return
        if "example" in m:
            yield where, m["schema"], m["example"]
        for k, ex in m.get("examples", {}).items():
            yield f"{where} examples[{k}]", m["schema"], deref(ex)["value"]

    for path, m, op in operations():
        at = f"{m.upper()} {path}"
        for p in op.get("parameters", []):
            yield from media(f"{at} parameter {deref(p)['name']}", p)
        if "requestBody" in op:
            for ct, mt in deref(op["requestBody"]).get("content", {}).items():
                yield from media(f"{at} request {ct}", mt)
        for code, r in op.get("responses", {}).items():
            for ct, mt in deref(r).get("content", {}).items():
                yield from media(f"{at} {code} {ct}", mt)
    for kind in ("schemas", "parameters"):
        for name, s in doc.get("components", {}).get(kind, {}).items():
            s = s.get("schema", {}) if kind == "parameters" else s
            if "example" in s:
                yield f"components/{kind}/{name}", s, s["example"]


def leaves(v):
    return sum(leaves(x) for x in v) if isinstance(v, list) else 1


# ---- document checks -------------------------------------------------------------------------
def oas_schema():
    with open(OAS_SCHEMA) as f:
        schema = json.load(f)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        return "; ".join(f"{'/'.join(map(str, e.path))}: {e.message[:200]}" for e in errors[:5])


def all_refs_resolve():
    bad = []
    for where, ref in refs_in(doc):
        try:
            pointer(ref)
        except (KeyError, ValueError) as e:
            bad.append(f"{where}: {e}")
    return "; ".join(bad[:5]) or None


def path_params():
    bad = []
    for path, m, op in operations():
        declared = {deref(p)["name"] for p in doc["paths"][path].get("parameters", []) + op.get("parameters", [])
                    if deref(p)["in"] == "path"}
        used = set(re.findall(r"\{([^}]+)\}", path))
        if declared != used:
            bad.append(f"{m.upper()} {path}: declared {sorted(declared)}, template {sorted(used)}")
    return "; ".join(bad) or None


def operation_ids():
    ids = [op.get("operationId") for _, _, op in operations()]
    dup = {i for i in ids if ids.count(i) > 1}
    return f"missing or duplicate: {dup or 'missing'}" if None in ids or dup else None


def examples_valid():
    resolver = jsonschema.RefResolver("", oas_to_jsonschema(copy.deepcopy(doc)))
    bad, n = [], 0
    for where, schema, value in examples():
        n += 1
        errs = list(jsonschema.Draft4Validator(oas_to_jsonschema(schema), resolver=resolver).iter_errors(value))
        if errs:
            bad.append(f"{where}: {errs[0].message[:160]}")
    if n < 10:
        return f"only {n} examples"
    return "; ".join(bad[:5]) or None


def model_names():
    p = doc["paths"]["/v2/models/{name}/infer"]["post"]["parameters"]
    p = [deref(x) for x in p if deref(x)["name"] == "name"][0]
    return deref(p["schema"]).get("enum", [])


def infer_examples(path):
    media = deref(doc["paths"][path]["post"]["requestBody"])["content"]["application/json"]
    return {k: deref(v)["value"] for k, v in media.get("examples", {}).items()}


def metadata_examples():
    media = deref(doc["paths"]["/v2/models/{name}"]["get"]["responses"]["200"])["content"]["application/json"]
    return {k: deref(v)["value"] for k, v in media.get("examples", {}).items()}


def model_example_agrees(name):
    """The model's infer examples name its inputs with its datatypes and shapes; <= 64 elements."""
    meta = metadata_examples().get(name)
    if meta is None:
        return "no metadata example"
    tensors = {t["name"]: t for t in meta["inputs"]}
    for path in ("/v2/models/{name}/infer", "/v2/models/{name}/versions/{version}/infer"):
        exs = {k: v for k, v in infer_examples(path).items() if k == name or k.startswith(name + " (")}
        if name not in exs:
            return f"{path}: no example named {name!r}"
        for key, ex in exs.items():
            for inp in ex["inputs"]:
                t = tensors.get(inp["name"])
                if t is None or t["datatype"] != inp["datatype"] or len(t["shape"]) != len(inp["shape"]):
                    return f"{key}: input {inp['name']} does not match the metadata {t}"
                if any(d != -1 and d != e for d, e in zip(t["shape"], inp["shape"])):
                    return f"{key}: shape {inp['shape']} against {t['shape']}"
                n = leaves(inp["data"])
                if n > 64:
                    return f"{key}: {n} data elements shown"
                if n != math.prod(inp["shape"]) and n != 64:
                    return f"{key}: {n} elements for shape {inp['shape']}"
    return None


def predict_example():
    media = deref(doc["paths"]["/predict"]["post"]["requestBody"])["content"]
    if "multipart/form-data" not in media:
        return "no multipart/form-data body"
    file = deref(media["multipart/form-data"]["schema"])["properties"]["file"]
    if file.get("format") != "binary":
        return "file is not binary"
    exs = [deref(v)["value"] for v in media["application/json"].get("examples", {}).values()]
    exs += [media["application/json"]["example"]] if "example" in media["application/json"] else []
    if len(exs) != 1 or not 0 < leaves(exs[0]["values"]) <= 64:
        return f"expected one example with 1..64 values: {exs}"
    codes = set(doc["paths"]["/predict"]["post"]["responses"])
    return None if {"200", "400", "413", "415", "422", "429", "503"} <= codes else f"responses {sorted(codes)}"


def no_external_urls_in_doc():
    body = json.dumps({k: v for k, v in doc.items() if k != "servers"})
    m = re.search("https?://", body, re.I)
    return f"{body[max(0, m.start() - 40):m.end() + 40]!r}" if m else None


def check_document(label, no_predict, no_models):
    c = lambda name, fn: case(label + name, fn)  # noqa: E731
    c("oas30-schema", oas_schema)
    c("openapi-3.0.3", lambda: None if doc.get("openapi") == "3.0.3" else f"openapi is {doc.get('openapi')!r}")
    c("servers", lambda: None if doc.get("servers", [{"url": "/"}]) == [{"url": "/"}] else f"{doc['servers']}")
    for method, path in ROUTES:
        absent = path == "/predict" and no_predict
        have = method in doc.get("paths", {}).get(path, {})
        c(f"route {method.upper()} {path}",
          lambda have=have, absent=absent: None if have != absent else ("present" if absent else "missing"))
    c("schema-names", lambda: ", ".join(n for n in SCHEMAS if n not in doc.get("components", {}).get("schemas", {}))
      or None)
    c("refs-resolve", all_refs_resolve)
    c("path-params", path_params)
    c("operation-ids", operation_ids)
    c("examples-validate", examples_valid)
    names = []
    c("name-enum", lambda: names.extend(model_names()) or
      (None if bool(names) != no_models else f"{{name}} enum: {names}"))
    for name in names:
        c(f"model {name}", lambda name=name: model_example_agrees(name))
    if not no_predict:
        c("predict", predict_example)
    c("no-external-urls", no_external_urls_in_doc)


for label, doc, no_predict, no_models in documents:
    check_document(label, no_predict, no_models)


# ---- page files ------------------------------------------------------------------------------
def no_external_urls():
    bad = []
    for path, body in files.items():
        m = URL_RE.search(body) if path != "/openapi.json" else None  # the document: checked above
        if m:
            bad.append(f"{path}: {body[max(0, m.start() - 40):m.end() + 40]!r}")
    return "; ".join(bad) or None



if "/docs" in files:
    case("page-no-external-urls", no_external_urls)
    sizes = {p: len(b) for p, b in files.items() if p.startswith("/docs") and p != "/docs/"}
    print("page files: " + ", ".join(f"{p} {n} B" for p, n in sizes.items()) + f", total {sum(sizes.values())} B")
    case("page-size", lambda: None if sum(sizes.values()) <= MAX_PAGE_BYTES else f"{sum(sizes.values())} bytes")
    case("page-assets", lambda: None if PAGE_FILES <= set(files)
         else f"page references {page.refs}")
    case("page-same-origin", lambda: ", ".join(r for r in page.refs if not r.startswith("/") or r.startswith("//"))
         or None)
    case("page-no-inline", lambda: ", ".join(page.inline) or None)

if args.url:
    def header_checks():
        bad = []
        csp = headers["/docs"].get("Content-Security-Policy", "")
        if "default-src 'self'" not in csp:
            bad.append(f"/docs CSP {csp!r}")
        want = {"/docs": "text/html", "/openapi.json": "application/json",
                "/docs/assets/docs.js": "javascript", "/docs/assets/docs.css": "text/css",
                "/docs/assets/favicon.png": "image/png"}
        for p, t in want.items():
            if t not in headers.get(p, {}).get("Content-Type", ""):
                bad.append(f"{p} Content-Type {headers.get(p, {}).get('Content-Type')!r}")
        if files["/docs/"] != files["/docs"]:
            bad.append("/docs/ differs from /docs")
        return "; ".join(bad) or None

    case("headers", header_checks)

checks.finish()
