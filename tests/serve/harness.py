"""Shared pieces of the serve suites: a real `torchless serve` process on 127.0.0.1, models made
by the real tools, and a check counter that prints the final `N passed, N failed` line.

    from harness import Checks, Server, make_models
    models = make_models(work)                     # mlp, resnet18, ... (../shared/bench/gen_models.py)
    with Server(cli, [models / "mlp.onnx"]) as s:  # picks a free port, waits for readiness
        r = s.post("/predict", json={"values": [...]})
"""
import json
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import requests

BENCH = Path(os.environ.get("TORCHLESS_SHARED", "/work/shared")) / "bench"
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


class Checks:
    """check(name, condition, detail) and a summary line; exit status 1 if any failed."""

    def __init__(self, suite):
        self.suite, self.passed, self.failed = suite, 0, 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}", flush=True)
        return ok

    def case(self, name, fn):
        """Runs fn(): None or True passes, a string is the reason it failed, so is an exception.
        Prints `ok NAME` or `FAIL NAME: why`."""
        try:
            why = fn()
        except Exception as e:  # a broken document or page is a failure, not a crash
            why = f"{type(e).__name__}: {e}"
        ok = why is None or why is True
        if ok:
            print(f"ok {name}", flush=True)
        return self.check(name, ok, why)

    def finish(self):
        print(f"{self.suite}: {self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_models(work):
    """The benchmark models (mlp, mnist_cnn, srcnn, resnet18, mobilenet_v2, tiny_encoder: ONNX
    opset 13 with dynamic batch, a TorchScript twin, an input and PyTorch's output as .npy),
    written by the shared generator into work/models once."""
    out = Path(work) / "models"
    if not (out / "models.json").exists():
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run(["/usr/bin/python3", str(BENCH / "gen_models.py"), str(out)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


class Server:
    """`torchless serve ARGS...` on a free port; stdout (the JSON access log) goes to the file
    `log` when given, else to /dev/null (never to an unread pipe: a full pipe would block the
    server's log flush at shutdown)."""

    def __init__(self, cli, args, env=None, ready_timeout=120, log=None):
        self.cli, self.args = str(cli), [str(a) for a in args]
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env, self.ready_timeout = env, ready_timeout
        self.log_path = log
        self.proc = None
        self.session = requests.Session()

    def start(self):
        cmd = [self.cli, "serve", *self.args, "--port", str(self.port)]
        self.logf = open(self.log_path, "w") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdout=self.logf,
                                     stderr=subprocess.PIPE, env=self.env)
        deadline = time.time() + self.ready_timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                if requests.get(self.base + "/v2/health/ready", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("server not ready in time")

    def stop(self, sig=15, timeout=60):
        """Sends `sig` and returns the exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log_path and self.proc:
            self.logf.close()
        return self.proc.returncode if self.proc else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def url(self, path):
        return self.base + path

    def get(self, path, **kw):
        return self.session.get(self.base + path, timeout=kw.pop("timeout", 30), **kw)

    def post(self, path, **kw):
        return self.session.post(self.base + path, timeout=kw.pop("timeout", 30), **kw)

    def raw(self, data, read_timeout=5.0):
        """Sends raw bytes on a fresh connection and returns everything read until close/timeout."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=read_timeout) as s:
            s.sendall(data)
            chunks = []
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    chunks.append(b)
            except socket.timeout:
                pass
            return b"".join(chunks)


def run_cli(cli, *args):
    return subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True)


def load_json(path):
    with open(path) as f:
        return json.load(f)


class RawResponse:
    """One HTTP response read off a socket: status, headers (lower-case names, in order), body."""

    def __init__(self, version, status, reason, headers, body, raw):
        self.version, self.status, self.reason = version, status, reason
        self.headers, self.body, self.raw = headers, body, raw

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.raw[:300]!r}>"


class Truncated(Exception):
    """The connection ended inside a response (`partial` holds the bytes that did arrive)."""

    def __init__(self, partial):
        super().__init__(f"connection closed after {len(partial)} bytes of a response")
        self.partial = partial


class RawConn:
    """A client socket that can misbehave: send any bytes, then read responses one by one.

        c = RawConn(port)
        c.send(b"GET /v2/health/live HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
        r = c.read_response()        # None if the server closed before sending a byte
    """

    def __init__(self, port, timeout=10.0, rcvbuf=None, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.buf = b""
        self.eof = False
        self.reset = False  # the connection ended with a reset (unread data at the peer's close)

    def send(self, data):
        self.sock.sendall(data)

    def settimeout(self, t):
        self.sock.settimeout(t)

    def _fill(self):
        """Reads more bytes; False at EOF or on a reset."""
        if self.eof:
            return False
        try:
            b = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            b, self.reset = b"", True
        if not b:
            self.eof = True
            return False
        self.buf += b
        return True

    def read_response(self, head=False):
        """The next response (interim 1xx ones included). None if the connection ended cleanly
        before its first byte; Truncated if it ended inside; socket.timeout if nothing completes."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                if self.buf:
                    raise Truncated(self.buf)
                return None
        end = self.buf.index(b"\r\n\r\n")
        head_bytes = self.buf[:end].decode("latin-1")
        lines = head_bytes.split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or parts[0] not in ("HTTP/1.0", "HTTP/1.1") or not parts[1].isdigit() or len(parts[1]) != 3:
            raise ValueError(f"not a status line: {lines[0][:80]!r}")
        version, status = parts[0], int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip().lower(), v.strip()))
        rest_at = end + 4
        r = RawResponse(version, status, reason, headers, b"", b"")
        if status < 200 or status in (204, 304) or head:
            length = 0
        elif r.header("content-length") is not None:
            length = int(r.header("content-length"))
        else:
            length = None  # until close
        if length is None:
            while self._fill():
                pass
            length = len(self.buf) - rest_at
        while len(self.buf) < rest_at + length:
            if not self._fill():
                raise Truncated(self.buf)
        r.body = self.buf[rest_at:rest_at + length]
        r.raw = self.buf[:rest_at + length]
        self.buf = self.buf[rest_at + length:]
        return r

    def acked_before_close(self, timeout=0.5):
        """Watches TCP_INFO until the peer's kernel has acknowledged every byte sent or the connection
        ends, and tells whether the bytes had fully arrived at the peer before it closed: every byte
        acknowledged while ESTABLISHED, or by the FIN itself (CLOSE_WAIT never seen with bytes
        unacknowledged). A FIN that crossed the bytes on the wire gives False."""
        deadline = time.time() + timeout
        spin = time.time() + 0.002
        while True:
            info = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
            state, unacked = info[0], struct.unpack_from("<I", info, 24)[0]
            if state not in (1, 8):  # ESTABLISHED, CLOSE_WAIT
                return False
            if unacked == 0:
                return True
            if state == 8 or time.time() > deadline:
                return False
            if time.time() > spin:
                time.sleep(0.0002)

    def peer_closed_now(self):
        """True if a close (FIN or reset) from the peer has already arrived and nothing else is buffered."""
        import select
        if self.eof:
            return True
        if not select.select([self.sock], [], [], 0)[0]:
            return False
        try:
            return self.sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def closed_by_peer(self, timeout):
        """True if the peer closes within `timeout` s; bytes that arrive meanwhile stay buffered."""
        old = self.sock.gettimeout()
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                self.sock.settimeout(max(0.01, deadline - time.time()))
                try:
                    if not self._fill():
                        return True
                except socket.timeout:
                    return False
            return False
        finally:
            self.sock.settimeout(old)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def http_request(method, target, body=b"", headers=(), version="HTTP/1.1", host="127.0.0.1"):
    """The bytes of one request; Content-Length is added for a body unless a header sets the framing."""
    if isinstance(body, str):
        body = body.encode()
    lines = [f"{method} {target} {version}", f"Host: {host}"]
    names = {k.lower() for k, _ in headers}
    for k, v in headers:
        lines.append(f"{k}: {v}")
    if body and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def metric_value(text, name, **labels):
    """The value of one sample of a Prometheus exposition (0.0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    key = f"{name}{{{want}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(key + " "):
            return float(line.split()[-1])
    return 0.0
