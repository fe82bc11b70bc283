#!/usr/bin/env bash
# The analyze command end to end: real files, real CLI, every bad input.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${SM_BIN:-build/samplemind}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/make_inputs.py" "$tmp"
cd "$tmp"

# Strict JSON: Python's json accepts NaN/Infinity unless told not to.
jq_py() { python3 -c '
import json, sys
def bad(tok): raise SystemExit("non-finite token " + tok)
lines = [json.loads(l, parse_constant=bad) for l in sys.stdin if l.strip()]
exec(sys.argv[1])' "$@"; }

jq_py_names() { jq_py "$@"; }

# Usage and exit codes.
"$bin" --version | grep -q '^samplemind [0-9]' && ok "--version" || not_ok "--version"
"$bin" --help >/dev/null; check "--help exits 0" test $? -eq 0
"$bin" >/dev/null 2>&1; check "no command exits 2" test $? -eq 2
err=$("$bin" anlyze x 2>&1); rc=$?
check "unknown command exits 2" test $rc -eq 2
check "unknown command suggests analyze" grep -q "did you mean 'analyze'" <<<"$err"
"$bin" analyze >/dev/null 2>&1; check "analyze without files exits 2" test $? -eq 2
"$bin" analyze --points 0 ref_-23.wav >/dev/null 2>&1; check "--points 0 exits 2" test $? -eq 2
"$bin" analyze --frobnicate ref_-23.wav >/dev/null 2>&1; check "unknown flag exits 2" test $? -eq 2

# Known answers.
"$bin" analyze --json ref_-23.wav >ref.json; check "reference file exits 0" test $? -eq 0
check "1 kHz at -23 dBFS reads -23.0 +- 0.1 LUFS" jq_py '
a = lines[0]["loudness"]
assert abs(a["integrated_lufs"] + 23.0) <= 0.1, a
assert abs(a["sample_peak_dbfs"] + 23.0) <= 0.05, a
assert abs(a["true_peak_dbtp"] + 23.0) <= 0.1, a' <ref.json
check "reference file facts" jq_py '
a = lines[0]
assert a["frames"] == 480000 and a["sample_rate"] == 48000 and a["channels"] == 2, a
assert a["duration"] == 10.0 and a["format"] == "wav" and a["codec"] == "pcm_s16"
assert a["hash"].startswith("blake2b:") and len(a["hash"]) == 72
assert abs(a["spectral"]["centroid"]["mean"] - 1000) < 30, a["spectral"]["centroid"]' <ref.json
check "global flag after the command" bash -c "'$bin' analyze ref_-23.wav --json | grep -q integrated_lufs"

# Files of every shape analyze, with exact frame counts.
good="one_frame.wav silence.wav u8.wav s24.wav f32.wav nan.wav ch1.wav ch2.wav ch3.wav ch6.wav ch8.wav ch12.wav rate8000.wav rate11025.wav rate32000.wav rate96000.wav rate192000.wav rate384000.wav"
# shellcheck disable=SC2086
"$bin" analyze --json --jobs 2 $good >good.json; rc=$?
check "every valid shape analyzes (exit 0)" test $rc -eq 0
check "one line per file, in order" jq_py_names '
names = sys.argv[2].split()
assert [l["path"] for l in lines] == names, [l["path"] for l in lines]
assert all("error" not in l for l in lines)' "$good" <good.json
check "frames and rates exact" jq_py '
by = {l["path"]: l for l in lines}
assert by["one_frame.wav"]["frames"] == 1
for r in (8000, 11025, 32000, 96000, 192000, 384000):
    a = by["rate%d.wav" % r]
    assert a["sample_rate"] == r and a["frames"] == r // 2, a["path"]
for c in (1, 2, 3, 6, 8, 12):
    assert by["ch%d.wav" % c]["channels"] == c
assert by["u8.wav"]["codec"] == "pcm_u8" and by["s24.wav"]["codec"] == "pcm_s24"
assert by["f32.wav"]["codec"] == "pcm_f32"' <good.json
check "silence: null loudness with a reason, no onsets" jq_py '
a = [l for l in lines if l["path"] == "silence.wav"][0]
assert a["loudness"]["integrated_lufs"] is None and "reason" in a["loudness"]
assert a["loudness"]["true_peak_dbtp"] is None
assert a["onsets"] == [] and a["tempo"] is None and a["note"] is None' <good.json
check "NaN samples are replaced and reported" jq_py '
a = [l for l in lines if l["path"] == "nan.wav"][0]
assert any("non-finite" in w for w in a["warnings"]), a.get("warnings")
assert a["loudness"]["sample_peak_dbfs"] is not None' <good.json
check "short file reports momentary max, no integrated" jq_py '
a = [l for l in lines if l["path"] == "rate8000.wav"][0]
assert a["duration"] == 0.5
assert a["loudness"]["momentary_max_lufs"] is not None' <good.json

# Bad inputs: a clear per-file error, the other files still analyzed, exit 1.
bad="missing.wav a_directory.wav empty.wav text.wav trunc_header.wav zero_frames.wav trunc_data.wav"
# shellcheck disable=SC2086
"$bin" analyze --json $bad ref_-23.wav >bad.json; rc=$?
check "bad inputs exit 1" test $rc -eq 1
check "each bad input names its problem" jq_py '
by = {l["path"]: l for l in lines}
want = {"missing.wav": "not_found", "a_directory.wav": "is_directory",
        "empty.wav": "empty_audio", "text.wav": "unsupported_format",
        "trunc_header.wav": "corrupt_audio", "zero_frames.wav": "empty_audio"}
for p, code in want.items():
    assert by[p]["error"]["code"] == code, (p, by[p])
    assert len(by[p]["error"]["message"]) > 5
assert "error" not in by["trunc_data.wav"] and by["trunc_data.wav"]["frames"] == 30000
assert "error" not in by["ref_-23.wav"]' <bad.json
"$bin" analyze --pretty missing.wav ref_-23.wav >table.txt 2>table.err
check "table shows the error and the good row" bash -c "grep -q 'not_found' table.txt && grep -q 'ref_-23.wav' table.txt && grep -q '1 of 2 files failed' table.err"

# A file name that is not UTF-8 still gives valid JSON.
"$bin" analyze --json bad_*_name.wav >utf.json; rc=$?
check "non-UTF-8 name analyzes" test $rc -eq 0
check "non-UTF-8 name is valid JSON" jq_py 'assert lines[0]["path"].startswith("bad_")' <utf.json

# Optional outputs.
"$bin" analyze --json --embedding --waveform --points 64 ref_-23.wav >opt.json
check "--embedding and --waveform" jq_py '
a = lines[0]
assert len(a["embedding"]) > 8 and a["embedding_version"] >= 1
n = sum(x * x for x in a["embedding"]) ** 0.5
assert abs(n - 1.0) < 1e-3, n
assert a["waveform"]["points"] == 64 and len(a["waveform"]["peaks"]) == 128
assert all(-1 <= p <= 1 for p in a["waveform"]["peaks"])' <opt.json
"$bin" analyze --json --no-hash ref_-23.wav | grep -q '"hash":null'; check "--no-hash" test $? -eq 0

# similar-files: the embedding distance of two files.
python3 - <<'PY'
import math, struct, wave
def w(name, f, amp):
    with wave.open(name, "wb") as o:
        o.setnchannels(1); o.setsampwidth(2); o.setframerate(44100)
        o.writeframes(b"".join(struct.pack("<h", int(32767 * amp * f(i / 44100.0))) for i in range(44100)))
pluck = lambda t: math.exp(-t * 6) * sum(math.sin(2 * math.pi * 220 * k * t) / k for k in (1, 2, 3))
noise = lambda t: math.exp(-t * 30) * math.sin(t * 1e6 * (1 + math.sin(t * 977)))
w("pluck.wav", pluck, 0.5)
w("pluck_quiet.wav", pluck, 0.06)
w("noisy.wav", noise, 0.8)
PY
near=$("$bin" similar-files pluck.wav pluck_quiet.wav); rc1=$?
far=$("$bin" similar-files pluck.wav noisy.wav); rc2=$?
check "similar-files exits 0" test $rc1 -eq 0 -a $rc2 -eq 0
check "similar-files: a quieter copy is nearer than another sound ($near < $far)" \
    python3 -c "import json, sys; n, f = json.loads('$near')['distance'], json.loads('$far')['distance']; sys.exit(0 if 0 <= n < f <= 2 else 1)"
"$bin" similar-files --json pluck.wav noisy.wav | grep -q '"distance":'
check "similar-files --json" test $? -eq 0
"$bin" similar-files pluck.wav >/dev/null 2>&1; check "similar-files with one file exits 2" test $? -eq 2
"$bin" similar-files pluck.wav missing.wav >/dev/null 2>&1; check "similar-files with a missing file exits 1" test $? -eq 1

finish
