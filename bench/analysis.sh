#!/usr/bin/env bash
# Analysis speed: realtime factor on one core for 44.1 kHz stereo material, and
# files/s for 1-second one-shots; aubio and ffmpeg on the same files, same run.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
sm="$build/samplemind"
gen="$build/sm-gen"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
seconds=${BENCH_SECONDS:-120}
oneshots=${BENCH_ONESHOTS:-1000}

"$gen" long "$tmp/music.wav" --seconds "$seconds" --rate 44100 --channels 2 >/dev/null
"$gen" library "$tmp/lib" --oneshots "$oneshots" --loops 0 --seconds 1.0 >/dev/null
mapfile -t shots < <(find "$tmp/lib" -type f \( -name '*.wav' -o -name '*.flac' -o -name '*.aif*' -o -name '*.ogg' \) | sort)

echo "## Analysis speed ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))"
echo
echo "Material: ${seconds} s of generated 44.1 kHz stereo 16-bit WAV (sm-gen long);"
echo "${#shots[@]} one-second one-shots (sm-gen library). CPU time = user + sys, best of 3."
echo
echo "| tool | what it computes | CPU s | realtime x (one core) |"
echo "|---|---|---|---|"
row() {
    local name=$1 what=$2
    shift 2
    local c
    c=$(best_cpu 3 "$@")
    echo "| $name | $what | $c | $(ratio "$seconds" "$c" 0) |"
}
row "samplemind analyze" "everything: hash, loudness, true peak, STFT, spectral, MFCC, chroma, onsets, tempo, key, note, category, timbre, embedding" \
    "$sm" analyze --json --jobs 1 "$tmp/music.wav"
row "aubio onset" "onset times only" aubio onset -i "$tmp/music.wav"
row "aubio tempo" "beats and tempo only" aubio tempo -i "$tmp/music.wav"
row "ffmpeg -af ebur128=peak=true" "loudness and true peak only" \
    ffmpeg -nostdin -hide_banner -loglevel error -i "$tmp/music.wav" -af ebur128=peak=true -f null -
echo
one=$(best_wall 3 "$sm" analyze --json --jobs 1 "${shots[@]}")
two=$(best_wall 3 "$sm" analyze --json --jobs 2 "${shots[@]}")
echo "| one-shots (1 s each) | files/s |"
echo "|---|---|"
echo "| samplemind analyze, 1 thread | $(ratio "${#shots[@]}" "$one" 0) |"
echo "| samplemind analyze, 2 threads | $(ratio "${#shots[@]}" "$two" 0) |"
sub=("${shots[@]:0:200}")
aub=$(best_wall 1 bash -c 'for f in "$@"; do aubio onset -i "$f" >/dev/null; done' _ "${sub[@]}")
echo "| aubio onset, one process per file, 1 thread | $(ratio "${#sub[@]}" "$aub" 0) |"
