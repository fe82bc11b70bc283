#!/usr/bin/env bash
# Retrain the category model and the embedding scales on the generator's sets
# and write src/analysis/category_model.c (docs/accuracy.md, "How the category
# model was trained"). Run it whenever the generator or a descriptor the
# features use changes.
#
#   tools/train/retrain.sh [WORKDIR]     (default: a temporary directory)
#
# Fits seeds 101-104, chooses the hidden size on seed 105 (then fits it too)
# and reports seed 1, the evaluation seed, which takes no part in either.
# Environment: BUILD (build directory, default ./build).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build}
for bin in sm-gen sm-train; do
    [ -x "$build/$bin" ] || { echo "retrain.sh: $build/$bin not built" >&2; exit 1; }
done
work=${1:-}
if [ -z "$work" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
cd "$work"
for s in 1 101 102 103 104 105; do
    [ -s "seed$s/labels.tsv" ] || "$build/sm-gen" labelled "seed$s" --seed "$s" >/dev/null
done
"$build/sm-train" -o category_model.c --val seed105 --eval seed1 --threads 2 \
    --data "sm-gen labelled DIR --seed S: seeds 101-104 fitted, 105 chose the hidden size and was then fitted too; seed 1 (the evaluation seed) held out (tools/train/retrain.sh)" \
    seed101 seed102 seed103 seed104
cp category_model.c "$root/src/analysis/category_model.c"
echo "retrain.sh: wrote $root/src/analysis/category_model.c" >&2
