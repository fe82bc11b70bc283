#!/usr/bin/env bash
# samplemind serve end to end: a real server on a free loopback port, real HTTP
# through curl (libcurl), every bad input of the issue, a garbage-request loop.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${SM_BIN:-build/samplemind}
gen=${SM_GEN:-build/sm-gen}
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
# Loopback only: never through a proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*' no_proxy='*'
for v in $(env | sed -n 's/^\(SAMPLEMIND_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

lib="$tmp/lib"
mkdir -p "$lib" "$tmp/outside"
"$gen" demo "$lib" >/dev/null
"$gen" tone "$tmp/outside/secret.wav" --freq 440 --seconds 0.5 >/dev/null
ln -s "$tmp/outside/secret.wav" "$lib/escape.wav"

# start NAME ARGS...: run a server on a free port; sets url_NAME and pid_NAME.
start() {
    local name=$1
    shift
    "$bin" serve --port 0 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 1 200); do
        grep -q '^SampleMind is serving on' "$tmp/$name.out" 2>/dev/null && break
        sleep 0.02
    done
    local url
    url=$(sed -n 's|^SampleMind is serving on \(http://[^ ]*\)/$|\1|p' "$tmp/$name.out")
    eval "url_$name=\$url; pid_$name=$pid"
}

# req METHOD URL [curl args...]: sets $code, body in $tmp/body, headers in $tmp/hdr.
req() {
    local m=$1 u=$2
    shift 2
    code=$(curl -s -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' -X "$m" "$@" "$u")
}
json() { python3 -c "import json,sys; d=json.load(open('$tmp/body')); $1"; }
err_is() { json "assert d['error']['code'] == '$1', d; assert isinstance(d['error']['message'], str)"; }
expect() { # expect NAME STATUS [ERROR_CODE]
    local name=$1 want=$2 ecode=${3:-}
    if [ "$code" != "$want" ]; then
        not_ok "$name (status $code, want $want: $(head -c 200 "$tmp/body"))"
        return
    fi
    if [ -n "$ecode" ] && ! err_is "$ecode" 2>/dev/null; then
        not_ok "$name (error body: $(head -c 200 "$tmp/body"))"
        return
    fi
    ok "$name"
}

# ---------------------------------------------------------------- start-up ---
"$bin" serve --help >"$tmp/help"; check "serve --help exits 0" test $? -eq 0
missing=""
for o in host port data-dir db cache roots uploads-root access-log threads workers max-body \
    max-upload max-header max-connections conn-timeout grace token-ttl login-rate login-burst \
    api-rate api-burst; do
    env_name="SAMPLEMIND_$(echo "$o" | tr 'a-z-' 'A-Z_')"
    grep -q -- "--$o " "$tmp/help" && grep -q "$env_name" "$tmp/help" || missing="$missing $o"
done
check "serve --help lists every option with its variable${missing:+ (missing:$missing)}" test -z "$missing"
"$bin" serve --port 99999 >/dev/null 2>&1; check "--port 99999 is a usage error" test $? -eq 2
"$bin" serve --frobnicate >/dev/null 2>&1; check "unknown serve flag exits 2" test $? -eq 2

data="$tmp/data"
start main --data-dir "$data" --roots "$lib" --max-body 4096 --max-upload 2M \
    --access-log "$tmp/access.log" --login-burst 50
check "server prints its URL" test -n "$url_main"
B=$url_main
check "first start prints the admin password once" grep -q "created user 'admin' with password" "$tmp/main.out"
pw=$(cat "$data/admin-password" 2>/dev/null)
check "admin-password file is mode 0600" test "$(stat -c %a "$data/admin-password")" = 600
check "printed password matches the file" grep -q "password $pw" "$tmp/main.out"

# ---------------------------------------------------------------- health ---
req GET "$B/api/v1/health"
expect "health 200" 200
check "health body" json "assert d['status'] == 'ok' and d['version'] and d['uptime'] >= 0"
check "request id header" grep -qi '^X-Request-Id: ' "$tmp/hdr"
req GET "$B/api/v1/health" -H 'X-Request-Id: trace-42'
check "client request id echoed" grep -qi '^X-Request-Id: trace-42' "$tmp/hdr"
req HEAD "$B/api/v1/health" -I
expect "HEAD health" 200
req GET "$B/api/v1/health/detailed"
expect "health/detailed needs a token" 401 unauthorized

# ---------------------------------------------------------------- auth ---
login() { # login USER PASSWORD -> $tok
    req POST "$B/api/v1/auth/login" -H 'Content-Type: application/json' \
        --data "{\"username\":\"$1\",\"password\":\"$2\"}"
    tok=$(json "print(d.get('token',''))" 2>/dev/null)
}
login admin "$pw"
expect "admin login" 200
check "token shape and expiry" json "import time; assert d['token'].startswith('smt_') and len(d['token']) == 47 and d['expires_at'] > time.time()"
admin=$tok
AH="Authorization: Bearer $admin"
login admin "wrong-password"
expect "wrong password 401" 401 unauthorized
login nobody "whatever-password"
expect "unknown user 401 (same answer)" 401 unauthorized

req GET "$B/api/v1/health/detailed" -H "$AH"
expect "health/detailed 200" 200
check "health/detailed components and process" json "
c = d['components']; p = d['process']
assert c['catalog']['status'] == 'ok' and 'analysis_pool' in c and 'cache' in c
assert p['rss_bytes'] > 0 and p['threads'] >= 3 and p['open_files'] > 0 and p['cpu_percent'] >= 0"

"$bin" --data-dir "$data" user add alice --role member --password-stdin <<<"alice-password-1"
check "user add member" test $? -eq 0
"$bin" --data-dir "$data" user add alice --password-stdin <<<"alice-password-1" 2>/dev/null
check "user add existing fails" test $? -ne 0
"$bin" --data-dir "$data" user add 'bad name' --password-stdin <<<"alice-password-1" 2>/dev/null
check "user add bad name exits 2" test $? -eq 2
"$bin" --data-dir "$data" user list --json >"$tmp/users"
check "user list" python3 -c "
import json; u = [json.loads(l) for l in open('$tmp/users')]
assert {(x['username'], x['role']) for x in u} == {('admin','admin'), ('alice','member')}, u"
login alice "alice-password-1"
expect "member login" 200
member=$tok
MH="Authorization: Bearer $member"

req POST "$B/api/v1/library/scan" -H "$MH"
expect "member scan 403" 403 forbidden
req GET "$B/api/v1/audio/files"
expect "no token 401" 401 unauthorized
check "401 has WWW-Authenticate" grep -qi '^WWW-Authenticate: Bearer' "$tmp/hdr"
req GET "$B/api/v1/audio/files" -H "Authorization: Bearer smt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
expect "forged token 401" 401 unauthorized
req GET "$B/api/v1/audio/files" -H "Authorization: Bearer ${admin}x"
expect "tampered token 401" 401 unauthorized
req GET "$B/api/v1/audio/files" -H "Authorization: Basic YWRtaW46YWRtaW4="
expect "basic auth 401" 401 unauthorized

"$bin" --data-dir "$data" apikey create alice ci-script --json >"$tmp/key"
check "apikey create" test $? -eq 0
key=$(python3 -c "import json; print(json.load(open('$tmp/key'))['key'])")
keyid=$(python3 -c "import json; print(json.load(open('$tmp/key'))['id'])")
req GET "$B/api/v1/audio/files" -H "Authorization: Bearer $key"
expect "API key works" 200
"$bin" --data-dir "$data" apikey revoke "$keyid"; check "apikey revoke" test $? -eq 0
req GET "$B/api/v1/audio/files" -H "Authorization: Bearer $key"
expect "revoked API key 401" 401 unauthorized

# ---------------------------------------------------------------- scan job ---
req POST "$B/api/v1/library/scan" -H "$AH" -H 'Content-Type: application/json' --data '{"root":"/etc"}'
expect "scan outside the roots 403" 403 forbidden
req POST "$B/api/v1/library/scan" -H "$AH" -H 'Content-Type: application/json' --data '{"roots":"x"}'
expect "scan roots wrong type 400" 400 invalid_argument
req POST "$B/api/v1/library/scan" -H "$AH" -H 'Content-Type: application/json' --data '{"bogus":1}'
expect "scan unknown field 400" 400 invalid_argument
req POST "$B/api/v1/library/scan" -H "$AH" -H 'Content-Type: application/json' --data "{\"root\":\"$lib\"}"
expect "scan starts a job (202)" 202
job=$(json "print(d['job']['id'])")
check "Location header" grep -qi "^Location: /api/v1/jobs/$job" "$tmp/hdr"
state=""
for _ in $(seq 1 300); do
    req GET "$B/api/v1/jobs/$job" -H "$MH"
    state=$(json "print(d['job']['state'])")
    [ "$state" = done ] || [ "$state" = failed ] && break
    sleep 0.05
done
check "scan job finishes (state $state)" test "$state" = done
check "job counts" json "c = d['job']['counts']; assert c['found'] >= 6 and c['added'] >= 6, c"
req GET "$B/api/v1/jobs/999" -H "$AH"
expect "unknown job 404" 404 not_found
req GET "$B/api/v1/jobs/abc" -H "$AH"
expect "bad job id 400" 400 invalid_argument

# ---------------------------------------------------------------- search ---
req GET "$B/api/v1/audio/files?q=kick" -H "$MH"
expect "search kick" 200
check "search finds the kick" json "assert any(i['path'].endswith('/kick.wav') for i in d['items']), d"
check "search total counts every match" python3 - "$B" "$member" <<'EOF'
import json, sys, urllib.request
base, tok = sys.argv[1], sys.argv[2]
def get(url):
    r = urllib.request.Request(url, headers={"Authorization": "Bearer " + tok})
    return json.load(urllib.request.urlopen(r))
everything = get(base + "/api/v1/audio/files?limit=1000")
page = get(base + "/api/v1/audio/files?limit=2")
assert everything["total"] == everything["count"] == len(everything["items"]) >= 6, everything
assert page["total"] == everything["total"] and page["count"] == 2, page
kick = get(base + "/api/v1/audio/files?q=kick&limit=1")
assert kick["total"] == len(get(base + "/api/v1/audio/files?q=kick&limit=1000")["items"]) >= 1, kick
none = get(base + "/api/v1/audio/files?q=nosuchword")
assert none["total"] == 0 and none["items"] == [], none
EOF
# Another process writes the catalog (a scan from the command line): the running
# server's indexes follow it, within the 2 s it allows between reloads.
mkdir -p "$tmp/cli-lib"
"$gen" tone "$tmp/cli-lib/zebrafinch.wav" --freq 660 --seconds 0.5 >/dev/null
req GET "$B/api/v1/audio/files?q=zebrafinch" -H "$MH"
check "a file not scanned yet is not found" json "assert d['total'] == 0, d"
"$bin" --data-dir "$data" scan "$tmp/cli-lib" --progress none >/dev/null 2>&1
found=no
for _ in $(seq 1 50); do
    req GET "$B/api/v1/audio/files?q=zebrafinch" -H "$MH"
    json "assert d['total'] == 1" 2>/dev/null && { found=yes; break; }
    sleep 0.1
done
check "a scan by another process is searchable in the running server" test $found = yes
req GET "$B/api/v1/audio/files/$(json "print(d['items'][0]['id'])" 2>/dev/null || echo 0)/similar?k=3" -H "$MH"
expect "and its similar sounds come from the reloaded vector index" 200
req GET "$B/api/v1/audio/files?category=kick" -H "$MH"
expect "filter parameter" 200
check "category filter" json "assert d['items'] and all(i['category'] == 'kick' for i in d['items'])"
# Cursor pagination walks every row exactly once.
check "cursor pagination covers every row once" python3 - "$B" "$member" <<'EOF'
import json, sys, urllib.request
base, tok = sys.argv[1], sys.argv[2]
def get(url):
    r = urllib.request.Request(url, headers={"Authorization": "Bearer " + tok})
    return json.load(urllib.request.urlopen(r))
seen, cur = [], None
while True:
    d = get(base + "/api/v1/audio/files?limit=2" + ("&cursor=" + cur if cur else ""))
    seen += [i["id"] for i in d["items"]]
    cur = d["next_cursor"]
    if not cur:
        break
everything = [i["id"] for i in get(base + "/api/v1/audio/files?limit=1000")["items"]]
assert len(seen) == len(set(seen)) and sorted(seen) == sorted(everything) and len(seen) >= 6, (seen, everything)
EOF
req GET "$B/api/v1/audio/files?limit=2" -H "$MH"
cursor=$(json "print(d['next_cursor'])")
req GET "$B/api/v1/audio/files?q=kick&limit=2&cursor=$cursor" -H "$MH"
expect "cursor of another query 400" 400 invalid_cursor
req GET "$B/api/v1/audio/files?cursor=o2.0000000000000000" -H "$MH"
expect "forged cursor 400" 400 invalid_cursor
req GET "$B/api/v1/audio/files?cursor=garbage" -H "$MH"
expect "garbage cursor 400" 400 invalid_cursor
req GET "$B/api/v1/audio/files?q=bpm:abc" -H "$MH"
expect "bad query syntax 400" 400 invalid_query
check "query error points at the token" json "e = d['error']; assert e['position'] == 4 and e['length'] == 3 and e['token'] == 'abc', e"
req GET "$B/api/v1/audio/files?q=kick%20bpm:12x" -H "$MH"
check "query error position is the offending token" json "e = d['error']; assert e['position'] == 9 and e['token'] == '12x', e"
for l in -1 0 1001 99999999999999999999 abc 1.5; do
    req GET "$B/api/v1/audio/files?limit=$l" -H "$MH"
    expect "limit=$l 400" 400 invalid_argument
done
req GET "$B/api/v1/audio/files?frobnicate=1" -H "$MH"
expect "unknown parameter 400" 400 invalid_argument
req GET "$B/api/v1/audio/files?q=%FF%FE" -H "$MH"
expect "invalid UTF-8 in the query 400" 400 invalid_utf8
req GET "$B/api/v1/audio/files?q=a%00b" -H "$MH"
expect "NUL in the query 400" 400 invalid_utf8

kick=$(python3 -c "import json; print([i['id'] for i in json.load(open('$tmp/body'))['items']][0])" 2>/dev/null)
req GET "$B/api/v1/audio/files?q=kick" -H "$MH"
kick=$(json "print([i['id'] for i in d['items'] if i['path'].endswith('/kick.wav')][0])")
req GET "$B/api/v1/audio/files/$kick" -H "$MH"
expect "one sample" 200
check "sample has descriptors" json "assert d['id'] == $kick and d['category']['label'] == 'kick' and 'loudness' in d"
req GET "$B/api/v1/audio/files/999999" -H "$MH"
expect "unknown sample 404" 404 not_found
for bad in abc -1 0 1e3 99999999999999999999; do
    req GET "$B/api/v1/audio/files/$bad" -H "$MH"
    expect "sample id '$bad' 400" 400 invalid_argument
done
req GET "$B/api/v1/audio/files/$kick/similar?k=3" -H "$MH"
expect "similar" 200
check "similar gives k rows without itself, nearest first" json "
ids = [i['id'] for i in d['items']]; ds = [i['distance'] for i in d['items']]
assert len(ids) == 3 and $kick not in ids and ds == sorted(ds), d"
for k in 0 -3 101 x; do
    req GET "$B/api/v1/audio/files/$kick/similar?k=$k" -H "$MH"
    expect "similar k=$k 400" 400 invalid_argument
done
req GET "$B/api/v1/audio/files/$kick/waveform" -H "$MH"
expect "waveform" 200
check "waveform peaks" json "assert d['id'] == $kick and len(d['waveform']['peaks']) > 10"

# ---------------------------------------------------------------- tags ---
JH="Content-Type: application/json"
req POST "$B/api/v1/audio/files/$kick/tags" -H "$MH" -H "$JH" -d '{"add":["Dark","punchy"]}'
expect "tags: add" 200
check "tags: added, lowercased" json "assert d['id'] == $kick and {'dark', 'punchy'} <= set(d['tags']), d"
req POST "$B/api/v1/audio/files/$kick/tags" -H "$MH" -H "$JH" -d '{"remove":["punchy"]}'
expect "tags: remove" 200
check "tags: removed" json "assert 'punchy' not in d['tags'] and 'dark' in d['tags'], d"
req GET "$B/api/v1/audio/files?q=tag:dark" -H "$MH"
check "tags: searchable as tag:dark" json "assert [i['id'] for i in d['items']] == [$kick], d"
for body in '{"add":"dark"}' '{"add":["two words"]}' '{"add":["a:b"]}' '{"add":[""]}' \
    '{"add":[1]}' '{"color":["x"]}' '{"add":['"$(python3 -c 'print(",".join(["\"t%d\"" % i for i in range(65)]))')"']}'; do
    req POST "$B/api/v1/audio/files/$kick/tags" -H "$MH" -H "$JH" -d "$body"
    expect "tags: bad body $(head -c 30 <<<"$body") 400" 400 invalid_argument
