#!/usr/bin/env bash
# Web page budget (issue 7): first-load transfer size, time to interactive and
# scrolling frame times, measured in Debian's chromium (playwright-core, the
# browser's performance timeline) against `samplemind serve` over a synthetic
# 100k-row catalog.
#
#   bench/web.sh [BUILD_DIR] [WORK_DIR]        (SM_BENCH_ROWS=100000, SM_BENCH_RUNS=5)
#
# The catalog is synthesised like bench/search.sh: the demo files are scanned
# into a template, then rows are cloned through SQLite with varied names, BPM,
# key, category, loudness and duration; each keeps the template's analysis and
# waveform, so the detail and waveform routes answer (the audio files do not
# exist, so nothing is played). Budget: < 150 KB first load, < 300 ms to
# interactive on loopback, 60 fps while scrolling.
set -eu
build=${1:-build}
work=${2:-$(mktemp -d)}
src=$(cd "$(dirname "$0")/.." && pwd)
bin="$build/samplemind"
gen="$build/sm-gen"
rows=${SM_BENCH_ROWS:-100000}
e2e="$src/tests/e2e"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*' no_proxy='*'
mkdir -p "$work"
[ -d "$e2e/node_modules/playwright-core" ] || (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error)

tpl="$work/template.db"
if [ ! -f "$tpl" ]; then
    "$gen" demo "$work/demo" >/dev/null
    "$bin" --db "sqlite://$tpl" scan "$work/demo" --json --progress none >/dev/null
fi
db="$work/web-$rows.db"
if [ ! -f "$db" ]; then
    echo "synthesising $rows catalog rows ..."
    python3 - "$tpl" "$db" "$rows" <<'PY'
import random, shutil, sqlite3, struct, sys, math
tpl, db, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
shutil.copy(tpl, db)
c = sqlite3.connect(db)
c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=OFF")
cols = [r[1] for r in c.execute("PRAGMA table_info(samples)")]
tplrow = dict(zip(cols, c.execute("SELECT * FROM samples LIMIT 1").fetchone()))
datarow = c.execute("SELECT analysis, waveform FROM sample_data WHERE waveform IS NOT NULL LIMIT 1").fetchone()
c.execute("DELETE FROM sample_data"); c.execute("DELETE FROM samples"); c.execute("DELETE FROM samples_fts")
rnd = random.Random(7)
words = ["kick", "snare", "clap", "hat", "open", "closed", "tom", "perc", "bass", "sub", "808",
         "synth", "lead", "pad", "keys", "piano", "guitar", "string", "brass", "vox", "vocal",
         "fx", "riser", "impact", "deep", "dark", "bright", "punchy", "warm", "dusty", "lofi"]
dim = 72
ins = "INSERT INTO samples(%s) VALUES(%s)" % (",".join(cols[1:]), ",".join("?" * (len(cols) - 1)))
batch, fts, data = [], [], []
def flush():
    c.executemany(ins, batch)
    first = c.execute("SELECT max(id) FROM samples").fetchone()[0] - len(batch) + 1
    c.executemany("INSERT INTO samples_fts(rowid, words, tags, description) VALUES(?,?,?,'')",
                  [(first + k, f[0], f[1]) for k, f in enumerate(fts)])
    c.executemany("INSERT INTO sample_data(id, analysis, embedding, waveform) VALUES(?,?,?,?)",
                  [(first + k, d[1], d[0], d[2]) for k, d in enumerate(data)])
for i in range(n):
    w = [rnd.choice(words) for _ in range(3)]
    name = "%s_%s_%s_%06d.wav" % (w[0].capitalize(), w[1], w[2], i)
    r = dict(tplrow)
    r.update(path="/bench/lib/%s/%s/%s" % (w[0], w[1], name), name=name, root="/bench/lib",
             hash="blake2b:%064x" % rnd.getrandbits(256), size=rnd.randint(20000, 2000000),
             mtime_ns=i, missing=0, loop=1 if rnd.random() < 0.1 else 0,
             category=rnd.randint(0, 17), duration=rnd.uniform(0.05, 16.0),
             lufs=rnd.uniform(-30, -4), true_peak=rnd.uniform(-12, 1))
    r["bpm"] = rnd.uniform(60, 180) if r["loop"] or rnd.random() < 0.2 else None
    if rnd.random() < 0.6:
        r["key_tonic"], r["key_mode"] = rnd.randint(0, 11), rnd.randint(0, 1)
        num = ((7 * r["key_tonic"] + (8 if r["key_mode"] else 7)) % 12) + 1
        r["camelot"] = "%d%s" % (num, "A" if r["key_mode"] else "B")
    else:
        r["key_tonic"] = r["key_mode"] = r["camelot"] = None
    r["note_midi"] = rnd.randint(24, 96) if rnd.random() < 0.5 else None
    for t in ("brightness", "warmth", "hardness", "depth", "roughness", "boominess"):
        r[t] = rnd.uniform(0, 100)
    v = [rnd.gauss(0, 1) for _ in range(dim)]
    s = math.sqrt(sum(x * x for x in v))
    r["embedding_version"] = 1
    batch.append([r[k] for k in cols[1:]])
    data.append((struct.pack("<%df" % dim, *[x / s for x in v]), datarow[0], datarow[1]))
    fts.append((" ".join(w + ["%06d" % i]), ""))
    if len(batch) == 5000:
        flush()
        batch, fts, data = [], [], []
if batch:
    flush()
c.commit()
c.execute("ANALYZE")
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
c.close()
PY
fi

data="$work/data"
rm -rf "$data"
mkdir -p "$data"
pass="bench-$RANDOM-$RANDOM"
printf '%s\n' "$pass" | "$bin" --data-dir "$data" user add bench --role admin --password-stdin >/dev/null
"$bin" serve --data-dir "$data" --db "sqlite://$db" --port 0 --access-log off \
    >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 1 250); do
    grep -q '^SampleMind is serving on' "$work/serve.out" 2>/dev/null && break
    sleep 0.02
done
url=$(sed -n 's|^SampleMind is serving on \(http://[^ ]*\)/$|\1|p' "$work/serve.out")
echo "catalog: $rows rows; server $url; chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}')"
echo "web assets: $(cat "$src"/web/* | wc -c) bytes uncompressed in $(ls "$src"/web | wc -l) files"
SM_URL=$url SM_USER=bench SM_PASS=$pass SM_BENCH_SCROLL_ROWS=${SM_BENCH_SCROLL_ROWS:-$rows} node "$e2e/bench.js"
