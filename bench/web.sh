#!/usr/bin/env bash
# Web page budget (issue 7): first-load transfer size, time to interactive and
# scrolling frame times, measured in Debian's chromium (playwright-core, the
# browser's performance timeline) against `samplemind serve` over a synthetic
# 100k-row catalog.
#
#   bench/web.sh [BUILD_DIR] [WORK_DIR]        (SM_BENCH_ROWS=100000, SM_BENCH_RUNS=5)
#
# The catalog is bench/search.sh's: the demo files are scanned into a template,
# then rows are cloned through SQLite with varied names, BPM, key, category,
# loudness and duration; each keeps the template's analysis and waveform, so the
# detail and waveform routes answer (the audio files do not exist, so nothing is
# played). Budget: < 150 KB first load, < 300 ms to
# interactive on loopback, 60 fps while scrolling.
set -eu
build=${1:-build}
work=${2:-$(mktemp -d)}
src=$(cd "$(dirname "$0")/.." && pwd)
bin="$build/samplemind"
gen="$build/sm-gen"
rows=${SM_BENCH_ROWS:-100000}
e2e="$src/tests/e2e"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*' no_proxy='*'
mkdir -p "$work"
[ -d "$e2e/node_modules/playwright-core" ] || (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error)

# The catalog of bench/search.sh (one synthesiser for every benchmark).
db="$work/search-$rows.db"
[ -f "$db" ] || SM_BENCH_SYNTH_ONLY=1 SM_BENCH_BIG=0 SM_BENCH_ROWS=$rows \
    bash "$src/bench/search.sh" "$build" "$work" >&2

data="$work/data"
rm -rf "$data"
mkdir -p "$data"
pass="bench-$RANDOM-$RANDOM"
printf '%s\n' "$pass" | "$bin" --data-dir "$data" user add bench --role admin --password-stdin >/dev/null
"$bin" serve --data-dir "$data" --db "sqlite://$db" --port 0 --access-log off \
    >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 1 250); do
    grep -q '^SampleMind is serving on' "$work/serve.out" 2>/dev/null && break
    sleep 0.02
done
url=$(sed -n 's|^SampleMind is serving on \(http://[^ ]*\)/$|\1|p' "$work/serve.out")
echo "catalog: $rows rows; server $url; chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}')"
echo "web assets: $(cat "$src"/web/* | wc -c) bytes uncompressed in $(ls "$src"/web | wc -l) files"
SM_URL=$url SM_USER=bench SM_PASS=$pass SM_BENCH_SCROLL_ROWS=${SM_BENCH_SCROLL_ROWS:-$rows} node "$e2e/bench.js"