done
req POST "$B/api/v1/audio/files/$kick/tags" -H "$MH" -H "$JH" -d '[1]'
expect "tags: a JSON array body 400" 400 invalid_json
req POST "$B/api/v1/audio/files/999999/tags" -H "$MH" -H "$JH" -d '{"add":["x"]}'
expect "tags: unknown id 404" 404
req POST "$B/api/v1/audio/files/$kick/tags" -H "$JH" -d '{"add":["x"]}'
expect "tags: no token 401" 401

# ---------------------------------------------------------------- audio ---
size=$(stat -c %s "$lib/kick.wav")
req GET "$B/api/v1/audio/files/$kick/audio" -H "$MH"
expect "audio 200" 200
check "audio bytes equal the file" cmp -s "$tmp/body" "$lib/kick.wav"
check "audio content type" grep -qi '^Content-Type: audio/wav' "$tmp/hdr"
check "Accept-Ranges" grep -qi '^Accept-Ranges: bytes' "$tmp/hdr"
req GET "$B/api/v1/audio/files/$kick/audio" -H "$MH" -H 'Range: bytes=4-11'
expect "range 206" 206
check "range bytes" bash -c "cmp -s '$tmp/body' <(dd if='$lib/kick.wav' bs=1 skip=4 count=8 2>/dev/null)"
check "Content-Range" grep -qi "^Content-Range: bytes 4-11/$size" "$tmp/hdr"
req GET "$B/api/v1/audio/files/$kick/audio" -H "$MH" -H 'Range: bytes=-10'
expect "suffix range 206" 206
check "suffix range length" test "$(stat -c %s "$tmp/body")" = 10
req GET "$B/api/v1/audio/files/$kick/audio" -H "$MH" -H "Range: bytes=$size-"
expect "range past the end 416" 416 range_not_satisfiable
check "416 Content-Range" grep -qi "^Content-Range: bytes \*/$size" "$tmp/hdr"
req GET "$B/api/v1/audio/files/$kick/audio" -H "$MH" -H 'Range: bytes=9-3'
expect "reversed range 416" 416
req GET "$B/api/v1/audio/files?q=escape" -H "$MH"
esc=$(json "print(([i['id'] for i in d['items'] if i['path'].endswith('/escape.wav')] + [''])[0])")
if [ -n "$esc" ]; then
    req GET "$B/api/v1/audio/files/$esc/audio" -H "$MH"
    expect "symlink escaping the root 403" 403 forbidden
