#!/usr/bin/env bash
# Load benchmark of `torchless serve` (specs/serving.md 9, and the batching comparison of 5).
#
#   bench/serve_load.sh [CLI] [--quick] [--duration S] [--reps N] [--warmup S] [--json OUT]
#                       [--parts main,nolog,workers2,batching,image] [--only torchless|fastapi]
#                       [--models DIR] [--work DIR] [--keep] [--batch-conns N]
#
# CLI is the torchless binary (default build/bin/torchless). The models come from gen_models.py
# (in $BENCH_PEERS, default /work/shared/bench, with fastapi_peer.py), written to a temporary
# directory (or taken from --models DIR; --work DIR keeps the logs and results.jsonl). Every
# server is confined to cores 0-1 (taskset); wrk -t2 gets the other cores on a host with 4 or
# more, and shares 0-1 otherwise (the table says so).
#
# Parts (all by default):
#   main      the MLP behind POST /predict: torchless (default settings, --predict-model mlp) and
#             the FastAPI + TorchScript service (uvicorn, one worker), both with their default
#             access logs. Both must give the same answer (|diff| <= 1e-6) before timing. Then a
#             warm-up, and for 16 and 64 connections REPS runs of DURATION s alternating
#             torchless / FastAPI (A B A B), medians reported, plus a torchless v2 JSON row.
#   nolog     the same with access logging off for both.
#   workers2  informative: FastAPI with --workers 2.
#   batching  ResNet-18, v2 binary request with a 1x3x224x224 input, at 16 connections (--batch-conns):
#             --max-batch-size 1 against 32 with --max-queue-delay-us 0 and 250 (three servers,
#             runs interleaved); torchless's output is checked against PyTorch's first.
#   image     ResNet-18 behind /predict, one JPEG per multipart request (single-file mode with
#             --preprocess imagenet --labels); the label is checked against torchvision first.
#             Skipped with a note, not fatal, when the server cannot do it.
# Table per part: requests/s, p50, p99, non-2xx, socket errors, server CPU seconds per 1,000
# requests (/proc/PID/stat), peak RSS (VmHWM), and the torchless/FastAPI ratios; for batching
# also the average batch size and queue time from /metrics. --quick: 5 s runs (15 s for
# ResNet-18), 1 repetition, 2 s warm-up (a smoke check). --json OUT writes every run and the summary.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
here=$root/bench
peers=${BENCH_PEERS:-/work/shared/bench}
cli=$root/build/bin/torchless
duration=30 reps=3 warmup=10
parts=main,nolog,workers2,batching,image
only="" json_out="" models="" work="" keep=0
tport=${TORCHLESS_PORT:-18080} fport=${FASTAPI_PORT:-18000}
cpus=0,1
batch_conns=16

die() { echo "serve_load: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case $1 in
    --quick) duration=5 reps=1 warmup=2 ;;
    --duration) duration=${2:?}; shift ;;
    --reps) reps=${2:?}; shift ;;
    --warmup) warmup=${2:?}; shift ;;
    --json) json_out=$(realpath -m "${2:?}"); shift ;;
    --parts) parts=${2:?}; shift ;;
    --only) only=${2:?}; shift ;;
    --models) models=$(realpath "${2:?}"); shift ;;
    --work) work=$(realpath -m "${2:?}"); shift ;;
    --keep) keep=1 ;;
    --batch-conns) batch_conns=${2:?}; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) cli=$(realpath -m "$1") ;;
  esac
  shift
