#!/usr/bin/env bash
# events: the live updates of issue 17 under load: Server-Sent Event streams held by nginx's nchan
# over TLS, behind what is deployed (the production site nginx/clipapi.conf rendered by
# nginx/render-prod under Debian's nginx.conf, with the includes events.conf and
# events-publish.conf as shipped), the pool authorizing every connect (a ticket from
# `clipctl events-ticket`), the writes going through the internal API to the Firestore emulator
# and the pool publishing after each one.
#
# For each count of EVENTS_BENCH_SUBS (1,000 and 10,000), on a freshly started nginx, the load client
# bench/events_load.c (one process, epoll, OpenSSL; every connection a full TLS handshake):
#  1. opens that many streams, spread evenly over EVENTS_BENCH_VIDEOS videos (100), each a GET
#     /api/videos/{id}/events?ticket=T answered 200 text/event-stream; all must be open at once;
#  2. memory: the proportional set size (Pss) of nginx's master and workers (nchan's shared memory
#     included, and also apart) before the first connect and with every stream open and idle, per
#     stream (the connection tables nginx allocates at start for worker_connections are in the
#     "before");
#  3. latency: three rounds of EVENTS_BENCH_WRITES clip status writes (PATCH on the internal API,
#     over TLS, one after another, round robin over the videos, each marked in its `error` field),
#     the time from each write's answer to its event at every subscriber of its video (an event
#     that arrives before the answer counts 0 ms; how many did is a figure too): the median of the
#     rounds' p50 and p99 (one stall of the shared machine moves one round's p99), each round's,
#     and all rounds' together (`_all`);
#  4. publish rate: EVENTS_BENCH_PUBLISHES events POSTed straight to nchan's publisher socket (the
#     pool's events_publish_url) on 4 connections at once, round robin over the videos: events per
#     second from the first POST to the last event at the last subscriber (the write path's own rate
#     is the Firestore emulator's, so it is printed apart as events_writes_per_s);
# and every subscriber must get every event of its video, in order, and none of another.
# EVENTS_BENCH_HOLD=S keeps every stream open and idle S more seconds after the memory figure (the
# load log says "holding"), for a look at nginx's workers (pmap, /proc/PID/smaps).
# Then the figures (`name: value`) and issue 17's targets as `target_*` beside `*_ok: yes|no`.
# File descriptors: the client and nginx's workers get what the counts need (ulimit -n,
# worker_rlimit_nofile, worker_connections in the bench's own nginx.conf); the bench fails with one
# line when the hard limit is too low. Everything is on 127.0.0.1 and stopped at the end.
set -u
cd "$(dirname "$0")/.."
top=$PWD
BUILD=${CLIPAPI_BUILD:-$PWD/build}
PY=/usr/bin/python3
COUNTS=${EVENTS_BENCH_SUBS:-1000 10000}
VIDEOS=${EVENTS_BENCH_VIDEOS:-100}
WRITES=${EVENTS_BENCH_WRITES:-200} # a round; three rounds
PUBLISHES=${EVENTS_BENCH_PUBLISHES:-2000}
LIMIT=${EVENTS_BENCH_LIMIT:-300} # the whole run, seconds
UID_=evbench

BENCH_NAME=events BENCH_TMP=events-bench keep=${EVENTS_BENCH_KEEP:-}
. bench/procs.bash

load0=$(cut -d' ' -f1 /proc/loadavg)
for b in "$BUILD/clipapi-fcgi" "$BUILD/clipctl" "$BUILD/bench/events_load"; do
    [ -x "$b" ] || fail "$b is missing (make bench builds it)"