else
    ok "symlink escaping the root (the scan did not catalog it)"
fi

# ---------------------------------------------------------------- analyze ---
req POST "$B/api/v1/audio/analyze" -H "$MH" -H 'Content-Type: audio/wav' --data-binary "@$lib/hihat.wav"
expect "analyze raw body" 200
check "analyze gives descriptors" json "assert d['category']['label'] and d['frames'] > 0 and d['stored'] is False"
req POST "$B/api/v1/audio/analyze?store=true" -H "$MH" -F "file=@$lib/snare.wav"
expect "analyze multipart store=true" 200
check "stored upload has an id and a name" json "assert d['id'] > 0 and d['path'] == 'snare.wav', d"
up=$(json "print(d['id'])")
req GET "$B/api/v1/audio/files/$up/audio" -H "$MH"
expect "stored upload is served" 200
head -c 5000 /dev/urandom >"$tmp/noise.bin"
req POST "$B/api/v1/audio/analyze" -H "$MH" --data-binary "@$tmp/noise.bin"
expect "analyze non-audio 422" 422
req POST "$B/api/v1/audio/analyze" -H "$MH"
expect "analyze without a body 400" 400 invalid_argument
req POST "$B/api/v1/audio/analyze?store=maybe" -H "$MH" --data-binary "@$lib/hihat.wav"
expect "analyze store=maybe 400" 400 invalid_argument
head -c 3000000 /dev/zero >"$tmp/big.bin"
req POST "$B/api/v1/audio/analyze" -H "$MH" --data-binary "@$tmp/big.bin"
expect "upload over --max-upload 413" 413 too_big
req POST "$B/api/v1/audio/analyze" -H "$MH" -H 'Transfer-Encoding: chunked' --data-binary "@$tmp/big.bin"
expect "chunked upload over the limit 413" 413 too_big

