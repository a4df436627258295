#!/usr/bin/env bash
# Migration throughput: `clipctl migrate --all` (release build) against the Firestore emulator and
# the S3 server, on a generated legacy layout (2 users x 25 videos x 40 clips, each with its
# thumbnail and a highlights.json), once with one process and once with --concurrency 4, from an
# empty database each time. Prints migrate_clips_per_s, migrate_commits and migrate_seconds (for
# --concurrency 4) and the single-process figures. Everything it starts is stopped on exit; each
# step is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${CLIPAPI_BUILD:-$PWD/build}
clipctl=$BUILD_DIR/clipctl
[ -x "$clipctl" ] || make --no-print-directory "$clipctl" >/dev/null
USERS=${MIGRATION_BENCH_USERS:-2} VIDEOS=${MIGRATION_BENCH_VIDEOS:-25} CLIPS=${MIGRATION_BENCH_CLIPS:-40}
. tests/support/poll.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/migbench.XXXXXX")
emu_pid= s3_pid=
cleanup() {
    local rc=$?
    for p in $emu_pid $s3_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
    # a failure keeps the logs it names
    [ $rc -eq 0 ] && rm -rf "$tmp" || echo "migration bench: kept $tmp" >&2
}
trap cleanup EXIT

wait_for() { # file pattern what pid: a line of the log while the process runs
    poll_until 30 "migration bench: $3" "$1" "$4" poll_log "$1" "$2" || exit 1
}

tests/emulators/firestore/serve --host 127.0.0.1 --port 0 --port-file "$tmp/fsport" \
    --indexes firestore.indexes.json >"$tmp/emu.log" 2>&1 &
emu_pid=$!
wait_for "$tmp/emu.log" ready "the Firestore emulator" "$emu_pid"
fs_host=127.0.0.1:$(cat "$tmp/fsport")

mkdir -p "$tmp/s3"
node --openssl-legacy-provider tests/emulators/s3/serve --port 0 --directory "$tmp/s3" \
    --bucket clips >"$tmp/s3.log" 2>&1 &
s3_pid=$!
wait_for "$tmp/s3.log" ready "the S3 server" "$s3_pid"
s3_port=$(sed -n 's/^ready .*:\([0-9]*\)$/\1/p' "$tmp/s3.log" | head -1)

# the legacy layout, uploaded by 8 threads
timeout 300 python3 - "$s3_port" "$USERS" "$VIDEOS" "$CLIPS" <<'PY'
import json, sys
from concurrent.futures import ThreadPoolExecutor
import botocore.session
port, users, videos, clips = (int(x) for x in sys.argv[1:])
s3 = botocore.session.get_session().create_client(
    's3', endpoint_url=f'http://127.0.0.1:{port}', region_name='auto',
    aws_access_key_id='S3RVER', aws_secret_access_key='S3RVER',
    config=botocore.config.Config(max_pool_connections=16))
objs = []
for u in range(users):
    for v in range(videos):
        base = f'u{u}/v{v:03d}/'
        scenes = clips // 2
        hl = {'video_title': f'Video {u}/{v}', 'video_url': f'https://youtube.com/watch?v={u}x{v}',
              'highlights': [{'id': s, 'title': f'Scene {s}', 'description': 'd', 'priority': s % 5,
                              'start': f'00:{s:02d}:00', 'end': f'00:{s:02d}:30',
                              'hook_category': 'funny'} for s in range(scenes)]}
        objs.append((base + 'highlights.json', json.dumps(hl).encode()))
        for c in range(clips):
            name = f'clip_{c // 2}_{("vertical", "square")[c % 2]}'
            objs.append((base + f'clips/{name}.mp4', b'x' * (100 + c)))
            objs.append((base + f'thumbnails/{name}.jpg', b'j'))
with ThreadPoolExecutor(8) as ex:
    list(ex.map(lambda kv: s3.put_object(Bucket='clips', Key=kv[0], Body=kv[1]), objs))
PY

: >"$tmp/clipapi.conf"
export CLIPAPI_FIRESTORE_PROJECT=bench-migrate CLIPAPI_FIRESTORE_EMULATOR_HOST=$fs_host \
    CLIPAPI_R2_ENDPOINT=http://127.0.0.1:$s3_port CLIPAPI_R2_BUCKET=clips \
    CLIPAPI_R2_ACCESS_KEY_ID=S3RVER CLIPAPI_R2_SECRET_ACCESS_KEY=S3RVER
unset FIRESTORE_EMULATOR_HOST GOOGLE_APPLICATION_CREDENTIALS

run() { # concurrency -> summary in $tmp/out.N
    curl -sf -X DELETE "http://$fs_host/emulator/v1/projects/bench-migrate/databases/(default)/documents" >/dev/null
    timeout 300 "$clipctl" --config "$tmp/clipapi.conf" migrate --all --concurrency "$1" \
        >"$tmp/out.$1" 2>"$tmp/err.$1" || { echo "migration bench: migrate failed" >&2; cat "$tmp/out.$1" "$tmp/err.$1" >&2; exit 1; }
    grep -q '^result: migrated$' "$tmp/out.$1" || { cat "$tmp/out.$1" >&2; exit 1; }
}
val() { sed -n "s/^$1: //p" "$tmp/out.$2" | head -1; }

run 1
run 4
echo "migrate_dataset_clips: $(val clips 4)"
echo "migrate_clips_per_s: $(val clips_per_s 4)"
echo "migrate_commits: $(val commits 4)"
echo "migrate_seconds: $(val seconds 4)"
echo "migrate_concurrency: 4"
echo "migrate_clips_per_s_1proc: $(val clips_per_s 1)"
echo "migrate_commits_1proc: $(val commits 1)"
echo "migrate_seconds_1proc: $(val seconds 1)"
# a second run compares everything and writes nothing
timeout 300 "$clipctl" --config "$tmp/clipapi.conf" migrate --all --concurrency 4 >"$tmp/out.again" 2>/dev/null
echo "migrate_noop_seconds: $(sed -n 's/^seconds: //p' "$tmp/out.again")"
