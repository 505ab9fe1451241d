#!/usr/bin/python3
"""Hostile-input regression runner (specs/hostile-inputs.md 6.2, 6.4-6.6), CLI side.

    run_hostile.py --cli build/bin/torchless --work DIR [--spec hostile-inputs.md]
                   [--only REGEX] [--no-strace] [--timeout 30] [--command inspect|convert]

Makes the seed corpus (tests/hostile/make_seeds.py, needs python3-torch) and the hostile files
(scripts/make_hostile.py) into DIR, then runs `torchless inspect FILE` once per manifest entry,
each in a fresh process with an empty working directory, and checks:
  - exit code 1 and `torchless: error [<expected code>]:` on stderr (exit 0 for "ok" entries;
    an entry's "accept" codes pass too and are noted; "combined" entries accept any refusal);
  - the context the entry requires (member name as the CLI escapes it, an offset 0x..., a
    limit's name, substrings, escaped control bytes, a bounded stderr);
  - no sanitizer report, no raw control bytes on stderr, no file created in the cwd;
  - peak RSS (wait4 ru_maxrss) <= 16 MiB + 4 x file bytes + the CLI's baseline RSS on a tiny
    valid seed; sparse files count their allocated bytes;
  - no hang: killed after --timeout seconds (a hang detector; times are recorded, not judged);
  - nothing executed: the child runs under `strace -f` tracing execve, execveat, clone, clone3,
    fork, vfork, socket, connect; anything but the initial execve (and thread creation, which
    is clone with CLONE_THREAD) fails the entry. Without a working strace the check is skipped
    with a visible note.
With --command run it runs `torchless run FILE` (no inputs) on the ONNX entries and seeds only:
a refusal must come from loading (or from running a model without inputs); a model that loads
and needs inputs answers "input ... is missing", which counts as loading fine. Entries with a
"commands" list run only under those commands (ONNX-09..14 are engine-only).
With --command convert it runs `torchless convert FILE out.safetensors` in that empty
directory instead, with the same expectations (CONVERT_EXPECT lists the entries where convert
must legitimately answer otherwise), and also: a refusal leaves no file at all (neither
out.safetensors nor a temporary file), a success leaves exactly out.safetensors, complete.
Every seed must load (exit 0): the control proving refusals come from the mutations. The
coverage gate (6.6) requires every class id of the spec's catalogue in the manifest (entries
with status "later" count but are not run); the spec is ../shared/specs/hostile-inputs.md
beside the repository (or --spec), else the gate is skipped with a note.
Prints one line per check, writes DIR/report.md (report-convert.md), ends with
`hostile: N passed, N failed`, and exits 1 if anything failed.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"
MiB = 1 << 20
TRACED = "execve,execveat,clone,clone3,fork,vfork,socket,connect"
REFUSALS = ("corrupt", "unsupported", "forbidden", "limit_exceeded")
ERR_RE = re.compile(r"torchless: error \[([a-z_]+)\]: (.*)")
CONVERT_OUT = "out.safetensors"  # --command convert writes this, relative to the empty cwd
# The corpus's files are small (sparse ones aside): an output past this bound is being
# materialised from declared sizes. RLIMIT_FSIZE stops it (SIGXFSZ) before it fills the disk.
CONVERT_MAX_OUTPUT = 256 * MiB
# Entries that inspect accepts but convert must refuse: "ID-variant" -> (code, context, why).
CONVERT_EXPECT = {
    "PKL-11-long-binput-0xffffffff": (
        "not_found", {"contains": ["no state dict found"]},
        "the root holds tensors and the int 'v': not a str -> Tensor dict (formats.md 6), no weights to write"),
    "PKL-18-torch-size-2^40-squared": (
        "not_found", {"contains": ["no state dict found"]},
        "the root holds tensors and the torch.Size 'shape': not a str -> Tensor dict (formats.md 6)"),
    "TEN-04-zero-stride-2^40": (
        "limit_exceeded", {"limit": "tensor.max_bytes"},
        "safetensors stores the view's 2^40 elements (4 TiB): a materialising operation checks the logical "
        "bytes against the budget first (hostile-inputs TEN-04)"),
}


def escape_like_cli(s):
    """error.cc escape(): printable ASCII except backslash kept, everything else \\xNN."""
    b = s.encode("utf-8", "surrogatepass") if isinstance(s, str) else s
    return "".join(chr(c) if 0x20 <= c < 0x7F and c != 0x5C else "\\x%02x" % c for c in b)


class Child:
    """One finished run: exit code (negative = signal), stderr, peak RSS, time, trace."""

    def __init__(self, argv, cwd, timeout, strace, max_file_bytes=None):
        fd, self.log = tempfile.mkstemp(prefix="strace-", suffix=".log")
        os.close(fd)
        cmd = ["strace", "-f", "-qq", "-e", "trace=" + TRACED, "-o", self.log] + argv if strace else argv
        with tempfile.TemporaryFile() as err:
            t0 = time.monotonic()
            limit = (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))) \
                if max_file_bytes else None
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=err, cwd=cwd, start_new_session=True, preexec_fn=limit)
            self.timed_out = False
            while True:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - t0 > timeout:
                    self.timed_out = True
                    os.killpg(p.pid, signal.SIGKILL)
                    pid, status, ru = os.wait4(p.pid, 0)
                    break
                time.sleep(0.002)
            self.ms = (time.monotonic() - t0) * 1000
            p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
            self.rc = p.returncode
            self.rss = ru.ru_maxrss * 1024
            err.seek(0)
            self.stderr = err.read()
        self.trace = []
        if strace:
            with open(self.log, errors="replace") as f:
                self.trace = [l.rstrip("\n") for l in f if l.strip()]
        os.unlink(self.log)

    def violations(self):
        """Traced calls other than the initial execve and thread creation."""
        out, seen_exec = [], False
        for line in self.trace:
            body = re.sub(r"^\d+\s+", "", line)
            if body.startswith(("---", "+++", "<...")):
                continue
            name = body.split("(", 1)[0]
            if name == "execve" and not seen_exec:
                seen_exec = True
                continue
            if name in ("clone", "clone3") and "CLONE_THREAD" in body:
                continue
            out.append(body[:160])
        return out


def strace_works():
    if not shutil.which("strace"):
        return False, "strace not installed"
    try:
        r = subprocess.run(["strace", "-f", "-qq", "-o", os.devnull, "true"], capture_output=True,
                           timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, "strace failed to start: %s" % e
    if r.returncode != 0:
        return False, "strace cannot trace here: " + r.stderr.decode(errors="replace").strip()[:200]
    return True, ""


def allocated_bytes(path):
    """Bytes a file (or every file under a directory) really holds on disk vs its size."""
    if os.path.isdir(path):
        total = 0
        for dp, _, fs in os.walk(path):
            for f in fs:
                total += allocated_bytes(os.path.join(dp, f))
        return total
    st = os.stat(path)
    return min(st.st_size, st.st_blocks * 512)


def safetensors_problem(path):
    """Why `path` is not a complete safetensors file, or None: the header length, a JSON object
    header, and tensors whose data_offsets tile the rest of the file exactly."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        return "%d bytes" % len(data)
    n = int.from_bytes(data[:8], "little")
    try:
        spans = sorted(tuple(v["data_offsets"]) for k, v in json.loads(data[8:8 + n]).items() if k != "__metadata__")
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        return "malformed header: %s: %s" % (type(e).__name__, e)
    end = 0
    for begin, stop in spans:
        if begin != end or stop < begin:
            return "data_offsets %s do not tile the buffer" % spans[:4]
        end = stop
    return None if 8 + n + end == len(data) else "%d bytes, header says %d" % (len(data), 8 + n + end)


