#!/usr/bin/env bash
# Integration test of sm-gen, the test-audio generator: every command writes
# well-formed files, labels.tsv is well-formed, the same seed gives the same
# bytes, the demo loop is exactly 4.0 s, and usage errors exit 2.
set -u

GEN="${SM_GEN:-}"
if [ -z "$GEN" ] || [ ! -x "$GEN" ]; then
    echo "SM_GEN is not set to the sm-gen executable" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

pass=0
fail=0
ok() {
    pass=$((pass + 1))
    echo "ok - $1"
}
bad() {
    fail=$((fail + 1))
    echo "FAIL - $1"
}
check() {
    # check "description" command...
    local what="$1"
    shift
    if "$@"; then
        ok "$what"
    else
        bad "$what"
    fi
}

# Duration of an audio file in seconds, with soxi when installed, else python's
# wave module (WAV only).
duration() {
    if command -v soxi >/dev/null 2>&1; then
        soxi -D "$1"
    else
        python3 -c 'import sys, wave
w = wave.open(sys.argv[1]); print("%.6f" % (w.getnframes() / w.getframerate()))' "$1"
    fi
}
frames() {
    if command -v soxi >/dev/null 2>&1; then
        soxi -s "$1"
    else
        python3 -c 'import sys, wave; print(wave.open(sys.argv[1]).getnframes())' "$1"
    fi
}
is_riff_wave() {
    [ "$(head -c 4 "$1")" = "RIFF" ] && [ "$(head -c 12 "$1" | tail -c 4)" = "WAVE" ]
}

# ---- demo -------------------------------------------------------------------
out="$("$GEN" demo "$TMP/demo")"
check "demo exits 0" [ $? -eq 0 ]
check "demo prints one summary line" [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]
all=1
for f in kick snare hihat bass_A1 pad_Cmaj drum_loop_120bpm; do
    if [ ! -s "$TMP/demo/$f.wav" ] || ! is_riff_wave "$TMP/demo/$f.wav"; then
        all=0
        echo "missing or not WAV: $f.wav"
    fi
done
check "demo writes the six WAV files" [ $all -eq 1 ]
check "demo loop is exactly 4.0 s (176400 frames at 44.1 kHz)" \
    [ "$(frames "$TMP/demo/drum_loop_120bpm.wav")" = "176400" ]
