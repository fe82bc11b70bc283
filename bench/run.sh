#!/usr/bin/env bash
# make bench: every benchmark, results to stdout and build/bench-results.md.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
out="$build/bench-results.md"
: >"$out"
# search.sh, search_http.sh and web.sh share one synthesised catalog.
catalogs=$(mktemp -d)
trap 'rm -rf "$catalogs"' EXIT
for b in analysis memory accuracy scan search search_http http ai web; do
    if [ -f "$here/$b.sh" ]; then
        echo "== bench/$b.sh" >&2
        case $b in
            search | search_http | web) bash "$here/$b.sh" "$build" "$catalogs" | tee -a "$out" ;;
            *) bash "$here/$b.sh" "$build" | tee -a "$out" ;;
        esac
        echo | tee -a "$out"
    fi
done
echo "results written to $out" >&2
