# Shared benchmark helpers. Figures are CPU seconds (user + sys) of the child,
# wall seconds and peak RSS, measured by the kernel's rusage, so a busy machine
# skews wall time but not CPU time.

# cpu_run CMD...: prints "cpu_s wall_s maxrss_kb exit_code" for one run.
cpu_run() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{u.ru_utime + u.ru_stime:.4f} {time.monotonic() - t:.4f} {u.ru_maxrss} {r.returncode}")
PY
}

# best_cpu N CMD...: the lowest CPU seconds of N runs.
best_cpu() {
    local n=$1
    shift
    local best=""
    for _ in $(seq "$n"); do
        local c
        c=$(cpu_run "$@" | cut -d' ' -f1)
        if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $c < $best else 1)"; then
            best=$c
        fi
    done
    echo "$best"
}

# best_wall N CMD...: the lowest wall seconds of N runs.
best_wall() {
    local n=$1
    shift
    local best=""
    for _ in $(seq "$n"); do
        local w
        w=$(cpu_run "$@" | cut -d' ' -f2)
        if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $w < $best else 1)"; then
            best=$w
        fi
    done
    echo "$best"
}

ratio() { python3 -c "print(f'{$1 / $2:.${3:-1}f}')"; }
