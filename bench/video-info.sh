#!/usr/bin/env bash
# video-info: GET /api/videos/{id} of clipapi against the Python reference (bench/reference/), both
# behind the same nginx template (nginx/local.conf.in, TLS), both served by the replay backend
# (bench/replay.c) from Firestore answers recorded from the emulator at the start of this run.
#
#  1. record: the emulator gets the data set (bench/video_seed: video v50 with 50 completed clips,
#     v5000 with 5,000); clipapi and the reference each fetch both videos through a recording proxy
#     (bench/replay_record.py) in front of the emulator, which also serves the dev key set.
#  2. replay: the emulator and the proxy stop; bench/replay serves the recorded exchanges (misses
#     are counted and fail the bench); clipapi and the reference restart against it; their answers
#     must equal each other field by field (thumbnail signatures aside).
#  3. wrk: 16 and 64 connections, clipapi then the reference (v50), VIDEO_BENCH_SECONDS each after
#     a warm-up; the replay backend alone at 64 connections (its own p99); then clipapi and the
#     backend again at 64 connections paced to VIDEO_BENCH_PACE_RPS requests/s in all (these three:
#     the median of three runs of half the time).
#  4. CPU per request and peak memory of clipapi's workers (/proc/PID/schedstat and VmHWM) over
#     VIDEO_BENCH_CPU_SECONDS of v50 and of v5000 at 2 connections.
# Workers: VIDEO_BENCH_WORKERS FastCGI workers vs as many uvicorn worker processes [2 = the cores].
set -u
cd "$(dirname "$0")/.."
top=$PWD
BUILD=${CLIPAPI_BUILD:-$PWD/build}
PY=/usr/bin/python3
SECS=${VIDEO_BENCH_SECONDS:-10}
WARM=${VIDEO_BENCH_WARMUP:-2}
CPU_SECS=${VIDEO_BENCH_CPU_SECONDS:-4}
WORKERS=${VIDEO_BENCH_WORKERS:-2}
PACE_RPS=${VIDEO_BENCH_PACE_RPS:-500}
LIMIT=${VIDEO_BENCH_LIMIT:-540} # the whole run, seconds
PROJECT=demo-bench
UID_=bench-user

. tests/support/poll.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/video-bench.XXXXXX")
declare -A pid=()
keep=${VIDEO_BENCH_KEEP:-}
say() { echo "video-info: $*" >&2; }
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

# other work on the machine shows in the figures (above all in the p99s): say how busy it was
load0=$(cut -d' ' -f1 /proc/loadavg)
for b in "$BUILD/clipapi-fcgi" "$BUILD/clipctl" "$BUILD/bench/replay" "$BUILD/bench/video_seed"; do
    [ -x "$b" ] || fail "$b is missing (make bench builds it)"
done
command -v wrk >/dev/null || fail "wrk is missing (make deps installs it)"
$PY -c 'import fastapi, uvicorn, httpx, jwt, botocore' 2>/dev/null ||
    fail "the reference's Python packages are missing (make deps installs them)"

start() { # name cmd...: in the background, output in $tmp/name.log
    local n=$1
    shift
    "$@" >"$tmp/$n.log" 2>&1 &
    pid[$n]=$!
}
wait_for() { # file pattern seconds name: a line of the log, while that process runs
    poll_until "$3" "video-info: $4" "$1" "${pid[$4]:-}" poll_log "$1" "$2" || { keep=1; exit 1; }
}
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # port name: its nginx accepts on the port
    poll_until 10 "video-info: $2 on 127.0.0.1:$1" "$tmp/$2.log" "${pid[$2]:-}" poll_tcp "$1" || { keep=1; exit 1; }
}

