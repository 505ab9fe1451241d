#!/usr/bin/env bash
# Makes the unit tests' data: runs every make_*.py next to this file with Debian's python3,
# each writing into OUTDIR. Deterministic; no downloads.
set -euo pipefail
out=${1:?usage: make_all.sh OUTDIR}
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
for script in "$here"/make_*.py; do
  [ -e "$script" ] || continue
  /usr/bin/python3 "$script" "$out"
done
