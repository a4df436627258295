#!/usr/bin/env bash
# Firestore figures: documents decoded per second from a recorded 1,000-clip runQuery answer
# (recorded from the emulator at bench time), and the peak RSS of a process listing 5,000 clips
# through clips_list against the emulator (pages of 1,000, one arena per page like a worker's request).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${CLIPAPI_BUILD:-$PWD/build}
bin=$BUILD_DIR/bench/fs_bench
[ -x "$bin" ] || make --no-print-directory "$bin" >/dev/null
. tests/support/poll.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fsbench.XXXXXX")
emu_pid=
cleanup() {
    local rc=$?
    [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null || true
    # a failure keeps the logs it names
    [ $rc -eq 0 ] && rm -rf "$tmp" || echo "firestore bench: kept $tmp" >&2
}
trap cleanup EXIT

start_emulator() {
    rm -f "$tmp/port"
    tests/emulators/firestore/serve --host 127.0.0.1 --port 0 --port-file "$tmp/port" \
        --indexes firestore.indexes.json >"$tmp/emu.log" 2>&1 &
    emu_pid=$!
    emu_ready() { poll_log "$tmp/emu.log" ready && [ -s "$tmp/port" ]; }
    poll_until 20 "firestore bench: the Firestore emulator" "$tmp/emu.log" "$emu_pid" emu_ready || exit 1
    host=127.0.0.1:$(cat "$tmp/port")
}

start_emulator
"$bin" load "$host" 1000
"$bin" record "$host" 1000 "$tmp/runquery-1000.json"
"$bin" decode "$tmp/runquery-1000.json" 2>"$tmp/decode.log"
echo "fs_decode_answer_bytes_1000: $(stat -c %s "$tmp/runquery-1000.json")"

kill "$emu_pid"; wait "$emu_pid" 2>/dev/null || true; emu_pid=
start_emulator
"$bin" load "$host" 5000
"$bin" list "$host" 1000 5000 2>"$tmp/list.log"