d="$(duration "$TMP/demo/drum_loop_120bpm.wav")"
check "demo loop duration reads 4.0 s ($d)" awk -v d="$d" 'BEGIN { exit !(d > 3.9999 && d < 4.0001) }'
"$GEN" demo "$TMP/demo2" >/dev/null
same=1
for f in "$TMP"/demo/*.wav; do
    cmp -s "$f" "$TMP/demo2/$(basename "$f")" || same=0
done
check "demo is deterministic" [ $same -eq 1 ]

# ---- labelled ---------------------------------------------------------------
L1="$TMP/lab1"
L2="$TMP/lab2"
L3="$TMP/lab3"
small=(--per-class 2 --loops 10 --progressions 4 --notes 6)
"$GEN" labelled "$L1" --seed 7 "${small[@]}" >/dev/null
check "labelled exits 0" [ $? -eq 0 ]
check "labels.tsv exists" [ -s "$L1/labels.tsv" ]
check "labels.tsv header" [ "$(head -n 1 "$L1/labels.tsv")" = "$(printf 'path\tbpm\tkey\tcategory\tnote')" ]
rows=$(($(wc -l <"$L1/labels.tsv") - 1))
check "labels.tsv has one row per file (10+4+6+17*2 = 54, got $rows)" [ "$rows" -eq 54 ]
check "every row has five tab-separated fields" \
    awk -F'\t' 'NF != 5 { bad = 1 } END { exit bad }' "$L1/labels.tsv"
missing=0
while IFS=$'\t' read -r path _; do
    [ "$path" = "path" ] && continue
    [ -s "$L1/$path" ] || { missing=1; echo "missing $path"; }
done <"$L1/labels.tsv"
check "every labelled file exists and is non-empty" [ $missing -eq 0 ]
check "labels use the known vocabulary" awk -F'\t' '
    BEGIN {
        split("kick snare clap hihat_closed hihat_open cymbal tom percussion bass synth pad keys guitar strings brass vocal fx", c, " ")
        for (i in c) cats[c[i]] = 1
    }
    NR == 1 { next }
    $3 != "" && $3 !~ /^(C|C#|D|D#|E|F|F#|G|G#|A|A#|B) (major|minor)$/ { print "bad key " $3; bad = 1 }
    $4 != "" && !($4 in cats) { print "bad category " $4; bad = 1 }
    $5 != "" && $5 !~ /^(C|C#|D|D#|E|F|F#|G|G#|A|A#|B)-?[0-9]$/ { print "bad note " $5; bad = 1 }
    $2 != "" && ($2 + 0 < 60 || $2 + 0 > 200) { print "bad bpm " $2; bad = 1 }
    END { exit bad }' "$L1/labels.tsv"
check "every one-shot category appears" [ "$(awk -F'\t' 'NR > 1 && $1 ~ /^oneshots/ { print $4 }' "$L1/labels.tsv" | sort -u | wc -l)" -eq 17 ]
check "loops have a BPM, progressions a key" awk -F'\t' '
    NR > 1 && $1 ~ /^loops/ && $2 == "" { bad = 1 }
    NR > 1 && $1 ~ /^tonal/ && $3 == "" { bad = 1 }
    END { exit bad }' "$L1/labels.tsv"
# A loop of b bars at bpm is exactly round(b * 240 / bpm * rate) frames for some b in 1, 2, 4.
loopok=1
while IFS=$'\t' read -r path bpm _; do
    case "$path" in loops/*.wav) ;; *) continue ;; esac
    n=$(frames "$L1/$path")
    rate=$(python3 -c 'import sys, wave; print(wave.open(sys.argv[1]).getframerate())' "$L1/$path" 2>/dev/null || echo 0)
    if ! awk -v n="$n" -v bpm="$bpm" -v r="$rate" 'BEGIN {
            for (b = 1; b <= 4; b *= 2) { f = int(b * 240 * r / bpm + 0.5); if (f == n) exit 0 }
            exit 1 }'; then
        loopok=0
        echo "loop $path: $n frames at $rate Hz is not a whole number of bars at $bpm BPM"
    fi
done <"$L1/labels.tsv"
check "WAV loops are cut exactly to the bar" [ $loopok -eq 1 ]
"$GEN" labelled "$L2" --seed 7 "${small[@]}" --threads 1 >/dev/null
# Ogg Vorbis streams carry a random serial number, so compare everything else.
sums() {
    (cd "$1" && find . -type f ! -name '*.ogg' -print0 | sort -z | xargs -0 sha256sum)
}
check "labelled: same seed gives identical bytes (any thread count)" [ "$(sums "$L1")" = "$(sums "$L2")" ]
"$GEN" labelled "$L3" --seed 8 "${small[@]}" >/dev/null
check "labelled: another seed gives other audio" [ "$(sums "$L1")" != "$(sums "$L3")" ]

# ---- library ----------------------------------------------------------------
out="$("$GEN" library "$TMP/lib" --oneshots 60 --loops 6 --seed 3)"
check "library exits 0" [ $? -eq 0 ]
n=$(find "$TMP/lib" -type f | wc -l)
check "library writes 66 files ($n)" [ "$n" -eq 66 ]
check "library nests folders like a sample pack" [ -d "$TMP/lib/Pack 01/One Shots" ]
check "library loops sit in BPM folders" \
    [ "$(find "$TMP/lib" -path '*/Loops/*bpm/*' -type f | wc -l)" -eq 6 ]
"$GEN" library "$TMP/lib2" --oneshots 60 --loops 6 --seed 3 --threads 1 >/dev/null
check "library is deterministic" [ "$(sums "$TMP/lib")" = "$(sums "$TMP/lib2")" ]

# ---- long, tone, clicks -------------------------------------------------------
"$GEN" long "$TMP/long.wav" --seconds 20 --rate 22050 --channels 1 >/dev/null
check "long writes the requested length" [ "$(frames "$TMP/long.wav")" = "441000" ]
"$GEN" tone "$TMP/tone.wav" --freq 440 --seconds 1.5 --rate 48000 --channels 2 --dbfs -6 >/dev/null
check "tone writes 1.5 s at 48 kHz" [ "$(frames "$TMP/tone.wav")" = "72000" ]
check "tone peak is -6 dBFS" python3 -c '
import struct, sys, wave
w = wave.open(sys.argv[1])
x = struct.unpack("<%dh" % (w.getnframes() * w.getnchannels()), w.readframes(w.getnframes()))
p = max(abs(v) for v in x) / 32768.0
sys.exit(0 if abs(p - 10 ** (-6 / 20)) < 0.002 else 1)' "$TMP/tone.wav"
for fmt in wav24 f32 flac aiff ogg; do
    "$GEN" tone "$TMP/tone_$fmt" --freq 1000 --seconds 0.5 --format "$fmt" >/dev/null 2>&1
    check "tone --format $fmt" [ $? -eq 0 ]
done
"$GEN" clicks "$TMP/clicks.wav" --bpm 120 --seconds 4 >/dev/null
check "clicks writes 4 s" [ "$(frames "$TMP/clicks.wav")" = "176400" ]
check "clicks start on beats (0.5 s apart at 120 BPM)" python3 -c '
import struct, sys, wave
w = wave.open(sys.argv[1])
x = struct.unpack("<%dh" % w.getnframes(), w.readframes(w.getnframes()))
on = [i for i in range(len(x)) if abs(x[i]) > 8000 and (i == 0 or all(abs(v) < 8000 for v in x[max(0, i - 400):i]))]
sys.exit(0 if on == [0, 22050, 44100, 66150, 88200, 110250, 132300, 154350] else 1)' "$TMP/clicks.wav"

# ---- usage errors -------------------------------------------------------------
usage() {
    "$GEN" "$@" >/dev/null 2>&1
    [ $? -eq 2 ]
}
check "no command exits 2" usage
check "unknown command exits 2" usage frobnicate
check "demo without DIR exits 2" usage demo
check "unknown option exits 2" usage labelled "$TMP/x" --bogus 1
check "bad number exits 2" usage labelled "$TMP/x" --per-class abc
check "library without counts exits 2" usage library "$TMP/x"
check "tone without --freq exits 2" usage tone "$TMP/x.wav" --seconds 1
check "tone above Nyquist exits 2" usage tone "$TMP/x.wav" --freq 30000 --seconds 1
check "tone with a bad format exits 2" usage tone "$TMP/x.wav" --freq 440 --seconds 1 --format mp3
check "clicks without --bpm exits 2" usage clicks "$TMP/x.wav" --seconds 1
check "long with negative seconds exits 2" usage long "$TMP/x.wav" --seconds -1
"$GEN" tone "$TMP/no/such/dir/x.wav" --freq 440 --seconds 1 >/dev/null 2>&1
check "unwritable output exits 1" [ $? -eq 1 ]

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
