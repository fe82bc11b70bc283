#!/usr/bin/env bash
# Search and similar benchmark (issue 4): p50 latency over a 100k-sample catalog
# (target < 5 ms each), plus the 1M-vector similar figure.
#
#   bench/search.sh [BUILD_DIR] [WORK_DIR]      (SM_BENCH_ROWS=100000, SM_BENCH_BIG=1000000,
#                                                SM_BENCH_SYNTH_ONLY=1: only make the catalog)
#
# The catalog is synthesised, not scanned: a few real files are scanned into a
# template catalog, then rows are cloned through SQLite with varied path words,
# BPM, key, category, loudness, duration and timbre, and random unit embeddings
# (72 dimensions, as the analyzer writes). Timings come from the CLI's --repeat,
# which runs the same query N times in one process (catalog open, SQLite page
# cache warm) and reports p50/p95 wall time and the p50 CPU time of the thread
# (on a shared machine the CPU figure is the one that does not depend on the
# neighbours). "search --index" times the in-memory filter index (sm_findex, what
# a long-running server keeps loaded; its load time is printed); the SQL path is
# timed too. "similar" times the in-memory vector index (int8 first pass, exact
# float32 re-rank), with filters also the filter index per run. The one-shot CLI
# wall times, which load everything from the catalog, are printed too.
set -eu
build=${1:-build}
work=${2:-$(mktemp -d)}
bin="$build/samplemind"
gen="$build/sm-gen"
rows=${SM_BENCH_ROWS:-100000}
big=${SM_BENCH_BIG:-1000000}
mkdir -p "$work"
tpl="$work/template.db"
if [ ! -f "$tpl" ]; then
    "$gen" demo "$work/demo" >/dev/null
    "$bin" --db "sqlite://$tpl" scan "$work/demo" --json --progress none >/dev/null
fi

synth() {  # synth DB N FULL_JSON(0|1)
    python3 - "$tpl" "$1" "$2" "$3" <<'PY'
import random, shutil, sqlite3, struct, sys, math
tpl, db, n, full = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
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
         "fx", "riser", "impact", "deep", "dark", "bright", "punchy", "warm", "dusty", "lofi",
         "house", "techno", "trap", "dnb", "garage", "ambient", "loop", "oneshot", "tape"]
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
    name = "%s_%s_%s_%05d.wav" % (w[0].capitalize(), w[1], w[2], i)
    path = "/bench/lib/%s/%s/%s" % (w[0], w[1], name)
    r = dict(tplrow)
    r.update(path=path, name=name, root="/bench/lib", hash="blake2b:%064x" % rnd.getrandbits(256),
             size=rnd.randint(20000, 2000000), mtime_ns=i, missing=0,
             loop=1 if rnd.random() < 0.1 else 0, category=rnd.randint(0, 17),
             duration=rnd.uniform(0.05, 16.0), lufs=rnd.uniform(-30, -4), true_peak=rnd.uniform(-12, 1))
    r["bpm"] = rnd.uniform(60, 180) if r["loop"] or rnd.random() < 0.2 else None
    if rnd.random() < 0.6:
        r["key_tonic"], r["key_mode"] = rnd.randint(0, 11), rnd.randint(0, 1)
        num = ((7 * r["key_tonic"] + (8 if r["key_mode"] else 7)) % 12) + 1  # Camelot number
        r["camelot"] = "%d%s" % (num, "A" if r["key_mode"] else "B")
    else:
        r["key_tonic"] = r["key_mode"] = r["camelot"] = None
    r["note_midi"] = rnd.randint(24, 96) if rnd.random() < 0.5 else None
    for t in ("brightness", "warmth", "hardness", "depth", "roughness", "boominess"):
        r[t] = rnd.uniform(0, 100)
    v = [rnd.gauss(0, 1) for _ in range(dim)]
    s = math.sqrt(sum(x * x for x in v))
    emb = struct.pack("<%df" % dim, *[x / s for x in v])
    r["embedding_version"] = 1
    batch.append([r[k] for k in cols[1:]])
    data.append((emb, datarow[0] if full else "{}", datarow[1] if full else None))
    fts.append((" ".join(w[0:1] + [w[1], w[2]] + ["%05d" % i]), ""))
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
}

