#!/usr/bin/env bash
# Runs the analyze fuzzer for N seconds over a seed corpus of small generated files.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
python3 "$here/seeds.py" "$corpus"
mkdir -p "$build/fuzz-artifacts"
echo "fuzz: fuzz_analyze for ${seconds}s over $(ls "$corpus" | wc -l) seeds"
"$build/fuzz_analyze" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
    -artifact_prefix="$build/fuzz-artifacts/" -print_final_stats=1 "$corpus"