# ---------------------------------------------------------------- bodies ---
L="$B/api/v1/auth/login"
req POST "$L" -H 'Content-Type: application/json' --data '{"username":"admin",'
expect "malformed JSON 400" 400 invalid_json
req POST "$L" -H 'Content-Type: application/json' --data '[1,2]'
expect "JSON array body 400" 400 invalid_json
req POST "$L" -H 'Content-Type: application/json' --data '{"username":1,"password":2}'
expect "wrong types 400" 400 invalid_argument
req POST "$L" -H 'Content-Type: application/json' --data '{"username":"a","password":"b","admin":true}'
expect "unknown field 400" 400 invalid_argument
req POST "$L" -H 'Content-Type: application/json' --data '{"username":"a","username":"b","password":"c"}'
expect "duplicate key 400" 400 invalid_json
printf '{"username":"\xff\xfe","password":"x"}' >"$tmp/bad-utf8.json"
req POST "$L" -H 'Content-Type: application/json' --data-binary "@$tmp/bad-utf8.json"
expect "invalid UTF-8 in JSON 400" 400 invalid_json
req POST "$L" -H 'Content-Type: text/plain' --data 'username=admin'
expect "wrong content type 415" 415 unsupported_media_type
req POST "$L" -H 'Content-Type: application/json'
expect "empty body 400" 400 invalid_json
python3 -c "print('{\"username\":\"' + 'a'*5000 + '\",\"password\":\"x\"}')" >"$tmp/big.json"
req POST "$L" -H 'Content-Type: application/json' --data-binary "@$tmp/big.json"
expect "JSON body over --max-body 413" 413 too_big