done
case ",$parts," in *,main,*|*,nolog,*|*,workers2,*|*,batching,*|*,image,*) ;; *) die "--parts: nothing known in '$parts'" ;; esac
has_part() { case ",$parts," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
want() {  # want torchless|fastapi: is that server measured
  [ -z "$only" ] || [ "$only" = "$1" ]
}
[ -z "$only" ] || [ "$only" = torchless ] || [ "$only" = fastapi ] || die "--only takes torchless or fastapi"

# ---- helpers in Python: HTTP checks, /proc readings, wrk output parsing, the report ----------------
read -r -d '' PYHELP <<'PY' || true
import json, os, re, statistics, sys, urllib.error, urllib.request

def http(url, body=None, headers=None, timeout=30):
    """(status, headers, body bytes); status 0 when nothing answers."""
    req = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
    except (OSError, urllib.error.URLError):
        return 0, {}, b""

def flat(x):
    return [v for e in x for v in flat(e)] if isinstance(x, list) else [x]

def fail(msg):
    print(msg, file=sys.stderr); sys.exit(1)

def predict_bodies(models):
    import numpy as np
    v = np.load(os.path.join(models, "mlp.in.npy")).reshape(-1)
    return [b'{"values": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]}',
            json.dumps({"values": [float(x) for x in v]}).encode()]

def proc_tree(pid):
    """pid and its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                rest = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
                kids.setdefault(int(rest[1]), []).append(int(d))
            except OSError:
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out

def cmd_status(url):
    print(http(url, timeout=2)[0])

def cmd_proc(pid):
    """CPU seconds (utime + stime) and VmHWM (kB) summed over the process tree."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = hwm = 0
    for p in proc_tree(int(pid)):
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            cpu += (int(f[11]) + int(f[12])) / ticks
            m = re.search(r"^VmHWM:\s+(\d+)", open(f"/proc/{p}/status").read(), re.M)
            hwm += int(m.group(1)) if m else 0
        except OSError:
            pass
    print(f"{cpu:.2f} {hwm}")

def cmd_check_predict(models, *urls):
    """Every server answers both bodies with 200, and all agree to 1e-6."""
    worst = 0.0
    for body in predict_bodies(models):
        preds = []
        for url in urls:
            s, _, b = http(url, body, {"Content-Type": "application/json"})
            if s != 200:
                fail(f"POST {url} {body[:60]!r}... -> {s} {b[:300]!r}")
            preds.append(flat(json.loads(b)["prediction"]))
        for p in preds[1:]:
            if len(p) != len(preds[0]):
                fail(f"prediction lengths differ: {preds}")
            worst = max([worst] + [abs(a - b) for a, b in zip(p, preds[0])])
    if worst > 1e-6:
        fail(f"the servers disagree: max |diff| {worst:.3g} > 1e-6")
    print(f"/predict answers agree (max |diff| {worst:.3g})")

def cmd_check_infer_mlp(infer_url, predict_url):
    body = (b'{"inputs":[{"name":"input","shape":[1,10],"datatype":"FP32",'  # infer_mlp.lua's body
            b'"data":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0]}]}')
    s, _, b = http(infer_url, body, {"Content-Type": "application/json"})
    if s != 200:
        fail(f"POST {infer_url} -> {s} {b[:300]!r}")
    got = json.loads(b)["outputs"][0]["data"]
    s, _, b = http(predict_url, b'{"values": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]}',
                   {"Content-Type": "application/json"})
    want = flat(json.loads(b)["prediction"])
    if len(got) != len(want) or max(abs(a - b) for a, b in zip(got, want)) > 1e-6:
        fail(f"v2 infer {got} != /predict {want}")
    print("v2 infer agrees with /predict")

def cmd_make_bodies(models, work):
    """resnet18.bin (v2 binary request) + its header length, cat.jpg with labels.txt and the label
    torchvision predicts for it."""
    import numpy as np
    x = np.load(os.path.join(models, "resnet18.in.npy")).astype("<f4")
    head = json.dumps({"inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32",
                                   "parameters": {"binary_data_size": x.nbytes}}],
                       "outputs": [{"name": "output", "parameters": {"binary_data": False}}]},
                      separators=(",", ":")).encode()
    open(os.path.join(work, "resnet18.bin"), "wb").write(head + x.tobytes())
    open(os.path.join(work, "resnet18.hdrlen"), "w").write(str(len(head)))
    import torch, torchvision.transforms as T
    from PIL import Image
    labels = [f"class{i:03d}" for i in range(1000)]
    open(os.path.join(work, "labels.txt"), "w").write("\n".join(labels) + "\n")
    net = torch.jit.load(os.path.join(models, "resnet18.ts.pt")).eval()
    tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    for seed in range(20):  # an image whose top-1 is clear, so float differences cannot flip it
        g = np.random.default_rng(seed)
        yy, xx = np.mgrid[0:375, 0:500]
        img = np.stack([(xx * (1 + c) + yy * (3 - c)) % 256 for c in range(3)], -1).astype(np.float64)
        img = np.clip(img + g.normal(0, 20, img.shape), 0, 255).astype(np.uint8)
        path = os.path.join(work, "cat.jpg")
        Image.fromarray(img).save(path, quality=90)
        with torch.no_grad():
            y = net(tf(Image.open(path).convert("RGB")).unsqueeze(0))[0]
        top = torch.topk(y, 2).values
        if top[0] - top[1] > 0.05 * max(1.0, float(y.abs().max())):
            break
    open(os.path.join(work, "cat.label"), "w").write(labels[int(y.argmax())])
    print(f"bodies: resnet18.bin {len(head) + x.nbytes} bytes, cat.jpg -> {labels[int(y.argmax())]}")

