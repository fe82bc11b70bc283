#!/usr/bin/env bash
# Integration test of the AI layer through the CLI: ai ask (files and catalog ids),
# providers against the mock, the answer cache on SQLite and Redis (killed and
# restarted mid-test), cache stats/clear, models, warm, key hygiene.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
SM_BIN=${SM_BIN:-$here/../../build/samplemind}
SM_GEN=${SM_GEN:-$here/../../build/sm-gen}
SM_SOURCE=${SM_SOURCE:-$here/../..}

tmp=$(mktemp -d)
mock_pid=
redis_pid=
cleanup() {
    [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

python3 "$SM_SOURCE/tests/mocks/mock_provider.py" --port-file "$tmp/mock.port" >/dev/null 2>&1 &
mock_pid=$!
for _ in $(seq 100); do [ -s "$tmp/mock.port" ] && break; sleep 0.05; done
MOCK="http://127.0.0.1:$(cat "$tmp/mock.port")"
mock_total() { curl -s "$MOCK/_mock/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }

"$SM_GEN" demo "$tmp/lib" >/dev/null
D="$tmp/data"
# No provider settings from the caller's environment.
unset OPENAI_API_KEY OPENAI_BASE_URL ANTHROPIC_API_KEY ANTHROPIC_BASE_URL GEMINI_API_KEY \
    GEMINI_BASE_URL OLLAMA_HOST SAMPLEMIND_CACHE SAMPLEMIND_CONFIG SAMPLEMIND_DB
sm() { "$SM_BIN" --data-dir "$D" --json "$@"; }
field() { python3 -c "import json,sys; d=json.loads(sys.stdin.readline()); print(eval('d' + sys.argv[1]))" "$1"; }
# jx EXPR: EXPR over d, the first JSON line of stdin.
jx() { python3 -c "import json,sys; d=json.loads(sys.stdin.readline()); print(eval(sys.argv[1]))" "$1"; }

# 1. Nothing configured: the builtin rules answer, and say so.
out=$(sm ai ask "$tmp/lib/kick.wav" --task genre 2>"$tmp/err")
check "builtin answers offline" [ "$(echo "$out" | field '["provider"]')" = builtin ]
check "builtin says it is rule-based" [ "$(echo "$out" | field '["rule_based"]')" = True ]
check "genre answer has genres" grep -q '"genres"' <<<"$out"
out=$(sm ai ask "$tmp/lib/pad_Cmaj.wav" --task all 2>/dev/null)
check "all 7 tasks answer" [ "$(grep -c '"valid":true' <<<"$out")" -eq 7 ]
sm ai ask "$tmp/lib/kick.wav" --task nonsense >/dev/null 2>&1
check "unknown task is a usage error" [ $? -eq 2 ]
sm ai ask "$tmp/nope.wav" --task genre >/dev/null 2>&1
check "missing file fails" [ $? -eq 1 ]

# 2. OpenAI through the mock, with the SQLite cache.
export OPENAI_API_KEY=sk-test-secret-123 OPENAI_BASE_URL="$MOCK/v1"
out=$(sm ai ask "$tmp/lib/snare.wav" --task mood --provider openai 2>"$tmp/err")
check "openai answers" [ "$(echo "$out" | field '["provider"]')" = openai ]
check "first answer not cached" [ "$(echo "$out" | field '["cached"]')" = False ]
check "usage tokens recorded" [ "$(echo "$out" | field '["tokens"]["input"]')" = 321 ]
check "cost estimated" python3 -c "import sys; sys.exit(0 if float('$(echo "$out" | field '["cost"]')') > 0 else 1)"
before=$(mock_total)
out=$(sm ai ask "$tmp/lib/snare.wav" --task mood --provider openai 2>/dev/null)
check "second answer cached" [ "$(echo "$out" | field '["cached"]')" = True ]
check "cached answer made no call" [ "$(mock_total)" = "$before" ]
st=$(sm cache stats)
check "sqlite stats count the hit" [ "$(echo "$st" | field '["hits"]')" -ge 1 ]
check "sqlite stats backend" [ "$(echo "$st" | field '["backend"]')" = sqlite ]
out=$(sm cache clear --provider anthropic)
check "clear another provider removes nothing" [ "$(echo "$out" | field '["removed"]')" = 0 ]
out=$(sm cache clear --provider openai)
check "clear by provider" [ "$(echo "$out" | field '["removed"]')" = 1 ]
out=$(sm ai ask "$tmp/lib/snare.wav" --task mood --provider openai 2>/dev/null)
check "after clear: miss" [ "$(echo "$out" | field '["cached"]')" = False ]

# 3. Keys never leak: not in answers, errors or models output.
curl -s -X POST "$MOCK/_mock/faults" -d '{"faults":["500","500","500"]}' >/dev/null
sm --verbose ai ask "$tmp/lib/hihat.wav" --task tags --provider openai --no-cache >"$tmp/leak.out" 2>"$tmp/leak.err"
sm models >>"$tmp/leak.out" 2>>"$tmp/leak.err"
check "failure is reported" grep -q 'HTTP 500' "$tmp/leak.out"
check "key not in output or log" bash -c "! grep -q sk-test-secret '$tmp/leak.out' '$tmp/leak.err'"

# 4. Fallback from a broken local provider to openai, in preference order.
export OLLAMA_HOST="127.0.0.1:$(free_port)"
out=$(sm ai ask "$tmp/lib/bass_A1.wav" --task genre 2>/dev/null)
check "falls back past a dead ollama" [ "$(echo "$out" | field '["provider"]')" = openai ]
check "note says why" grep -q 'ollama failed' <<<"$out"
export OLLAMA_HOST="$MOCK"
out=$(sm models)
check "models lists ollama's models" grep -q 'llama3.2:3b' <<<"$out"
check "models shows health" grep -q '"name":"openai".*"health":"ok"\|"health":"ok".*"name":"openai"' <<<"$out"
unset OLLAMA_HOST

# 5. Config file: keys in a world-readable file are refused.
printf '[anthropic]\napi_key = sk-ant-file-secret\nbase_url = %s\n' "$MOCK" >"$tmp/ai.ini"
chmod 644 "$tmp/ai.ini"
sm --config "$tmp/ai.ini" ai ask "$tmp/lib/kick.wav" --task genre >"$tmp/cfg.out" 2>"$tmp/cfg.err"
check "world-readable config with a key refused" [ $? -ne 0 ]
check "refusal says chmod" grep -q 'chmod 600' "$tmp/cfg.err"
check "refusal hides the key" bash -c "! grep -q sk-ant-file '$tmp/cfg.err' '$tmp/cfg.out'"
chmod 600 "$tmp/ai.ini"
out=$(sm --config "$tmp/ai.ini" ai ask "$tmp/lib/kick.wav" --task description --provider anthropic 2>/dev/null)
check "private config works" [ "$(echo "$out" | field '["provider"]')" = anthropic ]

# 6. Warm: simulation makes no call and prices the work; --no-simulate fills.
before=$(mock_total)
out=$(sm ai warm --providers openai --task-types genre,tags "$tmp/lib/kick.wav" "$tmp/lib/hihat.wav" 2>/dev/null)
check "simulation makes no call" [ "$(mock_total)" = "$before" ]
check "simulation would call 4" [ "$(echo "$out" | field '["would_call"]')" = 4 ]
check "simulation estimates cost" python3 -c "import sys; sys.exit(0 if float('$(echo "$out" | field '["cost_estimate"]')') > 0 else 1)"
out=$(sm ai warm --no-simulate --providers openai --task-types genre,tags "$tmp/lib/kick.wav" "$tmp/lib/hihat.wav" 2>/dev/null)
check "warm fills 4" [ "$(echo "$out" | field '["filled"]')" = 4 ]
out=$(sm ai warm --providers openai --task-types genre,tags "$tmp/lib/kick.wav" "$tmp/lib/hihat.wav" 2>/dev/null)
check "then all 4 are cached" [ "$(echo "$out" | field '["cached"]')" = 4 ]

# 7. Redis: hits, then killed mid-test (answers still come, as misses), restarted.
if command -v redis-server >/dev/null; then
    rport=$(free_port)
    mkdir -p "$tmp/redis"
    start_redis() {
        (cd "$tmp/redis" && exec redis-server --port "$rport" --bind 127.0.0.1 --save '' \
            --appendonly no >/dev/null 2>&1) &
        redis_pid=$!
        for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
    }
    start_redis
    R="redis://127.0.0.1:$rport/0"
    a1=$(sm --cache "$R" ai ask "$tmp/lib/kick.wav" --task mixing --provider openai 2>/dev/null)
    a2=$(sm --cache "$R" ai ask "$tmp/lib/kick.wav" --task mixing --provider openai 2>/dev/null)
    check "redis: miss then hit" [ "$(echo "$a1" | field '["cached"]')$(echo "$a2" | field '["cached"]')" = FalseTrue ]
    st=$(sm --cache "$R" cache stats)
    check "redis stats shared" [ "$(echo "$st" | field '["hits"]')" = 1 ]
    kill "$redis_pid"; wait "$redis_pid" 2>/dev/null; redis_pid=
    a3=$(sm --cache "$R" ai ask "$tmp/lib/kick.wav" --task mixing --provider openai 2>"$tmp/redis.err")
    rc=$?
    check "redis down: answer still comes" [ $rc -eq 0 ]
    check "redis down: as a miss" [ "$(echo "$a3" | field '["cached"]')" = False ]
    check "redis down: warning logged" grep -qi 'warning.*cache' "$tmp/redis.err"
    sm --cache "$R" cache stats >/dev/null 2>&1
    check "redis down: stats exit 1" [ $? -eq 1 ]
    start_redis
    a4=$(sm --cache "$R" ai ask "$tmp/lib/kick.wav" --task mixing --provider openai 2>/dev/null)
    a5=$(sm --cache "$R" ai ask "$tmp/lib/kick.wav" --task mixing --provider openai 2>/dev/null)
    check "redis restarted: hits again" [ "$(echo "$a5" | field '["cached"]')" = True ]
    out=$(sm --cache "$R" cache clear --provider openai)
    check "redis clear by provider" [ "$(echo "$out" | field '["removed"]')" = 1 ]
else
    echo "skip redis: redis-server not installed"
fi

# 8. Catalog ids: tags from the tags task become catalog tags.
if sm scan "$tmp/lib" >/dev/null 2>&1; then
    id=$(sm search kick 2>/dev/null | head -1 | field '["id"]' 2>/dev/null)
    if [ -n "$id" ]; then
        out=$(sm ai ask "$id" --task tags --provider builtin 2>/dev/null)
        check "ask by catalog id" [ "$(echo "$out" | field '["valid"]')" = True ]
        tags=$("$SM_BIN" --data-dir "$D" --json show "$id" | field '["tags"]')
        check "tags stored in the catalog" grep -q "one-shot" <<<"$tags"
        # Every answer is stored with the sample: fields, replaced by a newer one.
        shown() { "$SM_BIN" --data-dir "$D" --json show "$id" | jx "$1"; }
        sm ai ask "$id" --task genre --provider openai --no-cache >/dev/null 2>&1
        check "stored: provider and model" [ "$(shown 'd["ai"]["genre"]["provider"] + "/" + d["ai"]["genre"]["model"]')" = openai/gpt-4o-mini ]
        check "stored: usage tokens" [ "$(shown 'd["ai"]["genre"]["tokens_in"]')" = 321 ]
        check "stored: cost, latency, not cached" [ "$(shown 'd["ai"]["genre"]["cost_usd"] > 0 and d["ai"]["genre"]["latency_ms"] > 0 and not d["ai"]["genre"]["cached"]')" = True ]
        sm ai ask "$id" --task genre --provider openai >/dev/null 2>&1
        # The same answer again from the cache: the first record (real latency, cost) stands.
        check "a cached repeat keeps the first record" [ "$(shown 'd["ai"]["genre"]["cached"]')" = False ]
        sm ai ask "$id" --task genre --provider builtin >/dev/null 2>&1
        check "another provider's answer replaces it" [ "$(shown 'd["ai"]["genre"]["provider"]')" = builtin ]
        sm ai ask "$id" --task genre --provider openai >/dev/null 2>&1
        check "a cached answer that differs replaces it, marked cached" [ "$(shown '[d["ai"]["genre"]["provider"], d["ai"]["genre"]["cached"]]')" = "['openai', True]" ]
        # A description answer is searchable text.
        check "no sample says techno yet" [ -z "$(sm search techno 2>/dev/null)" ]
        sm ai ask "$id" --task description --provider openai >/dev/null 2>&1
        check "description answer is searchable" [ "$(sm search techno 2>/dev/null | field '["id"]')" = "$id" ]
        sm scan "$tmp/lib" >/dev/null 2>&1
        check "description searchable after a rescan" [ "$(sm search techno 2>/dev/null | field '["id"]')" = "$id" ]
        # ai warm --no-simulate stores what it fills; a simulation stores nothing.
        sm ai warm --providers openai --task-types mixing --samples kick >/dev/null 2>&1
        check "warm simulation stores nothing" [ "$(shown '"mixing" in d["ai"]')" = False ]
        out=$(sm ai warm --no-simulate --providers openai --task-types mixing --samples kick 2>/dev/null)
        check "warm --no-simulate stores its answers" [ "$(echo "$out" | field '["stored"]')" -ge 1 ]
        check "warm's answer is in show" [ "$(shown 'd["ai"]["mixing"]["provider"]')" = openai ]
    else
        not_ok "catalog search found the kick"
    fi
else
    echo "skip catalog ids: scan failed"
fi

# 8b. Spending: processes asking at once all count in the day's total.
spent() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['spent'])" "$D/ai-spend.json" 2>/dev/null || echo 0; }
s0=$(spent)
pids=()
cp "$tmp/lib/snare.wav" "$tmp/outside.wav" # not in the catalog: its answers are not stored
for i in 1 2 3 4 5 6; do
    sm ai ask "$tmp/outside.wav" --task all --provider openai --no-cache >"$tmp/spend.$i" 2>/dev/null &
    pids+=($!)
done
wait "${pids[@]}"
sum=$(cat "$tmp"/spend.? | python3 -c "import json,sys; print(sum(json.loads(l)['cost'] for l in sys.stdin if l.strip()))")
check "6 concurrent spenders: every call counted" python3 -c "import sys; s0, s1, c = map(float, sys.argv[1:]); sys.exit(0 if c > 0 and abs((s1 - s0) - c) < 1e-9 else 1)" "$s0" "$(spent)" "$sum"

# 9. The API: analyze answered later while server threads stay free.
export OPENAI_API_KEY=sk-test-secret-123 OPENAI_BASE_URL="$MOCK/v1"
echo 'pw-bench-12345' | "$SM_BIN" --data-dir "$D" user add apiuser --role admin --password-stdin >/dev/null 2>&1
key=$("$SM_BIN" --data-dir "$D" --json apikey create apiuser t | field '["key"]' 2>/dev/null)
sport=$(free_port)
"$SM_BIN" --data-dir "$D" serve --port "$sport" --access-log off >"$tmp/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do curl -s "http://127.0.0.1:$sport/api/v1/health" >/dev/null && break; sleep 0.05; done
api() { curl -s -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$@"; }
U="http://127.0.0.1:$sport/api/v1"
desc=$("$SM_BIN" --json analyze "$tmp/lib/kick.wav")
curl -s -X POST "$MOCK/_mock/faults" -d '{"latency_ms": 1500}' >/dev/null
slow=()
for t in genre mood tags description; do
    api -X POST "$U/ai/analyze" -d "{\"descriptors\":$desc,\"task\":\"$t\",\"provider\":\"openai\",\"no_cache\":true}" >"$tmp/slow.$t" &
    slow+=($!)
done
sleep 0.3
t0=$(date +%s%N)
curl -s "$U/health" >/dev/null
t1=$(date +%s%N)
check "health answers while 4 AI calls wait upstream" [ $(((t1 - t0) / 1000000)) -lt 300 ]
wait "${slow[@]}"
check "suspended requests complete" grep -q '"provider":"openai"' "$tmp/slow.genre"
curl -s -X POST "$MOCK/_mock/faults" -d '{"latency_ms": 0}' >/dev/null
out=$(api -X POST "$U/ai/analyze" -d "{\"descriptors\":$desc,\"task\":\"genre\",\"provider\":\"openai\"}")
check "API answer from the cache" [ "$(echo "$out" | field '["cached"]')" = True ]
check "cached API answer has its latency" python3 -c "import json,sys; sys.exit(0 if json.loads(sys.argv[1])['latency_ms'] >= 0 else 1)" "$out"
out=$(api -X POST "$U/ai/analyze" -d "{\"descriptors\":$desc,\"task\":\"genre\",\"provider\":\"openai\"} x")
check "cached path still rejects a broken body" grep -q invalid_json <<<"$out"
out=$(api -X POST "$U/ai/analyze" -d "{\"descriptors\":$desc,\"task\":\"genre\",\"provider\":\"openai\",\"task\":\"mood\"}")
check "cached path still rejects duplicate keys" grep -q invalid_json <<<"$out"
out=$(curl -s -H "Authorization: Bearer $key" -H 'Content-Type: text/plain' -X POST "$U/ai/analyze" -d "{\"descriptors\":$desc,\"task\":\"genre\",\"provider\":\"openai\"}")
check "cached path still checks the content type" grep -q unsupported_media_type <<<"$out"
out=$(api -X POST "$U/ai/analyze" -d "{ \"task\" : \"genre\", \"provider\": \"openai\", \"extra\": 1, \"descriptors\":$desc}")
check "another body shape still answers" [ "$(echo "$out" | field '["valid"]')" = True ]
out=$(api -X POST "$U/ai/analyze" -d '{"task":"genre"}')
check "API rejects a request without a sample" grep -q invalid_argument <<<"$out"
# Answers for catalog samples are stored with them; GET file shows them, the list not.
sid=$(sm search snare 2>/dev/null | head -1 | field '["id"]')
fileai() { api "$U/audio/files/$sid" | jx "$1"; }
check "GET file has an ai object" [ "$(fileai 'd["ai"].get("production")')" = None ]
out=$(api -X POST "$U/ai/analyze" -d "{\"file_id\":$sid,\"task\":\"production\",\"provider\":\"openai\"}")
check "API answer for a catalog sample" [ "$(echo "$out" | field '["valid"]')" = True ]
check "API answer stored: provider, tokens, cost" [ "$(fileai '[d["ai"]["production"]["provider"], d["ai"]["production"]["tokens_in"], d["ai"]["production"]["cost_usd"] > 0]')" = "['openai', 321, True]" ]
out=$(api -X POST "$U/ai/analyze" -d "{\"file_id\":$sid,\"task\":\"production\",\"provider\":\"openai\"}")
check "API cached answer for a catalog sample" [ "$(echo "$out" | field '["cached"]')" = True ]
check "a cached repeat keeps the stored record" [ "$(fileai 'd["ai"]["production"]["cached"]')" = False ]
q='%22rule%20based%22'
check "API search: no rule-based description yet" [ "$(api "$U/audio/files?q=$q" | field '["count"]')" = 0 ]
api -X POST "$U/ai/analyze" -d "{\"file_id\":$sid,\"task\":\"description\",\"provider\":\"builtin\"}" >/dev/null
check "API search finds the sample by its new description" [ "$(api "$U/audio/files?q=$q" | jx '[r["id"] for r in d["items"]]')" = "[$sid]" ]
check "the list carries no ai answers" [ "$(api "$U/audio/files?limit=50" | jx 'any("ai" in r for r in d["items"])')" = False ]
out=$(api -X POST "$U/ai/analyze" -d '{"file_id":999999,"task":"genre"}')
check "API answer for an unknown sample is not_found" grep -q '"not_found"' <<<"$out"
out=$(api "$U/cache/stats")
check "API cache stats" [ "$(echo "$out" | field '["backend"]')" = sqlite ]
out=$(api "$U/ai/providers")
check "API providers" grep -q '"name":"openai"' <<<"$out"
out=$(api "http://127.0.0.1:$sport/metrics")
check "metrics: upstream calls per provider" grep -Eq '^samplemind_ai_upstream_calls_total\{provider="openai"\} [1-9]' <<<"$out"
check "metrics: latency histogram" grep -q '^samplemind_ai_upstream_duration_seconds_bucket{provider="openai",le="+Inf"}' <<<"$out"
check "metrics: tokens" grep -q '^samplemind_ai_tokens_total{provider="openai",direction="input"}' <<<"$out"
check "metrics: cost" grep -q '^samplemind_ai_cost_dollars_total{provider="openai"}' <<<"$out"
check "metrics: cache hits" grep -Eq '^samplemind_ai_cache_lookups_total\{result="hit"\} [1-9]' <<<"$out"
out=$(api -X DELETE "$U/cache?provider=openai")
check "API clears by provider" [ "$(echo "$out" | field '["removed"]')" -ge 1 ]
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null

# 10. The server's AI router reads the --config file (no provider environment).
unset OPENAI_API_KEY OPENAI_BASE_URL
printf '[openai]\napi_key = sk-test-from-ini\nbase_url = %s/v1\n' "$MOCK" >"$tmp/srv.ini"
chmod 600 "$tmp/srv.ini"
sport=$(free_port)
"$SM_BIN" --data-dir "$D" --config "$tmp/srv.ini" serve --port "$sport" --access-log off >"$tmp/serve2.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do curl -s "http://127.0.0.1:$sport/api/v1/health" >/dev/null && break; sleep 0.05; done
out=$(api -X POST "http://127.0.0.1:$sport/api/v1/ai/analyze" -d "{\"descriptors\":$desc,\"task\":\"mood\",\"provider\":\"openai\",\"no_cache\":true}")
check "serve --config configures the AI providers" [ "$(echo "$out" | field '["provider"]')" = openai ]
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null

finish