done
ls /etc/nginx/modules-enabled/*nchan* >/dev/null 2>&1 ||
    fail "nginx's nchan module is not enabled (make deps installs libnginx-mod-nchan)"

# ---- file descriptors -----------------------------------------------------------------------------
max=0
for n in $COUNTS; do [ "$n" -gt "$max" ] && max=$n; done
need=$((max + 1024)) # the client: every stream, the writer, the publishers, the rest
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge "$need" ] || ulimit -Hn "$need" 2>/dev/null ||
    fail "ulimit -Hn is $hard, the bench needs $need open files for $max streams (raise the hard limit)"
ulimit -Sn "$need" || fail "ulimit -n $need failed"
# each nginx worker may take every stream (no accept balancing), plus its pool connections
ngx_conns=$((max + 1024))
ngx_files=$((2 * ngx_conns))
[ "$hard" = unlimited ] || [ "$ngx_files" -le "$hard" ] || ngx_files=$hard

start() { # name cmd...: in the background, output in $tmp/name.log
    local n=$1
    shift
    "$@" >"$tmp/$n.log" 2>&1 &
    pid[$n]=$!
}
wait_for() { # file pattern seconds name: a line of the log, while that process runs
    poll_until "$3" "events: $4" "$1" "${pid[$4]:-}" poll_log "$1" "$2" || { keep=1; exit 1; }
}

# ---- the stack: emulator, pool, the site ----------------------------------------------------------
read -r port http_port kport < <($PY -c '
import socket
ss=[socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1",0))
print(*[s.getsockname()[1] for s in ss])')
run=$tmp/c
mkdir -p "$run"
nginx/render-prod "$run" "$port" "$http_port" "$run/fcgi.sock" >/dev/null || fail "render-prod failed"
site=$run/conf/sites-enabled/clipapi.conf
conf=$run/conf/nginx.conf
# the client's one address would be held to 20 r/s: exempt it as an operator exempts a client
echo '127.0.0.1 1; # the bench: the load client on loopback' >>"$run/conf/clipapi/limit-exempt.conf"
# the bench's own limits (Debian's nginx.conf has 768 connections a worker)
sed -i -E "s/^    worker_connections [0-9]+;$/    worker_connections $ngx_conns;/" "$conf"
sed -i -E "s|^(worker_processes .*;)$|\1\nworker_rlimit_nofile $ngx_files;|" "$conf"
grep -q "^    worker_connections $ngx_conns;$" "$conf" || fail "worker_connections was not set in $conf"
grep -q "^worker_rlimit_nofile $ngx_files;$" "$conf" || fail "worker_rlimit_nofile was not set in $conf"
grep -q "include clipapi/events.conf;" "$site" || fail "the site has no events.conf (no live updates)"
# Experiments (the figures say which was used; unset: as shipped):
# EVENTS_BENCH_FASTCGI_BUFFER_SIZE (e.g. 16k): the buffer of the pool's answer to the stream's
# authorize step (the site's location of /api/videos/{id}/events), instead of the site's;
# EVENTS_BENCH_SSL_BUFFER_SIZE (e.g. 16k, nginx's default): nginx's TLS send buffer of the site's
# HTTPS server, instead of the site's.
evloc='/^    location ~ \^\/api\/videos\/\[\^\/\]\+\/events\$ \{$/,/^    \}$/'
fcgi_buf=$(sed -nE "${evloc}s/^        fastcgi_buffer_size ([0-9]+[km]?);$/\1/p" "$site")
[ -n "$fcgi_buf" ] || fail "the site has no fastcgi_buffer_size in the location of the event streams"
if [ -n "${EVENTS_BENCH_FASTCGI_BUFFER_SIZE:-}" ]; then
    fcgi_buf=$EVENTS_BENCH_FASTCGI_BUFFER_SIZE
    sed -i -E "${evloc}s/^        fastcgi_buffer_size [0-9]+[km]?;$/        fastcgi_buffer_size $fcgi_buf;/" "$site"
    sed -nE "${evloc}p" "$site" | grep -q "^        fastcgi_buffer_size $fcgi_buf;$" ||
        fail "fastcgi_buffer_size was not set"
fi
ssl_buf=$(sed -nE 's/^    ssl_buffer_size ([0-9]+[km]?);$/\1/p' "$site")
[ -n "$ssl_buf" ] || ssl_buf="16k (nginx's default)"
if [ -n "${EVENTS_BENCH_SSL_BUFFER_SIZE:-}" ]; then
    ssl_buf=$EVENTS_BENCH_SSL_BUFFER_SIZE
    sed -i -E "/^    ssl_buffer_size /d; s/^    ssl_session_timeout (.*);$/&\n    ssl_buffer_size $ssl_buf;/" "$site"
    grep -q "^    ssl_buffer_size $ssl_buf;$" "$site" || fail "ssl_buffer_size was not set"
fi
pubsock=$run/events-pub.sock

openssl rand -hex 32 >"$tmp/internal-keys" || fail "openssl rand failed"
ikey=$(cat "$tmp/internal-keys")
openssl rand -hex 32 >"$tmp/events-ticket.key" || fail "openssl rand failed"
chmod 600 "$tmp/internal-keys" "$tmp/events-ticket.key"

# the dev key set, served as Google serves its own (the pool fetches it at start; tickets need none)
mkdir -p "$tmp/www"
CLIPAPI_DEV_KEY_FILE=$tmp/dev-key.pem "$BUILD/clipctl" dev-token --print-keyset >"$tmp/www/keys.json" ||
    fail "clipctl dev-token --print-keyset failed"
start keys $PY -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$kport"
poll_until 10 "events: the key set on 127.0.0.1:$kport" "$tmp/keys.log" "${pid[keys]}" poll_tcp "$kport" ||
    { keep=1; exit 1; }
start emulator tests/emulators/firestore/serve --host 127.0.0.1 --port 0 --port-file "$tmp/emu.port" \
    --indexes firestore.indexes.json
wait_for "$tmp/emulator.log" '^ready' 20 emulator
emu=127.0.0.1:$(cat "$tmp/emu.port")
cat >"$tmp/clipapi.conf" <<CONF
listen = unix:$run/fcgi.sock
max_requests = 1000000
log_level = warn
firestore_project = demo-evbench
firestore_emulator_host = $emu
auth_keys_url = http://127.0.0.1:$kport/keys.json
r2_endpoint = http://127.0.0.1:9
r2_bucket = clips
r2_access_key_id = BENCHKEYID
r2_secret_access_key = BENCHSECRET
internal_keys_file = $tmp/internal-keys
events_publish_url = unix:$pubsock
events_ticket_key_file = $tmp/events-ticket.key
CONF
start clipapi "$BUILD/clipapi-fcgi" --config "$tmp/clipapi.conf"
poll_until 20 "events: clipapi" "$tmp/clipapi.log" "${pid[clipapi]}" poll_unix "$run/fcgi.sock" ||
    { keep=1; exit 1; }

start_nginx() {
    start nginx nginx -p "$run" -c "$conf" -g 'daemon off;'
    poll_until 10 "events: nginx on 127.0.0.1:$port" "$tmp/nginx.log" "${pid[nginx]}" poll_tcp "$port" ||
        { keep=1; exit 1; }
    poll_until 10 "events: nchan's publisher on $pubsock" "$tmp/nginx.log" "${pid[nginx]}" \
        poll_unix "$pubsock" || { keep=1; exit 1; }
}
start_nginx
ca=$run/tls/fullchain.pem
load() { "$BUILD/bench/events_load" "$@" --port "$port" --ca "$ca" --uid "$UID_" --videos "$VIDEOS" --key "$ikey"; }

# ---- the videos, a clip in each, a ticket for each ------------------------------------------------
load seed >"$tmp/seed.out" 2>"$tmp/seed.log" || fail "seeding failed: $(tail -1 "$tmp/seed.log")"
for ((v = 0; v < VIDEOS; v++)); do
    "$BUILD/clipctl" --config "$tmp/clipapi.conf" events-ticket --expires 3600 "$UID_" \
        "$(printf 'evb%03d' "$v")" || fail "clipctl events-ticket failed"
done >"$tmp/tickets" 2>"$tmp/tickets.log"
[ "$(wc -l <"$tmp/tickets")" = "$VIDEOS" ] || fail "clipctl events-ticket: $(tail -1 "$tmp/tickets.log")"

# ---- each count on a fresh nginx -------------------------------------------------------------------
declare -A fig=()
for n in $COUNTS; do
    stop_one nginx
    start_nginx
    # the workers, once the master has started all of them (worker_processes auto: one a core)
    # (poll_until has a local `pid`: the function reads the master's pid from master)
    master=${pid[nginx]}
    nginx_workers() { [ "$(ps -o pid= --ppid "$master" | wc -l)" -ge "$(nproc)" ]; }
    poll_until 10 "events: nginx's $(nproc) workers" "$run/logs/error.log" "$master" nginx_workers ||
        { keep=1; exit 1; }
    npids="$master $(ps -o pid= --ppid "$master" | tr '\n' ' ')"
    out=$tmp/load-$n.out
    say "$n streams over $VIDEOS videos (nginx $npids, log $tmp/load-$n.log)"
    load run --tickets "$tmp/tickets" --subs "$n" --writes "$WRITES" --publishes "$PUBLISHES" \
        --pub-sock "$pubsock" --pids "$npids" --hold-seconds "${EVENTS_BENCH_HOLD:-0}" >"$out" 2>"$tmp/load-$n.log" || {
        cat "$out" >&2
        fail "$n streams: $(tail -1 "$tmp/load-$n.log") (log: $tmp/load-$n.log, nginx: $run/logs/error.log)"
    }
    while read -r k val; do fig[${k}_$n]=$val; done <"$out"
done

# ---- figures ----------------------------------------------------------------------------------------
# target NAME VALUE TARGET min|max|max_excl: the figure's target and whether it is met, one line each
target() {
    echo "target_$1: $3"
    echo "$1_ok: $(awk -v v="$2" -v t="$3" -v k="$4" 'BEGIN{print ((k == "min" ? v >= t : v < t) ? "yes" : "no")}')"
}
{
    echo "events_load_avg_1min_at_start: $load0"
    echo "events_videos: $VIDEOS"
    echo "events_nginx_workers: $(($(wc -w <<<"$npids") - 1))"
    echo "events_fastcgi_buffer_size: $fcgi_buf"
    echo "events_ssl_buffer_size: $ssl_buf"
    for n in $COUNTS; do
        echo "events_subscribers_$n: ${fig[subs_held_$n]}"
        echo "events_connect_s_$n: ${fig[connect_s_$n]}"
        echo "events_connects_per_s_$n: ${fig[connects_per_s_$n]}"
        echo "events_kib_per_sub_$n: ${fig[kib_per_sub_$n]}"
        # of it in nginx's shared memory zones (nchan's, the TLS session cache)
        echo "events_kib_per_sub_shared_$n: ${fig[kib_per_sub_shared_$n]}"
        echo "events_nginx_pss_mib_before_$n: $(awk -v k="${fig[nginx_pss_kib_before_$n]}" 'BEGIN{printf "%.1f", k / 1024}')"
        echo "events_nginx_pss_mib_$n: $(awk -v k="${fig[nginx_pss_kib_open_$n]}" 'BEGIN{printf "%.1f", k / 1024}')"
        echo "events_writes_$n: ${fig[writes_$n]}"
        echo "events_write_rounds_$n: ${fig[write_rounds_$n]}"
        echo "events_latency_samples_$n: ${fig[write_events_received_$n]}"
        # the medians of the rounds (the figures of issue 17), then each round, then all together
        echo "events_latency_ms_p50_$n: ${fig[latency_ms_p50_$n]}"
        echo "events_latency_ms_p99_$n: ${fig[latency_ms_p99_$n]}"
        for ((r = 1; r <= ${fig[write_rounds_$n]}; r++)); do
            echo "events_latency_ms_p50_${n}_round$r: ${fig[latency_ms_p50_round${r}_$n]}"
            echo "events_latency_ms_p99_${n}_round$r: ${fig[latency_ms_p99_round${r}_$n]}"
        done
        echo "events_latency_ms_p50_${n}_all: ${fig[latency_ms_p50_all_$n]}"
        echo "events_latency_ms_p99_${n}_all: ${fig[latency_ms_p99_all_$n]}"
        echo "events_latency_ms_max_$n: ${fig[latency_ms_max_$n]}"
        echo "events_before_answer_pct_$n: ${fig[before_answer_pct_$n]}"
        echo "events_latency_from_request_ms_p50_$n: ${fig[latency_from_request_ms_p50_$n]}"
        echo "events_latency_from_request_ms_p99_$n: ${fig[latency_from_request_ms_p99_$n]}"
        echo "events_write_ms_p50_$n: ${fig[write_ms_p50_$n]}"
        echo "events_write_ms_p99_$n: ${fig[write_ms_p99_$n]}"
        echo "events_writes_per_s_$n: ${fig[writes_per_s_$n]}"
        echo "events_publish_per_s_$n: ${fig[publish_per_s_$n]}"
        echo "events_deliveries_per_s_$n: ${fig[deliveries_per_s_$n]}"
        echo "events_publish_posted_per_s_$n: ${fig[publish_posted_per_s_$n]}"
        echo "events_missing_$n: ${fig[events_missing_$n]}"
    done
    echo "events_load_avg_1min_at_end: $(cut -d' ' -f1 /proc/loadavg)"
} >"$tmp/figures.txt"
v() { awk -v k="$1:" '$1==k{print $2}' "$tmp/figures.txt"; }
first=${COUNTS%% *}
last=${COUNTS##* }
# issue 17's targets: p99 under 50 ms at 1,000 streams, 10,000 held, under 16 KiB each
{
    target "events_latency_ms_p99_$first" "$(v "events_latency_ms_p99_$first")" 50 max
    target "events_subscribers_$last" "$(v "events_subscribers_$last")" 10000 min
    target "events_kib_per_sub_$last" "$(v "events_kib_per_sub_$last")" 16 max
} >>"$tmp/figures.txt"
cat "$tmp/figures.txt"
mkdir -p "$BUILD/bench"
cp "$tmp/figures.txt" "$BUILD/bench/events.txt"
