#!/usr/bin/env bash
# Integration test of sm-accuracy, the accuracy tool users point at their own
# labelled folders: it scores a small generated set (and the scores move when
# the labels do), reads labels from --labels, reports files that fail to
# analyse, and stops with the file, line and column of a label it does not
# understand instead of quietly dropping it.
set -u
. "$(dirname "$0")/lib.sh"

ACC="${SM_BUILD:-}/sm-accuracy"
GEN="${SM_GEN:-}"
if [ ! -x "$ACC" ] || [ ! -x "$GEN" ]; then
    echo "SM_BUILD and SM_GEN must name the build directory and sm-gen" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

"$GEN" labelled "$TMP/set" --seed 3 --per-class 1 --loops 4 --progressions 2 --notes 6 \
    >/dev/null 2>&1
check "sm-gen wrote a small labelled set" test -s "$TMP/set/labels.tsv"

# The value of a measure line: field 5 of "tempo files N Accuracy1 X % ...".
measure() { awk -v m="$1" '$1 == m && $2 == "files" { print $3, $5 }' "$2"; }
# Count of labels.tsv rows with column c set.
labelled() { awk -F'\t' -v c="$1" 'NR > 1 && $c != "" && $c != "-"' "$2" | wc -l; }

"$ACC" --threads 2 --dump "$TMP/dump.tsv" "$TMP/set" >"$TMP/out" 2>"$TMP/err"
check "scores the set (exit 0)" test $? -eq 0
n_bpm=$(labelled 2 "$TMP/set/labels.tsv")
n_key=$(labelled 3 "$TMP/set/labels.tsv")
n_note=$(labelled 5 "$TMP/set/labels.tsv")
check "tempo counts every bpm label ($n_bpm)" \
    test "$(measure tempo "$TMP/out" | cut -d' ' -f1)" = "$n_bpm"
check "key counts every key label ($n_key)" \
    test "$(measure key "$TMP/out" | cut -d' ' -f1)" = "$n_key"
check "note counts every note label ($n_note)" \
    test "$(measure note "$TMP/out" | cut -d' ' -f1)" = "$n_note"
check "the dump has a line per file" \
    test "$(($(wc -l < "$TMP/dump.tsv") - 1))" = "$(($(wc -l < "$TMP/set/labels.tsv") - 1))"
tempo_ok=$(measure tempo "$TMP/out" | cut -d' ' -f2)
check "tempo Accuracy1 of the generated loops is above 50 % ($tempo_ok)" \
    awk -v a="$tempo_ok" 'BEGIN { exit !(a > 50) }'

"$ACC" --threads 2 "$TMP/set" "$TMP/set" >"$TMP/out8" 2>/dev/null
check "two folders are scored as one set" \
    test "$(measure tempo "$TMP/out8" | cut -d' ' -f1)" = "$((2 * n_bpm))"
check "two folders: the same accuracy as one (the same files)" \
    test "$(measure tempo "$TMP/out8" | cut -d' ' -f2)" = "$tempo_ok"

# Labels moved off the truth: every bpm x 1.5 (no octave of it) and every key
# a semitone up score 0, so the measures read the labels, not a constant.
awk -F'\t' -v OFS='\t' '
    BEGIN { n = split("C C# D D# E F F# G G# A A# B", pc, " ")
            for (i = 1; i <= n; i++) up[pc[i]] = pc[i % n + 1] }
    NR == 1 { print; next }
    { if ($2 != "") $2 = $2 * 1.5
      if ($3 != "") { split($3, k, " "); $3 = up[k[1]] " " k[2] }
      print }' "$TMP/set/labels.tsv" > "$TMP/moved.tsv"
"$ACC" --labels "$TMP/moved.tsv" "$TMP/set" >"$TMP/out2" 2>"$TMP/err2"
check "--labels names a TSV outside the folder (exit 0)" test $? -eq 0
check "tempo x 1.5 scores 0 %" test "$(measure tempo "$TMP/out2" | cut -d' ' -f2)" = "0.0"
check "keys a semitone up score 0 %" test "$(measure key "$TMP/out2" | cut -d' ' -f2)" = "0.0"
check "the notes are unchanged" \
    test "$(measure note "$TMP/out2")" = "$(measure note "$TMP/out")"