def parse_spec_ids(path):
    with open(path) as f:
        return sorted(set(re.findall(r"^\| ([A-Z]+-\d+) \|", f.read(), re.M)))


class Runner:
    def __init__(self, args):
        self.a = args
        self.results = []  # dicts for the report
        self.passed = self.failed = 0

    def line(self, ok, text):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(text, flush=True)

    def run_cli(self, path, extra=()):
        """Runs the command on `path` in an empty cwd. Entries' extra args are inspect options
        (--sha256: read every tensor's bytes), which convert does anyway: convert takes none."""
        cwd = tempfile.mkdtemp(prefix="hostile-cwd-")
        if self.a.command == "convert":
            argv = [self.a.cli, "convert", path, CONVERT_OUT]
        elif self.a.command == "run":
            argv = [self.a.cli, "run", path]
        else:
            argv = [self.a.cli, "inspect", path] + list(extra)
        try:
            c = Child(argv, cwd, self.a.timeout, self.strace,
                      CONVERT_MAX_OUTPUT if self.a.command == "convert" else None)
            c.created = sorted(os.listdir(cwd))
            c.output_problem = None
            if self.a.command == "convert" and c.rc == 0 and c.created == [CONVERT_OUT]:
                c.output_problem = safetensors_problem(os.path.join(cwd, CONVERT_OUT))
        finally:
            shutil.rmtree(cwd, ignore_errors=True)
        return c

    # -- checks common to every run
    def common(self, c, bound):
        problems = []
        if c.timed_out:
            problems.append("hang: killed after %d s" % self.a.timeout)
        elif c.rc == -signal.SIGXFSZ:
            problems.append("output grew past %d MiB (killed by SIGXFSZ)" % (CONVERT_MAX_OUTPUT // MiB))
        elif c.rc < 0:
            problems.append("killed by signal %d (crash)" % -c.rc)
        if re.search(rb"Sanitizer|runtime error:", c.stderr):
            problems.append("sanitizer report")
        written = [CONVERT_OUT] if self.a.command == "convert" and c.rc == 0 else []
        if c.created != written:
            problems.append("files in the cwd: %s, expected %s" % (c.created[:3], written))
        if c.output_problem:
            problems.append("output: " + c.output_problem)
        if self.strace and c.violations():
            problems.append("executed/forked/connected: " + "; ".join(c.violations()[:3]))
        if bound is not None and c.rss > bound:
            problems.append("peak RSS %.1f MiB > bound %.1f MiB" % (c.rss / MiB, bound / MiB))
        return problems

    def observed(self, c):
        m = ERR_RE.search(c.stderr.decode("utf-8", "replace"))
        if c.rc == 0:
            return "ok", ""
        if self.a.command == "run" and m and m.group(1) == "invalid_argument" and "is missing" in m.group(2):
            return "ok", ""  # loaded; `run` without --input then asks for the model's inputs
        return (m.group(1), m.group(2)) if m else ("exit %d" % c.rc, "")

    def check_context(self, e, c, msg, alternative=False):
        ctx, problems = dict(e.get("context", {})), []
        if alternative:  # another code means another message: keep only where-context
            ctx = {k: v for k, v in ctx.items() if k in ("member", "offset", "escaped", "max_stderr")}
        if "member" in ctx and escape_like_cli(ctx["member"]) not in msg:
            problems.append("message does not name member %r" % ctx["member"])
        if ctx.get("offset") and not re.search(r"0x[0-9a-f]+", msg):
            problems.append("message has no offset 0x...")
        if "limit" in ctx and ctx["limit"] not in msg:
            problems.append("message does not name limit %s" % ctx["limit"])
        for s in ctx.get("contains", []):
            if escape_like_cli(s) not in msg:
                problems.append("message lacks %r" % s)
        if "hex" in ctx and ctx["hex"] not in re.sub(r"[\s\\x]", "", msg.lower()):
            problems.append("message lacks the first bytes in hex (%s)" % ctx["hex"])
        if ctx.get("escaped") and "\\x" not in msg:
            problems.append("hostile string not shown escaped")
        limit = ctx.get("max_stderr", 64 * 1024)
        if len(c.stderr) > limit:
            problems.append("stderr %d bytes > %d" % (len(c.stderr), limit))
        if re.search(rb"[\x00-\x09\x0b-\x1f\x7f]", c.stderr):
            problems.append("raw control bytes on stderr")
        return problems

    # -- the parts
    def seeds_control(self, seeds_dir):
        with open(os.path.join(seeds_dir, "seeds.json")) as f:
            seeds = json.load(f)
        for name, s in sorted(seeds.items()):
            if not self.applies(s.get("kind", s.get("format", "")), name):
                continue
            path = os.path.join(seeds_dir, s["file"])
            c = self.run_cli(path)
            obs, msg = self.observed(c)
            problems = self.common(c, None)
            if obs != "ok":
                problems.insert(0, "expected ok, got %s (%s)" % (obs, msg[:200]))
            self.report_row("seed", name, os.path.getsize(path), "ok", obs, "", c, problems)
            self.line(not problems, "ok seed:%s" % name if not problems else
                      "FAIL seed:%s: %s" % (name, "; ".join(problems)))

    def applies(self, family, name=""):
        """`run` loads ONNX models only; the other commands take every format."""
        return self.a.command != "run" or family.upper() == "ONNX" or name.startswith("onnx")

    def report_row(self, cid, variant, nbytes, expected, obs, ctx, c, problems, note=""):
        self.results.append({"id": cid, "variant": variant, "bytes": nbytes, "expected": expected,
                             "observed": obs, "context": ctx, "rss": c.rss if c else None,
                             "ms": c.ms if c else None, "verdict": "fail" if problems else "pass",
                             "why": "; ".join(problems) or note})

    def entry(self, e, out_dir, baseline):
        name = "%s-%s" % (e["id"], e["variant"])
        override = CONVERT_EXPECT.get(name) if self.a.command == "convert" else None
        if override:  # the entry's context describes inspect's answer, not this one
            e = dict(e, expected=override[0], context=override[1], accept=[])
        path = e["file"] if os.path.isabs(e["file"]) else os.path.join(out_dir, e["file"])
        sock = None
        if e.get("create") == "fifo":
            if os.path.lexists(path):
                os.unlink(path)
            os.mkfifo(path)
        elif e.get("create") == "socket":
            if os.path.lexists(path):
                os.unlink(path)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(path)
            sock.listen(1)
        try:
            if e.get("dir"):  # the variant's directory: index + shards, model + weights
                nbytes = allocated_bytes(os.path.dirname(path))
            elif e.get("sparse"):
                nbytes = allocated_bytes(path)
            else:
                nbytes = e.get("bytes", 0)
            bound = None if self.a.no_rss_bound else (
                baseline + 16 * MiB + 4 * nbytes + e.get("heap_allowance_bytes", 0))
            c = self.run_cli(path, e.get("args", []))
        finally:
            if sock:
                sock.close()
                os.unlink(path)
        obs, msg = self.observed(c)
        problems = self.common(c, bound)
        exp, note = e["expected"], "convert: " + override[2] if override else ""
        ok_code = obs == exp
        if not ok_code and obs in e.get("accept", []):
            ok_code, note = True, "accepted alternative %s (spec ambiguous)" % obs
        if not ok_code and e.get("combined") and exp != "ok" and obs in REFUSALS:
            ok_code, note = True, "combined file: any refusal within bounds"
        if not ok_code:
            problems.insert(0, "expected %s, got %s (stderr %s)" % (
                exp, obs, c.stderr.decode("utf-8", "replace").strip()[:300]))
        elif exp != "ok" and obs != "ok":
            if c.rc != 1:
                problems.append("exit code %d, not 1" % c.rc)
            problems += self.check_context(e, c, msg, alternative=obs != exp)
        ctx = self.context_text(e, msg)
        self.report_row(e["id"], e["variant"], e.get("bytes", 0), exp, obs, ctx, c, problems, note)
        self.line(not problems, ("ok %s %s%s" % (name, obs, " (%s)" % note if note else "")) if not problems
                  else "FAIL %s: %s" % (name, "; ".join(problems)))

    @staticmethod
    def context_text(e, msg):
        m = re.search(r'"([^"]{0,60})"', msg)
        o = re.search(r"0x[0-9a-f]+", msg)
        parts = [m.group(1) if m else "", ("@ " + o.group(0)) if o else ""]
        return " ".join(p for p in parts if p)

    def coverage(self, entries):
        spec = self.a.spec or os.path.join(ROOT, "..", "shared", "specs", "hostile-inputs.md")
        if not os.path.exists(spec):
            print("note: coverage gate skipped: %s not found (pass --spec)" % os.path.normpath(spec))
            return None
        ids = parse_spec_ids(spec)
        have = {e["id"] for e in entries}
        missing = [i for i in ids if i not in have]
        unknown = sorted(have - set(ids))
        for i in missing:
            self.line(False, "FAIL coverage %s: no generated file or later entry" % i)
        for i in unknown:
            self.line(False, "FAIL coverage %s: id not in the spec" % i)
        if not missing and not unknown:
            self.line(True, "ok coverage %d class ids" % len(ids))
        return ids

    def write_report(self, path, entries, baseline, ids):
        later = [e for e in entries if e["status"] == "later"]
        fams = {}
        for r in self.results:
            fam = r["id"].split("-")[0]
            f = fams.setdefault(fam, {"classes": set(), "files": 0, "passed": 0, "failed": 0, "rss": 0})
            f["classes"].add(r["id"])
            f["files"] += 1
            f["passed" if r["verdict"] == "pass" else "failed"] += 1
            f["rss"] = max(f["rss"], r["rss"] or 0)
        with open(path, "w") as out:
            out.write("# Hostile-input run (CLI `%s`)\n\n" % self.a.command)
            out.write("CLI: `%s`; baseline RSS %.1f MiB; strace: %s\n\n" % (
                self.a.cli, baseline / MiB, "on" if self.strace else "OFF (%s)" % self.strace_note))
            out.write("Passed %d, failed %d.%s\n\n" % (
                self.passed, self.failed, "" if ids else " Coverage gate skipped (spec not found)."))
            out.write("## Families\n\n| Family | Classes | Files | Passed | Failed | Largest peak RSS |\n"
                      "|---|---|---|---|---|---|\n")
            for fam, f in sorted(fams.items()):
                out.write("| %s | %d | %d | %d | %d | %.1f MiB |\n" % (
                    fam, len(f["classes"]), f["files"], f["passed"], f["failed"], f["rss"] / MiB))
            out.write("\n## Files\n\n| Class | Variant | File bytes | Expected code | Observed code | "
                      "Context (member @ offset) | Peak RSS | Peak RSS Δ | Time (ms) | Verdict | Notes |\n"
                      "|---|---|---|---|---|---|---|---|---|---|---|\n")
            for r in self.results:
                rss = "%.1f MiB" % (r["rss"] / MiB) if r["rss"] is not None else ""
                delta = "%+.1f MiB" % ((r["rss"] - baseline) / MiB) if r["rss"] is not None else ""
                out.write("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" % (
                    r["id"], r["variant"], r["bytes"], r["expected"], r["observed"],
                    r["context"].replace("|", "\\|"), rss, delta,
                    "%.0f" % r["ms"] if r["ms"] is not None else "", r["verdict"],
                    r["why"].replace("|", "\\|")[:300]))
            out.write("\n## Not run here (status later)\n\n| Class | Variant | Reason |\n|---|---|---|\n")
            for e in later:
                out.write("| %s | %s | %s |\n" % (e["id"], e["variant"], e["reason"]))

    def main(self):
        work = os.path.abspath(self.a.work)
        seeds_dir, out_dir = os.path.join(work, "seeds"), os.path.join(work, "files")
        os.makedirs(work, exist_ok=True)
        if not self.a.skip_gen:
            for cmd in ([PY, os.path.join(HERE, "make_seeds.py"), seeds_dir],
                        [PY, os.path.join(ROOT, "scripts", "make_hostile.py"), seeds_dir, out_dir]):
                r = subprocess.run(cmd)
                if r.returncode != 0:
                    print("FAIL generation: %s exited %d" % (" ".join(cmd), r.returncode))
                    print("hostile: 0 passed, 1 failed")
                    return 1
            # the corpus itself: seeds load, defects are where they should be, bombs are real
            r = subprocess.run([PY, os.path.join(HERE, "check_corpus.py"), seeds_dir, out_dir],
                               capture_output=True, text=True)
            summary = (r.stdout.strip().splitlines() or ["no output"])[-1]
            for l in r.stdout.splitlines():
                if l.startswith("FAIL"):
                    self.line(False, l)
            if r.returncode == 0:
                self.line(True, "ok corpus check (%s)" % summary)
            elif "FAIL" not in r.stdout:
                self.line(False, "FAIL corpus check: exited %d: %s" % (r.returncode, r.stderr[-500:]))
        with open(os.path.join(out_dir, "manifest.json")) as f:
            entries = json.load(f)["entries"]
        self.strace, self.strace_note = strace_works()
        if not self.strace or self.a.no_strace:
            self.strace_note = self.strace_note or "--no-strace"
            self.strace = False
            print("note: execution check skipped (%s)" % self.strace_note)
        with open(os.path.join(seeds_dir, "seeds.json")) as f:
            tiny = os.path.join(seeds_dir, json.load(f)["onnx" if self.a.command == "run" else "npy_v1"]["file"])
        baseline = self.run_cli(tiny).rss
        print("baseline RSS %.1f MiB (%s %s)" % (baseline / MiB, self.a.command, os.path.basename(tiny)))

        ids = self.coverage(entries)
        only = re.compile(self.a.only) if self.a.only else None
        if not only:
            self.seeds_control(seeds_dir)
        run = ["%s-%s" % (e["id"], e["variant"]) for e in entries if e["status"] == "run"]
        if self.a.command == "convert" and not only:
            for name in sorted(set(CONVERT_EXPECT) - set(run)):
                self.line(False, "FAIL CONVERT_EXPECT names %s, not a run entry of the manifest" % name)
        for e in entries:
            if e["status"] != "run" or not self.applies(e["family"]):
                continue
            if self.a.command not in e.get("commands", [self.a.command]):
                continue
            if only and not only.search("%s-%s" % (e["id"], e["variant"])):
                continue
            self.entry(e, out_dir, baseline)
        report = "report.md" if self.a.command == "inspect" else "report-%s.md" % self.a.command
        self.write_report(os.path.join(work, report), entries, baseline, ids)
        print("hostile: %d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True, help="the torchless binary")
    ap.add_argument("--work", required=True, help="directory for seeds, files and report.md")
    ap.add_argument("--spec", help="hostile-inputs.md (default: ../shared/specs beside the repo)")
    ap.add_argument("--only", help="run only entries whose ID-variant matches this regex")
    ap.add_argument("--no-strace", action="store_true", help="skip the execution check")
    ap.add_argument("--no-rss-bound", action="store_true",
                    help="skip the peak-RSS bound (sanitizer builds: redzones and quarantine inflate RSS)")
    ap.add_argument("--skip-gen", action="store_true", help="reuse the files already in --work")
    ap.add_argument("--timeout", type=float, default=30, help="hang detector, seconds")
    ap.add_argument("--command", choices=("inspect", "convert", "run"), default="inspect",
                    help="run `torchless inspect FILE`, `torchless convert FILE out.safetensors`, or "
                         "`torchless run FILE` (ONNX entries: the engine's load and run checks)")
    args = ap.parse_args()
    args.cli = os.path.abspath(args.cli)
    sys.exit(Runner(args).main())


if __name__ == "__main__":
    main()
