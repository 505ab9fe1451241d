#!/usr/bin/python3
"""Static checks of the deployment artefacts (specs/serving.md 7): deploy/Dockerfile, .dockerignore,
deploy/compose.yaml, deploy/k8s/*.yaml and deploy/kserve/*.yaml. Needs no Docker daemon and no cluster.

    check_deploy.py [--root DIR] [--cli build/bin/torchless]

- Dockerfile: two or more stages, all FROM debian:12-slim; every build package is in scripts/setup; the
  build configures without LibTorch, runs the unit tests and installs, and has every python3 package
  the unit tests' data generators import; every runtime package exists in
  apt-cache and none is a -dev package; the image runs as uid 10001, exposes 8080, has a HEALTHCHECK
  with `torchless healthcheck` and serves /models on 0.0.0.0:8080.
- Manifests: each YAML file parses; probes on /v2/health/live and /v2/health/ready; non-root security
  contexts; terminationGracePeriodSeconds > shutdown delay + drain timeout + 5; requests == limits;
  Service and HPA point at the Deployment; the KServe runtime's formats, protocol v2 and {{.Name}}.
- Every `torchless` flag used anywhere exists. Without --cli the list is the one agreed for `serve` and
  `healthcheck`; with --cli it is read from `CLI serve --help` and `CLI healthcheck --help`, and the
  runtime stage is also checked to provide every shared library of `ldd CLI`.

Prints "ok CASE" / "FAIL CASE: why", then `deploy: N passed, N failed`; exits 1 if anything failed.
"""
import argparse
import fnmatch
import glob
import os
import re
import shlex
import subprocess
import sys

import yaml

ap = argparse.ArgumentParser()
ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ap.add_argument("--cli", help="a torchless binary: take the flags from its --help, check ldd against the image")
args = ap.parse_args()
root = os.path.abspath(args.root)

passed = failed = 0


def case(name, fn):
    """Runs one check: fn returns None (pass) or a reason; an exception is a failure too."""
    global passed, failed
    try:
        why = fn()
    except Exception as e:  # a missing key or a malformed file is a failure, not a crash
        why = f"{type(e).__name__}: {e}"
    if why:
        failed += 1
        print(f"FAIL {name}: {why}")
    else:
        passed += 1
        print(f"ok {name}")


# ---- flags of the CLI -------------------------------------------------------------------------
# The command line agreed for the server (specs/serving.md; the server's --help is the authority).
AGREED_FLAGS = {
    "serve": {"--host", "--port", "--threads", "--http-threads", "--model-name", "--predict-model",
              "--max-batch-size", "--max-queue-delay-us", "--max-queue-size", "--preprocess", "--labels",
              "--access-log", "--shutdown-delay", "--drain-timeout", "--max-connections", "--exit-on-error",
              "--help"},
    "healthcheck": {"--host", "--port", "--help"},
}
NUMERIC_FLAGS = {"--port", "--threads", "--http-threads", "--max-batch-size", "--max-queue-delay-us",
                 "--max-queue-size", "--shutdown-delay", "--drain-timeout", "--max-connections"}


