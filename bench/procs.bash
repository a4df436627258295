# Sourced by the bench scripts (bench/video-info.sh, bench/events.sh) from the project's top, with
# BENCH_NAME (the prefix of their messages), BENCH_TMP (the run directory's name), LIMIT (seconds
# the whole run may take) and keep (non-empty: keep the run directory) set: the run directory
# $tmp, the processes they start by name in pid[], say/fail, stop_one, and the cleanup that stops
# every one of them on any exit, a watchdog ending the run after LIMIT s among them.
. tests/support/poll.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/$BENCH_TMP.XXXXXX")
declare -A pid=()
say() { echo "$BENCH_NAME: $*" >&2; }
fail() { say "$*"; keep=1; exit 1; } # keeps $tmp: the logs a failure names stay readable

stop_one() { # name: SIGTERM, up to 5 s, then SIGKILL
    local p=${pid[$1]:-}
    [ -n "$p" ] || return 0
    kill -TERM "$p" 2>/dev/null
    poll_gone 5 "$p" || kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    unset "pid[$1]"
}
cleanup() {
    trap - EXIT INT TERM
    for n in "${!pid[@]}"; do [ "$n" = watchdog ] || stop_one "$n"; done
    stop_one watchdog
    [ -n "$keep" ] && say "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# the whole bench is bounded: the watchdog ends it (and cleanup stops everything) after LIMIT s
(
    trap 'kill "$s" 2>/dev/null; exit 0' TERM
    sleep "$LIMIT" &
    s=$!
    wait "$s" && { say "over ${LIMIT}s, stopping"; kill -TERM $$; }
) &
pid[watchdog]=$!