# A labelled file that is missing: counted as failed and named on stderr.
mkdir -p "$TMP/own"
loop=$(awk -F'\t' 'NR > 1 && $2 != "" { print $1; exit }' "$TMP/set/labels.tsv")
L=loop.${loop##*.}
cp "$TMP/set/$loop" "$TMP/own/$L"
printf "path\tbpm\n$L\t120\nmissing.wav\t90\n" > "$TMP/own/labels.tsv"
"$ACC" "$TMP/own" >"$TMP/out3" 2>"$TMP/err3"
check "a missing file: exit 0" test $? -eq 0
check "a missing file is named on stderr" grep -q "missing.wav" "$TMP/err3"
check "a missing file counts as failed" grep -q "2 files, 1 failed" "$TMP/out3"

# Labels that are not understood stop the tool, naming file, line and column.
bad_label() { # name, labels text, expected message
    printf '%b' "$2" > "$TMP/own/bad.tsv"
    "$ACC" --labels "$TMP/own/bad.tsv" "$TMP/own" >/dev/null 2>"$TMP/err4"
    local rc=$?
    check "$1: exit 1" test $rc -eq 1
    check "$1: message names it" grep -qF "$3" "$TMP/err4"
}
bad_label "unknown key" "path\tkey\n$L\tC major\n$L\tH major\n" \
    'bad.tsv:3: key "H major" not understood'
bad_label "key with junk" "path\tkey\n$L\tC majestic\n" 'key "C majestic"'
bad_label "bpm not a number" "path\tbpm\n$L\tfast\n" 'bad.tsv:2: bpm "fast"'
bad_label "negative bpm" "path\tbpm\n$L\t-120\n" 'bpm "-120"'
bad_label "unknown category" "path\tcategory\n$L\tbanjo\n" 'category "banjo"'
bad_label "unknown note" "path\tnote\n$L\tQ4\n" 'note "Q4"'
bad_label "note out of range" "path\tnote\n$L\tmidi:300\n" 'note "midi:300"'
bad_label "no path column" "file\tbpm\n$L\t120\n" 'bad.tsv:1: the header has no "path" column'
bad_label "empty path" 'path\tbpm\n\t120\n' 'bad.tsv:2: no path'

printf "path\tbpm\tkey\tcategory\tnote\n$L\t-\t\t-\t\n" > "$TMP/own/empty.tsv"
"$ACC" --labels "$TMP/own/empty.tsv" "$TMP/own" >/dev/null 2>&1
check "\"-\" and empty fields are no label (exit 0)" test $? -eq 0
printf "path\tkey\tnote\n$L\tF#m\tBb2\n$L\tDb:maj\t55Hz\n$L\tA\tmidi:69\n" \
    > "$TMP/own/spell.tsv"
"$ACC" --labels "$TMP/own/spell.tsv" "$TMP/own" >/dev/null 2>&1
check "other spellings of keys and notes are understood" test $? -eq 0

printf "$L\t120\n" > "$TMP/own/bare.tsv"
"$ACC" --labels "$TMP/own/bare.tsv" "$TMP/own" >"$TMP/out7" 2>&1
check "no header: columns in the documented order" grep -q "^tempo  *files  *1 " "$TMP/out7"

"$ACC" >/dev/null 2>&1
check "no folder: exit 2" test $? -eq 2
"$ACC" --frob "$TMP/own" >/dev/null 2>&1
check "unknown option: exit 2" test $? -eq 2
"$ACC" "$TMP/nowhere" >/dev/null 2>"$TMP/err5"
check "a folder without labels.tsv: exit 1" test $? -eq 1
check "a folder without labels.tsv: named" grep -q "nowhere/labels.tsv" "$TMP/err5"
printf 'path\tbpm\n' > "$TMP/own/none.tsv"
"$ACC" --labels "$TMP/own/none.tsv" "$TMP/own" >/dev/null 2>"$TMP/err6"
check "no labelled file: exit 1" test $? -eq 1

finish
