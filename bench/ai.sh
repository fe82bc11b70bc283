#!/usr/bin/env bash
# AI layer benchmark, loopback only (about 1-2 minutes):
#  1. router figures from `samplemind ai bench` against the mock provider:
#     builtin rules per call, a cached answer per call (SQLite and Redis), router
#     overhead on an upstream call (routed minus the bare HTTP round trip);
#  2. 1,000 concurrent uncached requests against the mock with 1 s upstream
#     latency: wall time and threads;
#  3. wrk, keep-alive, same run: cached POST /api/v1/ai/analyze (embedded cache and
#     Redis) vs GET /api/v1/health vs FastAPI + uvicorn (2 workers) returning a
#     cached answer from Redis (the predecessor's design).
# Usage: bench/ai.sh [BUILD_DIR]   (DURATION=5 seconds per wrk run)
set -euo pipefail
build=${1:-build}
bin="$build/samplemind"
src=$(cd "$(dirname "$0")/.." && pwd)
dur=${DURATION:-5}
pybin=/usr/bin/python3 # Debian's python, where python3-fastapi lives
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*' no_proxy='*'
unset OPENAI_API_KEY OPENAI_BASE_URL ANTHROPIC_API_KEY GEMINI_API_KEY OLLAMA_HOST
for t in wrk redis-server curl; do
    command -v $t >/dev/null || { echo "bench/ai.sh: $t is not installed" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "bench/ai.sh: $bin not built" >&2; exit 1; }