# ---------------------------------------------------------------- routing ---
req DELETE "$B/api/v1/audio/files"
expect "wrong method 405" 405 method_not_allowed
check "405 Allow header" grep -qi '^Allow: GET, HEAD' "$tmp/hdr"
req GET "$B/api/v1/auth/login"
expect "GET on login 405" 405
check "Allow: POST" grep -qi '^Allow: POST' "$tmp/hdr"
req GET "$B/api/v1/nothing/here"
expect "unknown route 404 JSON" 404 not_found
req GET "$B/api/v1/health/"
expect "trailing slash 404" 404 not_found
req GET "$B/"
expect "root serves the web page" 200
check "web page is HTML with an ETag" bash -c "grep -qi '^content-type: text/html' '$tmp/hdr' && grep -qi '^etag: \"' '$tmp/hdr'"

# ---------------------------------------------------------------- logout ---
req POST "$B/api/v1/auth/logout" -H "$MH"
expect "logout" 200
req GET "$B/api/v1/audio/files" -H "$MH"
expect "token after logout 401" 401 unauthorized

# ---------------------------------------------------------------- metrics ---
req GET "$B/metrics"
expect "metrics 200" 200
check "metrics per route and status" grep -q 'samplemind_http_requests_total{method="GET",route="/api/v1/health",status="200"}' "$tmp/body"
check "metrics 404 counted as unmatched" grep -q 'route="unmatched",status="404"' "$tmp/body"
check "latency histogram" grep -q 'samplemind_http_request_duration_seconds_bucket{method="GET",route="/api/v1/health",le="+Inf"}' "$tmp/body"
check "analysis counters" grep -q 'samplemind_analyses_total{result="ok"} [1-9]' "$tmp/body"
check "catalog size gauge" grep -q '^samplemind_catalog_samples [1-9]' "$tmp/body"