def cli_flags(cli, sub):
    r = subprocess.run([cli, sub, "--help"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"`{cli} {sub} --help` exited {r.returncode}: {(r.stdout + r.stderr)[-300:]}")
    if not re.search(rf"Usage:.*\b{sub}\b", r.stdout + r.stderr):
        raise RuntimeError(f"`{cli} {sub} --help` does not describe {sub} (no such subcommand?)")
    flags = set(re.findall(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)", r.stdout + r.stderr))
    if not flags:
        raise RuntimeError(f"`{cli} {sub} --help` lists no --flags")
    return flags


known_flags = dict(AGREED_FLAGS)
flags_source = "the agreed list"
if args.cli:
    flags_source = f"{args.cli} --help"
    for sub in AGREED_FLAGS:
        try:
            known_flags[sub] = cli_flags(args.cli, sub)
        except Exception as e:
            known_flags[sub] = set()
            case(f"cli {sub} --help", lambda e=e: str(e))

invocations = []  # (where, argv after "torchless"), collected from every artefact, checked at the end


def flag_values(argv):
    """{--flag: value or None} of an argv; `--x=v` and `--x v` forms."""
    out = {}
    i = 0
    while i < len(argv):
        a = str(argv[i])
        if a.startswith("--"):
            if "=" in a:
                k, v = a.split("=", 1)
                out[k] = v
            elif i + 1 < len(argv) and not str(argv[i + 1]).startswith("--"):
                out[a] = str(argv[i + 1])
                i += 1
            else:
                out[a] = None
        i += 1
    return out


def seconds(v, default):
    return default if v is None else float(v)


def check_serve_argv(argv, model_path, port):
    """The common shape of a `torchless serve` command line in a container."""
    if not argv or argv[0] != "serve":
        return f"does not start with serve: {argv}"
    if len(argv) < 2 or argv[1] != model_path:
        return f"model path is not {model_path}: {argv}"
    fv = flag_values(argv[2:])
    if fv.get("--host") != "0.0.0.0":
        return f"--host is {fv.get('--host')!r}, must be 0.0.0.0 (the default 127.0.0.1 is unreachable)"
    if fv.get("--port") != str(port):
        return f"--port is {fv.get('--port')!r}, expected {port}"
    return None


# ---- Dockerfile ---------------------------------------------------------------------------------
def parse_dockerfile(path):
    """[(stage dict)]: each {"from": image, "name": alias, "instrs": [(INSTR, text)]}."""
    lines, cur = [], ""
    for raw in open(path, encoding="utf-8").read().splitlines():
        s = raw.strip()
        if s.startswith("#") or (not s and not cur):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        if cur.strip():
            lines.append(cur.strip())
        cur = ""
    stages = []
    for line in lines:
        instr, _, rest = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            words = rest.split()
            words = [w for w in words if not w.startswith("--platform")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append({"from": words[0], "name": name, "instrs": []})
        elif stages:
            stages[-1]["instrs"].append((instr, rest.strip()))
    return stages


def exec_form(text):
    """The argv of an exec-form (JSON array) instruction, else None."""
    import json
    text = text.strip()
    if not text.startswith("["):
        return None
    return json.loads(text)


def apt_packages(stage):
    """Packages named by `apt-get install` in a stage's RUN instructions."""
    pkgs = []
    for instr, text in stage["instrs"]:
        if instr != "RUN":
            continue
        for seg in re.split(r"&&|;|\|\|", text):
            words = shlex.split(seg, comments=True)
            if "apt-get" in words and "install" in words:
                pkgs += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return pkgs


def run_text(stage):
    return " ".join(t for i, t in stage["instrs"] if i == "RUN")


def setup_packages():
    text = open(os.path.join(root, "scripts/setup"), encoding="utf-8").read()
    m = re.search(r"^packages=\((.*?)^\)", text, re.S | re.M)
    body = "\n".join(line.split("#", 1)[0] for line in m.group(1).splitlines())
    return set(body.split())


def apt_candidates(pkgs):
    """{package: candidate version or None} from one `apt-cache policy` call."""
    r = subprocess.run(["apt-cache", "policy"] + list(pkgs), capture_output=True, text=True, timeout=60)
    out, cur = {}, None
    for line in r.stdout.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            cur = line[:-1].split(":")[0]
        elif cur and line.strip().startswith("Candidate:"):
            v = line.split(":", 1)[1].strip()
            out[cur] = None if v == "(none)" else v
    return {p: out.get(p) for p in pkgs}


dockerfile = os.path.join(root, "deploy/Dockerfile")
stages = parse_dockerfile(dockerfile) if os.path.exists(dockerfile) else []
build = stages[0] if stages else None
final = stages[-1] if stages else None


def df_stages():
    if len(stages) < 2:
        return f"{len(stages)} stage(s), expected a multi-stage build"
    bad = [s["from"] for s in stages if s["from"].split("@")[0] != "debian:12-slim"]
    if bad:
        return f"stages not FROM debian:12-slim: {bad}"
    if not build["name"]:
        return "the build stage has no name (FROM ... AS build)"


def df_copy_from_build():
    copies = [t for i, t in final["instrs"] if i == "COPY" and "--from=" in t]
    if not copies:
        return "the runtime stage copies nothing from the build stage"
    if not any(f"--from={build['name']}" in t for t in copies):
        return f"no COPY --from={build['name']}: {copies}"
    src = [t.split()[1] for t in copies]
    if not any("/bin/torchless" in s or s.endswith("/bin") or s.endswith("/bin/") for s in src) and \
            not any(s.rstrip("/").endswith("/opt/torchless") for s in src):
        return f"the torchless binary is not among the copied paths {src}"


def df_build_packages():
    missing = sorted(set(apt_packages(build)) - setup_packages())
    if not apt_packages(build):
        return "the build stage installs no packages"
    if missing:
        return f"not in scripts/setup: {missing}"


def df_build_steps():
    text = run_text(build)
    need = {"-DTORCHLESS_WITH_LIBTORCH=OFF": r"-DTORCHLESS_WITH_LIBTORCH=OFF\b",
            "a Release build": r"-DCMAKE_BUILD_TYPE=Release\b",
            "ctest -L unit": r"ctest\s+--test-dir\s+\S+\s+(.*\s)?-L\s+unit\b",
            "cmake --install": r"cmake\s+--install\b"}
    missing = [k for k, rx in need.items() if not re.search(rx, text)]
    if missing:
        return f"the build stage lacks {missing}"


# Python modules Debian packages under another name than python3-<module>
PY_PACKAGE = {"PIL": "python3-pil", "yaml": "python3-yaml", "google": "python3-protobuf"}


def unit_python_scripts():
    """The Python scripts `ctest -L unit` runs: tests/unit/data/*.py, and the scripts named by a
    tests/serve/*.cmake file that labels something unit."""
    scripts = glob.glob(os.path.join(root, "tests/unit/data/*.py"))
    for cm in glob.glob(os.path.join(root, "tests/serve/*.cmake")):
        text = open(cm, encoding="utf-8").read()
        if re.search(r"LABELS\s+unit\b", text):
            scripts += [os.path.join(root, "tests", m) for m in re.findall(r"(serve/[\w/.-]+\.py)", text)]
    return [p for p in scripts if os.path.exists(p)]


def df_unit_python():
    """Every module those scripts import (at any depth, and at the top of the local modules they
    import) is the standard library, a local module, or a python3-* package of the build stage."""
    have = set(apt_packages(build))
    missing = set()
    todo, seen = list(unit_python_scripts()), set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        text = open(path, encoding="utf-8").read()
        local_dirs = [os.path.dirname(path)] + [os.path.normpath(os.path.join(os.path.dirname(path), *parts))
                                                for parts in re.findall(r"sys\.path\.insert\(0, os\.path\.join\([^,]+,\s*(.*?)\)\)", text)
                                                for parts in [re.findall(r'"([^"]+)"', parts)]]
        top_only = path not in unit_python_scripts()
        for m in re.finditer(r"^(\s*)(?:from|import)\s+([A-Za-z_]\w*)", text, re.M):
            if top_only and m.group(1):
                continue
            mod = m.group(2)
            if mod in sys.stdlib_module_names or mod == "__future__":
                continue
            local = [os.path.join(d, mod + ".py") for d in local_dirs if os.path.exists(os.path.join(d, mod + ".py"))]
            if local:
                todo += local
                continue
            pkg = PY_PACKAGE.get(mod, "python3-" + mod.lower())
            if pkg not in have:
                missing.add(f"{pkg} ({mod}, {os.path.relpath(path, root)})")
    if missing:
        return f"the unit tests' Python needs {sorted(missing)}"


def df_apt_hygiene():
    for s in stages:
        text = run_text(s)
        if "apt-get install" in text:
            if "--no-install-recommends" not in text:
                return f"stage {s['name'] or s['from']}: apt-get install without --no-install-recommends"
            if "rm -rf /var/lib/apt/lists" not in text:
                return f"stage {s['name'] or s['from']}: apt lists are not removed"


def df_runtime_not_dev():
    bad = [p for p in apt_packages(final)
           if p.endswith("-dev") or p in {"g++", "gcc", "cmake", "ninja-build", "make", "pkg-config", "curl"}]
    if bad:
        return f"build-time packages in the runtime stage: {bad}"


def df_cmake_install_rule():
    text = open(os.path.join(root, "CMakeLists.txt"), encoding="utf-8").read()
    for m in re.finditer(r"install\s*\(\s*TARGETS([^)]*)\)", text):
        if re.search(r"\btorchless_cli\b", m.group(1)):
            if "RUNTIME DESTINATION" in m.group(1):
                return None
            return "install(TARGETS torchless_cli) has no RUNTIME DESTINATION"
    return "CMakeLists.txt has no install(TARGETS ... torchless_cli ...)"


def df_user():
    users = [t for i, t in final["instrs"] if i == "USER"]
    if not users:
        return "the runtime stage has no USER (it would run as root)"
    user = users[-1].split(":")[0]
    if user != "10001":
        return f"the last USER is {users[-1]!r}, expected 10001 (numeric, so runAsNonRoot can verify it)"
    if not re.search(r"useradd\b[^&;]*--uid 10001\b", run_text(final)):
        return "no useradd --uid 10001 in the runtime stage"
    # nothing after USER may switch back
    idx = max(n for n, (i, _) in enumerate(final["instrs"]) if i == "USER")
    later = [i for i, _ in final["instrs"][idx + 1:] if i in {"RUN", "USER"}]
    if later:
        return f"{later} after the last USER"


def df_healthcheck():
    hc = [t for i, t in final["instrs"] if i == "HEALTHCHECK"]
    if len(hc) != 1:
        return f"{len(hc)} HEALTHCHECK instructions in the runtime stage"
    m = re.search(r"\bCMD\s+(\[.*\])\s*$", hc[0])
    if not m:
        return "HEALTHCHECK CMD is not in exec form"
    argv = exec_form(m.group(1))
    if argv[:2] != ["torchless", "healthcheck"]:
        return f"HEALTHCHECK runs {argv}, expected torchless healthcheck"
    if flag_values(argv[2:]).get("--port") != "8080":
        return f"HEALTHCHECK does not probe port 8080: {argv}"
    for opt in ("--interval=", "--timeout=", "--start-period=", "--retries="):
        if opt not in hc[0]:
            return f"HEALTHCHECK without {opt}"
    invocations.append(("Dockerfile HEALTHCHECK", argv[1:]))


def df_expose():
    ports = " ".join(t for i, t in final["instrs"] if i == "EXPOSE").split()
    if "8080" not in ports and "8080/tcp" not in ports:
        return f"EXPOSE {ports}, expected 8080"


def df_entrypoint_cmd():
    ep = [t for i, t in final["instrs"] if i == "ENTRYPOINT"]
    cmd = [t for i, t in final["instrs"] if i == "CMD"]
    if not ep or exec_form(ep[-1]) != ["torchless"]:
        return f"ENTRYPOINT is {ep}, expected [\"torchless\"]"
    if not cmd or exec_form(cmd[-1]) is None:
        return "no exec-form CMD"
    argv = exec_form(cmd[-1])
    invocations.append(("Dockerfile CMD", argv))
    return check_serve_argv(argv, "/models", 8080)


def dockerignore():
    path = os.path.join(root, ".dockerignore")
    pats = [p.strip() for p in open(path, encoding="utf-8").read().splitlines()
            if p.strip() and not p.strip().startswith("#")]
    pos = [p for p in pats if not p.startswith("!")]

    def ignored(rel):
        parts = rel.split("/")
        prefixes = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
        return any(fnmatch.fnmatch(pre, p.rstrip("/")) or fnmatch.fnmatch(pre, "**/" + p.rstrip("/").lstrip("*/"))
                   for p in pos for pre in prefixes)
    must = [".git", "build", "build-fuzz", "build/bin/torchless", "tests/unit/testdata", "build/testdata"]
    must_not = ["CMakeLists.txt", "src/serve/x.cc", "include/torchless/error.h", "tests/CMakeLists.txt",
                "tests/unit/data/make_all.sh", "cmake/torchlessConfig.cmake.in", "tools/torchless/main.cc",
                "examples/cpp/CMakeLists.txt", "scripts/setup"]
    a = [p for p in must if not ignored(p)]
    b = [p for p in must_not if ignored(p)]
    if a:
        return f"not excluded from the build context: {a}"
    if b:
        return f"needed by the build but excluded: {b}"


case("Dockerfile stages FROM debian:12-slim", df_stages)
if len(stages) >= 2:
    case("Dockerfile runtime copies the binary from the build stage", df_copy_from_build)
    case("Dockerfile build packages are in scripts/setup", df_build_packages)
    case("Dockerfile build: no LibTorch, Release, ctest -L unit, cmake --install", df_build_steps)
    case("Dockerfile build has what the unit tests' Python imports", df_unit_python)
    case("Dockerfile apt: --no-install-recommends, lists removed", df_apt_hygiene)
    case("Dockerfile runtime has no build-time packages", df_runtime_not_dev)
    case("CMakeLists.txt installs the CLI", df_cmake_install_rule)
    case("Dockerfile USER 10001, nothing after it", df_user)
    case("Dockerfile HEALTHCHECK torchless healthcheck --port 8080", df_healthcheck)
    case("Dockerfile EXPOSE 8080", df_expose)
    case("Dockerfile ENTRYPOINT torchless, CMD serve /models on 0.0.0.0:8080", df_entrypoint_cmd)
    runtime_pkgs = apt_packages(final)
    candidates = apt_candidates(runtime_pkgs) if runtime_pkgs else {}
    for pkg in runtime_pkgs:
        case(f"runtime package {pkg} in apt-cache",
             lambda pkg=pkg: None if candidates.get(pkg) else "apt-cache policy shows no candidate")
    if args.cli:
        BASE = {"libc6", "libgcc-s1", "libstdc++6"}  # in debian:12-slim already

        def df_ldd():
            r = subprocess.run(["ldd", args.cli], capture_output=True, text=True, timeout=30)
            need, unknown = set(), []
            for lib in re.findall(r"=>\s+(/\S+)", r.stdout):
                cands = [lib, os.path.realpath(lib), "/usr" + lib if not lib.startswith("/usr") else lib]
                for c in cands:
                    d = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
                    if d.returncode == 0:
                        need.add(d.stdout.split(":")[0].strip())
                        break
                else:
                    unknown.append(lib)
            missing = sorted(need - BASE - set(runtime_pkgs))
            if unknown:
                return f"libraries of no Debian package: {unknown}"
            if missing:
                return f"the runtime stage lacks {missing} (ldd {args.cli})"
        case("Dockerfile runtime provides every library of ldd torchless", df_ldd)
case(".dockerignore excludes build dirs, .git, testdata and keeps the sources", dockerignore)


# ---- YAML ---------------------------------------------------------------------------------------
def load_yaml(rel):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


yaml_files = sorted(["deploy/compose.yaml"] + [os.path.relpath(p, root) for p in
                    glob.glob(os.path.join(root, "deploy/k8s/*.yaml")) + glob.glob(os.path.join(root, "deploy/kserve/*.yaml"))])
docs = {}
for rel in yaml_files:
    def parse(rel=rel):
        docs[rel] = load_yaml(rel)
        if not docs[rel]:
            return "no documents"
    case(f"{rel} parses", parse)
k8s = [d for rel, ds in docs.items() if rel != "deploy/compose.yaml" for d in ds]


def by_kind(*kinds):
    found = [d for d in k8s if isinstance(d, dict) and d.get("kind") in kinds]
    if len(found) != 1:
        raise LookupError(f"{len(found)} documents of kind {'/'.join(kinds)}, expected 1")
    return found[0]


def quantity(q):
    """A Kubernetes quantity as a float ("2", 2, "500m", "1Gi", "512Mi")."""
    s = str(q)
    units = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", s)
    return float(m.group(1)) * units.get(m.group(2), 1 if not m.group(2) else float("nan"))


def resources_equal(c):
    r = c.get("resources", {})
    req, lim = r.get("requests", {}), r.get("limits", {})
    if set(req) != {"cpu", "memory"} or set(lim) != {"cpu", "memory"}:
        return f"requests {req} / limits {lim} must both set cpu and memory"
    bad = [k for k in req if quantity(req[k]) != quantity(lim[k])]
    if bad:
        return f"requests != limits for {bad} (Guaranteed QoS: the thread pools size from the quota)"


def container_port(c, ref):
    """A probe's or Service's port (number or name) resolved against a container's ports."""
    for p in c.get("ports", []):
        if ref == p.get("containerPort") or ref == p.get("name") or str(ref) == str(p.get("containerPort")):
            return p["containerPort"]
    return None


def probes(c, want, port, need_port=True):
    for kind, path in want.items():
        p = c.get(kind)
        if not p:
            return f"no {kind}"
        get = p.get("httpGet", {})
        if get.get("path") != path:
            return f"{kind} path {get.get('path')!r}, expected {path}"
        if need_port and container_port(c, get.get("port")) != port:
            return f"{kind} port {get.get('port')!r} is not the served port {port}"


def container_security(c):
    sc = c.get("securityContext", {})
    if sc.get("allowPrivilegeEscalation") is not False:
        return "container securityContext.allowPrivilegeEscalation is not false"
    if "ALL" not in (sc.get("capabilities", {}).get("drop") or []):
        return "container capabilities do not drop ALL"
    if sc.get("readOnlyRootFilesystem") is not True:
        return "container readOnlyRootFilesystem is not true"
    if sc.get("runAsUser") == 0 or sc.get("runAsNonRoot") is False:
        return "container runs as root"


# compose --------------------------------------------------------------------------------------------
def compose_service():
    services = docs["deploy/compose.yaml"][0]["services"]
    if len(services) != 1:
        raise LookupError(f"{len(services)} services, expected 1")
    return next(iter(services.values()))


def compose_build():
    svc = compose_service()
    b = svc.get("build")
    if not b:
        return "no build section"
    ctx = os.path.normpath(os.path.join(root, "deploy", b["context"] if isinstance(b, dict) else b))
    df = os.path.join(ctx, b.get("dockerfile", "Dockerfile") if isinstance(b, dict) else "Dockerfile")
    if os.path.normpath(df) != dockerfile:
        return f"builds {df}, not deploy/Dockerfile"
    if ctx != root:
        return f"build context {ctx} is not the repository root"


def compose_command():
    svc = compose_service()
    argv = svc["command"]
    invocations.append(("compose command", argv))
    why = check_serve_argv(argv, "/models", 8080)
    if why:
        return why
    if not any(str(p).endswith(":8080") for p in svc.get("ports", [])):
        return f"ports {svc.get('ports')} do not publish 8080"
    if not any(str(p).startswith("8000:") for p in svc.get("ports", [])):
        return f"ports {svc.get('ports')} do not map the FastAPI port 8000"


def compose_hardening():
    svc = compose_service()
    if svc.get("read_only") is not True:
        return "read_only is not true"
    if not all(str(v).endswith(":ro") for v in svc.get("volumes", [])):
        return f"volumes not read-only: {svc.get('volumes')}"
    user = str(svc.get("user", "10001")).split(":")[0]
    if user in {"0", "root"}:
        return "runs as root"
    if "cpus" not in svc or "mem_limit" not in svc:
        return "no cpus / mem_limit"


def compose_grace():
    svc = compose_service()
    fv = flag_values(svc["command"][2:])
    need = seconds(fv.get("--shutdown-delay"), 0) + seconds(fv.get("--drain-timeout"), 25) + 5
    m = re.fullmatch(r"(\d+)s", str(svc.get("stop_grace_period", "")))
    if not m:
        return f"stop_grace_period {svc.get('stop_grace_period')!r} is not N s"
    if int(m.group(1)) <= need:
        return f"stop_grace_period {m.group(1)} s <= shutdown delay + drain timeout + 5 = {need:g} s"


if "deploy/compose.yaml" in docs:
    case("compose builds deploy/Dockerfile from the repository root", compose_build)
    case("compose serves /models on 0.0.0.0:8080 published as 8000", compose_command)
    case("compose read-only, non-root, cpus and memory capped", compose_hardening)
    case("compose stop_grace_period > shutdown delay + drain timeout + 5", compose_grace)


# Kubernetes -----------------------------------------------------------------------------------------
def deployment():
    d = by_kind("Deployment")
    return d, d["spec"]["template"]["spec"], d["spec"]["template"]["spec"]["containers"][0]


def k8s_deploy_labels():
    d, _, _ = deployment()
    if d.get("apiVersion") != "apps/v1":
        return f"apiVersion {d.get('apiVersion')}"
    sel = d["spec"]["selector"]["matchLabels"]
    labels = d["spec"]["template"]["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in sel.items()):
        return f"selector {sel} does not match the template labels {labels}"


def k8s_deploy_args():
    d, _, c = deployment()
    invocations.append(("deployment args", c["args"]))
    port = c["ports"][0]["containerPort"]
    why = check_serve_argv(c["args"], "/models", port)
    if why:
        return why
    ann = d["spec"]["template"]["metadata"].get("annotations", {})
    if ann.get("prometheus.io/scrape") == "true" and str(ann.get("prometheus.io/port")) != str(port):
        return f"prometheus.io/port {ann.get('prometheus.io/port')} is not {port}"
    if any(not m.get("readOnly") for m in c.get("volumeMounts", [])):
        return "a volume is mounted read-write"


def k8s_deploy_probes():
    _, _, c = deployment()
    return probes(c, {"startupProbe": "/v2/health/live", "livenessProbe": "/v2/health/live",
                      "readinessProbe": "/v2/health/ready"}, c["ports"][0]["containerPort"])


def k8s_deploy_security():
    _, pod, c = deployment()
    sc = pod.get("securityContext", {})
    if sc.get("runAsNonRoot") is not True:
        return "pod securityContext.runAsNonRoot is not true"
    if sc.get("runAsUser") != 10001:
        return f"pod runAsUser {sc.get('runAsUser')}, expected 10001 (the image's user)"
    return container_security(c)


def k8s_deploy_grace():
    _, pod, c = deployment()
    fv = flag_values(c["args"][2:])
    delay, drain = seconds(fv.get("--shutdown-delay"), 0), seconds(fv.get("--drain-timeout"), 25)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if not grace > delay + drain + 5:
        return f"terminationGracePeriodSeconds {grace} <= shutdown delay {delay:g} + drain timeout {drain:g} + 5"
    rp = c["readinessProbe"]
    unready = rp.get("periodSeconds", 10) * rp.get("failureThreshold", 3)
    if delay and unready > delay:
        return f"readiness fails {unready} s after SIGTERM, after the {delay:g} s shutdown delay"


def k8s_deploy_resources():
    _, _, c = deployment()
    return resources_equal(c)


def k8s_service():
    s = by_kind("Service")
    d, _, c = deployment()
    labels = d["spec"]["template"]["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in s["spec"]["selector"].items()):
        return f"selector {s['spec']['selector']} does not select the Deployment's pods"
    for p in s["spec"]["ports"]:
        if container_port(c, p.get("targetPort", p["port"])) is None:
            return f"targetPort {p.get('targetPort')} is not a container port"


def k8s_hpa():
    h = by_kind("HorizontalPodAutoscaler")
    d, _, c = deployment()
    ref = h["spec"]["scaleTargetRef"]
    if (ref.get("kind"), ref.get("name")) != ("Deployment", d["metadata"]["name"]):
        return f"scaleTargetRef {ref} is not the Deployment"
    if not 1 <= h["spec"].get("minReplicas", 1) <= h["spec"]["maxReplicas"]:
        return "minReplicas/maxReplicas out of order"
    for m in h["spec"].get("metrics", []):
        if m.get("type") == "Resource" and m["resource"]["name"] == "cpu" and "cpu" not in c["resources"].get("requests", {}):
            return "a CPU utilisation target without a CPU request"


if any(rel.startswith("deploy/k8s/") for rel in docs):
    case("deployment selector matches its pod labels", k8s_deploy_labels)
    case("deployment serves /models on 0.0.0.0, read-only, metrics annotations", k8s_deploy_args)
    case("deployment probes on /v2/health/live and /v2/health/ready", k8s_deploy_probes)
    case("deployment runs as 10001, no privilege escalation, read-only root", k8s_deploy_security)
    case("deployment grace > shutdown delay + drain timeout + 5, readiness inside the delay", k8s_deploy_grace)
    case("deployment resources requests == limits", k8s_deploy_resources)
    case("service selects the deployment's pods and port", k8s_service)
    case("hpa scales the deployment on CPU", k8s_hpa)


# KServe ---------------------------------------------------------------------------------------------
def runtime():
    r = by_kind("ClusterServingRuntime", "ServingRuntime")
    return r, r["spec"]["containers"][0]


def ks_formats():
    r, _ = runtime()
    if r.get("apiVersion") != "serving.kserve.io/v1alpha1":
        return f"apiVersion {r.get('apiVersion')}"
    fm = {f["name"]: f for f in r["spec"]["supportedModelFormats"]}
    if not fm.get("torchless", {}).get("autoSelect"):
        return "format torchless is missing or not autoSelect"
    if "onnx" in fm and fm["onnx"].get("autoSelect"):
        return "onnx is autoSelect: it would take ONNX models from an installed Triton runtime"
    if "v2" not in r["spec"].get("protocolVersions", []):
        return f"protocolVersions {r['spec'].get('protocolVersions')} lack v2"


def ks_args():
    r, c = runtime()
    if c.get("name") != "kserve-container":
        return f"container name {c.get('name')!r}, KServe expects kserve-container"
    invocations.append(("servingruntime args", c["args"]))
    port = c["ports"][0]["containerPort"]
    why = check_serve_argv(c["args"], "/mnt/models", port)
    if why:
        return why
    if flag_values(c["args"][2:]).get("--model-name") != "{{.Name}}":
        return "no --model-name={{.Name}}: the served name would not be the InferenceService's"
    ann = r["spec"].get("annotations", {})
    if str(ann.get("prometheus.kserve.io/port", port)) != str(port):
        return f"prometheus.kserve.io/port is not {port}"


def ks_probes_security():
    _, c = runtime()
    why = probes(c, {"livenessProbe": "/v2/health/live", "readinessProbe": "/v2/health/ready"},
                 c["ports"][0]["containerPort"])
    if why:
        return why
    if c.get("securityContext", {}).get("runAsNonRoot") is not True:
        return "securityContext.runAsNonRoot is not true"
    return container_security(c) or resources_equal(c)


def ks_isvc():
    isvc = by_kind("InferenceService")
    r, _ = runtime()
    if isvc.get("apiVersion") != "serving.kserve.io/v1beta1":
        return f"apiVersion {isvc.get('apiVersion')}"
    p = isvc["spec"]["predictor"]
    m = p["model"]
    if m.get("runtime") != r["metadata"]["name"]:
        return f"runtime {m.get('runtime')!r} is not {r['metadata']['name']!r}"
    if m["modelFormat"]["name"] not in {f["name"] for f in r["spec"]["supportedModelFormats"]}:
        return f"modelFormat {m['modelFormat']['name']} is not supported by the runtime"
    if m.get("protocolVersion") not in r["spec"]["protocolVersions"]:
        return f"protocolVersion {m.get('protocolVersion')} not offered by the runtime"
    if not m.get("storageUri"):
        return "no storageUri"
    if p.get("scaleMetric") == "concurrency" and not p.get("scaleTarget", 0) >= 1:
        return "concurrency scaling without a scaleTarget"
    if not 0 <= p.get("minReplicas", 1) <= p.get("maxReplicas", 1):
        return "minReplicas > maxReplicas"


if any(rel.startswith("deploy/kserve/") for rel in docs):
    case("servingruntime formats (torchless auto, onnx not) and protocol v2", ks_formats)
    case("servingruntime serves /mnt/models as {{.Name}} on 0.0.0.0", ks_args)
    case("servingruntime probes, non-root, requests == limits", ks_probes_security)
    case("inferenceservice uses the runtime, its format and v2", ks_isvc)


# ---- every flag used exists -----------------------------------------------------------------------
def flags_exist():
    if not invocations:
        return "no torchless command lines found"
    bad = []
    for where, argv in invocations:
        sub = argv[0]
        known = known_flags.get(sub)
        if known is None:
            bad.append(f"{where}: unknown subcommand {sub}")
            continue
        for flag, value in flag_values(argv[1:]).items():
            if flag not in known:
                bad.append(f"{where}: {sub} {flag}")
            elif flag in NUMERIC_FLAGS and (value is None or not re.fullmatch(r"\d+(\.\d+)?", value)):
                bad.append(f"{where}: {flag} {value!r} is not a number")
    if bad:
        return "; ".join(bad) + f" (flags from {flags_source})"


case(f"every torchless flag used exists ({flags_source})", flags_exist)

print(f"deploy: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
