#!/usr/bin/env bash
# The catalog commands end to end on a generated library: search with every
# filter and every error, similar (the right neighbour for a sound and a lightly
# altered copy), duplicates, tag, show, stats, export, errors, AI answers stored
# with samples (searchable descriptions through rescans, deleted with the sample).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${SM_BIN:-build/samplemind}
gen=${SM_GEN:-build/sm-gen}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SAMPLEMIND_DATA_DIR="$tmp/data"
unset SAMPLEMIND_DB
if [ ! -x "$gen" ]; then
    echo "skip: sm-gen not built ($gen)"
    echo "0 passed, 0 failed"
    exit 0
fi
lib="$tmp/lib"
"$gen" demo "$lib/demo" >/dev/null
mkdir -p "$lib/tones"
"$gen" tone "$lib/tones/Sine_A2.wav" --freq 110 --seconds 1.0 >/dev/null
"$gen" tone "$lib/tones/Sine_A2_quiet.wav" --freq 110 --seconds 1.0 --dbfs -9 >/dev/null
"$gen" tone "$lib/tones/Sine_E5.wav" --freq 659.3 --seconds 1.0 >/dev/null
"$gen" clicks "$lib/tones/Clicks_128.wav" --bpm 128 --seconds 4 >/dev/null
cp "$lib/demo/kick.wav" "$lib/tones/kick_copy.wav"

count() { "$bin" search "$@" --paths | wc -l; }
jl() { python3 -c "import json,sys; rows=[json.loads(l) for l in sys.stdin if l.strip()]; print($1)"; }

"$bin" scan "$lib" --json >/dev/null; check "scan exits 0" test $? -eq 0
all=$(count)
check "search with no query lists every file" test "$all" -eq 11

# Words.
check "word: kick (prefix, path words)" test "$(count kick)" -ge 2
check "word: prefix 'kic'" test "$(count kic)" -eq "$(count kick)"
check "word: folder name" test "$(count tones)" -eq 5
check "phrase in quotes" test "$(count '"sine a2"')" -eq 2
check "two words AND" test "$(count sine quiet)" -eq 1
check "no match is exit 0 and empty" test "$(count zzzzqqq)" -eq 0

# Filters, checked against the JSON of every row.
filt() {  # filt QUERY PYTHON-CONDITION-ON-r: every row of QUERY satisfies it, and some row does
    local rows
    rows=$("$bin" search "$1" --json)
    [ -n "$rows" ] && [ "$(jl "all($2 for r in rows)" <<<"$rows")" = True ]
}
check "bpm:100..140" filt "bpm:100..140" '100 <= r["bpm"] <= 140'
check "bpm:>100" filt "bpm:>100" 'r["bpm"] > 100'
check "loop:yes" filt "loop:yes" 'r["loop"]'
check "loop:no" filt "loop:no" 'not r["loop"]'
check "category:kick" filt "category:kick" 'r["category"] == "kick"'
check "category:kick,snare" filt "category:kick,snare" 'r["category"] in ("kick", "snare")'
check "duration:..1" filt "duration:..1" 'r["duration"] <= 1'
check "duration:>=3" filt "duration:>=3" 'r["duration"] >= 3'
check "lufs:-20..-5" filt "lufs:-20..-5" '-20 <= r["lufs"] <= -5'
check "peak:<=0" filt "peak:<=0" 'r["true_peak"] <= 0'
check "bright:>50" filt "bright:>50" 'r["timbre"]["brightness"] > 50'
check "warm:<50" filt "warm:<50" 'r["timbre"]["warmth"] < 50'
check "deep:>50" filt "deep:>50" 'r["timbre"]["depth"] > 50'
check "hard:>10" filt "hard:>10" 'r["timbre"]["hardness"] > 10'
check "rough:>10" filt "rough:>10" 'r["timbre"]["roughness"] > 10'
check "boomy:>10" filt "boomy:>10" 'r["timbre"]["boominess"] > 10'
check "note:A2 (the 110 Hz tones)" filt "note:A2" 'r["note"] == "A2"'
check "note:A1..A3" filt "note:A1..A3" 'r["note"] is not None'
key=$("$bin" search "sort:key" --json | jl 'next(r["key"] for r in rows if r["key"])')
cam=$("$bin" search "sort:key" --json | jl 'next(r["camelot"] for r in rows if r["key"])')
short=$(python3 -c "import sys; t,m=sys.argv[1].split(' '); print(t + ('m' if m == 'minor' else ''))" "$key")
check "key:$short" filt "key:$short" "r['key'] == '$key'"
check "key:$cam (Camelot)" filt "key:$cam" "r['camelot'] == '$cam'"
check "key:compatible:$short includes the key" test "$(count "key:compatible:$short")" -ge "$(count "key:$short")"
check "sort:-duration" test "$("$bin" search sort:-duration --json | jl 'all(rows[i]["duration"] >= rows[i+1]["duration"] for i in range(len(rows)-1))')" = True
check "sort:name" test "$("$bin" search sort:name --json | jl '[r["path"].rsplit("/",1)[1].lower() for r in rows] == sorted(r["path"].rsplit("/",1)[1].lower() for r in rows)')" = True
check "limit:3" test "$(count limit:3)" -eq 3
check "--limit 2" test "$("$bin" search --limit 2 --paths | wc -l)" -eq 2
check "table output has a header" grep -q "^ *ID  NAME" <("$bin" search --table 2>/dev/null)

