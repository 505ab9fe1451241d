#!/usr/bin/python3
"""The /docs page of `torchless serve` in a real browser (specs/serving.md 6.8).

    docs_page.py --url BASE --out DIR     against a running server (BASE like http://127.0.0.1:8080)
    docs_page.py --fake SITE --out DIR    against a fake server of tl-docs-dump's SITE directory

The fake server sends the page files and /openapi.json as the real one does (CSP default-src
'self', X-Request-ID), answers POST /predict with {"prediction":[[0.5]]} and anything else with
404 {"detail":"Not Found"}. Debian's chromium runs headless with a host resolver that reaches
nothing but 127.0.0.1:
  1. --dump-dom BASE/docs: #status reads "ok"; every route is listed ("POST /predict",
     "POST /v2/models/{name}/infer", ...) with a Try it button; chromium logs no console message
     (errors, CSP violations: the page itself logs nothing).
  2. --screenshot DIR/docs.png --window-size=1280,2000 of BASE/docs: a PNG of that size, not blank.
  3. the hash auto-try: BASE/docs#try=post-/predict writes 200 into #try-status; so does
     #try=post-/v2/models/{name}/infer with the first model (fake: the server saw the request).
  4. selenium + chromedriver: open POST /predict, click Try it with the example body, see 200 and
     an X-Request-ID; the same with an uploaded file as multipart (fake: the server saw a `file`
     part; real: 200 or 415); picking a model in {name} picks its infer example; the browser log
     (goog:loggingPrefs) has no error and no CSP violation. DIR/docs-tryit.png is kept.
Prints "ok CASE" / "FAIL CASE: why", then `docs_page: N passed, N failed`; exits 1 if anything failed.
"""
import argparse
import html.parser
import http.server
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks  # noqa: E402

ROUTES = ["POST /predict", "GET /v2/health/live", "GET /v2/health/ready", "GET /v2", "GET /v2/models/{name}",
          "GET /v2/models/{name}/versions/{version}", "GET /v2/models/{name}/ready",
          "GET /v2/models/{name}/versions/{version}/ready", "POST /v2/models/{name}/infer",
          "POST /v2/models/{name}/versions/{version}/infer", "GET /metrics", "GET /openapi.json", "GET /docs"]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]

ap = argparse.ArgumentParser()
src = ap.add_mutually_exclusive_group(required=True)
src.add_argument("--url", help="base URL of a running server")
src.add_argument("--fake", metavar="SITE", help="serve tl-docs-dump's output with a fake /predict")
ap.add_argument("--out", required=True, help="directory for the screenshots and DOM dumps")
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)

checks = Checks("docs_page")
case = checks.case