def cmd_check_resnet(url, body, hdrlen, models):
    import numpy as np
    s, h, b = http(url, open(body, "rb").read(), {"Content-Type": "application/octet-stream",
                                                   "Inference-Header-Content-Length": hdrlen}, timeout=120)
    if s != 200:
        fail(f"POST {url} (v2 binary, 1x3x224x224) -> {s} {b[:300]!r}")
    n = int(h.get("Inference-Header-Content-Length", len(b)))
    out = json.loads(b[:n])["outputs"][0]
    if "data" in out:
        got = np.array(out["data"], dtype=np.float32)
    else:
        got = np.frombuffer(b[n:n + out["parameters"]["binary_data_size"]], dtype="<f4")
    want = np.load(os.path.join(models, "resnet18.out.npy")).reshape(-1)
    err = float(np.abs(got - want).max()) if got.shape == want.shape else float("inf")
    if not err <= 1e-3 * max(1.0, float(np.abs(want).max())):
        fail(f"{url}: ResNet-18 output differs from PyTorch's: max |diff| {err:.3g}")
    print(f"ResNet-18 output matches PyTorch (max |diff| {err:.3g})")

def cmd_check_image(url, img, label_file):
    b = "torchlessbench"
    body = (f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="cat.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n").encode() + open(img, "rb").read() + f"\r\n--{b}--\r\n".encode()
    s, _, r = http(url, body, {"Content-Type": "multipart/form-data; boundary=" + b}, timeout=120)
    want = open(label_file).read().strip()
    if s != 200:
        fail(f"POST {url} (multipart JPEG) -> {s} {r[:300]!r}")
    got = json.loads(r).get("prediction")
    if got != want:
        fail(f"image prediction {got!r}, torchvision says {want!r}")
    print(f"image prediction {got!r} matches torchvision")

def cmd_metrics(url, model):
    """torchless_inference_count, _exec_count and _queue_duration_us of a model (summed over
    versions), nan when absent."""
    names = ("torchless_inference_count", "torchless_inference_exec_count", "torchless_inference_queue_duration_us")
    tot = dict.fromkeys(names, float("nan"))
    s, _, b = http(url)
    if s == 200:
        for line in b.decode(errors="replace").splitlines():
            m = re.match(r'(\w+)\{([^}]*)\}\s+(\S+)', line)
            if m and m.group(1) in tot and f'model="{model}"' in m.group(2):
                k = m.group(1)
                tot[k] = (0 if tot[k] != tot[k] else tot[k]) + float(m.group(3))
    print(*(tot[k] for k in names))

def ms(s):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", s)
    return float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4, "h": 3.6e6}[m.group(2)] if m else None