# Tags.
kid=$("$bin" search Sine_E5 --json | jl 'rows[0]["id"]')
out=$("$bin" tag "$kid" +Bright +airy -nothing --json); rc=$?
check "tag exits 0" test $rc -eq 0
check "tag prints the tags" test "$(jl 'rows[0]["tags"]' <<<"$out")" = "['airy', 'bright']"
check "tag:airy" test "$(count tag:airy)" -eq 1
check "tag words are searchable" test "$(count airy)" -eq 1
"$bin" tag "$lib/tones/Sine_E5.wav" -airy >/dev/null
check "tag by path, removal" test "$(count tag:airy)" -eq 0
"$bin" tag "$kid" "bad tag" >/dev/null 2>&1; check "tag with a space exits 2" test $? -eq 2
"$bin" tag 999999 +x >/dev/null 2>&1; check "tag of an unknown id exits 1" test $? -eq 1

# The in-memory filter index (search --index) gives the same rows, order and
# scores as the SQL path, for every query this test uses.
"$bin" tag "$kid" +bright +airy >/dev/null
both() {
    local a b
    a=$("$bin" search --json "$@") || return 1
    b=$("$bin" search --index --json "$@") || return 1
    [ "$a" = "$b" ]
}
nsame=0
nq=0
for q in "" kick kic tones '"sine a2"' "sine quiet" zzzzqqq "bpm:100..140" "bpm:>100" \
         loop:yes loop:no category:kick "category:kick,snare" "duration:..1" "duration:>=3" \
         "lufs:-20..-5" "peak:<=0" "bright:>50" "warm:<50" "deep:>50" "hard:>10" "rough:>10" \
         "boomy:>10" note:A2 "note:A1..A3" "key:$short" "key:$cam" "key:compatible:$short" \
         sort:-duration sort:name sort:-name sort:key sort:-key sort:category sort:-bpm \
         "sort:-relevance sine" limit:3 "offset:2 limit:4" tag:airy "tag:airy tag:bright" \
         "bright tag:bright" missing:any "sine sort:name" "tones bpm:>1 sort:-lufs"; do
    nq=$((nq + 1))
    if both "$q"; then
        nsame=$((nsame + 1))
    else
        echo "  index and SQL differ for '$q'"
    fi
done
check "search --index = SQL search on $nsame of $nq queries" test "$nsame" -eq "$nq" -a "$nq" -ge 44
"$bin" tag "$kid" -bright -airy >/dev/null

# Bad queries: exit 2, message names the token, a caret points at it.
bq() {  # bq QUERY WANT CARET-LINE
    local err rc
    err=$("$bin" search "$1" 2>&1 >/dev/null); rc=$?
    [ $rc -eq 2 ] && grep -qF -- "$2" <<<"$err" && [ "$(tail -1 <<<"$err")" = "$3" ]
}
check "error: unknown filter" bq "kick bmp:120" "unknown filter 'bmp' (did you mean 'bpm'?)" "       ^^^"
check "error: bad number" bq "bpm:fast" "'fast' is not a number" "      ^^^^"
check "error: empty range" bq "bpm:130..120" "empty range" "      ^^^^^^^^"
check "error: bad key" bq "key:H" "'H' is not a key" "      ^"
check "error: bad category" bq "category:kik" "did you mean 'kick'?" "           ^^^"
check "error: bad loop" bq "loop:maybe" "is not yes or no" "       ^^^^^"
check "error: bad note" bq "note:X9" "not a note" "       ^^"
check "error: bad sort" bq "sort:loud" "unknown order 'loud'" "       ^^^^"
check "error: bad limit" bq "limit:0" "not a whole number" "        ^"
check "error: repeated filter" bq "key:Am key:C" "given twice" "         ^^^^^"
check "error: unclosed quote" bq 'kick "deep' "unclosed quote" "       ^^^^^"
check "error: empty value" bq "bpm:" "needs a value" "  ^^^^"
"$bin" search --limit x >/dev/null 2>&1; check "bad --limit exits 2" test $? -eq 2

