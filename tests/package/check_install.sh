#!/usr/bin/env bash
# The installed CMake package works: installs BUILD_DIR into a temporary prefix, builds
# examples/cpp against it with find_package(torchless), runs it on the bundled checkpoint and
# compares its output with what python3-torch computes.
set -euo pipefail
build=${1:?usage: check_install.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/examples/cpp" -B "$tmp/example" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/example" >/dev/null
"$tmp/example/state_dict_summary" "$src/examples/mlp/mlp_checkpoint.pt" >"$tmp/out.txt"
/usr/bin/python3 - "$src/examples/mlp/mlp_checkpoint.pt" "$tmp/out.txt" <<'PY'
import sys, torch
sd = torch.load(sys.argv[1])["model_state_dict"]
lines = open(sys.argv[2]).read().splitlines()
assert len(lines) == len(sd), (len(lines), len(sd))
for (name, t), line in zip(sd.items(), lines):
    words = line.split()
    assert words[0] == name and words[1] == "float32", line
    mean = float(words[-1])
    assert abs(mean - t.double().mean().item()) < 1e-6, (name, mean, t.double().mean().item())
print("package: %d tensors match torch" % len(sd))
PY