# ---- the two stacks: clipapi (FastCGI) and the reference (uvicorn), each behind the template --------
cport=$(free_port)
rport=$(free_port)
mkdir -p "$tmp/c" "$tmp/r"
nginx/render-local "$tmp/c" "$cport" "$tmp/c/fcgi.sock" >/dev/null || fail "render-local failed"
nginx/render-local "$tmp/r" "$rport" "$tmp/r/uvicorn.sock" >/dev/null || fail "render-local failed"
# the reference's copy: the same site with proxy_pass (HTTP/1.1 keep-alive) instead of fastcgi_pass
sed -i -e 's|include .*/fastcgi.params;|proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host;|' \
    -e 's|fastcgi_pass clipapi;|proxy_pass http://clipapi;|' \
    -e 's|server unix:\(.*\);|server unix:\1; keepalive 32;|' "$tmp/r/nginx.conf"

export CLIPAPI_DEV_KEY_FILE=$tmp/dev-key.pem
"$BUILD/clipctl" dev-token --print-keyset >"$tmp/keys.json" || fail "clipctl dev-token --print-keyset failed"

clipapi_conf() { # backend HOST:PORT -> $tmp/c/clipapi.conf
    cat >"$tmp/c/clipapi.conf" <<CONF
listen = unix:$tmp/c/fcgi.sock
workers = $WORKERS
max_requests = 1000000
log_level = info
firestore_project = $PROJECT
firestore_emulator_host = $1
auth_keys_url = http://$1/keys.json
r2_endpoint = http://127.0.0.1:9
r2_bucket = clips
r2_access_key_id = BENCHKEYID
r2_secret_access_key = BENCHSECRET
CONF
}
start_clipapi() { # backend
    clipapi_conf "$1"
    rm -f "$tmp/c/fcgi.sock"
    start clipapi "$BUILD/clipapi-fcgi" --config "$tmp/c/clipapi.conf"
    wait_for "$tmp/clipapi.log" pool_ready 20 clipapi
}
start_reference() { # backend
    rm -f "$tmp/r/uvicorn.sock"
    REF_PROJECT=$PROJECT FIRESTORE_EMULATOR_HOST=$1 REF_AUTH_KEYS_URL=http://$1/keys.json \
        REF_R2_ENDPOINT=http://127.0.0.1:9 REF_R2_BUCKET=clips REF_R2_ACCESS_KEY_ID=BENCHKEYID \
        REF_R2_SECRET_ACCESS_KEY=BENCHSECRET \
        start reference $PY -m uvicorn app:app --app-dir "$top/bench/reference" \
        --uds "$tmp/r/uvicorn.sock" --workers "$WORKERS" --loop uvloop --http httptools \
        --no-access-log --log-level info
    # Up when every worker process has imported the app and says so (the socket exists before
    # they do: nginx would get "connection refused" on it meanwhile) and the socket answers HTTP.
    ref_up() {
        [ "$(grep -c 'Application startup complete' "$tmp/reference.log")" -ge "$WORKERS" ] &&
            [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' --unix-socket "$tmp/r/uvicorn.sock" \
                http://reference/api/videos/v50)" = 401 ]
    }
    poll_until 120 "video-info: the reference (uvicorn, $WORKERS workers)" "$tmp/reference.log" \
        "${pid[reference]}" ref_up || { keep=1; exit 1; }
}

# ---- 1. record --------------------------------------------------------------------------------------
start emulator tests/emulators/firestore/serve --host 127.0.0.1 --port 0 --port-file "$tmp/emu.port" \
    --indexes firestore.indexes.json
wait_for "$tmp/emulator.log" '^ready' 20 emulator
emu=127.0.0.1:$(cat "$tmp/emu.port")
t0=$(date +%s.%N)
"$BUILD/bench/video_seed" "$emu" "$PROJECT" || fail "seeding the emulator failed"
say "seeded 5,050 clips in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
start proxy $PY bench/replay_record.py proxy --upstream "$emu" --out "$tmp/replay.dat" \
    --keys "$tmp/keys.json" --port-file "$tmp/proxy.port"
wait_for "$tmp/proxy.log" '^ready' 10 proxy
rec=127.0.0.1:$(cat "$tmp/proxy.port")

start_clipapi "$rec"
start nginx_c nginx -c "$tmp/c/nginx.conf" -p "$tmp/c"
start nginx_r nginx -c "$tmp/r/nginx.conf" -p "$tmp/r"
wait_port "$cport" nginx_c
wait_port "$rport" nginx_r
BENCH_TOKEN=$("$BUILD/clipctl" --config "$tmp/c/clipapi.conf" dev-token --uid "$UID_" --expires 7200) ||
    fail "clipctl dev-token failed"
export BENCH_TOKEN BENCH_WRK_REPORT=$top/bench/wrk-report.lua

fetch() { # port video out: 200 or fail
    local code
    code=$(curl -sk -o "$3" -w '%{http_code}' -H "Authorization: Bearer $BENCH_TOKEN" \
        "https://127.0.0.1:$1/api/videos/$2")
    [ "$code" = 200 ] || { head -c 300 "$3" >&2; fail "GET /api/videos/$2 on port $1: $code"; }
}
for v in v50 v5000; do fetch "$cport" $v "$tmp/rec-c-$v.json"; done
cp "$tmp/replay.dat" "$tmp/replay-clipapi.dat"
start_reference "$rec"
for v in v50 v5000; do fetch "$rport" $v "$tmp/rec-r-$v.json"; done
stop_one reference
stop_one clipapi
stop_one proxy
stop_one emulator
$PY bench/replay_record.py lua "$tmp/replay-clipapi.dat" '/videos/v50(:|$)' "$tmp/backend.lua" ||
    fail "no recorded exchange of v50"
echo "dofile(os.getenv(\"BENCH_WRK_REPORT\"))" >>"$tmp/backend.lua"

# ---- 2. replay --------------------------------------------------------------------------------------
start replay "$BUILD/bench/replay" --data "$tmp/replay.dat" --port-file "$tmp/replay.port"
wait_for "$tmp/replay.log" exchanges 10 replay
bport=$(cat "$tmp/replay.port")
start_clipapi "127.0.0.1:$bport"
start_reference "127.0.0.1:$bport"
for v in v50 v5000; do
    fetch "$cport" $v "$tmp/c-$v.json"
    fetch "$rport" $v "$tmp/r-$v.json"
done
n=(50 5000)
i=0
for v in v50 v5000; do
    $PY bench/video_info_compare.py "$tmp/rec-c-$v.json" "$tmp/c-$v.json" "${n[$i]}" ||
        fail "clipapi's $v answer from the replay differs from the one from the emulator"
    $PY bench/video_info_compare.py "$tmp/c-$v.json" "$tmp/r-$v.json" "${n[$i]}" ||
        fail "clipapi's and the reference's $v answers differ"
    i=$((i + 1))
done

# ---- 3. throughput and latency -----------------------------------------------------------------------
declare -A fig=()
wrk_run() { # label conns seconds url [script]: fills fig[label_*]
    local out=$tmp/wrk-$1.txt script=${5:-$top/bench/wrk-video-info.lua}
    timeout $(($3 + 30)) wrk -t2 -c"$2" -d"$3"s --timeout 5s -s "$script" "$4" >"$out" 2>&1 ||
        { cat "$out" >&2; fail "wrk $1 failed"; }
    local r d p50 p99 bad
    r=$(awk '$1=="wrk_requests"{print $2}' "$out")
    d=$(awk '$1=="wrk_duration_us"{print $2}' "$out")
    p50=$(awk '$1=="wrk_p50_us"{print $2}' "$out")
    p99=$(awk '$1=="wrk_p99_us"{print $2}' "$out")
    bad=$(awk '$1=="wrk_non2xx"||$1=="wrk_socket_errors"{s+=$2} END{print s+0}' "$out")
    [ "$1" = warm ] && return 0
    [ -n "$r" ] && [ "$r" -gt 0 ] || { cat "$out" >&2; fail "wrk $1: no requests"; }
    [ "$bad" = 0 ] || { cat "$out" >&2; fail "wrk $1: $bad failed requests"; }
    fig[$1_rps]=$(awk -v r="$r" -v d="$d" 'BEGIN{printf "%.0f", r / (d / 1e6)}')
    fig[$1_p50]=$(awk -v x="$p50" 'BEGIN{printf "%.2f", x / 1000}')
    fig[$1_p99]=$(awk -v x="$p99" 'BEGIN{printf "%.2f", x / 1000}')
    fig[$1_n]=$r
}
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
wrk_median3() { # label conns seconds url [script]: three runs, the median of each figure
    local i
    for i in 1 2 3; do wrk_run "$1_r$i" "${@:2}"; done
    for k in rps p50 p99; do
        fig[$1_$k]=$(median3 "${fig[$1_r1_$k]}" "${fig[$1_r2_$k]}" "${fig[$1_r3_$k]}")
    done
}
for c in 16 64; do
    for who in clipapi reference; do
        port=$cport
        [ $who = reference ] && port=$rport
        wrk_run warm "$c" "$WARM" "https://127.0.0.1:$port/api/videos/v50"
        wrk_run "${who}_$c" "$c" "$SECS" "https://127.0.0.1:$port/api/videos/v50"
    done
done
wrk_run warm 64 "$WARM" "http://127.0.0.1:$bport" "$tmp/backend.lua"
# the backend's own latency, and both paced below capacity: three runs of half the time each and
# the median of each figure, since one stall of the shared machine moves a single run's p99
half=$(((SECS + 1) / 2))
wrk_median3 backend_64 64 "$half" "http://127.0.0.1:$bport" "$tmp/backend.lua"
# the same 64 connections paced to ~PACE_RPS requests/s in all (below every capacity measured
# here): the latency each adds when nothing queues
export BENCH_PACE_MS=$((64000 / PACE_RPS))
wrk_median3 clipapi_64_paced 64 "$half" "https://127.0.0.1:$cport/api/videos/v50"
wrk_median3 backend_64_paced 64 "$half" "http://127.0.0.1:$bport" "$tmp/backend.lua"
unset BENCH_PACE_MS

# ---- 4. CPU per request and peak memory of the workers ----------------------------------------------
workers() { ps -o pid= --ppid "${pid[clipapi]}" | tr -d ' '; }
cpu_ns() { # sum of the workers' on-CPU time
    local s=0 w
    for w in $(workers); do s=$((s + $(cut -d' ' -f1 "/proc/$w/schedstat"))); done
    echo $s
}
cpu_run() { # video: fills fig[cpu_ns_per_req_video]
    wrk_run warm 2 "$WARM" "https://127.0.0.1:$cport/api/videos/$1"
    local before after w0 w1
    w0=$(workers | sort | tr '\n' ' ')
    before=$(cpu_ns)
    wrk_run "cpu_$1" 2 "$CPU_SECS" "https://127.0.0.1:$cport/api/videos/$1"
    after=$(cpu_ns)
    w1=$(workers | sort | tr '\n' ' ')
    [ "$w0" = "$w1" ] || fail "the worker set changed during the CPU run ($w0 -> $w1)"
    fig[cpu_$1]=$(awk -v a="$before" -v b="$after" -v n="${fig[cpu_$1_n]}" 'BEGIN{printf "%.0f", (b - a) / n}')
}
cpu_run v50
cpu_run v5000
peak_kib=0
for w in $(workers); do
    k=$(awk '/^VmHWM:/{print $2}' "/proc/$w/status")
    [ "$k" -gt "$peak_kib" ] && peak_kib=$k
done

misses=$(curl -s "http://127.0.0.1:$bport/__replay/stats" | $PY -c 'import json,sys; print(json.load(sys.stdin)["misses"])')
[ "$misses" = 0 ] || { grep miss "$tmp/replay.log" >&2; fail "$misses requests missed the recording"; }

# ---- figures ----------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", (b > 0 ? a / b : 0)}'; }
{
    echo "video_info_load_avg_1min_at_start: $load0"
    echo "video_info_workers: $WORKERS"
    for c in 16 64; do
        echo "video_info_rps_clipapi_$c: ${fig[clipapi_${c}_rps]}"
        echo "video_info_rps_reference_$c: ${fig[reference_${c}_rps]}"
        echo "video_info_rps_ratio_$c: $(ratio "${fig[clipapi_${c}_rps]}" "${fig[reference_${c}_rps]}")"
        echo "p50_ms_clipapi_$c: ${fig[clipapi_${c}_p50]}"
        echo "p99_ms_clipapi_$c: ${fig[clipapi_${c}_p99]}"
        echo "p50_ms_reference_$c: ${fig[reference_${c}_p50]}"
        echo "p99_ms_reference_$c: ${fig[reference_${c}_p99]}"
    done
    echo "rps_backend_64: ${fig[backend_64_rps]}"
    echo "p50_ms_backend_64: ${fig[backend_64_p50]}"
    echo "p99_ms_backend_64: ${fig[backend_64_p99]}"
    echo "p99_added_ms_64: $(awk -v a="${fig[clipapi_64_p99]}" -v b="${fig[backend_64_p99]}" 'BEGIN{printf "%.2f", a - b}')"
    echo "paced_rps_clipapi_64: ${fig[clipapi_64_paced_rps]}"
    echo "p50_ms_clipapi_64_paced: ${fig[clipapi_64_paced_p50]}"
    echo "p99_ms_clipapi_64_paced: ${fig[clipapi_64_paced_p99]}"
    echo "p50_ms_backend_64_paced: ${fig[backend_64_paced_p50]}"
    echo "p99_ms_backend_64_paced: ${fig[backend_64_paced_p99]}"
    echo "p99_added_ms_64_paced: $(awk -v a="${fig[clipapi_64_paced_p99]}" -v b="${fig[backend_64_paced_p99]}" 'BEGIN{printf "%.2f", a - b}')"
    echo "cpu_us_per_req_50: $(awk -v x="${fig[cpu_v50]}" 'BEGIN{printf "%.0f", x / 1000}')"
    echo "cpu_ms_per_req_5000: $(awk -v x="${fig[cpu_v5000]}" 'BEGIN{printf "%.2f", x / 1e6}')"
    echo "worker_peak_mib_5000: $(awk -v x="$peak_kib" 'BEGIN{printf "%.1f", x / 1024}')"
    echo "replay_misses: $misses"
} | tee "$tmp/figures.txt"
v() { awk -v k="$1:" '$1==k{print $2}' "$tmp/figures.txt"; }
cat <<TABLE
| video info (v50, ${SECS} s each) | clipapi | reference | ratio |
|---|---|---|---|
| requests/s, 16 connections | $(v video_info_rps_clipapi_16) | $(v video_info_rps_reference_16) | $(v video_info_rps_ratio_16)x |
| p50 / p99 ms, 16 connections | $(v p50_ms_clipapi_16) / $(v p99_ms_clipapi_16) | $(v p50_ms_reference_16) / $(v p99_ms_reference_16) | |
| requests/s, 64 connections | $(v video_info_rps_clipapi_64) | $(v video_info_rps_reference_64) | $(v video_info_rps_ratio_64)x |
| p50 / p99 ms, 64 connections | $(v p50_ms_clipapi_64) / $(v p99_ms_clipapi_64) | $(v p50_ms_reference_64) / $(v p99_ms_reference_64) | |
| replay backend alone, 64 connections: p99 ms | $(v p99_ms_backend_64) | | |
| clipapi p99 above the backend's, 64 connections | $(v p99_added_ms_64) ms | | |
| paced to ~$PACE_RPS req/s on 64 connections: clipapi p50 / p99 ms | $(v p50_ms_clipapi_64_paced) / $(v p99_ms_clipapi_64_paced) | | |
| paced: replay backend p50 / p99 ms; clipapi's p99 above it | $(v p50_ms_backend_64_paced) / $(v p99_ms_backend_64_paced); $(v p99_added_ms_64_paced) ms | | |
| worker CPU per request, 50 clips | $(v cpu_us_per_req_50) µs | | |
| worker CPU per request, 5,000 clips | $(v cpu_ms_per_req_5000) ms | | |
| worker peak memory (VmHWM) after 5,000-clip requests | $(v worker_peak_mib_5000) MiB | | |
TABLE