def cmd_record(results, wrk_out, *kv):
    """Parses wrk --latency output, appends one JSON line with the extra key=value fields."""
    t = open(wrk_out).read()
    rec = dict(a.split("=", 1) for a in kv)
    for k in list(rec):
        try:
            rec[k] = float(rec[k]) if "." in rec[k] or rec[k] in ("nan",) else int(rec[k])
        except ValueError:
            pass
    m = re.search(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)", t, re.M)
    rec["max_ms"] = ms(m.group(3)) if m else None
    for pct in (50, 75, 90, 99):
        m = re.search(rf"^\s*{pct}%\s+(\S+)", t, re.M)
        rec[f"p{pct}_ms"] = ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([\d.]+\w+)", t)
    rec["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Requests/sec:\s+([\d.]+)", t)
    rec["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
    rec["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups()))) if m else \
        {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    rec["non2xx"] = int(m.group(1)) if m else 0
    cpu = rec.pop("cpu1") - rec.pop("cpu0")
    rec["cpu_s"] = round(cpu, 3)
    rec["cpu_s_per_1k"] = round(cpu / rec["requests"] * 1000, 4) if rec["requests"] else None
    rec["rss_peak_mb"] = round(rec.pop("hwm_kb") / 1024, 1)
    if "count1" in rec:
        dc, de = rec.pop("count1") - rec.pop("count0"), rec.pop("exec1") - rec.pop("exec0")
        dq = rec.pop("queue1") - rec.pop("queue0")
        rec["avg_batch"] = round(dc / de, 2) if dc == dc and de == de and de > 0 else None
        rec["avg_queue_ms"] = round(dq / dc / 1000, 3) if dq == dq and dc == dc and dc > 0 else None
    with open(results, "a") as f:
        f.write(json.dumps(rec) + "\n")
    errs = sum(rec["socket_errors"].values())
    print(f"  {rec['part']:9} {rec['server']:10} {rec.get('row', ''):14} c={rec['conns']:<3} rep {rec['rep']}: "
          f"{rec['rps']:9.1f} req/s  p50 {rec['p50_ms']} ms  p99 {rec['p99_ms']} ms  non-2xx {rec['non2xx']}  "
          f"socket errors {errs}")

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

def fmt(v, spec):
    """format(v, spec), or "-" padded to the spec's width"""
    return format(v, spec) if v is not None else "-".rjust(int(re.match(r"\d*", spec).group() or 0))

def cmd_report(results, meta_file, json_out=""):
    runs = [json.loads(l) for l in open(results)] if os.path.exists(results) else []
    meta = json.load(open(meta_file))
    groups = {}
    for r in runs:
        groups.setdefault((r["part"], r["server"], r.get("row", ""), r["conns"]), []).append(r)
    summary = {}
    for key, rs in groups.items():
        summary[key] = {"runs": len(rs), "rps": med([r["rps"] for r in rs]), "p50_ms": med([r["p50_ms"] for r in rs]),
                        "p99_ms": med([r["p99_ms"] for r in rs]), "max_ms": max((r["max_ms"] or 0) for r in rs),
                        "non2xx": sum(r["non2xx"] for r in rs),
                        "socket_errors": sum(sum(r["socket_errors"].values()) for r in rs),
                        "cpu_s_per_1k": med([r["cpu_s_per_1k"] for r in rs]),
                        "rss_peak_mb": max(r["rss_peak_mb"] for r in rs),
                        "avg_batch": med([r.get("avg_batch") for r in rs]),
                        "avg_queue_ms": med([r.get("avg_queue_ms") for r in rs])}
    print()
    print(f"torchless serve load benchmark, {meta['date']}, {meta['host']}")
    print(f"wrk -t2, {meta['duration']} s runs, {meta['reps']} repetition(s) (median), warm-up {meta['warmup']} s; "
          f"servers on cores {meta['server_cpus']}; {meta['wrk_placement']}")
    head = f"{'server':24} {'conns':>5} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'sock err':>8} " \
           f"{'CPU s/1k':>9} {'RSS MB':>7}"

    def row(name, s, conns):
        return (f"{name:24} {conns:>5} {fmt(s['rps'], '10.1f')} {fmt(s['p50_ms'], '8.2f')} {fmt(s['p99_ms'], '8.2f')} "
                f"{s['non2xx']:>8} {s['socket_errors']:>8} {fmt(s['cpu_s_per_1k'], '9.3f')} {s['rss_peak_mb']:>7.1f}")
    verdicts = {}
    for part, title in (("main", "POST /predict, MLP 10-32-1, default access logs"),
                        ("nolog", "POST /predict, MLP 10-32-1, access logs off"),
                        ("workers2", "FastAPI with uvicorn --workers 2 (informative)")):
        keys = sorted((k for k in summary if k[0] == part), key=lambda k: (k[3], k[1] != "torchless", k[2]))
        if not keys:
            continue
        print(f"\n{title}\n{head}")
        for conns in sorted({k[3] for k in keys}):
            t, f = summary.get((part, "torchless", "", conns)), summary.get((part, "fastapi", "", conns))
            for k in keys:
                if k[3] == conns:
                    name = {"torchless": "torchless", "fastapi": "FastAPI"}[k[1]] + (f" {k[2]}" if k[2] else "")
                    print(row(name, summary[k], conns))
            if t and f and f["rps"] and t["rps"] and f["p99_ms"]:
                rps_x, p99_x = t["rps"] / f["rps"], t["p99_ms"] / f["p99_ms"]
                p50_x = t["p50_ms"] / f["p50_ms"] if f["p50_ms"] else None
                cpu_x = t["cpu_s_per_1k"] / f["cpu_s_per_1k"] if t["cpu_s_per_1k"] and f["cpu_s_per_1k"] else None
                print(f"{'ratio torchless/FastAPI':24} {conns:>5} {rps_x:9.2f}x {fmt(p50_x, '7.3f')}x {p99_x:7.3f}x "
                      f"{'':8} {'':8} {fmt(cpu_x, '8.3f')}x {t['rss_peak_mb'] / f['rss_peak_mb']:6.2f}x")
                ok = rps_x >= 20 and p99_x <= 0.1 and t["non2xx"] == 0 and t["socket_errors"] == 0
                verdicts[f"{part}_c{conns}"] = {"rps_ratio": round(rps_x, 3), "p99_ratio": round(p99_x, 4), "pass": ok}
        if part in ("main", "nolog") and any(k.startswith(part + "_") for k in verdicts):
            print("acceptance (req/s >= 20x, p99 <= 0.1x, no non-2xx or socket errors): " +
                  ", ".join(f"c{k.split('_c')[1]} {'PASS' if v['pass'] else 'FAIL'}"
                            for k, v in verdicts.items() if k.startswith(part + "_")))
    keys = [k for k in summary if k[0] == "batching"]
    if keys:
        print(f"\nDynamic batching, ResNet-18, v2 binary 1x3x224x224, torchless only\n"
              f"{'config':24} {'conns':>5} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'sock err':>8} "
              f"{'CPU s/1k':>9} {'batch':>6} {'queue ms':>8} {'vs off':>7}")
        off = summary.get(("batching", "torchless", "off", meta["batch_conns"]))
        for cfg in ("off", "on-delay0", "on-delay250"):
            s = summary.get(("batching", "torchless", cfg, meta["batch_conns"]))
            if not s:
                continue
            ratio = s["rps"] / off["rps"] if off and off["rps"] else None
            name = {"off": "max-batch-size 1", "on-delay0": "32, delay 0 us", "on-delay250": "32, delay 250 us"}[cfg]
            print(f"{name:24} {meta['batch_conns']:>5} {fmt(s['rps'], '10.1f')} {fmt(s['p50_ms'], '8.1f')} "
                  f"{fmt(s['p99_ms'], '8.1f')} {s['non2xx']:>8} {s['socket_errors']:>8} {fmt(s['cpu_s_per_1k'], '9.2f')} "
                  f"{fmt(s['avg_batch'], '6.2f')} {fmt(s['avg_queue_ms'], '8.2f')} {fmt(ratio, '6.2f')}x")
    keys = [k for k in summary if k[0] == "image"]
    if keys or meta.get("image_skipped"):
        print(f"\nResNet-18 behind /predict, multipart JPEG (500x375), torchless only\n{head}")
        for k in keys:
            print(row("torchless", summary[k], k[3]))
        if meta.get("image_skipped"):
            print(f"skipped: {meta['image_skipped']}")
    if json_out:
        out = {"meta": meta, "runs": runs, "acceptance": verdicts,
               "summary": [dict(zip(("part", "server", "row", "conns"), k), **v) for k, v in summary.items()]}
        json.dump(out, open(json_out, "w"), indent=1)
        print(f"\nwrote {json_out}")

cmds = {"status": cmd_status, "proc": cmd_proc, "check-predict": cmd_check_predict,
        "check-infer-mlp": cmd_check_infer_mlp, "make-bodies": cmd_make_bodies, "check-resnet": cmd_check_resnet,
        "check-image": cmd_check_image, "metrics": cmd_metrics, "record": cmd_record, "report": cmd_report}
cmds[sys.argv[1]](*sys.argv[2:])
PY
py() { /usr/bin/python3 -c "$PYHELP" "$@"; }

# ---- tools and placement ------------------------------------------------------------------------
command -v wrk >/dev/null || die "wrk is not installed (scripts/setup installs it)"
command -v taskset >/dev/null || die "taskset is missing (util-linux)"
[ -f "$peers/gen_models.py" ] && [ -f "$peers/fastapi_peer.py" ] ||
  die "gen_models.py / fastapi_peer.py not found in $peers (set BENCH_PEERS)"
ncpu=$(nproc --all)
if [ "$ncpu" -ge 4 ]; then
  wrk_cmd=(taskset -c "2-$((ncpu - 1))" wrk)
  wrk_placement="wrk on cores 2-$((ncpu - 1))"
else
  wrk_cmd=(wrk)
  wrk_placement="wrk shares the servers' cores (a ${ncpu}-core host)"
fi
if want torchless; then
  [ -x "$cli" ] || die "no torchless binary at $cli (cmake --build build --target torchless_cli, or pass its path)"
  "$cli" serve --help 2>&1 | grep -q "Usage:.* serve" ||
    die "$cli has no 'serve' subcommand ('$cli serve --help' does not describe it)"
fi

own_work=0  # only a directory made here is removed at exit
if [ -z "$work" ]; then
  work=$(mktemp -d /tmp/serve_load.XXXXXX) own_work=1
else
  mkdir -p "$work"
fi
results=$work/results.jsonl
: >"$results"
declare -A pid_of log_of

reported=0
cleanup() {
  local name
  if [ $reported -eq 0 ] && [ -s "$results" ]; then  # a part failed: report the runs made so far
    echo "serve_load: stopped early; the runs made so far:" >&2
    py report "$results" "$meta" "$json_out" || true
  fi
  for name in "${!pid_of[@]}"; do kill -TERM "${pid_of[$name]}" 2>/dev/null || true; done
  for name in "${!pid_of[@]}"; do
    for _ in $(seq 50); do kill -0 "${pid_of[$name]}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${pid_of[$name]}" 2>/dev/null || true
  done
  if [ $keep -eq 0 ] && [ $own_work -eq 1 ]; then rm -rf "$work"; else echo "serve_load: files in $work"; fi
}
trap cleanup EXIT

# start NAME -- COMMAND...: runs COMMAND on cores $cpus, output appended to $work/NAME.log
start() {
  local name=$1
  shift 2
  log_of[$name]=$work/$name.log
  echo "== start $name: $*" >>"${log_of[$name]}"
  taskset -c "$cpus" "$@" >>"${log_of[$name]}" 2>&1 &
  pid_of[$name]=$!
}

# wait_ready NAME URL [SECONDS]: until URL answers 200; fails with the log's tail if the process
# exits or the time runs out
wait_ready() {
  local name=$1 url=$2 limit=${3:-120} t0=$SECONDS code
  while true; do
    if ! kill -0 "${pid_of[$name]}" 2>/dev/null; then
      wait "${pid_of[$name]}" && code=0 || code=$?
      unset "pid_of[$name]"
      echo "serve_load: $name exited (code $code) before $url answered 200; its log ends:" >&2
      tail -n 20 "${log_of[$name]}" >&2
      return 1
    fi
    code=$(py status "$url")
    [ "$code" = 200 ] && return 0
    if [ $((SECONDS - t0)) -ge "$limit" ]; then
      echo "serve_load: $name: $url still answers '$code' after $limit s; its log ends:" >&2
      tail -n 20 "${log_of[$name]}" >&2
      return 1
    fi
    sleep 0.25
  done
}

# port_free PORT: nothing answers there yet
port_free() {
  [ "$(py status "http://127.0.0.1:$1/")" = 0 ] || die "port $1 is already in use (set TORCHLESS_PORT / FASTAPI_PORT)"
}

# stop NAME: SIGTERM, wait (at most 60 s), print the exit code and how long it took
stop() {
  local name=$1 pid=${pid_of[$1]} t0=$SECONDS code
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" && code=0 || code=$?
  unset "pid_of[$name]"
  echo "  $name stopped on SIGTERM: exit code $code after $((SECONDS - t0)) s"
}

# bench NAME PART SERVER ROW CONNS REP URL SCRIPT [ENV=VALUE...]: one wrk run, recorded
bench() {
  local name=$1 part=$2 server=$3 row=$4 conns=$5 rep=$6 url=$7 script=$8
  shift 8
  local pid=${pid_of[$name]} before after m0=() m1=() out=$work/wrk.out secs=$duration
  kill -0 "$pid" 2>/dev/null || die "$name is no longer running; its log ends: $(tail -n 5 "${log_of[$name]}")"
  # ResNet-18: the requests of the previous run (or warm-up) still executing are finished first
  # (one request waits behind them), and a run lasts at least 15 s (a batch can take seconds)
  case $part in
    batching) py check-resnet "$url" "$work/resnet18.bin" "$(cat "$work/resnet18.hdrlen")" "$models" >/dev/null ;;
    image) py check-image "$url" "$work/cat.jpg" "$work/cat.label" >/dev/null ;;
  esac
  case $part in batching|image) [ "$secs" -ge 15 ] || secs=15 ;; esac
  [ "$part" = batching ] && read -r -a m0 <<<"$(py metrics "${url%%/v2/*}/metrics" resnet18)"
  before=$(py proc "$pid")
  # wrk's default 2 s timeout for the MLP (specs/serving.md 9), 10 s for ResNet-18 queues
  local timeout=()
  case $part in batching|image) timeout=(--timeout 10s) ;; esac
  env "$@" "${wrk_cmd[@]}" -t2 -c"$conns" -d"${secs}s" "${timeout[@]}" --latency -s "$here/$script" "$url" \
    >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
  after=$(py proc "$pid")
  local extra=()
  if [ "$part" = batching ]; then
    read -r -a m1 <<<"$(py metrics "${url%%/v2/*}/metrics" resnet18)"
    extra=(count0="${m0[0]}" exec0="${m0[1]}" queue0="${m0[2]}" count1="${m1[0]}" exec1="${m1[1]}" queue1="${m1[2]}")
  fi
  py record "$results" "$out" part="$part" server="$server" row="$row" conns="$conns" rep="$rep" \
    cpu0="${before% *}" cpu1="${after% *}" hwm_kb="${after#* }" "${extra[@]}"
  # access logs grow fast at tens of thousands of requests/s: keep each log under 64 MiB
  [ "$(stat -c %s "${log_of[$name]}")" -lt 67108864 ] || : >"${log_of[$name]}"
}

# warm NAME URL SCRIPT CONNS [ENV=VALUE...]: discarded load
warm() {
  local name=$1 url=$2 script=$3 conns=$4
  shift 4
  env "$@" "${wrk_cmd[@]}" -t2 -c"$conns" -d"${warmup}s" --timeout 10s -s "$here/$script" "$url" >/dev/null 2>&1 ||
    die "warm-up of $name failed"
}

# ---- models, repository, request bodies ----------------------------------------------------------
if [ -z "$models" ] || [ ! -f "$models/models.json" ]; then
  models=${models:-$work/models}
  echo "== models: $peers/gen_models.py $models"
  /usr/bin/python3 "$peers/gen_models.py" "$models" >"$work/gen_models.log" 2>&1 ||
    die "gen_models.py failed: $(tail -n 5 "$work/gen_models.log")"
fi
repo=$work/repo
for m in mlp resnet18; do
  mkdir -p "$repo/$m/1"
  cp "$models/$m.onnx" "$repo/$m/1/model.onnx"
done
py make-bodies "$models" "$work"

meta=$work/meta.json
version=$( { want torchless && "$cli" --version 2>/dev/null; } | head -n 1 || true)
cat >"$meta" <<EOF
{"date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "host": "$(nproc --all) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)",
 "duration": $duration, "reps": $reps, "warmup": $warmup, "server_cpus": "$cpus", "wrk_placement": "$wrk_placement",
 "batch_conns": $batch_conns, "torchless": "$cli", "torchless_version": "$version", "parts": "$parts", "only": "$only"}
EOF
tl_url=http://127.0.0.1:$tport fa_url=http://127.0.0.1:$fport

# ---- main / nolog: torchless against FastAPI on /predict ------------------------------------------
# table PART LOGGING(on|off)
table() {
  local part=$1 logging=$2 c rep tl_args=() fa_args=()
  echo "== $part: MLP /predict, access logs $logging"
  [ "$logging" = off ] && tl_args=(--access-log off) fa_args=(--no-access-log)
  if want torchless; then
    port_free "$tport"
    start torchless -- "$cli" serve "$repo" --port "$tport" --predict-model mlp "${tl_args[@]}"
    wait_ready torchless "$tl_url/v2/health/ready" || exit 1
  fi
  if want fastapi; then
    port_free "$fport"
    start fastapi -- env MODEL="$models/mlp.ts.pt" /usr/bin/python3 -m uvicorn fastapi_peer:app --app-dir "$peers" \
      --host 127.0.0.1 --port "$fport" "${fa_args[@]}"
    wait_ready fastapi "$fa_url/openapi.json" || exit 1
  fi
  local urls=()
  want torchless && urls+=("$tl_url/predict")
  want fastapi && urls+=("$fa_url/predict")
  py check-predict "$models" "${urls[@]}" || exit 1
  if want torchless && [ "$part" = main ]; then
    py check-infer-mlp "$tl_url/v2/models/mlp/infer" "$tl_url/predict" || exit 1
  fi
  want torchless && warm torchless "$tl_url/predict" predict_mlp.lua 16
  want fastapi && warm fastapi "$fa_url/predict" predict_mlp.lua 16
  for c in 16 64; do
    for rep in $(seq "$reps"); do
      want torchless && bench torchless "$part" torchless "" "$c" "$rep" "$tl_url/predict" predict_mlp.lua
      want fastapi && bench fastapi "$part" fastapi "" "$c" "$rep" "$fa_url/predict" predict_mlp.lua
      if want torchless && [ "$part" = main ]; then
        bench torchless "$part" torchless "v2 JSON" "$c" "$rep" "$tl_url/v2/models/mlp/infer" infer_mlp.lua
      fi
    done
  done
  want torchless && stop torchless
  want fastapi && stop fastapi
  return 0
}
has_part main && table main on
has_part nolog && table nolog off

if has_part workers2 && want fastapi; then
  echo "== workers2: FastAPI with uvicorn --workers 2"
  port_free "$fport"
  start fastapi2 -- env MODEL="$models/mlp.ts.pt" /usr/bin/python3 -m uvicorn fastapi_peer:app --app-dir "$peers" \
    --host 127.0.0.1 --port "$fport" --workers 2
  wait_ready fastapi2 "$fa_url/openapi.json" || exit 1
  for _ in $(seq 240); do  # both workers loaded
    [ "$(grep -c "Application startup complete" "${log_of[fastapi2]}")" -ge 2 ] && break
    sleep 0.25
  done
  warm fastapi2 "$fa_url/predict" predict_mlp.lua 16
  for c in 16 64; do
    for rep in $(seq "$reps"); do bench fastapi2 workers2 fastapi "" "$c" "$rep" "$fa_url/predict" predict_mlp.lua; done
  done
  stop fastapi2
fi

# ---- batching: ResNet-18 with batching off and on -------------------------------------------------
if has_part batching && want torchless; then
  echo "== batching: ResNet-18, v2 binary, $batch_conns connections"
  declare -A flags_of=([off]="--max-batch-size 1" [on-delay0]="--max-batch-size 32 --max-queue-delay-us 0"
                       [on-delay250]="--max-batch-size 32 --max-queue-delay-us 250")
  declare -A port_of=([off]=$((tport + 1)) [on-delay0]=$((tport + 2)) [on-delay250]=$((tport + 3)))
  cfgs=(off on-delay0 on-delay250)
  for cfg in "${cfgs[@]}"; do
    port_free "${port_of[$cfg]}"
    # shellcheck disable=SC2086  # the flags are words
    start "tl-$cfg" -- "$cli" serve "$repo" --port "${port_of[$cfg]}" --predict-model mlp ${flags_of[$cfg]}
  done
  for cfg in "${cfgs[@]}"; do
    wait_ready "tl-$cfg" "http://127.0.0.1:${port_of[$cfg]}/v2/models/resnet18/ready" || exit 1
    py check-resnet "http://127.0.0.1:${port_of[$cfg]}/v2/models/resnet18/infer" "$work/resnet18.bin" \
      "$(cat "$work/resnet18.hdrlen")" "$models" || exit 1
    warm "tl-$cfg" "http://127.0.0.1:${port_of[$cfg]}/v2/models/resnet18/infer" infer_file.lua "$batch_conns" \
      BODY="$work/resnet18.bin" HEADER_LEN="$(cat "$work/resnet18.hdrlen")"
  done
  for rep in $(seq "$reps"); do
    for cfg in "${cfgs[@]}"; do
      bench "tl-$cfg" batching torchless "$cfg" "$batch_conns" "$rep" \
        "http://127.0.0.1:${port_of[$cfg]}/v2/models/resnet18/infer" infer_file.lua \
        BODY="$work/resnet18.bin" HEADER_LEN="$(cat "$work/resnet18.hdrlen")"
    done
  done
  for cfg in "${cfgs[@]}"; do stop "tl-$cfg"; done
fi

# ---- image: ResNet-18 behind /predict, multipart JPEG (soft: skipped with a note) ----------------
if has_part image && want torchless; then
  echo "== image: ResNet-18 /predict, multipart JPEG"
  iport=$((tport + 4)) why=""
  port_free "$iport"
  start tl-image -- "$cli" serve "$repo/resnet18/1/model.onnx" --model-name resnet18 --port "$iport" \
    --preprocess imagenet --labels "$work/labels.txt"
  if ! wait_ready tl-image "http://127.0.0.1:$iport/v2/health/ready" 2>"$work/image.err"; then
    why="the server did not start: $(tail -n 3 "$work/image.err" | tr '\n' ' ')"
  elif ! py check-image "http://127.0.0.1:$iport/predict" "$work/cat.jpg" "$work/cat.label" 2>"$work/image.err"; then
    why=$(tr '\n' ' ' <"$work/image.err")
  fi
  if [ -z "$why" ]; then
    warm tl-image "http://127.0.0.1:$iport/predict" predict_image.lua 16 IMG="$work/cat.jpg"
    for rep in $(seq "$reps"); do
      bench tl-image image torchless "" 16 "$rep" "http://127.0.0.1:$iport/predict" predict_image.lua IMG="$work/cat.jpg"
    done
  else
    echo "  image part skipped: $why"
    /usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); m["image_skipped"]=sys.argv[2]; json.dump(m, open(sys.argv[1], "w"))' \
      "$meta" "$why"
  fi
  [ -n "${pid_of[tl-image]:-}" ] && stop tl-image
fi

py report "$results" "$meta" "$json_out"
reported=1
