#!/usr/bin/env bash
# The scan command end to end: incremental rescans (modify, rename, delete, add),
# tags surviving a move, SIGKILL mid-scan then resume, Ctrl-C, two scans at once,
# and the bad inputs of issue 4 (unreadable files and folders, symlink loops,
# non-UTF-8 names, fake audio, corrupt / foreign / locked catalog, full disk).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${SM_BIN:-build/samplemind}
gen=${SM_GEN:-build/sm-gen}
tmp=$(mktemp -d)
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
export SAMPLEMIND_DATA_DIR="$tmp/data"
unset SAMPLEMIND_DB

# tone FILE HZ SECONDS: a test tone, from sm-gen when built, else Python's wave.
tone() {
    if [ -x "$gen" ]; then
        "$gen" tone "$1" --freq "$2" --seconds "$3" >/dev/null
    else
        python3 - "$1" "$2" "$3" <<'EOF'
import math, struct, sys, wave
path, hz, sec = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
n = int(44100 * sec)
with wave.open(path, "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(44100)
    w.writeframes(b"".join(struct.pack("<h", int(16000 * math.sin(2 * math.pi * hz * i / 44100) * (1 - i / n))) for i in range(n)))
EOF
    fi
}
# js EXPR: evaluate a Python expression over the JSON object on stdin (as j).
js() { python3 -c "import json,sys; j=json.loads(sys.stdin.read()); print($1)"; }
sql() { python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print('\n'.join('|'.join(str(x) for x in r) for r in c.execute(sys.argv[2])))" "$@"; }
db="$SAMPLEMIND_DATA_DIR/catalog.db"

lib="$tmp/lib"
mkdir -p "$lib/Kicks" "$lib/Bass" "$lib/.hidden"
tone "$lib/Kicks/Kick_01.wav" 60 0.5
tone "$lib/Kicks/Kick_02.wav" 70 0.5
tone "$lib/Bass/Sub_A1.wav" 55 1.0
tone "$lib/Bass/Sub_C2.wav" 65.4 1.0
tone "$lib/.hidden/secret.wav" 440 0.3
tone "$lib/readme.txt.wav" 300 0.2 && printf 'just text, not audio, but named .wav\n' >"$lib/readme.txt.wav"
printf 'notes' >"$lib/notes.txt"

# First scan.
out=$("$bin" scan "$lib" --json 2>"$tmp/err"); rc=$?
check "first scan exits 0" test $rc -eq 0
check "first scan adds 4 files" test "$(js 'j["added"]' <<<"$out")" = 4
check "fake .wav skipped by magic bytes" test "$(js 'j["not_audio"]' <<<"$out")" = 1
check "catalog file created in the data dir" test -f "$db"
check "catalog is in WAL mode" test "$(sql "$db" 'PRAGMA journal_mode')" = wal
check "hidden files skipped" test "$("$bin" search secret --paths | wc -l)" -eq 0

# Unchanged rescan: nothing analyzed.
out=$("$bin" scan "$lib" --json); rc=$?
check "rescan exits 0" test $rc -eq 0
check "rescan: 4 unchanged" test "$(js 'j["unchanged"]' <<<"$out")" = 4
check "rescan: nothing analyzed" test "$(js 'j["analyzed"]' <<<"$out")" = 1  # the fake .wav is re-checked

# Tag one, then modify one, rename the tagged one, delete one, add one.
"$bin" tag "$lib/Kicks/Kick_01.wav" +punchy +dark >/dev/null
id1=$("$bin" search kick_01 --json | js 'j["id"]')
sleep 0.01
tone "$lib/Bass/Sub_A1.wav" 110 1.5            # modified: other size and mtime
mv "$lib/Kicks/Kick_01.wav" "$lib/Kicks/Renamed_Kick.wav"
rm "$lib/Kicks/Kick_02.wav"
tone "$lib/Bass/New_Bass.wav" 82 0.7
out=$("$bin" scan "$lib" --json); rc=$?
check "incremental scan exits 0" test $rc -eq 0
check "incremental: 1 new" test "$(js 'j["added"]' <<<"$out")" = 1
check "incremental: 1 changed" test "$(js 'j["updated"]' <<<"$out")" = 1
check "incremental: 1 moved" test "$(js 'j["moved"]' <<<"$out")" = 1
check "incremental: 1 missing" test "$(js 'j["missing"]' <<<"$out")" = 1
check "incremental: 1 unchanged" test "$(js 'j["unchanged"]' <<<"$out")" = 1
row=$("$bin" show "$lib/Kicks/Renamed_Kick.wav")
check "moved file keeps its id" test "$(js 'j["id"]' <<<"$row")" = "$id1"
check "moved file keeps its tags" test "$(js '" ".join(j["tags"])' <<<"$row")" = "dark punchy"
check "changed file re-analyzed (duration 1.5 s)" \
    test "$("$bin" show "$lib/Bass/Sub_A1.wav" | js 'round(j["duration"], 2)')" = 1.5
check "deleted file hidden from search" test "$("$bin" search kick_02 --paths | wc -l)" -eq 0
check "deleted file listed as missing" test "$("$bin" search kick_02 missing:yes --paths | wc -l)" -eq 1
out=$("$bin" scan "$lib" --prune --json)
check "--prune removes missing rows" test "$(js 'j["pruned"]' <<<"$out")" = 1
check "pruned row gone" test "$("$bin" search missing:any --paths | wc -l)" -eq 4

# Newer analyzer version re-analyzes: pretend the rows came from version 0.
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE samples SET analyzer_version=0 WHERE name='New_Bass.wav'\"); c.commit()" "$db"
out=$("$bin" scan "$lib" --json)
check "older analyzer version re-analyzed" test "$(js 'j["updated"]' <<<"$out")" = 1

# A file that fails is stored, listed, and does not stop the scan.
printf 'RIFF\x40\x00\x00\x00WAVEfmt \x10\x00\x00\x00garbage-garbage-garbage-garbage-garbage' >"$lib/Bass/Truncated.wav"
out=$("$bin" scan "$lib" --json); rc=$?
check "per-file failure gives exit 1" test $rc -eq 1
check "per-file failure counted" test "$(js 'j["failed"]' <<<"$out")" = 1
errs=$("$bin" errors --json)
check "errors lists the truncated file" grep -q 'Truncated.wav' <<<"$errs"
check "errors has a code and message" test "$(js 'j["error"]["code"] != ""' <<<"$errs")" = True
out=$("$bin" scan "$lib" --json); rc=$?
check "unchanged failed file is not retried" test "$(js 'j["failed"]' <<<"$out")" = 0
rm "$lib/Bass/Truncated.wav"
"$bin" scan "$lib" --json >/dev/null
check "vanished failed file leaves errors" test -z "$("$bin" errors --json)"

# Symlink loop and a non-UTF-8 file name.
ln -s "$lib" "$lib/Kicks/loop"
ln -s ../Bass "$lib/Kicks/bass_link"
tone "$lib/Bass/$(printf 'caf\xe9_hit.wav')" 200 0.3
out=$(timeout 20 "$bin" scan "$lib" --json); rc=$?
check "scan with a symlink loop terminates" test $rc -eq 0
check "symlink loops counted" test "$(js 'j["symlink_loops"] >= 1' <<<"$out")" = True
check "non-UTF-8 name stored" test "$(js 'j["added"]' <<<"$out")" = 1
check "non-UTF-8 name searchable and JSON valid" \
    test "$("$bin" search hit --json | js 'j["path"].endswith("_hit.wav")')" = True
check "non-UTF-8 path printed as raw bytes with --paths" \
    cmp <("$bin" search hit --paths) <(printf '%s\n' "$lib/Bass/$(printf 'caf\xe9_hit.wav')")
rm "$lib/Kicks/loop" "$lib/Kicks/bass_link"

# Unreadable file and folder: root ignores permissions, so run as nobody when we can.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    plib="$tmp/plib"
    mkdir -p "$plib/locked" "$tmp/pdata"
    tone "$plib/ok.wav" 100 0.3
    tone "$plib/secret.wav" 100 0.3
    tone "$plib/locked/inside.wav" 100 0.3
    chmod 000 "$plib/secret.wav" "$plib/locked"
    chmod 777 "$tmp" "$tmp/pdata"
    chmod 755 "$plib"
    out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env SAMPLEMIND_DATA_DIR="$tmp/pdata" \
        "$bin" scan "$plib" --json); rc=$?
    check "permission denied: exit 1" test $rc -eq 1
    check "permission denied: readable file stored" test "$(js 'j["added"]' <<<"$out")" = 1
    check "permission denied: file stored as an error" test "$(js 'j["failed"]' <<<"$out")" = 1
    check "permission denied: folder reported" test "$(js 'j["unreadable_dirs"]' <<<"$out")" = 1
    perrs=$(SAMPLEMIND_DATA_DIR="$tmp/pdata" "$bin" errors --json)
    check "errors lists the unreadable file" grep -q 'secret.wav' <<<"$perrs"
    check "errors lists the unreadable folder" grep -q 'locked"' <<<"$perrs"
    chmod 755 "$plib/locked"; chmod 644 "$plib/secret.wav"
else
    echo "skip permission cases: not root with setpriv (root ignores file modes)"
fi

# Two scans at once: the second fails at once and says why; --wait waits.
big="$tmp/big"
mkdir -p "$big"
for i in $(seq 1 60); do tone "$big/t$i.wav" $((100 + i * 7)) 8.0; done
"$bin" scan "$big" --jobs 1 --json >"$tmp/first.json" 2>&1 &
first=$!
sleep 0.5
err=$("$bin" scan "$lib" 2>&1); rc=$?
check "second scan fails while one runs" test $rc -eq 1
check "second scan says another scan is running" grep -q "another scan" <<<"$err"
"$bin" scan "$lib" --wait --json >/dev/null 2>&1; rc=$?
check "--wait waits for the first scan" test $rc -eq 0
wait $first
check "first scan finished fine" test "$(js 'j["added"]' <"$tmp/first.json")" = 60

# SIGKILL mid-scan: consistent catalog, the next scan resumes.
rm -rf "$big"; mkdir -p "$big"
for i in $(seq 1 80); do tone "$big/k$i.wav" $((100 + i * 5)) 8.5; done
"$bin" scan "$big" --jobs 1 --batch 5 --json >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    n=$(sql "$db" "SELECT count(*) FROM samples WHERE name LIKE 'k%.wav'" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 10 ] && break
    sleep 0.05
done
kill -KILL $pid; wait $pid 2>/dev/null
stored=$(sql "$db" "SELECT count(*) FROM samples WHERE name LIKE 'k%.wav'")
check "killed scan stored some batches" test "$stored" -ge 5
check "killed scan left fewer than all" test "$stored" -lt 80
check "catalog passes integrity_check after SIGKILL" test "$(sql "$db" 'PRAGMA integrity_check')" = ok
check "search index consistent after SIGKILL" \
    test "$(sql "$db" "SELECT count(*) FROM samples s LEFT JOIN samples_fts f ON f.rowid = s.id WHERE f.rowid IS NULL")" = 0
out=$("$bin" scan "$big" --json); rc=$?
check "resumed scan exits 0" test $rc -eq 0
check "resumed scan skips what was stored" test "$(js 'j["unchanged"]' <<<"$out")" = "$stored"
check "resumed scan analyzes the rest" test "$(js 'j["added"]' <<<"$out")" = $((80 - stored))
[ "$(js 'j["added"]' <<<"$out")" = $((80 - stored)) ] || echo "stored=$stored $out"

# SIGINT: stops after the current batch, exit 1, what was stored stays.
rm -rf "$big"; mkdir -p "$big"
for i in $(seq 1 80); do tone "$big/i$i.wav" $((90 + i * 5)) 7.5; done
"$bin" scan "$big" --jobs 1 --batch 5 --json >"$tmp/int.json" 2>/dev/null &
pid=$!
sleep 0.6
kill -INT $pid; wait $pid; rc=$?
check "SIGINT scan exits 1" test $rc -eq 1
check "SIGINT scan reports interrupted" test "$(js 'j["interrupted"]' <"$tmp/int.json")" = True
check "SIGINT scan stored what it analyzed" \
    test "$(sql "$db" "SELECT count(*) FROM samples WHERE name LIKE 'i%.wav'")" = "$(js 'j["added"]' <"$tmp/int.json")" || { sql "$db" "SELECT count(*) FROM samples WHERE name LIKE 'i%.wav'"; cat "$tmp/int.json"; }

# Corrupt catalog: clear error, file untouched.
head -c 16384 /dev/urandom >"$tmp/corrupt.db"
sum=$(md5sum <"$tmp/corrupt.db")
err=$("$bin" --db "sqlite://$tmp/corrupt.db" scan "$lib" 2>&1); rc=$?
check "corrupt catalog: exit 1" test $rc -eq 1
check "corrupt catalog: clear message" grep -q "not a SampleMind catalog" <<<"$err"
check "corrupt catalog: not overwritten" test "$(md5sum <"$tmp/corrupt.db")" = "$sum"
# A real catalog with a damaged page.
cp "$db" "$tmp/damaged.db"
python3 - "$tmp/damaged.db" <<'EOF'
import sys
p = sys.argv[1]
data = bytearray(open(p, "rb").read())
for i in range(4096 * 2, min(len(data), 4096 * 6)):
    data[i] = (i * 37) & 0xFF
open(p, "wb").write(bytes(data))
EOF
sum=$(md5sum <"$tmp/damaged.db")
err=$("$bin" --db "$tmp/damaged.db" search kick 2>&1); rc=$?
check "damaged catalog: exit 1" test $rc -eq 1
check "damaged catalog: says corrupt" grep -qiE "corrupt|malformed" <<<"$err"
check "damaged catalog: not overwritten" test "$(md5sum <"$tmp/damaged.db")" = "$sum"
# Someone else's SQLite file.
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table t(x)'); c.commit()" "$tmp/other.db"
err=$("$bin" --db "sqlite://$tmp/other.db" stats 2>&1); rc=$?
check "foreign SQLite file refused" grep -q "not a SampleMind catalog" <<<"$err"

# Locked catalog: waits for the busy timeout, then fails clearly.
python3 - "$db" <<'EOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[1] + ".locked", "w").close()
time.sleep(4)
c.execute("ROLLBACK")
EOF
locker=$!
for _ in $(seq 1 100); do [ -e "$db.locked" ] && break; sleep 0.05; done
t0=$(date +%s.%N)
err=$("$bin" --db "sqlite://$db?busy_timeout=700" tag "$id1" +x 2>&1); rc=$?
t1=$(date +%s.%N)
check "locked catalog: exit 1" test $rc -eq 1
check "locked catalog: says locked" grep -q "locked by another process" <<<"$err"
grep -q "locked by another process" <<<"$err" || echo "$err"
check "locked catalog: waited the busy timeout" python3 -c "import sys; sys.exit(0 if $t1 - $t0 >= 0.6 else 1)"
wait $locker

# Disk full: the batch rolls back, the error is reported, the catalog stays sound.
full="$tmp/full.db"
"$bin" --db "sqlite://$full" scan "$lib" --json >/dev/null 2>&1
before=$(sql "$full" "SELECT count(*) FROM samples")
pages=$(sql "$full" "PRAGMA page_count")
mkdir -p "$tmp/more"
for i in $(seq 1 40); do tone "$tmp/more/m$i.wav" $((300 + i)) 0.5; done
err=$("$bin" --db "sqlite://$full?max_pages=$((pages + 4))" scan "$tmp/more" --batch 1000 2>&1); rc=$?
check "disk full: exit 1" test $rc -eq 1
check "disk full: reported" grep -q "disk full" <<<"$err"
check "disk full: batch rolled back" test "$(sql "$full" "SELECT count(*) FROM samples")" = "$before"
check "disk full: integrity ok" test "$(sql "$full" 'PRAGMA integrity_check')" = ok

# Usage errors.
"$bin" scan >/dev/null 2>&1; check "scan without folders exits 2" test $? -eq 2
"$bin" scan --jobs 0 "$lib" >/dev/null 2>&1; check "scan --jobs 0 exits 2" test $? -eq 2
"$bin" scan --progress sideways "$lib" >/dev/null 2>&1; check "bad --progress exits 2" test $? -eq 2
err=$("$bin" scan "$tmp/nope" 2>&1); rc=$?
check "missing folder exits 1" test $rc -eq 1
check "missing folder named" grep -q "nope" <<<"$err"
lines=$("$bin" scan "$lib" --progress json 2>&1 >/dev/null | grep -c '"phase"')
check "--progress json prints JSON lines" test "$lines" -ge 2

finish
