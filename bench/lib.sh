# Shared benchmark helpers. Figures are CPU seconds (user + sys) of the child,
# wall seconds and peak RSS, from the kernel's rusage of that one child, so a
# busy machine skews wall time more than CPU time.

# cpu_run CMD...: prints "cpu_s wall_s maxrss_kb exit_code" for one run.
# maxrss here includes the forking interpreter's image; use peak_rss for memory.
cpu_run() {
    python3 - "$@" <<'PY'
import os, subprocess, sys, time
# wait4 on the child itself: its own rusage, nothing of this interpreter's.
t = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, u = os.wait4(p.pid, 0)
wall = time.monotonic() - t
print(f"{u.ru_utime + u.ru_stime:.4f} {wall:.4f} {u.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
PY
}

# best FIELD N CMD...: the lowest value of cpu_run's FIELD (1 = CPU s, 2 = wall s)
# over N runs.
best() {
    local field=$1 n=$2
    shift 2
    for _ in $(seq "$n"); do
        cpu_run "$@" | cut -d' ' -f"$field"
    done | sort -g | head -n 1
}
best_cpu() { best 1 "$@"; }
best_wall() { best 2 "$@"; }

ratio() { python3 -c "print(f'{$1 / $2:.${3:-1}f}')"; }

# peak_rss CMD...: peak resident set of the command in KB (GNU time, a small
# C parent, so nothing of an interpreter is counted).
peak_rss() {
    local f
    f=$(mktemp)
    /usr/bin/time -f "%M" -o "$f" "$@" >/dev/null 2>&1
    tail -n 1 "$f"
    rm -f "$f"
}

# free_port: a free TCP port on loopback.
free_port() {
    python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"
}

# bench_tmp: a temp dir in $tmp, and an EXIT trap that kills the children listed
# in the pids array and removes it.
bench_tmp() {
    tmp=$(mktemp -d)
    pids=()
    trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
}
