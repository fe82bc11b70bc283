#!/usr/bin/env bash
# Search over HTTP (issue 5): GET /api/v1/audio/files?q=... on a synthesised
# 100k-sample catalog (the one bench/search.sh builds), wrk on loopback with
# keep-alive connections, at 1 and 64 connections. Target >= 5,000 requests/s.
#
#   bench/search_http.sh [BUILD_DIR] [WORK_DIR]   (SM_BENCH_ROWS=100000, DURATION=5,
#                                                   RUNS=1 repeats of each wrk run)
#
# The server runs with an API key and --api-rate/--api-burst 1000000 (the per-token
# limit would answer 429s), access log off. Besides requests/s and latency, the
# server's CPU time per request (user + sys of the server process over the wrk run,
# from /proc, divided by the requests wrk completed) is printed: on a machine shared
# with other work that is the figure that does not depend on the neighbours. wrk
# shares the same cores. Every reply must be 200 (non-2xx replies are printed).
#
# The same query over and over measures the warm path: the server keeps each
# row's JSON with its filter index and the full-text matches of recent words.
# The "varied" runs send a different query each time (a wrk Lua script: random
# BPM windows, categories and offsets; random pairs of the catalog's 40 path
# words, 1,600 pairs against 32 cached), so rows are written from the catalog
# and words go through FTS5 far more often.
set -euo pipefail
build=${1:-build}
work=${2:-$(mktemp -d)}
here=$(cd "$(dirname "$0")" && pwd)
bin="$build/samplemind"
rows=${SM_BENCH_ROWS:-100000}
dur=${DURATION:-5}
runs=${RUNS:-1}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*' no_proxy='*'
for t in wrk curl python3; do
    command -v $t >/dev/null || { echo "bench/search_http.sh: $t is not installed" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "bench/search_http.sh: $bin not built" >&2; exit 1; }
mkdir -p "$work"
db="$work/search-$rows.db"
[ -f "$db" ] || SM_BENCH_SYNTH_ONLY=1 SM_BENCH_BIG=0 SM_BENCH_ROWS=$rows bash "$here/search.sh" "$build" "$work" >&2

data="$work/http-data"
rm -rf "$data"
mkdir -p "$data"
pass="bench-$RANDOM-$RANDOM"
printf '%s\n' "$pass" | "$bin" --data-dir "$data" user add bench --role member --password-stdin >/dev/null
key=$("$bin" --data-dir "$data" apikey create bench search-bench |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
"$bin" serve --data-dir "$data" --db "sqlite://$db" --port 0 --access-log off \
    --api-rate 1000000 --api-burst 1000000 >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 500); do
    grep -q '^SampleMind is serving on' "$work/serve.out" 2>/dev/null && break
    sleep 0.02
done
url=$(sed -n 's|^SampleMind is serving on \(http://[^ ]*\)/$|\1|p' "$work/serve.out")
[ -n "$url" ] || { echo "bench/search_http.sh: the server did not start" >&2; cat "$work/serve.err" >&2; exit 1; }
auth="Authorization: Bearer $key"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" "$url/api/v1/audio/files?q=kick&limit=1")
[ "$code" = 200 ] || { echo "bench/search_http.sh: search answered $code (API key?)" >&2; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
tick=$(getconf CLK_TCK)

cat >"$work/varied.lua" <<'LUA'
local words = {"kick", "snare", "clap", "hat", "open", "closed", "tom", "perc", "bass", "sub",
    "808", "synth", "lead", "pad", "keys", "piano", "guitar", "string", "brass", "vox", "vocal",
    "fx", "riser", "impact", "deep", "dark", "bright", "punchy", "warm", "dusty", "lofi", "house",
    "techno", "trap", "dnb", "garage", "ambient", "loop", "oneshot", "tape"}
local cats = {"kick", "snare", "clap", "hihat_closed", "bass", "synth", "pad", "fx", "vocal", "tom"}
local kind = os.getenv("SM_VARIED") or "filters"
local n = 0
function setup(thread)
    n = n + 1
    thread:set("seed", n)
end
function init(args)
    math.randomseed(os.time() * 7 + (seed or 0))
end
function request()
    local q
    if kind == "words" then
        q = words[math.random(#words)] .. "%20" .. words[math.random(#words)]
    else
        local lo = math.random(60, 170)
        q = string.format("bpm%%3A%d..%d%%20category%%3A%s%%20offset%%3A%d", lo, lo + 10,
            cats[math.random(#cats)], math.random(0, 20))
    end
    return wrk.format("GET", "/api/v1/audio/files?limit=50&q=" .. q)
end
LUA

# run QUERY CONNS: one wrk run; prints "rps p50_ms p99_ms cpu_us_per_req bytes_per_reply non2xx"
# (QUERY "varied:filters" or "varied:words": a different query per request)
run() {
    local q=$1 c=$2 t=2
    [ "$c" -eq 1 ] && t=1
    local enc
    enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$q")
    local u="$url/api/v1/audio/files?q=$enc&limit=50"
    local bytes script=()
    case $q in
        varied:*)
            export SM_VARIED=${q#varied:}
            script=(-s "$work/varied.lua")
            u=$url
            bytes=-
            ;;
        *) bytes=$(curl -s -H "$auth" "$u" | wc -c) ;;
    esac
    local c0 c1
    c0=$(cpu_ticks)
    wrk -t"$t" -c"$c" -d"${dur}s" --latency -H "$auth" "${script[@]}" "$u" >"$work/wrk.txt" 2>&1 || true
    c1=$(cpu_ticks)
    python3 - "$work/wrk.txt" "$((c1 - c0))" "$tick" "$bytes" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
ticks, hz, nbytes = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def ms(v, unit):
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
nreq = re.search(r"(\d+) requests in", t)
p = {m.group(1): ms(m.group(2), m.group(3))
     for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)", t, re.M)}
err = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
n = int(nreq.group(1)) if nreq else 0
cpu_us = ticks / hz * 1e6 / n if n else -1
print("%s %.3f %.3f %.0f %s %s" % (rps.group(1) if rps else "0", p.get("50", -1), p.get("99", -1),
                                   cpu_us, nbytes, err.group(1) if err else "0"))
PY
}

queries=("" "bpm:120..130 category:kick" "category:kick loop:no sort:-bpm" "bpm:120..130"
         "key:compatible:Am bright:>70 duration:..2" "kick" "dark punchy" "kick bpm:120..130 key:Am"
         "varied:filters" "varied:words")
echo "## search over HTTP: $rows rows, limit 50, wrk ${dur}s per run, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| q | conns | req/s | p50 ms | p99 ms | server CPU us/req | reply bytes | non-2xx |"
echo "|---|---|---|---|---|---|---|---|"
first=1
for q in "${queries[@]}"; do
    if [ $first = 1 ]; then # the first search loads the filter index
        curl -s -o /dev/null -H "$auth" "$url/api/v1/audio/files?q=kick&limit=1"
        first=0
    fi
    case $q in varied:*) ;; *) dur=1 run "$q" 1 >/dev/null ;; esac # warm-up, 1 s
    for c in 1 64; do
        for _ in $(seq "$runs"); do
            read -r rps p50 p99 cpu bytes bad < <(run "$q" "$c")
            label="\`$q\`"
            [ -n "$q" ] || label="(empty: the first page)"
            printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$c" "$rps" "$p50" "$p99" \
                "$cpu" "$bytes" "$bad"
        done
    done
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); server RSS $(awk '/VmRSS/ {print $2 / 1024 " MB"}' /proc/$pid/status)"
