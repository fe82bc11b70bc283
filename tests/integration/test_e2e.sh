#!/usr/bin/env bash
# The web page in a real browser: playwright-core (tests/e2e, npm ci when
# node_modules is missing) drives Debian's chromium headless against a real
# `samplemind serve` on a free loopback port over a generated library.
# Screenshots go to $SM_BUILD/e2e-screenshots. Needs the Debian packages
# chromium, nodejs and npm (scripts/install-deps.sh).
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=${SM_SOURCE:-$(cd "$here/../.." && pwd)}
bin=${SM_BIN:-build/samplemind}
gen=${SM_GEN:-build/sm-gen}
build=${SM_BUILD:-build}
e2e="$src/tests/e2e"
shots="$build/e2e-screenshots"
tmp=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*' no_proxy='*'
for v in $(env | sed -n 's/^\(SAMPLEMIND_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

die() {
    echo "FAIL $*"
    echo "0 passed, 1 failed"
    exit 1
}
command -v node >/dev/null || die "node is not installed (apt-get install nodejs npm; see scripts/install-deps.sh)"
[ -x "${SM_CHROMIUM:-/usr/bin/chromium}" ] || die "chromium is not installed (apt-get install chromium)"
if [ ! -d "$e2e/node_modules/playwright-core" ]; then
    echo "# npm ci in tests/e2e"
    (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
fi

lib="$tmp/lib"
data="$tmp/data"
"$gen" library "$lib" --oneshots 60 --loops 10 >/dev/null || die "sm-gen library"
"$gen" demo "$tmp/demo" >/dev/null || die "sm-gen demo"
"$bin" scan --data-dir "$data" "$lib" >/dev/null || die "samplemind scan"
user=e2e-admin
pass=e2e-$RANDOM-$RANDOM-pass
printf '%s\n' "$pass" | "$bin" --data-dir "$data" user add "$user" --role admin --password-stdin \
    >/dev/null || die "samplemind user add"

"$bin" serve --data-dir "$data" --port 0 --roots "$lib" --access-log off \
    >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
for _ in $(seq 1 250); do
    grep -q '^SampleMind is serving on' "$tmp/serve.out" 2>/dev/null && break
    sleep 0.02
done
url=$(sed -n 's|^SampleMind is serving on \(http://[^ ]*\)/$|\1|p' "$tmp/serve.out")
[ -n "$url" ] || die "server did not start: $(head -c 400 "$tmp/serve.err")"

mkdir -p "$shots"
rm -f "$shots"/*.png
SM_URL=$url SM_USER=$user SM_PASS=$pass SM_DROP="$tmp/demo/kick.wav" SM_SHOTS=$shots \
    SM_ROOT_OUTSIDE="$tmp/demo" node "$e2e/run.js"
rc=$?
echo "# screenshots: $shots"
exit $rc