db="$work/search-$rows.db"
if [ ! -f "$db" ]; then
    echo "synthesising $rows catalog rows ..."
    synth "$db" "$rows" 1
fi
[ "${SM_BENCH_SYNTH_ONLY:-0}" = 1 ] && exit 0 # bench/search_http.sh only needs the catalog
url="sqlite://$db"
echo "catalog: $rows rows, $(($(stat -c %s "$db") / 1048576)) MiB"
queries=("kick" "bpm:120..130" "kick bpm:120..130 key:Am" "category:kick loop:no sort:-bpm"
         "key:compatible:Am bright:>70 duration:..2" "dark punchy tag:x" "sort:name")
for q in "${queries[@]}"; do
    printf '  search --index %-37s ' "'$q'"
    "$bin" --db "$url" search --index --paths --limit 50 --repeat 200 $q 2>&1 >/dev/null | grep -v 'loaded in' | sed 's/^search (index): //'
done
"$bin" --db "$url" search --index --paths --limit 1 --repeat 1 sort:id 2>&1 >/dev/null | grep 'loaded in' | sed 's/^search: /  /'
for q in "${queries[@]}"; do
    printf '  search (SQL) %-39s ' "'$q'"
    "$bin" --db "$url" search --paths --limit 50 --repeat 50 $q 2>&1 >/dev/null | sed 's/^search: //'
done
id=$(( rows / 2 ))
printf '  %-51s ' "similar $id -k 10"
"$bin" --db "$url" similar "$id" -k 10 --paths --repeat 200 2>&1 >/dev/null | sed 's/^similar: //'
printf '  %-51s ' "similar $id -k 10 category:kick"
"$bin" --db "$url" similar "$id" -k 10 --paths --repeat 200 category:kick 2>&1 >/dev/null | sed 's/^similar: //'
t0=$(date +%s%N); "$bin" --db "$url" similar "$id" -k 10 --paths >/dev/null; t1=$(date +%s%N)
echo "  one-shot 'samplemind similar' (opens the catalog, loads $rows vectors): $(( (t1 - t0) / 1000000 )) ms"
t0=$(date +%s%N); "$bin" --db "$url" search --paths --limit 50 kick bpm:120..130 >/dev/null; t1=$(date +%s%N)
echo "  one-shot 'samplemind search' (process start to exit): $(( (t1 - t0) / 1000000 )) ms"

if [ "$big" -gt 0 ]; then
    bdb="$work/search-$big.db"
    if [ ! -f "$bdb" ]; then
        echo "synthesising $big catalog rows (vectors only, '{}' as analysis) ..."
        synth "$bdb" "$big" 0
    fi
    echo "catalog: $big rows, $(($(stat -c %s "$bdb") / 1048576)) MiB"
    id=$(( big / 2 ))
    printf '  %-51s ' "similar $id -k 10"
    /usr/bin/time -f "%M" -o "$work/big.rss" "$bin" --db "sqlite://$bdb" similar "$id" -k 10 --paths --repeat 50 2>&1 >/dev/null | sed 's/^similar: //'
    echo "  peak RSS with $big vectors loaded: $(( $(cat "$work/big.rss") / 1024 )) MiB"
    for q in "kick bpm:120..130 key:Am" "key:compatible:Am bright:>70 duration:..2" "sort:name"; do
        printf '  search --index %-37s ' "'$q'"
        "$bin" --db "sqlite://$bdb" search --index --paths --limit 50 --repeat 50 $q 2>&1 >/dev/null | tr '\n' ' ' | sed 's/search: //; s/search (index): //'
        echo
    done
    printf '  %-51s ' "similar $id -k 10 category:kick"
    /usr/bin/time -f "%M" -o "$work/big2.rss" "$bin" --db "sqlite://$bdb" similar "$id" -k 10 --paths --repeat 50 category:kick 2>&1 >/dev/null | sed 's/^similar: //'
    echo "  peak RSS with $big vectors and the filter index loaded: $(( $(cat "$work/big2.rss") / 1024 )) MiB"
fi
