#!/usr/bin/env bash
# video-info: GET /api/videos/{id} of clipapi against the Python reference (bench/reference/), both
# behind what is deployed: the production site nginx/clipapi.conf (rendered by nginx/render-prod:
# local certificate, ports and socket; loopback exempted from limit_req through its
# clipapi/limit-exempt.conf, as an operator exempts a client) under Debian's nginx.conf, clipapi
# with the pool sizes of its configuration defaults; both served by the replay backend
# (bench/replay.c) from Firestore answers recorded from the emulator at the start of this run.
#
#  1. record: the emulator gets the data set (bench/video_seed: video v50 with 50 completed clips,
#     v5000 with 5,000); clipapi and the reference each fetch both videos through a recording proxy
#     (bench/replay_record.py) in front of the emulator, which also serves the dev key set.
#  2. replay: the emulator and the proxy stop; bench/replay serves the recorded exchanges (misses
#     are counted and fail the bench); clipapi and the reference restart against it; their answers
#     must equal each other field by field (thumbnail signatures aside).
#  3. wrk at 0 ms backend delay: 16 and 64 connections, clipapi then the reference (v50),
#     VIDEO_BENCH_SECONDS each after a warm-up; the same nginx serving the v50 answer's exact bytes
#     as a static file (the ceiling); the replay backend alone at 64 connections (its own p99); then
#     clipapi and the backend again at 64 connections paced to VIDEO_BENCH_PACE_RPS requests/s in
#     all (these three: the median of three runs of half the time).
#  4. the same at each delay of VIDEO_BENCH_DELAYS (the backend holds every answer that long, the
#     waits overlapping): the backend alone at 128 connections (its capacity: connections / delay,
#     so never the limit), clipapi and the reference at 64 connections; at the first delay also
#     clipapi and the backend paced at half of clipapi's capacity there (latency without queueing).
#  5. fastcgi_keep_conn: clipapi at 64 connections with the other setting than the site's (at 0 ms
#     and at the first delay), so that the shipped choice stays the measured better one.
#  6. CPU per request and peak memory of clipapi's workers (/proc/PID/schedstat and VmHWM) over
#     VIDEO_BENCH_CPU_SECONDS of v50 and of v5000 at 2 connections.
# Then the figures (`name: value`), each target of issue 15 as `target_*` beside `*_ok: yes|no`, the
# table, and $BUILD/bench/video-info.svg (gnuplot: req/s and p99 against the delay).
# Pool: `workers` (and `threads`, once the pool has it) as etc/clipapi.conf.example's defaults
# (VIDEO_BENCH_WORKERS / VIDEO_BENCH_THREADS set them instead); the reference: one uvicorn worker
# process per core (VIDEO_BENCH_REF_WORKERS), as its authors would run an asynchronous service.
set -u
cd "$(dirname "$0")/.."
top=$PWD
BUILD=${CLIPAPI_BUILD:-$PWD/build}
PY=/usr/bin/python3
SECS=${VIDEO_BENCH_SECONDS:-10}
WARM=${VIDEO_BENCH_WARMUP:-2}
CPU_SECS=${VIDEO_BENCH_CPU_SECONDS:-4}
PACE_RPS=${VIDEO_BENCH_PACE_RPS:-500}
DELAYS=${VIDEO_BENCH_DELAYS:-20 50}
REF_WORKERS=${VIDEO_BENCH_REF_WORKERS:-$(nproc)}
LIMIT=${VIDEO_BENCH_LIMIT:-720} # the whole run, seconds
# the pool's sizes: the configuration's defaults (the bench's config leaves them unset; the example
# config documents them, and the bench fails if the pool starts another number of workers),
# unless the environment sets them
default_of() { sed -nE "s/^# *$1 = ([0-9]+)\$/\1/p" etc/clipapi.conf.example | head -1; }
WORKERS=${VIDEO_BENCH_WORKERS:-$(default_of workers)}
THREADS=${VIDEO_BENCH_THREADS:-$(default_of threads)}
THREADS=${THREADS:-1} # a pool without the key serves one request per process
# VIDEO_BENCH_UNTHREADED=1: the pool under test predates the key (bench/compare's older commit):
# one request per process, and no threads line in its configuration
[ -n "${VIDEO_BENCH_UNTHREADED:-}" ] && THREADS=1
PROJECT=demo-bench
UID_=bench-user