# Similar: a sound's nearest neighbour is its lightly altered copy (-9 dB).
out=$("$bin" similar "$lib/tones/Sine_A2.wav" -k 3 --json); rc=$?
check "similar exits 0" test $rc -eq 0
check "similar: nearest to a tone is its quieter copy" \
    test "$(jl 'rows[0]["path"].endswith("Sine_A2_quiet.wav")' <<<"$out")" = True
check "similar: the file itself is excluded" \
    test "$(jl 'any(r["path"].endswith("/Sine_A2.wav") for r in rows)' <<<"$out")" = False
check "similar: distances ascend" test "$(jl 'all(rows[i]["distance"] <= rows[i+1]["distance"] for i in range(len(rows)-1))' <<<"$out")" = True
check "similar: -k 3 gives 3" test "$(jl 'len(rows)' <<<"$out")" = 3
qid=$("$bin" search Sine_A2_quiet --json | jl 'rows[0]["id"]')
check "similar by id" test "$("$bin" similar "$qid" -k 1 --json | jl 'rows[0]["path"].endswith("/Sine_A2.wav")')" = True
# A file outside the catalog is analyzed on the fly.
"$gen" tone "$tmp/outside.wav" --freq 111 --seconds 1.0 --dbfs -3 >/dev/null
check "similar: file not in the catalog" \
    test "$("$bin" similar "$tmp/outside.wav" -k 2 --json | jl 'all("Sine_A2" in r["path"] for r in rows)')" = True
out=$("$bin" similar "$lib/tones/Sine_A2.wav" -k 5 category:kick --json)
check "similar: filtered to kicks" test "$(jl 'len(rows) > 0 and all(r["category"] == "kick" for r in rows)' <<<"$out")" = True
"$bin" similar "$tmp/nope.wav" >/dev/null 2>&1; check "similar of a missing file exits 1" test $? -eq 1
"$bin" similar "$lib/tones/Sine_A2.wav" bmp:1 >/dev/null 2>&1; check "similar with a bad query exits 2" test $? -eq 2
"$bin" similar >/dev/null 2>&1; check "similar without a target exits 2" test $? -eq 2

# Duplicates: the copied kick is exact; the quieter tone is near.
out=$("$bin" duplicates --json); rc=$?
check "duplicates exits 0" test $rc -eq 0
check "duplicates: exact group of the kick copy" \
    test "$(jl 'any(r["kind"] == "exact" and len(r["files"]) == 2 and any(f["path"].endswith("kick_copy.wav") for f in r["files"]) for r in rows)' <<<"$out")" = True
check "duplicates: near group of the two A2 tones" \
    test "$(jl 'any(r["kind"] == "near" and sorted(f["path"].rsplit("/",1)[1] for f in r["files"]) == ["Sine_A2.wav", "Sine_A2_quiet.wav"] for r in rows)' <<<"$out")" = True
check "duplicates --exact only" test "$("$bin" duplicates --exact --json | jl 'all(r["kind"] == "exact" for r in rows)')" = True
check "duplicates --threshold 0 finds no near group" \
    test "$("$bin" duplicates --near --threshold 0 --json | jl 'len(rows)')" = 0
"$bin" duplicates --threshold 3 >/dev/null 2>&1; check "bad --threshold exits 2" test $? -eq 2

# Show, stats, export, errors.
out=$("$bin" show "$qid" --embedding --waveform); rc=$?
check "show exits 0" test $rc -eq 0
check "show has analysis, id, tags, embedding, waveform" test "$(jl 'all(k in rows[0] for k in ("id","tags","loudness","embedding","waveform","missing"))' <<<"$out")" = True
"$bin" show 999999 >/dev/null 2>&1; check "show of an unknown id exits 1" test $? -eq 1
out=$("$bin" stats --json); rc=$?
check "stats exits 0" test $rc -eq 0
check "stats counts every sample" test "$(jl 'rows[0]["samples"]' <<<"$out")" = 11
check "stats by category sums to the total" test "$(jl 'sum(rows[0]["categories"].values())' <<<"$out")" = 11
check "stats has a tempo histogram" test "$(jl 'len(rows[0]["tempo"])' <<<"$out")" = 16
check "stats total duration" test "$(jl 'rows[0]["total_duration"] > 15' <<<"$out")" = True
"$bin" stats --table >/dev/null; check "stats table exits 0" test $? -eq 0
csv=$("$bin" export --format csv)
check "export csv: header + one row per sample" test "$(wc -l <<<"$csv")" -eq 12
check "export csv parses" test "$(python3 -c "import csv,sys,io; r=list(csv.DictReader(io.StringIO(sys.stdin.read()))); print(len(r), all(x['id'] for x in r))" <<<"$csv")" = "11 True"
check "export json is one valid array" test "$("$bin" export --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 11
check "export jsonl with a query" test "$("$bin" export --format jsonl category:kick | wc -l)" -eq "$(count category:kick)"
"$bin" export --format xml >/dev/null 2>&1; check "export --format xml exits 2" test $? -eq 2
check "errors with none is empty" test -z "$("$bin" errors --json)"

