#!/usr/bin/env bash
# Run a benchmark on a machine shared with other work (builds, test runs) by
# pausing that work for the length of the run:
#
#   bench/quiet.sh CMD [ARGS...]
#
# Every process outside this script's process group, except init, kernel threads
# and a few system daemons, gets SIGSTOP before CMD starts and SIGCONT when it ends
# (also on Ctrl-C or an error). Only for work that does not mind a pause: the
# paused processes lose time, not state. Needs the right to signal them (root, or
# the same user).
set -u
[ $# -ge 1 ] || { echo "usage: bench/quiet.sh CMD [ARGS...]" >&2; exit 2; }
me=$(ps -o pgid= $$ | tr -d ' ')
mapfile -t paused < <(ps -eo pid=,pgid=,ppid=,comm= | awk -v me="$me" '
    $1 != 1 && $1 != 2 && $3 != 2 && $2 != me &&
    $4 !~ /^(process_api|systemd|dbus-daemon|agetty|sshd|cron|rsyslogd|kdamond|ps|awk)/ {print $1}')
trap '[ ${#paused[@]} -gt 0 ] && kill -CONT "${paused[@]}" 2>/dev/null' EXIT
trap 'exit 130' INT TERM
[ ${#paused[@]} -gt 0 ] && kill -STOP "${paused[@]}" 2>/dev/null
sleep 0.5 # let the paused work leave the CPUs
"$@"
