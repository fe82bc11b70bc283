#!/usr/bin/env bash
# The library example (examples/analyze_file.c) runs and reports what it should.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$SM_GEN" tone "$tmp/a440.wav" --freq 440 --seconds 1.5 --dbfs -12 >/dev/null
out=$("$SM_EXAMPLE" "$tmp/a440.wav"); rc=$?
check "example exits 0 on a good file" test $rc -eq 0
check "example reports duration and loudness" grep -Eq 'a440.wav: 1.50 s, -[0-9]+\.[0-9] LUFS, [a-z_]+, one-shot' <<<"$out"
err=$("$SM_EXAMPLE" "$tmp/missing.wav" 2>&1 >/dev/null); rc=$?
check "example exits 1 on a missing file" test $rc -eq 1
check "example names the error" grep -q 'not_found' <<<"$err"
finish