# ---- the fake server -------------------------------------------------------------------------
class Fake(http.server.BaseHTTPRequestHandler):
    """The page, the document and a POST /predict that always predicts 0.5."""
    site = None
    seen = []  # (method, path, content type, body) of every request

    TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
             ".css": "text/css; charset=utf-8", ".png": "image/png", ".json": "application/json"}

    def answer(self, status, body, ctype="application/json"):
        rid = self.headers.get("X-Request-ID", "")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", "default-src 'self'")
        self.send_header("X-Request-ID", rid if re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", rid) else secrets.token_hex(16))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        Fake.seen.append(("GET", path, "", b""))
        rel = {"/docs": "docs/index.html", "/docs/": "docs/index.html", "/openapi.json": "openapi.json"}.get(path)
        if rel is None and re.fullmatch(r"/docs/assets/[A-Za-z0-9_.-]+", path):
            rel = path.lstrip("/")
        file = os.path.join(Fake.site, rel) if rel else None
        if file and os.path.isfile(file):
            with open(file, "rb") as f:
                self.answer(200, f.read(), Fake.TYPES.get(os.path.splitext(file)[1], "application/octet-stream"))
        else:
            self.answer(404, b'{"detail":"Not Found"}')

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Fake.seen.append(("POST", self.path, self.headers.get("Content-Type", ""), body))
        if self.path == "/predict":
            self.answer(200, b'{"prediction":[[0.5]]}')
        else:
            self.answer(404, b'{"detail":"Not Found"}')

    def log_message(self, *a):
        pass


if args.fake:
    Fake.site = args.fake
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
else:
    base = args.url.rstrip("/")


# ---- headless chromium -----------------------------------------------------------------------
def chromium(url, *extra):
    """(stdout, console lines) of one headless run with a throwaway profile."""
    with tempfile.TemporaryDirectory() as profile:
        r = subprocess.run([CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000",
                            "--enable-logging=stderr", "--v=0", *extra, url],
                           capture_output=True, text=True, timeout=120)
    console = [line for line in r.stderr.splitlines() if ":CONSOLE" in line]
    return r.stdout, console


class Dom(html.parser.HTMLParser):
    """Text by element id, data-op values, Try it buttons and the page's whole text."""

    def __init__(self):
        super().__init__()
        self.by_id, self.ops, self.buttons, self.text, self.open = {}, [], 0, [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("data-op"):
            self.ops.append(a["data-op"])
        if tag == "button" and "try" in (a.get("class") or "").split():
            self.buttons += 1
        if a.get("id") in ("status", "try-status"):
            self.open.append(a["id"])
            self.by_id[a["id"]] = ""

    def handle_endtag(self, tag):
        if tag == "span" and self.open:
            self.open.pop()

    def handle_data(self, data):
        self.text.append(data)
        for i in self.open:
            self.by_id[i] += data


def dump(url, name):
    out, console = chromium(url, "--dump-dom")
    with open(os.path.join(args.out, name), "w") as f:
        f.write(out)
    dom = Dom()
    dom.feed(out)
    return dom, " ".join(" ".join(dom.text).split()), console


dom, text, console = dump(base + "/docs", "docs.html")
case("dump-dom status ok", lambda: None if dom.by_id.get("status") == "ok" else f"#status is {dom.by_id.get('status')!r}")
for route in ROUTES:
    case(f"lists {route}", lambda route=route: None if route in dom.ops and route in text
         else f"not in the DOM (data-op: {route in dom.ops}, text: {route in text})")
case("try-it buttons", lambda: None if dom.buttons >= len(dom.ops) > 0 else f"{dom.buttons} buttons, {len(dom.ops)} ops")
case("dump-dom console clean", lambda: "; ".join(console)[:500] or None)


def screenshot():
    png = os.path.join(args.out, "docs.png")
    if os.path.exists(png):
        os.remove(png)
    _, console = chromium(base + "/docs", f"--screenshot={png}", "--window-size=1280,2000")
    from PIL import Image
    with Image.open(png) as im:
        if im.format != "PNG" or im.size != (1280, 2000):
            return f"{im.format} {im.size}"
        colours = im.convert("RGB").getcolors(1 << 20)
    if colours is None or len(colours) < 16:
        return f"blank: {len(colours or [])} colours"
    return "; ".join(console)[:500] or None


case("screenshot", screenshot)

try_dom, _, console = dump(base + "/docs#try=post-/predict", "docs-try.html")
case("auto-try POST /predict", lambda: None if try_dom.by_id.get("try-status") == "200" and not console
     else f"#try-status is {try_dom.by_id.get('try-status')!r}; console {console}")


def auto_try_infer():
    """The {name} parameter is filled (first model) and its example sent: 200 (the fake has no /v2: 404)."""
    before = len(Fake.seen)
    dom, _, console = dump(base + "/docs#try=post-/v2/models/{name}/infer", "docs-try-infer.html")
    status = dom.by_id.get("try-status")
    if console:
        return f"console {console}"
    if not args.fake:
        return None if status == "200" else f"#try-status is {status!r}"
    posts = [s for s in Fake.seen[before:] if s[0] == "POST"]
    if not posts or not re.fullmatch(r"/v2/models/[A-Za-z0-9_.-]+/infer", posts[-1][1]):
        return f"the server saw {[s[1] for s in posts]}; #try-status is {status!r}"
    if not json.loads(posts[-1][3]).get("inputs") or posts[-1][2] != "application/json":
        return f"not an inference request: {posts[-1][2]} {posts[-1][3][:200]!r}"
    return None if status == "404" else f"#try-status is {status!r}"


case("auto-try POST /v2/models/{name}/infer", auto_try_infer)


# ---- selenium --------------------------------------------------------------------------------
def selenium_pass():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.TemporaryDirectory()
    for a in BROWSER_FLAGS + ["--window-size=1280,2000", f"--user-data-dir={profile.name}"]:
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    wait = WebDriverWait(driver, 15)
    try:
        driver.get(base + "/docs")
        wait.until(lambda d: d.find_element(By.ID, "status").text != "loading")
        status = driver.find_element(By.ID, "status").text
        case("selenium status ok", lambda: None if status == "ok" else f"#status is {status!r}")

        op = driver.find_element(By.ID, "post-/predict")
        op.find_element(By.TAG_NAME, "summary").click()

        def send():
            """Clicks Try it; the (status, X-Request-ID) cells it shows."""
            op.find_element(By.CSS_SELECTOR, "button.try").click()
            wait.until(lambda d: op.find_elements(By.CSS_SELECTOR, ".result td.code"))
            cells = [td.text for td in op.find_elements(By.CSS_SELECTOR, ".result-meta td")]
            return cells[0], cells[2]

        def json_try():
            body = json.loads(op.find_element(By.CSS_SELECTOR, "textarea").get_attribute("value"))
            if not isinstance(body.get("values"), list) or not body["values"]:
                return f"the body is not the example: {body}"
            code, rid = send()
            if not code.startswith("200"):
                return f"status {code!r}"
            return None if rid and rid != "(none)" else "no X-Request-ID shown"

        case("selenium Try it POST /predict (JSON example)", json_try)

        def multipart_try():
            Select(op.find_element(By.CSS_SELECTOR, "select.ctype-select")).select_by_value("multipart/form-data")
            upload = os.path.join(profile.name, "upload.png")
            with open(upload, "wb") as f:
                f.write(b"\x89PNG\r\n\x1a\nnot really an image")
            op.find_element(By.CSS_SELECTOR, "input[type=file][name=file]").send_keys(upload)
            before = len(Fake.seen)
            code, _ = send()
            if args.fake:
                posts = [s for s in Fake.seen[before:] if s[0] == "POST"]
                if not posts or not posts[-1][2].startswith("multipart/form-data; boundary="):
                    return f"the server saw {[(s[1], s[2]) for s in posts]}"
                if b'name="file"; filename="upload.png"' not in posts[-1][3]:
                    return "no file part"
                return None if code.startswith("200") else f"status {code!r}"
            return None if code[:3] in ("200", "400", "415") else f"status {code!r}"

        case("selenium Try it POST /predict (multipart file)", multipart_try)

        def infer_example_follows_name():
            infer = driver.find_element(By.ID, "post-/v2/models/{name}/infer")
            infer.find_element(By.TAG_NAME, "summary").click()
            name = Select(infer.find_element(By.CSS_SELECTOR, "select[name=name]"))
            models = [o.get_attribute("value") for o in name.options]
            for m in models:
                name.select_by_value(m)
                body = json.loads(infer.find_element(By.CSS_SELECTOR, ".editor:not([hidden]) textarea")
                                  .get_attribute("value"))
                if not body.get("inputs"):
                    return f"{m}: no inputs in {body}"
                chosen = Select(infer.find_element(By.CSS_SELECTOR, "select.ex-select")).first_selected_option.text
                if chosen != m:
                    return f"{m}: example {chosen!r} shown"
            return None if models else "no models"

        case("selenium {name} picks its infer example", infer_example_follows_name)
        driver.save_screenshot(os.path.join(args.out, "docs-tryit.png"))
        logs = driver.get_log("browser")
        # A real server may refuse the multipart try's fake PNG (400/415, accepted above); Chromium
        # logs every 4xx fetch as SEVERE, so that one line is expected.
        expected = re.compile(r"/predict - Failed to load resource: the server responded with a status of 4(00|15) ")
        bad = [e["message"] for e in logs if (e["level"] == "SEVERE" or "Content Security Policy" in e["message"])
               and (args.fake or not expected.search(e["message"]))]
        case("selenium console clean", lambda: "; ".join(bad)[:500] or None)
    finally:
        driver.quit()
        profile.cleanup()


case("selenium session", selenium_pass)
checks.finish()