BENCH_NAME=video-info BENCH_TMP=video-bench keep=${VIDEO_BENCH_KEEP:-}
. bench/procs.bash

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
wait_port() { # port name: its nginx accepts on the port
    poll_until 10 "video-info: $2 on 127.0.0.1:$1" "$tmp/$2.log" "${pid[$2]:-}" poll_tcp "$1" || { keep=1; exit 1; }
}

# ---- the two stacks: clipapi (FastCGI) and the reference (uvicorn), each behind the site ----------
read -r cport chttp rport rhttp < <($PY -c '
import socket
ss=[socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1",0))
print(*[s.getsockname()[1] for s in ss])')
mkdir -p "$tmp/c" "$tmp/r" "$tmp/static"
nginx/render-prod "$tmp/c" "$cport" "$chttp" "$tmp/c/fcgi.sock" >/dev/null || fail "render-prod failed"
nginx/render-prod "$tmp/r" "$rport" "$rhttp" "$tmp/r/uvicorn.sock" >/dev/null || fail "render-prod failed"
csite=$tmp/c/conf/sites-enabled/clipapi.conf
rsite=$tmp/r/conf/sites-enabled/clipapi.conf
for d in c r; do
    # wrk's one address would be held to 20 r/s: exempt it as an operator exempts a client
    echo '127.0.0.1 1; # the bench: wrk on loopback' >>"$tmp/$d/conf/clipapi/limit-exempt.conf"
done
# the static ceiling: the same server answers the exact bytes of clipapi's v50 answer from a file
sed -i "s|^    include clipapi/errors.conf;\$|&\n    location = /__bench/v50.json { alias $tmp/static/v50.json; default_type application/json; }|" "$csite"
grep -q "alias $tmp/static/v50.json;" "$csite" || fail "the static location was not added to the site"
# the reference's copy: the same site with proxy_pass (HTTP/1.1 keep-alive) in place of
# clipapi/fastcgi.conf, and a keep-alive pool to uvicorn as its authors would configure it
cat >"$tmp/r/conf/clipapi/fastcgi.conf" <<'NGX'
proxy_pass http://clipapi_fcgi;
proxy_http_version 1.1;
proxy_set_header Connection "";
proxy_set_header Host $host;
proxy_set_header X-Request-Id $request_id;
proxy_hide_header X-Request-Id;
proxy_connect_timeout 5s;
proxy_read_timeout 30s;
proxy_buffers 16 16k;
proxy_buffer_size 16k;
NGX
sed -i 's|^    keepalive 1;$|    keepalive 32;|' "$rsite"
grep -q '^    keepalive 32;$' "$rsite" || fail "the reference's upstream keepalive was not set"
shipped_kc=$(sed -nE 's/^fastcgi_keep_conn (on|off);$/\1/p' "$tmp/c/conf/clipapi/fastcgi.conf")
[ -n "$shipped_kc" ] || fail "nginx/clipapi/fastcgi.conf has no fastcgi_keep_conn line"
other_kc=on
[ "$shipped_kc" = on ] && other_kc=off

export CLIPAPI_DEV_KEY_FILE=$tmp/dev-key.pem
"$BUILD/clipctl" dev-token --print-keyset >"$tmp/keys.json" || fail "clipctl dev-token --print-keyset failed"

clipapi_conf() { # backend HOST:PORT -> $tmp/c/clipapi.conf
    {
        [ -n "${VIDEO_BENCH_WORKERS:-}" ] && echo "workers = $WORKERS"
        [ -n "${VIDEO_BENCH_THREADS:-}" ] && [ -z "${VIDEO_BENCH_UNTHREADED:-}" ] && echo "threads = $THREADS"
        cat <<CONF
listen = unix:$tmp/c/fcgi.sock
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
    } >"$tmp/c/clipapi.conf"
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
        --uds "$tmp/r/uvicorn.sock" --workers "$REF_WORKERS" --loop uvloop --http httptools \
        --no-access-log --log-level info
    # Up when every worker process has imported the app and says so (the socket exists before
    # they do: nginx would get "connection refused" on it meanwhile) and the socket answers HTTP.
    ref_up() {
        [ "$(grep -c 'Application startup complete' "$tmp/reference.log")" -ge "$REF_WORKERS" ] &&
            [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' --unix-socket "$tmp/r/uvicorn.sock" \
                http://reference/api/videos/v50)" = 401 ]
    }
    poll_until 120 "video-info: the reference (uvicorn, $REF_WORKERS workers)" "$tmp/reference.log" \
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
start_nginx() { # c|r
    start "nginx_$1" nginx -p "$tmp/$1" -c "$tmp/$1/conf/nginx.conf" -g 'daemon off;'
}
start_nginx c
start_nginx r
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
cp "$tmp/c-v50.json" "$tmp/static/v50.json"
nworkers=$(ps -o pid= --ppid "${pid[clipapi]}" | wc -l)
[ "$nworkers" = "$WORKERS" ] ||
    fail "the pool started $nworkers workers, but etc/clipapi.conf.example says workers = $WORKERS"

# ---- 3.-5. throughput and latency --------------------------------------------------------------------
declare -A fig=()
wrk_run() { # label conns seconds url [script]: fills fig[label_*]
    local out=$tmp/wrk-$1.txt script=${5:-$top/bench/wrk-video-info.lua}
    timeout $(($3 + 30)) wrk -t2 -c"$2" -d"$3"s --timeout 15s -s "$script" "$4" >"$out" 2>&1 ||
        { cat "$out" >&2; fail "wrk $1 failed"; }
    local r d p50 p99 bad
    r=$(awk '$1=="wrk_requests"{print $2}' "$out")
    d=$(awk '$1=="wrk_duration_us"{print $2}' "$out")
    p50=$(awk '$1=="wrk_p50_us"{print $2}' "$out")
    p99=$(awk '$1=="wrk_p99_us"{print $2}' "$out")
    bad=$(awk '$1=="wrk_non2xx"||$1=="wrk_socket_errors"{s+=$2} END{print s+0}' "$out")
    [ "$1" = warm ] && return 0
    [ -n "$r" ] && [ "$r" -gt 0 ] || { cat "$out" >&2; fail "wrk $1: no requests"; }
    # WRK_COUNT_BAD=1: failed answers are a figure (fig[label_bad]) instead of failing the bench
    fig[$1_bad]=$bad
    [ "$bad" = 0 ] || [ -n "${WRK_COUNT_BAD:-}" ] || { cat "$out" >&2; fail "wrk $1: $bad failed requests"; }
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
set_delay() { # ms: the replay backend holds each answer that long from now on
    local got
    got=$(curl -s "http://127.0.0.1:$bport/__replay/delay?ms=$1")
    [ "$got" = "{\"delay_ms\":$1}" ] || fail "the replay backend refused the delay $1: $got"
}
curl_ok() { curl -sk -o /dev/null -w '%{http_code}' "$1" | grep -q 200; }
set_keep_conn() { # on|off: clipapi's nginx restarted with that fastcgi_keep_conn
    sed -i -E "s/^fastcgi_keep_conn (on|off);$/fastcgi_keep_conn $1;/" "$tmp/c/conf/clipapi/fastcgi.conf"
    stop_one nginx_c
    start_nginx c
    wait_port "$cport" nginx_c
}
cv50=https://127.0.0.1:$cport/api/videos/v50
rv50=https://127.0.0.1:$rport/api/videos/v50
sv50=https://127.0.0.1:$cport/__bench/v50.json
curl_ok "$sv50" || fail "the static copy of the v50 answer is not served"
cmp -s <(curl -sk "$sv50") "$tmp/static/v50.json" || fail "the static answer differs from the file"
half=$(((SECS + 1) / 2))

# 0 ms: the table of today
for c in 16 64; do
    for who in clipapi reference; do
        url=$cv50
        [ $who = reference ] && url=$rv50
        wrk_run warm "$c" "$WARM" "$url"
        wrk_run "${who}_$c" "$c" "$SECS" "$url"
    done
done
wrk_run warm 64 "$WARM" "$sv50"
wrk_run static_64 64 "$SECS" "$sv50"
wrk_run warm 64 "$WARM" "http://127.0.0.1:$bport" "$tmp/backend.lua"
# the backend's own latency, and both paced below capacity: three runs of half the time each and
# the median of each figure, since one stall of the shared machine moves a single run's p99
wrk_median3 backend_64 64 "$half" "http://127.0.0.1:$bport" "$tmp/backend.lua"
# the same 64 connections paced to ~PACE_RPS requests/s in all (below every capacity measured
# here): the latency each adds when nothing queues
export BENCH_PACE_MS=$((64000 / PACE_RPS))
wrk_median3 clipapi_64_paced 64 "$half" "$cv50"
wrk_median3 backend_64_paced 64 "$half" "http://127.0.0.1:$bport" "$tmp/backend.lua"
unset BENCH_PACE_MS
set_keep_conn "$other_kc"
wrk_run warm 64 "$WARM" "$cv50"
WRK_COUNT_BAD=1 wrk_run "clipapi_64_kc_$other_kc" 64 "$SECS" "$cv50"
set_keep_conn "$shipped_kc"

# with a backend delay: capacity, then latency at half of it
first_delay=${DELAYS%% *}
for d in $DELAYS; do
    set_delay "$d"
    # the backend's capacity at 128 connections (each of 64 video infos may have two calls in
    # flight): its waits overlap, so it serves connections / delay
    wrk_run warm 128 "$WARM" "http://127.0.0.1:$bport" "$tmp/backend.lua"
    wrk_run "backend_128_d$d" 128 "$half" "http://127.0.0.1:$bport" "$tmp/backend.lua"
    for who in clipapi reference; do
        url=$cv50
        [ $who = reference ] && url=$rv50
        wrk_run warm 64 "$WARM" "$url"
        wrk_run "${who}_64_d$d" 64 "$SECS" "$url"
    done
    [ "$d" = "$first_delay" ] || continue
    # paced at half of clipapi's capacity here: 64 connections each waiting 0..2x a pause that
    # offers ~capacity/2 in all (the requests' own time makes it a little less)
    pace_rps=$(awk -v r="${fig[clipapi_64_d${d}_rps]}" 'BEGIN{x = r / 2; printf "%d", (x < 1 ? 1 : x)}')
    export BENCH_PACE_MS=$((64000 / pace_rps))
    wrk_median3 "clipapi_64_d${d}_paced" 64 "$half" "$cv50"
    wrk_median3 "backend_64_d${d}_paced" 64 "$half" "http://127.0.0.1:$bport" "$tmp/backend.lua"
    unset BENCH_PACE_MS
    set_keep_conn "$other_kc"
    wrk_run warm 64 "$WARM" "$cv50"
    WRK_COUNT_BAD=1 wrk_run "clipapi_64_d${d}_kc_$other_kc" 64 "$SECS" "$cv50"
    set_keep_conn "$shipped_kc"
done
set_delay 0

# ---- 6. CPU per request and peak memory of the workers ----------------------------------------------
workers() { ps -o pid= --ppid "${pid[clipapi]}" | tr -d ' '; }
cpu_ns() { # sum of the on-CPU time of every thread of every worker (/proc/PID/schedstat is
    # only the main thread's)
    cat $(for w in $(workers); do echo /proc/"$w"/task/*/schedstat; done) | awk '{s += $1} END {printf "%.0f", s}'
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
ratio2() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a - b}'; }
# target NAME VALUE TARGET min|max: the figure's target and whether it is met, one line each
target() {
    echo "target_$1: $3"
    echo "$1_ok: $(awk -v v="$2" -v t="$3" -v k="$4" 'BEGIN{print ((k == "min" ? v >= t : v <= t) ? "yes" : "no")}')"
}
d1=$first_delay
{
    echo "video_info_load_avg_1min_at_start: $load0"
    echo "video_info_workers: $WORKERS"
    echo "video_info_threads: $THREADS"
    echo "video_info_reference_workers: $REF_WORKERS"
    echo "video_info_fastcgi_keep_conn: $shipped_kc"
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
    echo "p99_added_ms_64: $(minus "${fig[clipapi_64_p99]}" "${fig[backend_64_p99]}")"
    echo "paced_rps_clipapi_64: ${fig[clipapi_64_paced_rps]}"
    echo "p50_ms_clipapi_64_paced: ${fig[clipapi_64_paced_p50]}"
    echo "p99_ms_clipapi_64_paced: ${fig[clipapi_64_paced_p99]}"
    echo "p50_ms_backend_64_paced: ${fig[backend_64_paced_p50]}"
    echo "p99_ms_backend_64_paced: ${fig[backend_64_paced_p99]}"
    echo "p99_added_ms_64_paced: $(minus "${fig[clipapi_64_paced_p99]}" "${fig[backend_64_paced_p99]}")"
    echo "static_rps_64: ${fig[static_64_rps]}"
    echo "p99_ms_static_64: ${fig[static_64_p99]}"
    echo "video_info_vs_static_64: $(ratio2 "${fig[clipapi_64_rps]}" "${fig[static_64_rps]}")"
    for d in $DELAYS; do
        echo "rps_backend_128_d$d: ${fig[backend_128_d${d}_rps]}"
        echo "p99_ms_backend_128_d$d: ${fig[backend_128_d${d}_p99]}"
        # 1.00: every wait overlapped (128 connections / the delay)
        echo "backend_overlap_128_d$d: $(awk -v r="${fig[backend_128_d${d}_rps]}" -v d="$d" 'BEGIN{printf "%.2f", r / (128000 / d)}')"
        echo "video_info_rps_clipapi_64_d$d: ${fig[clipapi_64_d${d}_rps]}"
        echo "video_info_rps_reference_64_d$d: ${fig[reference_64_d${d}_rps]}"
        echo "video_info_rps_ratio_64_d$d: $(ratio "${fig[clipapi_64_d${d}_rps]}" "${fig[reference_64_d${d}_rps]}")"
        echo "video_info_keep_64_d$d: $(ratio2 "${fig[clipapi_64_d${d}_rps]}" "${fig[clipapi_64_rps]}")"
        echo "p50_ms_clipapi_64_d$d: ${fig[clipapi_64_d${d}_p50]}"
        echo "p99_ms_clipapi_64_d$d: ${fig[clipapi_64_d${d}_p99]}"
        echo "p50_ms_reference_64_d$d: ${fig[reference_64_d${d}_p50]}"
        echo "p99_ms_reference_64_d$d: ${fig[reference_64_d${d}_p99]}"
    done
    echo "paced_rps_clipapi_64_d${d1}_paced: ${fig[clipapi_64_d${d1}_paced_rps]}"
    echo "p50_ms_clipapi_64_d${d1}_paced: ${fig[clipapi_64_d${d1}_paced_p50]}"
    echo "p99_ms_clipapi_64_d${d1}_paced: ${fig[clipapi_64_d${d1}_paced_p99]}"
    echo "p50_ms_backend_64_d${d1}_paced: ${fig[backend_64_d${d1}_paced_p50]}"
    echo "p99_ms_backend_64_d${d1}_paced: ${fig[backend_64_d${d1}_paced_p99]}"
    echo "p99_added_ms_64_d${d1}_paced: $(minus "${fig[clipapi_64_d${d1}_paced_p99]}" "${fig[backend_64_d${d1}_paced_p99]}")"
    # fastcgi_keep_conn: the site's setting (the runs above) and the other one
    for k in "" "_d$d1"; do
        for kc in on off; do
            l=clipapi_64${k}_kc_$kc
            [ "$kc" = "$shipped_kc" ] && l=clipapi_64$k
            echo "video_info_rps_clipapi_64${k}_keep_conn_$kc: ${fig[${l}_rps]}"
            echo "p99_ms_clipapi_64${k}_keep_conn_$kc: ${fig[${l}_p99]}"
            echo "failed_clipapi_64${k}_keep_conn_$kc: ${fig[${l}_bad]}"
        done
    done
    echo "cpu_us_per_req_50: $(awk -v x="${fig[cpu_v50]}" 'BEGIN{printf "%.0f", x / 1000}')"
    echo "cpu_ms_per_req_5000: $(awk -v x="${fig[cpu_v5000]}" 'BEGIN{printf "%.2f", x / 1e6}')"
    echo "worker_peak_mib_5000: $(awk -v x="$peak_kib" 'BEGIN{printf "%.1f", x / 1024}')"
    echo "replay_misses: $misses"
} >"$tmp/figures.txt"
v() { awk -v k="$1:" '$1==k{print $2}' "$tmp/figures.txt"; }
# issue 15's targets, each beside its figure
{
    target video_info_keep_64_d$d1 "$(v video_info_keep_64_d$d1)" 0.80 min
    target video_info_rps_ratio_64_d$d1 "$(v video_info_rps_ratio_64_d$d1)" 10 min
    # one round trip (the backend's own paced p50) + 3 ms
    target p50_ms_clipapi_64_d${d1}_paced "$(v p50_ms_clipapi_64_d${d1}_paced)" \
        "$(awk -v b="$(v p50_ms_backend_64_d${d1}_paced)" 'BEGIN{printf "%.2f", b + 3}')" max
    target p99_added_ms_64_d${d1}_paced "$(v p99_added_ms_64_d${d1}_paced)" 2 max
    target video_info_vs_static_64 "$(v video_info_vs_static_64)" 0.25 min
    target video_info_rps_ratio_64 "$(v video_info_rps_ratio_64)" 30 min
    target cpu_ms_per_req_5000 "$(v cpu_ms_per_req_5000)" 10 max
    target worker_peak_mib_5000 "$(v worker_peak_mib_5000)" 32 max
} >>"$tmp/figures.txt"
cat "$tmp/figures.txt"

cat <<TABLE
| video info (v50, ${SECS} s each) | clipapi | reference | ratio |
|---|---|---|---|
| requests/s, 16 connections | $(v video_info_rps_clipapi_16) | $(v video_info_rps_reference_16) | $(v video_info_rps_ratio_16)x |
| p50 / p99 ms, 16 connections | $(v p50_ms_clipapi_16) / $(v p99_ms_clipapi_16) | $(v p50_ms_reference_16) / $(v p99_ms_reference_16) | |
| requests/s, 64 connections | $(v video_info_rps_clipapi_64) | $(v video_info_rps_reference_64) | $(v video_info_rps_ratio_64)x |
| p50 / p99 ms, 64 connections | $(v p50_ms_clipapi_64) / $(v p99_ms_clipapi_64) | $(v p50_ms_reference_64) / $(v p99_ms_reference_64) | |
$(for d in $DELAYS; do
    echo "| requests/s, 64 connections, backend delay $d ms | $(v video_info_rps_clipapi_64_d$d) | $(v video_info_rps_reference_64_d$d) | $(v video_info_rps_ratio_64_d$d)x |"
    echo "| p50 / p99 ms, 64 connections, backend delay $d ms | $(v p50_ms_clipapi_64_d$d) / $(v p99_ms_clipapi_64_d$d) | $(v p50_ms_reference_64_d$d) / $(v p99_ms_reference_64_d$d) | |"
done)
| nginx serving the same bytes as a static file, 64 connections: requests/s | $(v static_rps_64) | | clipapi $(v video_info_vs_static_64)x of it |
| replay backend alone, 64 connections: p99 ms | $(v p99_ms_backend_64) | | |
| clipapi p99 above the backend's, 64 connections | $(v p99_added_ms_64) ms | | |
| paced to ~$PACE_RPS req/s on 64 connections: clipapi p50 / p99 ms | $(v p50_ms_clipapi_64_paced) / $(v p99_ms_clipapi_64_paced) | | |
| paced: replay backend p50 / p99 ms; clipapi's p99 above it | $(v p50_ms_backend_64_paced) / $(v p99_ms_backend_64_paced); $(v p99_added_ms_64_paced) ms | | |
| backend delay $d1 ms, paced at half of clipapi's capacity ($(v paced_rps_clipapi_64_d${d1}_paced) req/s): clipapi p50 / p99 ms | $(v p50_ms_clipapi_64_d${d1}_paced) / $(v p99_ms_clipapi_64_d${d1}_paced) | | |
| the same: replay backend p50 / p99 ms; clipapi's p99 above it | $(v p50_ms_backend_64_d${d1}_paced) / $(v p99_ms_backend_64_d${d1}_paced); $(v p99_added_ms_64_d${d1}_paced) ms | | |
| fastcgi_keep_conn on / off, 64 connections: requests/s; p99 ms | $(v video_info_rps_clipapi_64_keep_conn_on) / $(v video_info_rps_clipapi_64_keep_conn_off); $(v p99_ms_clipapi_64_keep_conn_on) / $(v p99_ms_clipapi_64_keep_conn_off) | | |
| the same at backend delay $d1 ms | $(v video_info_rps_clipapi_64_d${d1}_keep_conn_on) / $(v video_info_rps_clipapi_64_d${d1}_keep_conn_off); $(v p99_ms_clipapi_64_d${d1}_keep_conn_on) / $(v p99_ms_clipapi_64_d${d1}_keep_conn_off) | | |
| worker CPU per request, 50 clips | $(v cpu_us_per_req_50) µs | | |
| worker CPU per request, 5,000 clips | $(v cpu_ms_per_req_5000) ms | | |
| worker peak memory (VmHWM) after 5,000-clip requests | $(v worker_peak_mib_5000) MiB | | |
TABLE

# ---- the picture ------------------------------------------------------------------------------------
mkdir -p "$BUILD/bench"
{
    echo "0 $(v video_info_rps_clipapi_64) $(v video_info_rps_reference_64) $(v p99_ms_clipapi_64) $(v p99_ms_reference_64)"
    for d in $DELAYS; do
        echo "$d $(v video_info_rps_clipapi_64_d$d) $(v video_info_rps_reference_64_d$d) $(v p99_ms_clipapi_64_d$d) $(v p99_ms_reference_64_d$d)"
    done
} >"$BUILD/bench/video-info.dat"
cp "$tmp/figures.txt" "$BUILD/bench/video-info.txt"
when="$(date -u +%Y-%m-%d), $(nproc) cores; clipapi: $WORKERS workers x $THREADS threads; reference: $REF_WORKERS uvicorn workers"
if command -v gnuplot >/dev/null; then
    gnuplot -e "dat='$BUILD/bench/video-info.dat'; out='$BUILD/bench/video-info.svg'; static=$(v static_rps_64); when='$when'" \
        bench/video-info.gp || fail "gnuplot failed"
    say "drew $BUILD/bench/video-info.svg"
else
    say "gnuplot is missing (make deps installs it): no $BUILD/bench/video-info.svg"
fi
