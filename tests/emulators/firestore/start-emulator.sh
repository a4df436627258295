# Sourced by the checks and the bench: starts the emulator on a free 127.0.0.1 port chosen at run
# time and stops it on exit.  After `fs_emulator_start [serve flags...]`: FS_EMULATOR_PORT,
# FS_EMULATOR_PID, FS_EMULATOR_LOG (its stderr), and FIRESTORE_EMULATOR_HOST exported.
FS_EMULATOR_DIR=${FS_EMULATOR_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
. "$FS_EMULATOR_DIR/../../support/poll.sh"
FS_EMULATOR_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fsemu.XXXXXX")
FS_EMULATOR_PID=
fs_emulator_stop() {
    if [ -n "$FS_EMULATOR_PID" ]; then
        kill -TERM "$FS_EMULATOR_PID" 2>/dev/null
        poll_gone 5 "$FS_EMULATOR_PID" || kill -KILL "$FS_EMULATOR_PID" 2>/dev/null
        wait "$FS_EMULATOR_PID" 2>/dev/null
        FS_EMULATOR_PID=
    fi
    rm -rf "$FS_EMULATOR_TMP"
}
trap fs_emulator_stop EXIT
trap 'exit 130' INT TERM
fs_emulator_start() {
    FS_EMULATOR_LOG=$FS_EMULATOR_TMP/stderr
    "$FS_EMULATOR_DIR/serve" --host 127.0.0.1 --port 0 --port-file "$FS_EMULATOR_TMP/port" "$@" \
        >"$FS_EMULATOR_TMP/stdout" 2>"$FS_EMULATOR_LOG" &
    FS_EMULATOR_PID=$!
    if ! poll_until 20 "the Firestore emulator" "$FS_EMULATOR_LOG" "$FS_EMULATOR_PID" \
        grep -qx ready "$FS_EMULATOR_TMP/stdout"; then
        sed 's/^/    /' "$FS_EMULATOR_LOG" >&2 # the log goes with $FS_EMULATOR_TMP on exit
        return 1
    fi
    FS_EMULATOR_PORT=$(cat "$FS_EMULATOR_TMP/port")
    export FIRESTORE_EMULATOR_HOST=127.0.0.1:$FS_EMULATOR_PORT
}
