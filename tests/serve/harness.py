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
