# Shared helpers for the integration tests: counters and a summary line.
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
not_ok() { failed=$((failed + 1)); echo "FAIL $*"; }
# check NAME COMMAND...: passes when the command succeeds.
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