# ---------------------------------------------------------------- garbage ---
check "garbage-request loop leaves the server healthy" python3 - "$B" <<'EOF'
import random, socket, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
host, port = u.hostname, u.port
rnd = random.Random(1234)
def send(data, read=True, close_early=False):
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.sendall(data)
        if close_early:
            s.close(); return
        if read:
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        s.close()
    except OSError:
        pass
good = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
cases = [
    lambda: bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 4000))),
    lambda: good[: rnd.randint(1, len(good) - 1)],
    lambda: b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n",
    lambda: b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    lambda: b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"user",
    lambda: b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    lambda: b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    lambda: b"GET /api/v1/health HTTP/9.9\r\n\r\n",
    lambda: b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(200),
    lambda: b"G\x00T / HTTP/1.1\r\n\r\n",
    lambda: b"GET /api/v1/health HTTP/1.1\r\n" + b"X-A: b\r\n" * 5000 + b"\r\n",
    lambda: b"GET /api/v1/%ff%00%2e%2e/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    lambda: good * 50,
]
t0 = time.time()
for i in range(400):
    send(rnd.choice(cases)(), read=rnd.random() < 0.7, close_early=rnd.random() < 0.2)
s = socket.create_connection((host, port), timeout=5)
s.sendall(good)
resp = s.recv(4096)
assert resp.startswith(b"HTTP/1.1 200"), resp
print("garbage loop: 400 requests in %.2f s" % (time.time() - t0))
EOF
req GET "$B/api/v1/health"
expect "health after the garbage" 200

# ---------------------------------------------------------------- access log ---
# Lines are written in batches, at the latest 0.1 s after they were made: a lone
# request on an idle server must reach the file within a second.
req GET "$B/api/v1/health" -H 'X-Request-Id: lone-request-7'
for _ in $(seq 1 50); do grep -q lone-request-7 "$tmp/access.log" && break; sleep 0.02; done
check "access log: a lone request is written within a second" grep -q lone-request-7 "$tmp/access.log"
check "access log: one JSON line per request with id, route, status" python3 - "$tmp/access.log" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(lines) > 50, len(lines)
for l in lines:
    assert {"ts", "id", "method", "path", "status", "ms"} <= set(l), l
assert any(l.get("route") == "/api/v1/audio/files" and l["status"] == 200 for l in lines)
EOF
check "access log never holds tokens or passwords" bash -c "! grep -q -e 'smt_' -e 'smk_' -e 'Bearer' -e '$pw' '$tmp/access.log'"

# ---------------------------------------------------------------- rate limits ---
start rl --data-dir "$data" --login-rate 1 --login-burst 2 --api-rate 1 --api-burst 3 --token-ttl 1 \
    --access-log off
R=$url_rl
codes=""
for _ in 1 2 3 4; do
    code=$(curl -s -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data '{"username":"admin","password":"bad-password"}' "$R/api/v1/auth/login")
    codes="$codes $code"
done
check "login rate limit: 401 401 then 429 ($codes)" test "$codes" = " 401 401 429 429"
check "429 has Retry-After" grep -qi '^Retry-After: [1-9]' "$tmp/hdr"
err_is rate_limited && ok "429 JSON error" || not_ok "429 JSON error"
"$bin" --data-dir "$data" apikey create admin rl-test --json >"$tmp/key2"
key2=$(python3 -c "import json; print(json.load(open('$tmp/key2'))['key'])")
codes=""
for _ in 1 2 3 4 5; do
    code=$(curl -s -o /dev/null -D "$tmp/hdr" -w '%{http_code}' -H "Authorization: Bearer $key2" "$R/api/v1/jobs/999999")
    codes="$codes $code"