# AI answers stored with their samples (the offline builtin rules answer).
aid=$("$bin" search Sine_E5 --json | jl 'rows[0]["id"]')
ai_of() { "$bin" show "$1" --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$2"; }
check "no description words before any answer" test "$(count '"rule based"')" -eq 0
check "show has an empty ai object before any answer" test "$(ai_of "$aid" 'd["ai"]')" = "{}"
"$bin" ai ask "$aid" --task description,tags --provider builtin >/dev/null 2>&1
check "ai ask by catalog id exits 0" test $? -eq 0
check "stored answer: provider" test "$(ai_of "$aid" 'd["ai"]["description"]["provider"]')" = builtin
check "stored answer: model" test "$(ai_of "$aid" 'd["ai"]["description"]["model"]')" = rules-v1
check "stored answer: the answer object" grep -q "rule-based" <<<"$(ai_of "$aid" 'd["ai"]["description"]["answer"]["description"]')"
check "stored answer: counts, cost, cached, time" test "$(ai_of "$aid" '[sorted(d["ai"]["tags"].keys()), d["ai"]["tags"]["cached"], d["ai"]["tags"]["created_at"] > 0]')" = \
    "[['answer', 'cached', 'cost_usd', 'created_at', 'latency_ms', 'model', 'provider', 'tokens_estimated', 'tokens_in', 'tokens_out'], False, True]"
check "tags answer became catalog tags" test "$(ai_of "$aid" 'all(t in d["tags"] for t in d["ai"]["tags"]["answer"]["tags"])')" = True
check "description is searchable" test "$("$bin" search '"rule based"' --json | jl '[r["id"] for r in rows]')" = "[$aid]"
check "search rows carry no ai answers" test "$("$bin" search '"rule based"' --json | jl 'any("ai" in r for r in rows)')" = False
before=$(ai_of "$aid" 'd["ai"]["description"]["created_at"]')
sleep 1
"$bin" ai ask "$aid" --task description --provider builtin >/dev/null 2>&1
check "a newer answer replaces the stored one" test "$(ai_of "$aid" '[len(d["ai"]), d["ai"]["description"]["created_at"] > '"$before"']')" = "[2, True]"
"$bin" scan "$lib" >/dev/null 2>&1
check "description survives an unchanged rescan" test "$(count '"rule based"')" -eq 1
"$bin" scan "$lib" --force >/dev/null 2>&1
check "description survives re-analysis" test "$(count '"rule based"')" -eq 1
check "answers survive re-analysis" test "$(ai_of "$aid" 'len(d["ai"])')" = 2
"$bin" ai ask "$aid" --task genre --provider builtin --no-store >/dev/null 2>&1
check "--no-store stores nothing" test "$(ai_of "$aid" '"genre" in d["ai"]')" = False
"$bin" ai ask 999999 --task genre --provider builtin >/dev/null 2>"$tmp/ai.err"
check "ai ask of an unknown id exits 1" test $? -eq 1
check "ai ask of an unknown id says why" grep -q "not a catalog id" "$tmp/ai.err"
# Deleted with the sample: the file goes, the rescan prunes the row and its answers.
cp "$lib/tones/Sine_E5.wav" "$lib/tones/Gone.wav"
"$bin" scan "$lib" >/dev/null 2>&1
gid=$("$bin" search gone --json | jl 'rows[0]["id"]')
"$bin" ai ask "$gid" --task description --provider builtin >/dev/null 2>&1
check "the doomed sample's description is searchable" test "$(count '"rule based"')" -eq 2
rm "$lib/tones/Gone.wav"
"$bin" scan "$lib" --prune >/dev/null 2>&1
answers_of() { python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('SELECT count(*) FROM ai_answers WHERE sample_id = ?', (int(sys.argv[2]),)).fetchone()[0])" "$SAMPLEMIND_DATA_DIR/catalog.db" "$1"; }
check "pruned sample's answers are deleted" test "$(answers_of "$gid")" = 0
check "other samples' answers stay" test "$(answers_of "$aid")" = 2
check "pruned sample no longer found by its description" test "$(count '"rule based"')" -eq 1

# A catalog that does not exist yet.
err=$(SAMPLEMIND_DATA_DIR="$tmp/none" "$bin" search kick 2>&1); rc=$?
check "search without a catalog exits 1" test $rc -eq 1
check "search without a catalog says so" grep -q "does not exist" <<<"$err"
check "search without a catalog creates nothing" test ! -e "$tmp/none/catalog.db"
"$bin" --db "sqlite://$tmp/x.db?frob=1" stats >/dev/null 2>&1; check "bad catalog URL option exits 1" test $? -eq 1

finish
