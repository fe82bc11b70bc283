#!/usr/bin/env bash
# Accuracy benchmark on a generated labelled set.
#
#   bench/accuracy.sh [SEED...]     (default seed 1, the evaluation seed;
#                                   ranges allowed: 1 31-60 scores 31 seeds
#                                   as one set, about 265 MB of audio a seed)
#   bench/accuracy.sh DIR [TSV]     a labelled folder of your own
#
# Generates `sm-gen labelled DIR --seed SEED` into a temporary directory (or
# takes DIR, labelled by DIR/labels.tsv or TSV: columns path, bpm, key,
# category, note; see tools/accuracy/labels.h), runs sm-accuracy on it (tempo, key, note and category against the labels, 2
# threads), then, in the same run, estimates the tempo of every file that has a
# bpm label with `aubio tempo` (aubio-tools) and with `bpm` (bpm-tools, fed raw
# 32-bit float mono 44.1 kHz by sox) and prints their tempo Accuracy1 (within
# 4 %) and Accuracy2 (also x2, x1/2, x3, x1/3) beside ours.
#
# Environment: BUILD (build directory, default ./build), KEEP=1 keeps the
# temporary directory. The model is trained on other seeds (101-105, see
# docs/accuracy.md), so seed 1 is held out.
set -euo pipefail

arg=${1:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
gen=$build/sm-gen
acc=$build/sm-accuracy
for bin in "$gen" "$acc"; do
    if [ ! -x "$bin" ]; then
        echo "accuracy.sh: $bin not built (cmake --build $build)" >&2
        exit 1
    fi
done

tmp=$(mktemp -d)
if [ "${KEEP:-0}" = 1 ]; then
    echo "accuracy.sh: keeping $tmp" >&2
else
    trap 'rm -rf "$tmp"' EXIT
fi

if [ -d "$arg" ]; then
    sets=("$arg")
    labels=(--labels "${2:-$arg/labels.tsv}")
    what=$arg
else
    # Seeds: "1", "31-60" or several of them, scored as one set.
    seeds=()
    for a in "$@" ; do
        if [[ $a =~ ^([0-9]+)-([0-9]+)$ ]]; then
            seeds+=($(seq "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"))
        elif [[ $a =~ ^[0-9]+$ ]]; then
            seeds+=("$a")
        else
            echo "accuracy.sh: $a is neither a seed, a range of seeds nor a directory" >&2
            exit 2
        fi
    done
    [ ${#seeds[@]} -gt 0 ] || seeds=(1)
    sets=()
    for s in "${seeds[@]}"; do
        "$gen" labelled "$tmp/seed$s" --seed "$s" >/dev/null
        sets+=("$tmp/seed$s")
    done
    labels=()
    what="seed ${*:-1}"
fi
echo "== SampleMind ($what)"
"$acc" --threads 2 --dump "$tmp/ours.tsv" "${labels[@]}" "${sets[@]}"

# Tempo of the files with a bpm label: ours from the dump, then the others.
awk -F'\t' 'NR > 1 && $2 != "nan" && $2 != "" { print $1 "\t" $2 "\t" $3 }' \
    "$tmp/ours.tsv" > "$tmp/tempo.tsv"

have_aubio=0
have_bpm=0
command -v aubio >/dev/null && have_aubio=1
command -v bpm >/dev/null && command -v sox >/dev/null && have_bpm=1

: > "$tmp/others.tsv"
while IFS=$'\t' read -r path ref ours; do
    a=nan
    b=nan
    if [ $have_aubio = 1 ]; then
        # aubio tempo prints the file's tempo as "<bpm> bpm".
        a=$(aubio tempo -i "$path" 2>/dev/null | awk '/bpm/ { v = $1 } END { print v == "" ? "nan" : v }')
    fi
    if [ $have_bpm = 1 ]; then
        b=$(sox "$path" -t raw -r 44100 -e float -c 1 - 2>/dev/null | bpm 2>/dev/null || true)
        [ -n "$b" ] || b=nan
    fi
    printf '%s\t%s\t%s\t%s\n' "$ref" "$ours" "$a" "$b" >> "$tmp/others.tsv"
done < "$tmp/tempo.tsv"

echo
echo "== Tempo on the $(wc -l < "$tmp/others.tsv") files with a bpm label ($what)"
awk -F'\t' -v have_aubio=$have_aubio -v have_bpm=$have_bpm '
function ok(est, ref, mult,   m, i, r) {
    if (est == "nan" || est + 0 <= 0)
        return 0
    n = split(mult, m, " ")
    for (i = 1; i <= n; i++) {
        r = ref * m[i]
        if (est - r <= 0.04 * r && r - est <= 0.04 * r)
            return 1
    }
    return 0
}
{
    for (c = 2; c <= 4; c++) {
        a1[c] += ok($c, $1, "1")
        a2[c] += ok($c, $1, "1 2 0.5 3 0.3333333333")
    }
    n_files++
}
END {
    split("ref SampleMind aubio-tempo bpm-tools", name, " ")
    printf "%-12s %11s %11s\n", "tool", "Accuracy1", "Accuracy2"
    for (c = 2; c <= 4; c++) {
        if ((c == 3 && !have_aubio) || (c == 4 && !have_bpm)) {
            printf "%-12s %11s %11s\n", name[c], "n/a", "n/a"
            continue
        }
        printf "%-12s %9.1f %% %9.1f %%\n", name[c], 100 * a1[c] / n_files, 100 * a2[c] / n_files
    }
}' "$tmp/others.tsv"