done
check "API rate limit per token ($codes)" test "$codes" = " 404 404 404 429 429"
check "API 429 Retry-After" grep -qi '^Retry-After: [1-9]' "$tmp/hdr"
# Expired session token (ttl 1 s).
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data "{\"username\":\"admin\",\"password\":\"$pw\"}" "$B/api/v1/auth/login")
sleep 0.1
start ttl --data-dir "$data" --token-ttl 1 --access-log off
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data "{\"username\":\"admin\",\"password\":\"$pw\"}" "$url_ttl/api/v1/auth/login")
short=$(json "print(d['token'])")
sleep 2.1
req GET "$url_ttl/api/v1/health/detailed" -H "Authorization: Bearer $short"
expect "expired token 401" 401 unauthorized
kill "$pid_rl" "$pid_ttl"

# ---------------------------------------------------------------- header limits ---
# The default (16K a connection) takes a 6 KB cookie and refuses a 20 KB header
# with 431.
# Setting --max-header once zeroed the connection limit: the server accepted and
# never answered; it must serve at every allowed size.
big() { head -c "$1" /dev/zero | tr '\0' a; }
req GET "$B/api/v1/health" -H "Cookie: c=$(big 6000)"
expect "6 KB cookie under the default limit" 200
req GET "$B/api/v1/health" -H "X-Big: $(big 20000)"
expect "20 KB header over the default limit: 431" 431
for mh in 4K 8K 64K; do
    start "mh$mh" --data-dir "$data" --max-header "$mh" --access-log off
    eval "u=\$url_mh$mh p=\$pid_mh$mh"
    code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$u/api/v1/health")
    check "--max-header $mh serves health ($code)" test "$code" = 200
    kill "$p"
done

