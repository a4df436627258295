# Sourced by the scripts of tests/, bench/ and tests/stack/: waiting for a process to come up by
# polling for the thing that is needed, never by a fixed sleep.
#
#   poll_until SECONDS WHAT LOG PID CMD...
#     runs CMD every 50 ms until it succeeds (returns 0); returns 1 after printing one line,
#     "WHAT did not come up within SECONDS s (log: LOG)" or "WHAT exited before it came up
#     (log: LOG)", on stderr when SECONDS pass or when PID (may be empty) is no longer running.
#   poll_log FILE PATTERN      a line of FILE matches the grep pattern (a CMD for poll_until)
#   poll_tcp PORT              something accepts on 127.0.0.1:PORT
#   poll_unix PATH             something accepts on the unix socket PATH
#   poll_http URL [CODE]       URL answers with CODE (default 200); curl -k, 5 s per try
#   poll_gone SECONDS PID      waits until PID has exited; 1 if it has not within SECONDS
poll_now_us() { echo "${EPOCHREALTIME/./}"; }
# PID runs (a child that exited but was not waited for yet is a zombie: not running)
poll_alive() {
    kill -0 "$1" 2>/dev/null || return 1
    local st
    st=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$st" != Z ]
}
poll_until() {
    local secs=$1 what=$2 log=$3 pid=$4
    shift 4
    local deadline=$(($(poll_now_us) + secs * 1000000))
    while :; do
        "$@" 2>/dev/null && return 0
        if [ -n "$pid" ] && ! poll_alive "$pid"; then
            "$@" 2>/dev/null && return 0
            echo "$what exited before it came up (log: $log)" >&2
            return 1
        fi
        if [ "$(poll_now_us)" -ge "$deadline" ]; then
            echo "$what did not come up within $secs s (log: $log)" >&2
            return 1
        fi
        sleep 0.05
    done
}
poll_log() { grep -q -- "$2" "$1" 2>/dev/null; }
poll_tcp() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
poll_unix() {
    [ -S "$1" ] || return 1
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])' "$1" 2>/dev/null
}
poll_http() { [ "$(curl -sk -o /dev/null -m 5 -w '%{http_code}' "$1" 2>/dev/null)" = "${2:-200}" ]; }
poll_gone() {
    local deadline=$(($(poll_now_us) + $1 * 1000000))
    while poll_alive "$2"; do
        [ "$(poll_now_us)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
    return 0
}
