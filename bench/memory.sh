#!/usr/bin/env bash
# Peak RSS while analyzing one long file: memory must not grow with length.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "## Memory: one long file"
echo
echo "| file | size | peak RSS | CPU s | realtime x |"
echo "|---|---|---|---|---|"
for minutes in ${BENCH_MINUTES:-1 10 60}; do
    f="$tmp/long_${minutes}min.wav"
    "$build/sm-gen" long "$f" --seconds $((minutes * 60)) --rate 44100 --channels 2 >/dev/null
    read -r c _ _ rc < <(cpu_run "$build/samplemind" analyze --json --jobs 1 "$f")
    [ "$rc" = 0 ] || { echo "analyze failed on $f" >&2; exit 1; }
    rss=$(peak_rss "$build/samplemind" analyze --json --jobs 1 "$f")
    echo "| ${minutes} min 44.1 kHz stereo WAV | $(du -m "$f" | cut -f1) MB | $((rss / 1024)) MB | $c | $(ratio $((minutes * 60)) "$c" 0) |"
    rm -f "$f"
done