# ---------------------------------------------------------------- config precedence ---
ports=$(python3 -c "
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(('127.0.0.1', 0))
print(' '.join(str(s.getsockname()[1]) for s in ss))
for s in ss: s.close()")
read -r p_ini p_env p_flag <<<"$ports"
printf '[server]\nport = %s\naccess_log = off\n' "$p_ini" >"$tmp/sm.ini"
serve_port() { # serve_port ARGS... -> the port it listened on
    "$bin" "$@" >"$tmp/cfg.out" 2>/dev/null &
    local p=$!
    for _ in $(seq 1 200); do grep -q serving "$tmp/cfg.out" && break; sleep 0.02; done
    sed -n 's|.*http://[^ ]*:\([0-9]*\)/$|\1|p' "$tmp/cfg.out"
    kill $p
    wait $p 2>/dev/null
}
got=$(serve_port --config "$tmp/sm.ini" --data-dir "$data" serve)
check "INI sets the port ($got = $p_ini)" test "$got" = "$p_ini"
got=$(SAMPLEMIND_PORT=$p_env serve_port --config "$tmp/sm.ini" --data-dir "$data" serve)
check "environment beats INI ($got = $p_env)" test "$got" = "$p_env"
got=$(SAMPLEMIND_PORT=$p_env serve_port --config "$tmp/sm.ini" --data-dir "$data" serve --port "$p_flag")
check "flag beats environment ($got = $p_flag)" test "$got" = "$p_flag"
printf 'port = nope\n' >"$tmp/bad.ini"
"$bin" --config "$tmp/bad.ini" --data-dir "$data" serve >/dev/null 2>"$tmp/cfg.err"
check "bad INI value exits 2 naming the file" bash -c "test $? -eq 2 && grep -q bad.ini '$tmp/cfg.err'"

# ---------------------------------------------------------------- openapi ---
"$bin" --data-dir "$data" serve --routes >"$tmp/routes"
req GET "$B/api/v1/openapi.json"
expect "openapi.json served without a token" 200
check "OpenAPI paths and the routing table agree" python3 - "$tmp/routes" "$tmp/body" <<'EOF'
import json, sys
routes = {(r["method"].lower(), r["pattern"]) for r in map(json.loads, open(sys.argv[1]))}
doc = json.load(open(sys.argv[2]))
assert doc["openapi"].startswith("3."), doc.get("openapi")
documented, optional = set(), set()
for path, item in doc["paths"].items():
    for m, op in item.items():
        if m in ("get", "post", "put", "delete", "patch"):
            documented.add((m, path))
            if op.get("x-optional"):
                optional.add((m, path))
undocumented = routes - documented
absent = documented - routes - optional
assert not undocumented, "routes missing from OpenAPI: %s" % sorted(undocumented)
assert not absent, "OpenAPI paths with no route: %s" % sorted(absent)
for (m, p) in routes:
    op = doc["paths"][p][m]
    assert op.get("summary") and op.get("responses"), (m, p)
EOF

# ---------------------------------------------------------------- jobs survive a restart ---
jdata="$tmp/jobs-data"
mkdir -p "$jdata"
printf 'jobs-pass-123456\n' | "$bin" --data-dir "$jdata" user add jadmin --role admin --password-stdin >/dev/null
jkey=$("$bin" --data-dir "$jdata" apikey create jadmin k | python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
JK="Authorization: Bearer $jkey"
jobs_server() { # jobs_server NAME: a server over the jobs data dir; sets $J
    start "$1" --data-dir "$jdata" --db "sqlite://$tmp/jobs.db" --roots "$lib" --access-log off
    eval "J=\$url_$1"
}
wait_job() { # wait_job ID: until the job ends; body in $tmp/body
    for _ in $(seq 1 300); do
        req GET "$J/api/v1/jobs/$1" -H "$JK"
        case $(json "print(d['job']['state'])" 2>/dev/null) in done | failed | cancelled) return ;; esac
        sleep 0.05
    done
}
jobs_server jobs1
req POST "$J/api/v1/library/scan" -H "$JK" -H 'Content-Type: application/json' --data '{}'
expect "jobs: scan starts" 202
jid=$(json "print(d['job']['id'])")
wait_job "$jid"
cp "$tmp/body" "$tmp/job-before"
check "jobs: the scan is done" json "assert d['job']['state'] == 'done', d"
check "jobs: the record is in the data dir" test -s "$jdata/jobs.json"
kill -TERM "$pid_jobs1"
wait "$pid_jobs1"
jobs_server jobs2
req GET "$J/api/v1/jobs/$jid" -H "$JK"
expect "jobs: a finished job survives a restart" 200
check "jobs: same record after the restart" python3 -c "
import json; a = json.load(open('$tmp/job-before'))['job']; b = json.load(open('$tmp/body'))['job']
assert a == b and b['counts']['found'] >= 6, (a, b)"
req GET "$J/api/v1/jobs/$((jid + 1))" -H "$JK"
expect "jobs: no job after the last one" 404 not_found
req POST "$J/api/v1/library/scan" -H "$JK" -H 'Content-Type: application/json' --data '{}'
expect "jobs: a scan after the restart" 202
jid2=$(json "print(d['job']['id'])")
check "jobs: ids go on after the restart ($jid2 > $jid)" test "$jid2" -gt "$jid"
wait_job "$jid2"
kill -TERM "$pid_jobs2"
wait "$pid_jobs2"
# A job the server never finished (it crashed) reads as failed, interrupted.
python3 - "$jdata/jobs.json" "$jid2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for j in d["jobs"]:
    if j["id"] == int(sys.argv[2]):
        j["state"] = "running"
json.dump(d, open(sys.argv[1], "w"))
EOF
jobs_server jobs3
req GET "$J/api/v1/jobs/$jid2" -H "$JK"
expect "jobs: a job cut short by a crash is still known" 200
check "jobs: ... as failed, interrupted" json "j = d['job']; assert j['state'] == 'failed' and j['error']['code'] == 'interrupted', j"
req GET "$J/api/v1/jobs/$jid" -H "$JK"
check "jobs: the older job is still there" json "assert d['job']['state'] == 'done', d"
kill -TERM "$pid_jobs3"
wait "$pid_jobs3"
echo 'not json' >"$jdata/jobs.json"
jobs_server jobs4
req GET "$J/api/v1/health"
expect "jobs: a damaged jobs.json does not stop the server" 200
check "jobs: ... and is reported" grep -q 'jobs.json is not readable JSON' "$tmp/jobs4.err"
kill -TERM "$pid_jobs4"
wait "$pid_jobs4"

# ---------------------------------------------------------------- graceful stop ---
# A login takes Argon2id time; SIGTERM during it must still answer it.
( curl -s -o "$tmp/late" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data "{\"username\":\"admin\",\"password\":\"$pw\"}" "$B/api/v1/auth/login" >"$tmp/late.code" ) &
cpid=$!
# SIGTERM once the login is in flight (the metrics request itself is one).
seen=no
for _ in $(seq 1 500); do
    curl -s "$B/metrics" | grep -q '^samplemind_http_in_flight [2-9]' && seen=yes && break
    sleep 0.002
done
kill -TERM "$pid_main"
wait "$cpid"
wait "$pid_main"; rc=$?
check "SIGTERM exits 0" test $rc -eq 0
check "in-flight request finished during stop ($(cat "$tmp/late.code"), seen in flight: $seen)" test "$(cat "$tmp/late.code")" = 200
check "stop is logged" grep -q '"msg":"stopped"' "$tmp/main.err"
check "the login answered during the stop is in the access log" \
    bash -c "tail -n 1 '$tmp/access.log' | grep -q '/api/v1/auth/login'"
code=$(curl -s -o /dev/null -w '%{http_code}' "$B/api/v1/health")
check "no longer listening" test "$code" = 000

finish
