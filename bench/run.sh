#!/usr/bin/env bash
# make bench: every benchmark, results to stdout and build/bench-results.md.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
out="$build/bench-results.md"
: >"$out"
for b in analysis memory accuracy scan search http ai web; do
    if [ -f "$here/$b.sh" ]; then
        echo "== bench/$b.sh" >&2
        bash "$here/$b.sh" "$build" | tee -a "$out"
        echo | tee -a "$out"
    fi
done
echo "results written to $out" >&2