. "$(dirname "$0")/lib.sh"
bench_tmp
wait_http() {
    for _ in $(seq 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done
    return 1
}

# Mock provider and Redis.
python3 "$src/tests/mocks/mock_provider.py" --port-file "$tmp/mock.port" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/mock.port" ] && break; sleep 0.05; done
MOCK="http://127.0.0.1:$(cat "$tmp/mock.port")"
rport=$(free_port)
mkdir -p "$tmp/redis"
(cd "$tmp/redis" && exec redis-server --port "$rport" --bind 127.0.0.1 --save '' \
    --appendonly no >/dev/null 2>&1) &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
REDIS="redis://127.0.0.1:$rport/0"

echo "## AI layer ($(nproc) cores)"
echo
echo "### Router (samplemind ai bench --calls 2000 --mock MOCK)"
r1=$("$bin" ai bench --calls 2000 --mock "$MOCK")
r2=$("$bin" --cache "$REDIS" ai bench --calls 2000 --mock "$MOCK")
python3 - "$r1" "$r2" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("  builtin rules, per call          %8.1f us" % a["builtin_us_per_call"])
print("  cached answer (SQLite), per call %8.1f us" % a["cached_us_per_call"])
print("  cached answer (Redis), per call  %8.1f us" % b["cached_us_per_call"])
print("  upstream call routed             %8.1f us" % a["upstream_routed_us"])
print("  same bytes, bare HTTP            %8.1f us" % a["upstream_bare_http_us"])
print("  router overhead per upstream call%8.1f us" % a["router_overhead_us"])
PY
echo
echo "### 1,000 concurrent uncached requests, mock upstream latency 1 s"
curl -s -X POST "$MOCK/_mock/faults" -d '{"latency_ms": 1000}' >/dev/null
r3=$("$bin" ai bench --calls 20 --mock "$MOCK" --concurrent 1000)
curl -s -X POST "$MOCK/_mock/faults" -d '{"latency_ms": 0}' >/dev/null
python3 - "$r3" <<'PY'
import json, sys
a = json.loads(sys.argv[1])
print("  %d/%d answered in %.2f s; process threads %d before, %d at most (one HTTP thread)"
      % (a["concurrent_ok"], a["concurrent_requests"], a["concurrent_wall_s"],
         a["threads_before"], a["threads_max"]))
PY
echo

# ---- HTTP: SampleMind serve with the embedded cache, then with Redis.
D="$tmp/data"
echo 'bench-password-1' | "$bin" --data-dir "$D" user add bench --role admin --password-stdin >/dev/null 2>&1
key=$("$bin" --data-dir "$D" --json apikey create bench wrk | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
desc='{"path":"/lib/Kicks/Kick_01.wav","duration":0.45,"loop":false,"loudness":{"integrated_lufs":-6.5,"true_peak_dbtp":0.4},"tempo":null,"key":null,"category":{"label":"kick"},"timbre":{"brightness":30,"warmth":60,"hardness":80,"depth":85,"roughness":20,"boominess":70}}'
body="{\"descriptors\":$desc,\"task\":\"genre\",\"provider\":\"openai\"}"
cat >"$tmp/auth.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $key"
EOF
cat >"$tmp/post.lua" <<EOF
wrk.method = "POST"
wrk.body = [[$body]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
EOF

wrk_run() { # URL CONNS [LUA] -> "rps p50_ms p99_ms"
    local url=$1 c=$2 lua=${3:-} t=2
    [ "$c" -eq 1 ] && t=1
    if [ -n "$lua" ]; then
        wrk -t"$t" -c"$c" -d"${dur}s" --latency -s "$lua" "$url" >"$tmp/wrk.txt" 2>&1 || true
    else
        wrk -t"$t" -c"$c" -d"${dur}s" --latency "$url" >"$tmp/wrk.txt" 2>&1 || true
    fi
    python3 - "$tmp/wrk.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(v, unit):
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
p = {m.group(1): ms(m.group(2), m.group(3))
     for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)", t, re.M)}
err = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print("%s %.3f %.3f%s" % (rps.group(1) if rps else "0", p.get("50", -1), p.get("99", -1),
                          " non2xx=" + err.group(1) if err else ""))
PY
}
row() { printf '  %-40s c=%-3s %10s req/s  p50 %7s ms  p99 %7s ms %s\n' "$@"; }

serve_run() { # NAME CACHE_URL
    local name=$1 cache=$2 port
    port=$(free_port)
    # No per-token rate limit: this measures throughput.
    SAMPLEMIND_API_RATE=1e9 SAMPLEMIND_API_BURST=1e9 OPENAI_API_KEY=bench-key OPENAI_BASE_URL="$MOCK/v1" \
        "$bin" --data-dir "$D" --cache "$cache" serve --port "$port" --access-log off >/dev/null 2>&1 &
    local pid=$!
    pids+=("$pid")
    wait_http "http://127.0.0.1:$port/api/v1/health"
    local u="http://127.0.0.1:$port"
    curl -s -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -d "$body" "$u/api/v1/ai/analyze" >/dev/null # fills the cache
    local cached
    cached=$(curl -s -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -d "$body" "$u/api/v1/ai/analyze" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cached"])')
    [ "$cached" = True ] || echo "  (warning: $name answer not cached)"
    wrk -t1 -c4 -d1s "$u/api/v1/health" >/dev/null 2>&1 || true
    for c in 1 64; do
        row "samplemind GET /api/v1/health" "$c" $(wrk_run "$u/api/v1/health" "$c")
        # The floor of any authenticated request: token check, then a 404.
        if [ "$name" = sqlite ]; then
            row "samplemind GET jobs/0 (API key check, 404)" "$c" \
                $(wrk_run "$u/api/v1/jobs/0" "$c" "$tmp/auth.lua")
        fi
        row "samplemind POST ai/analyze cached ($name)" "$c" $(wrk_run "$u/api/v1/ai/analyze" "$c" "$tmp/post.lua")
    done
    kill "$pid"
    wait "$pid" 2>/dev/null || true
}

echo "### HTTP (wrk, keep-alive, ${dur}s per run)"
serve_run sqlite "sqlite://$tmp/cache.db"
serve_run redis "$REDIS"

# ---- FastAPI + uvicorn, 2 workers, answer from Redis (the predecessor's design).
if $pybin -c 'import fastapi, uvicorn, redis' 2>/dev/null; then
    cat >"$tmp/fastapi_app.py" <<EOF
import hashlib, json
import redis.asyncio as redis
from fastapi import FastAPI, Request
from fastapi.responses import Response
app = FastAPI()
r = redis.Redis(host="127.0.0.1", port=$rport, db=0)
@app.post("/api/v1/ai/analyze")
async def analyze(req: Request):
    body = await req.json()
    canon = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    key = "fastapi:" + hashlib.blake2b(canon, digest_size=32).hexdigest()
    v = await r.get(key)
    if v is None:
        v = json.dumps({"answer": {"genres": [{"name": "techno", "confidence": 0.8}],
                                   "reasoning": "x"}, "cached": False}).encode()
        await r.set(key, v, ex=604800)
    return Response(content=v, media_type="application/json")
EOF
    fport=$(free_port)
    (cd "$tmp" && exec $pybin -m uvicorn fastapi_app:app --host 127.0.0.1 --port "$fport" \
        --workers 2 --log-level warning --no-access-log) >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 200); do
        curl -s -o /dev/null -H 'Content-Type: application/json' -d "$body" \
            "http://127.0.0.1:$fport/api/v1/ai/analyze" && break
        sleep 0.05
    done
    for c in 1 64; do
        row "FastAPI+uvicorn (2 workers) cached/Redis" "$c" \
            $(wrk_run "http://127.0.0.1:$fport/api/v1/ai/analyze" "$c" "$tmp/post.lua")
    done
else
    echo "  (FastAPI/uvicorn/redis for $pybin not installed: skipped)"
fi
