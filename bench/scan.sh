#!/usr/bin/env bash
# Scan benchmark (issue 4): a generated library of 10,000 one-second one-shots
# and 1,000 loops; cold scan files/s on all cores, unchanged rescan files/s, and
# peak RSS of a 100,000-file scan.
#
#   bench/scan.sh [BUILD_DIR] [WORK_DIR]     (defaults: build, a fresh temp dir)
#   SM_BENCH_ONESHOTS / SM_BENCH_LOOPS / SM_BENCH_RSS_FILES change the sizes.
#
# The 100k-file RSS run uses hard links of 25 short files (0.25 s each), so it
# measures the scan's own memory (walk, known-file table, queues, one analyzer
# per thread), not the audio; it prints VmHWM from /usr/bin/time -v.
set -eu
build=${1:-build}
work=${2:-$(mktemp -d)}
bin="$build/samplemind"
gen="$build/sm-gen"
oneshots=${SM_BENCH_ONESHOTS:-10000}
loops=${SM_BENCH_LOOPS:-1000}
rss_files=${SM_BENCH_RSS_FILES:-100000}
cores=$(nproc)
mkdir -p "$work"
lib="$work/library"
if [ ! -f "$lib/.complete-$oneshots-$loops" ]; then
    rm -rf "$lib"
    echo "generating $oneshots one-shots and $loops loops in $lib ..."
    "$gen" library "$lib" --oneshots "$oneshots" --loops "$loops" >/dev/null
    touch "$lib/.complete-$oneshots-$loops"
fi
n=$(find "$lib" -type f -name '*.wav' | wc -l)
secs=$(du -sb "$lib" | cut -f1)
echo "library: $n files, $((secs / 1048576)) MiB"
db="$work/scan-bench.db"
rm -f "$db" "$db-wal" "$db-shm"
sync
field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read())['$1'])"; }
out=$("$bin" --db "sqlite://$db" scan "$lib" --json --progress none)
echo "cold scan:      $(field found <<<"$out") files in $(field seconds <<<"$out") s = $(field files_per_s <<<"$out") files/s on $cores cores (target >= 500)"
# On a shared machine wall time depends on the neighbours; CPU time does not.
cpu=$(field cpu_s <<<"$out"); per=$(field cpu_ms_per_analyzed <<<"$out")
echo "                CPU $cpu s = $per ms per file ($(field writer_cpu_s <<<"$out") s of it walking and storing); on $cores idle cores: $(python3 -c "print(round($cores * 1000 / $per))") files/s"
out=$("$bin" --db "sqlite://$db" scan "$lib" --json --progress none)
echo "rescan:         $(field unchanged <<<"$out") unchanged files in $(field seconds <<<"$out") s = $(field files_per_s <<<"$out") files/s (target >= 20000)"
out=$("$bin" --db "sqlite://$db" scan "$lib" --json --progress none)
echo "rescan (again): $(field files_per_s <<<"$out") files/s"

# Peak RSS of a 100k-file scan.
big="$work/rss"
if [ ! -f "$big/.complete-$rss_files" ]; then
    rm -rf "$big"
    mkdir -p "$big/src"
    for i in $(seq 1 25); do
        "$gen" tone "$big/src/t$i.wav" --freq $((60 + i * 37)) --seconds 0.25 >/dev/null
    done
    per=$((rss_files / 100))
    for d in $(seq 1 100); do
        mkdir -p "$big/lib/d$d"
        for i in $(seq 1 "$per"); do
            ln "$big/src/t$(( (i % 25) + 1 )).wav" "$big/lib/d$d/f$i.wav"
        done
    done
    touch "$big/.complete-$rss_files"
fi
rdb="$work/rss-bench.db"
rm -f "$rdb" "$rdb-wal" "$rdb-shm"
/usr/bin/time -v "$bin" --db "sqlite://$rdb" scan "$big/lib" --json --progress none \
    >"$work/rss.json" 2>"$work/rss.time"
rss=$(awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}' "$work/rss.time")
echo "100k-file scan: $(field found <"$work/rss.json") files in $(field seconds <"$work/rss.json") s, peak RSS $((rss / 1024)) MiB (target < 150)"
/usr/bin/time -v "$bin" --db "sqlite://$rdb" scan "$big/lib" --json --progress none \
    >"$work/rss2.json" 2>"$work/rss2.time"
rss=$(awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}' "$work/rss2.time")
echo "100k rescan:    $(field files_per_s <"$work/rss2.json") files/s, peak RSS $((rss / 1024)) MiB"
