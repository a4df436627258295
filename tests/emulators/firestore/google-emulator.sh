# Sourced by tests/run, tests/checks/firestore-differential.sh and make run (tests/stack/run-local):
# Google's Cloud Firestore emulator (Debian package google-cloud-cli-firestore-emulator of the Cloud
# SDK, Java 17) in the background on 127.0.0.1, in a process group of its own, data in memory only.
#   google_fs_find            GOOGLE_FS_EMULATOR = its start script; 1 when it is not installed
#   google_fs_start LOG [PORT]  starts it (on a free port when none is given): GOOGLE_FS_HOST,
#                             GOOGLE_FS_PGID; returns at once (it takes ~10 s to be ready)
#   google_fs_wait [SECONDS]  polls for its ready line [90 s]; on the deadline or its exit prints
#                             one line naming its log and returns 1 (tests/support/poll.sh)
#   google_fs_stop            SIGTERM to its group, SIGKILL after 15 s; safe to call twice
# GOOGLE_FS_EMULATOR may name the start script (cloud_firestore_emulator) of another SDK install;
# GOOGLE_FS_JAVA_OPTS [-Xmx1g -XX:+UseSerialGC] bound the JVM on a shared machine.
. "$(dirname "${BASH_SOURCE[0]}")/../../support/poll.sh"
GOOGLE_FS_DEFAULT=/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator
GOOGLE_FS_PGID=
GOOGLE_FS_HOST=
GOOGLE_FS_LOG=

google_fs_find() {
    if [ -z "${GOOGLE_FS_EMULATOR:-}" ]; then
        GOOGLE_FS_EMULATOR=$GOOGLE_FS_DEFAULT
        if [ ! -x "$GOOGLE_FS_EMULATOR" ] && command -v gcloud >/dev/null 2>&1; then
            local sdk
            sdk=$(dirname "$(dirname "$(readlink -f "$(command -v gcloud)")")")
            GOOGLE_FS_EMULATOR=$sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator
        fi
    fi
    [ -x "$GOOGLE_FS_EMULATOR" ] && command -v java >/dev/null 2>&1
}

google_fs_free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

google_fs_start() {
    GOOGLE_FS_LOG=$1
    local port=${2:-}
    google_fs_find || { echo "Google's Firestore emulator is not installed ($GOOGLE_FS_EMULATOR, java)" >&2; return 1; }
    [ -n "$port" ] || port=$(google_fs_free_port) || return 1
    GOOGLE_FS_HOST=127.0.0.1:$port
    # setsid: the script runs java as a child, so the group is what has to be stopped
    JAVA_TOOL_OPTIONS="${GOOGLE_FS_JAVA_OPTS:--Xmx1g -XX:+UseSerialGC}" \
        setsid "$GOOGLE_FS_EMULATOR" start --host=127.0.0.1 --port="$port" </dev/null >"$GOOGLE_FS_LOG" 2>&1 &
    GOOGLE_FS_PGID=$!
}

google_fs_wait() {
    poll_until "${1:-90}" "Google's Firestore emulator" "$GOOGLE_FS_LOG" "$GOOGLE_FS_PGID" \
        poll_log "$GOOGLE_FS_LOG" 'Dev App Server is now running'
}

google_fs_stop() {
    [ -n "$GOOGLE_FS_PGID" ] || return 0
    local pg=$GOOGLE_FS_PGID i
    GOOGLE_FS_PGID=
    kill -TERM -- "-$pg" 2>/dev/null || return 0
    for ((i = 0; i < 150; i++)); do
        kill -0 -- "-$pg" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pg" 2>/dev/null
    wait "$pg" 2>/dev/null
    return 0
}

# "cloud-firestore-emulator 1.19.9" from the SDK's install record, when there is one.
google_fs_version() {
    local snap
    snap=$(dirname "$(dirname "$(dirname "$GOOGLE_FS_EMULATOR")")")/.install/cloud-firestore-emulator.snapshot.json
    /usr/bin/python3 - "$snap" 2>/dev/null <<'PY' || echo "cloud-firestore-emulator"
import json, sys
for c in json.load(open(sys.argv[1]))['components']:
    if c['id'] == 'cloud-firestore-emulator':
        print('cloud-firestore-emulator ' + c['version']['version_string'])
        break
else:
    raise SystemExit(1)
PY
}
