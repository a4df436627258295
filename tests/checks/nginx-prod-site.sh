#!/usr/bin/env bash
# nginx-prod-site: the production site nginx/clipapi.conf passes `nginx -t` with generated
# certificates and paths (a temp prefix, runnable without root). Then, served on free loopback
# ports, it answers what nginx makes itself in the contract's JSON error shape: 404 outside the
# API, 502 when the pool is down, 504 when it does not answer, 413 over client_max_body_size, 429
# from limit_req, 403 on /api/internal/ and /metrics from a non-allowed address; with HSTS, one
# X-Request-Id equal to the body's request_id, HTTP/2, TLS 1.1 refused, HTTP redirected. Behind a
# load balancer (X-Forwarded-For from 127.0.0.2): clients share one limit_req budget until
# clipapi/real-ip.conf lists the balancer, then get one each; limit-exempt.conf exempts. With the
# real pool on the socket: /healthz 200, the pool's own JSON 404 carrying nginx's request id, and
# a load run through the site's FastCGI settings that sees only 200s; an event stream through
# nchan over HTTP/2, its nchan locations not reachable from outside.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
fail() { echo "nginx-prod-site: FAIL: $*" >&2; exit 1; }
. tests/support/poll.sh
# up SECONDS WHAT LOG PID CMD...: polls CMD; on the deadline (or PID gone) fails naming WHAT and LOG
up() { poll_until "$@" || fail "see the line above"; }
answers() { curl -sk -o /dev/null -m 5 "$1"; } # any HTTP answer

tmp=$(mktemp -d /tmp/clipapi-nginx.XXXXXX)
nginx_pid=""
nginx2_pid=""
cleanup() {
    local rc=$?
    if [ -n "$nginx2_pid" ]; then
        kill -QUIT "$nginx2_pid" 2>/dev/null || true
        poll_gone 5 "$nginx2_pid" || kill -KILL "$nginx2_pid" 2>/dev/null || true
    fi
    if [ -n "${pool_pid:-}" ]; then kill -KILL "$pool_pid" 2>/dev/null || true; wait "$pool_pid" 2>/dev/null || true; fi
    if [ -n "${hole:-}" ]; then kill -KILL "$hole" 2>/dev/null || true; fi
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        poll_gone 5 "$nginx_pid" || kill -KILL "$nginx_pid" 2>/dev/null || true
    fi
    # a failure keeps the logs it names
    [ $rc -eq 0 ] && rm -rf "$tmp" || echo "nginx-prod-site: kept $tmp" >&2
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT

# Two free loopback ports (bound and released by python; nginx binds them a moment later).
read -r https_port http_port load_port load_http_port < <(python3 -c '
import socket
ss=[socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1",0))
print(*[s.getsockname()[1] for s in ss])')

# The site as an operator installs it (sites-enabled/ + clipapi/ includes beside nginx.conf), with
# the certificate paths, the socket and the listen addresses pointed into the temp prefix.
NGINX_WORKER_PROCESSES=2 nginx/render-prod "$tmp" "$https_port" "$http_port" "$tmp/fcgi.sock" >/dev/null ||
    fail "nginx/render-prod"
# A short read timeout, so that the 504 check below does not wait the production 30 s.
sed -i 's|^fastcgi_read_timeout 30s;$|fastcgi_read_timeout 2s;|' "$tmp/conf/clipapi/fastcgi.conf"
grep -qx 'fastcgi_read_timeout 2s;' "$tmp/conf/clipapi/fastcgi.conf" || fail "rewrite missed: read timeout"

out=$(nginx -p "$tmp" -c "$tmp/conf/nginx.conf" -t 2>&1) || { echo "$out"; fail "nginx -t"; }
echo "$out"
echo "nginx -t: ok"

# ---- served: what nginx answers by itself ----------------------------------------------------
nginx -p "$tmp" -c "$tmp/conf/nginx.conf" -g "daemon off; master_process on;" 2>>"$tmp/logs/stderr" &
nginx_pid=$!
up 10 "nginx on 127.0.0.1:$https_port" "$tmp/logs/stderr" "$nginx_pid" answers "https://127.0.0.1:$https_port/"

# request PATH [curl args...]: sets code, body, hdrs
request() {
    local path=$1; shift
    : >"$tmp/h"
    body=$(curl -sk --http2 -D "$tmp/h" "$@" "https://127.0.0.1:$https_port$path") || true
    code=$(awk 'NR==1{print $2}' "$tmp/h")
    hdrs=$(tr -d '\r' <"$tmp/h")
}
# expect_json_error STATUS CODE PATH [curl args...]
expect_json_error() {
    local path=$3
    request "$path" "${@:4}"
    check_json_error "$@"
}
# check_json_error STATUS CODE PATH: the answer last read by request
check_json_error() {
    local status=$1 ecode=$2 path=$3
    [ "$code" = "$status" ] || fail "$path: status $code, want $status"
    grep -qi '^content-type: application/json' <<<"$hdrs" || fail "$path: not JSON: $hdrs"
    grep -qi '^strict-transport-security: max-age=' <<<"$hdrs" || fail "$path: no HSTS"
    local rid
    rid=$(awk -F': ' 'tolower($1)=="x-request-id"{print $2}' <<<"$hdrs")
    [[ $rid =~ ^[0-9a-f]{32}$ ]] || fail "$path: X-Request-Id '$rid'"
    python3 - "$body" "$ecode" "$rid" <<'PY' || fail "$path: body $body"
import json, sys
body, code, rid = sys.argv[1:4]
e = json.loads(body)["error"]
assert e["code"] == code, e
assert e["request_id"] == rid, (e, rid)
assert isinstance(e["message"], str) and e["message"], e
PY
    echo "ok $status $ecode $path"
}

expect_json_error 404 not_found /nowhere
expect_json_error 404 not_found /index.html
expect_json_error 502 bad_gateway /api/videos               # no pool on the socket
expect_json_error 502 bad_gateway /healthz
expect_json_error 502 bad_gateway /metrics                  # loopback may, the pool is down
# A pool that accepts but never answers: nginx's 504, in JSON.
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(16)
conns = []
end = time.time() + 30
while time.time() < end:
    s.settimeout(end - time.time())
    try: conns.append(s.accept()[0])
    except OSError: break
' "$tmp/fcgi.sock" &
hole=$!
up 10 "the socket that never answers" "(python, stderr above)" "$hole" test -S "$tmp/fcgi.sock"
expect_json_error 504 deadline_exceeded /api/videos
kill "$hole"; wait "$hole" 2>/dev/null || true; hole=""; rm -f "$tmp/fcgi.sock"
head -c 1100000 /dev/zero >"$tmp/big"
expect_json_error 413 too_large /api/internal/users/u/videos/v -X PUT \
    -H 'Content-Type: application/json' --data-binary @"$tmp/big"
[ "$(grep -c '^x-request-id:' <<<"$(tr 'A-Z' 'a-z' <<<"$hdrs")")" = 1 ] || fail "X-Request-Id not exactly once"
grep -q '^HTTP/2 ' "$tmp/h" || fail "not HTTP/2: $(head -1 "$tmp/h")"

# ---- the real pool behind the production site --------------------------------------------------
BUILD=${CLIPAPI_BUILD:-$PWD/build}
pool_pid=""
if [ -x "$BUILD/clipapi-fcgi" ]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/events.key"
    printf 'workers = 3\nshutdown_timeout = 5\nlog_level = warn\nevents_ticket_key_file = %s\nevents_publish_url = unix:%s\n' \
        "$tmp/events.key" "$tmp/events-pub.sock" >"$tmp/clipapi.conf"
    env -i PATH=/usr/bin:/bin "$BUILD/clipapi-fcgi" --config "$tmp/clipapi.conf" \
        --listen "unix:$tmp/fcgi.sock" >"$tmp/logs/pool.log" 2>&1 &
    pool_pid=$!
    up 10 "clipapi-fcgi on $tmp/fcgi.sock" "$tmp/logs/pool.log" "$pool_pid" test -S "$tmp/fcgi.sock"
    request /healthz
    [ "$code" = 200 ] || { cat "$tmp/logs/pool.log" "$tmp/logs/error.log"; fail "/healthz via pool: $code"; }
    [ "$body" = '{"status":"ok"}' ] || fail "/healthz body: $body"
    grep -qi '^strict-transport-security: max-age=' <<<"$hdrs" || fail "/healthz: no HSTS"
    [ "$(grep -ci '^x-request-id:' <<<"$hdrs")" = 1 ] || fail "/healthz: X-Request-Id not exactly once"
    echo "ok 200 /healthz through the pool"
    # The pool's own 404: its JSON passes through untouched, with nginx's $request_id in it.
    expect_json_error 404 not_found /api/no-such-endpoint
    # A run of requests, one connection to the pool each: all answered.
    okc=0
    for _ in $(seq 20); do
        c=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$https_port/healthz") || c=000
        [ "$c" = 200 ] && okc=$((okc + 1))
    done
    [ "$okc" = 20 ] || fail "only $okc of 20 /healthz through the pool answered 200"
    echo "ok 20 of 20 /healthz through the pool"
    # An event stream through the site over HTTP/2: the pool's X-Accel-Redirect hands it to
    # nchan, and what is published on the loopback publisher arrives.
    tpath=$("$BUILD/clipctl" --config "$tmp/clipapi.conf" events-ticket --url u1 v1)
    curl -sk --http2 -N -D "$tmp/sh" -H 'Accept: text/event-stream' --max-time 10 \
        "https://127.0.0.1:$https_port$tpath" >"$tmp/stream" 2>/dev/null &
    streamer=$!
    up 5 "the event stream through the site" "$tmp/sh $tmp/stream" "$streamer" poll_log "$tmp/stream" '^: hi'
    pub=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'X-EventSource-Event: clip' \
        -d '{"prod":"site"}' --unix-socket "$tmp/events-pub.sock" "http://localhost/_events/pub/u1.v1")
    [ "$pub" = 201 ] || fail "publish: $pub"
    up 5 "the published event at the subscriber" "$tmp/stream" "$streamer" \
        poll_log "$tmp/stream" '^data: {"prod":"site"}'
    grep -q '^event: clip' "$tmp/stream" || fail "no event name: $(cat "$tmp/stream")"
    grep -q '^HTTP/2 200' "$tmp/sh" || fail "stream not HTTP/2 200: $(head -1 "$tmp/sh")"
    grep -qi '^content-type: text/event-stream' "$tmp/sh" || fail "stream type: $(cat "$tmp/sh")"
    kill "$streamer" 2>/dev/null; wait "$streamer" 2>/dev/null || true
    echo "ok event stream over HTTP/2 through the site"
    # Neither nchan location is reachable from outside.
    expect_json_error 404 not_found /_events/sub/u1.v1
    expect_json_error 404 not_found /_events/pub/u1.v1 -X POST -d x
    kill -TERM "$pool_pid"; wait "$pool_pid" || true; pool_pid=""
    expect_json_error 502 bad_gateway /healthz                 # and down again
else
    echo "note: $BUILD/clipapi-fcgi not built, the pool part is skipped"
fi

# Allow lists: the same site with loopback removed from them must answer 403 JSON.
sed -i -e '/^allow 127.0.0.0\/8;/d' "$tmp/conf/clipapi/internal-allow.conf"
sed -i -e '/allow 127.0.0.1;/d' "$tmp/conf/sites-enabled/clipapi.conf"
nginx -p "$tmp" -c "$tmp/conf/nginx.conf" -t 2>/dev/null || fail "nginx -t after edit"
kill -HUP "$nginx_pid"
reloaded() { request /metrics; [ "$code" = 403 ]; }
up 10 "nginx's reload (403 on /metrics)" "$tmp/logs/error.log" "$nginx_pid" reloaded
expect_json_error 403 forbidden /metrics
expect_json_error 403 forbidden /api/internal/users/u/videos/v -X PUT -d '{}'
expect_json_error 502 bad_gateway /api/videos/v1            # the public API is not restricted

# Rate limit: 120 requests at once, far over 20 r/s with a burst of 40, must meet 429s, each in
# the JSON shape with its own request id.
mkdir -p "$tmp/rl"
curl -sk --no-progress-meter --parallel --parallel-max 60 -o "$tmp/rl/#1.json" \
    -w '%{http_code} %{filename_effective} %header{x-request-id}\n' \
    "https://127.0.0.1:$https_port/api/videos?n=[1-120]" >"$tmp/rl/codes" 2>/dev/null || true
n429=$(grep -c '^429 ' "$tmp/rl/codes" || true)
[ "$n429" -gt 0 ] || { sort "$tmp/rl/codes" | cut -d' ' -f1 | uniq -c; fail "no 429 among 120 requests at once"; }
read -r code f rid < <(grep -m1 '^429 ' "$tmp/rl/codes")
python3 - "$f" "$rid" <<'PY' || fail "429 body: $(cat "$f")"
import json, re, sys
e = json.load(open(sys.argv[1]))["error"]
assert e["code"] == "rate_limited", e
assert re.fullmatch(r"[0-9a-f]{32}", sys.argv[2]) and e["request_id"] == sys.argv[2], (e, sys.argv[2])
PY
echo "ok limit_req: $n429 of 120 simultaneous requests got the JSON 429"

# Behind a load balancer (127.0.0.2 here, sending X-Forwarded-For): two clients share the
# balancer's one budget while clipapi/real-ip.conf is as shipped, and get one each once it lists
# the balancer. The client zone's rate is lowered to 1 a minute in this copy (burst 40 as shipped),
# so that no refill during the test blurs the counts: each budget is 41 requests at once.
sed -i 's|zone=clipapi_client:10m rate=20r/s;|zone=clipapi_client:10m rate=1r/m;|' "$tmp/conf/sites-enabled/clipapi.conf"
grep -q 'zone=clipapi_client:10m rate=1r/m;' "$tmp/conf/sites-enabled/clipapi.conf" || fail "rewrite missed: rate"
reload() { # wait until a request from the balancer for PROBE_XFF's /api/internal/ answers STATUS
    kill -HUP "$nginx_pid"
    for _ in $(seq 100); do
        # a worker the reload retires may close the probe's connection (curl: 16, HTTP/2 framing
        # layer; 000): looked at again, as any other answer that is not the one awaited
        c=$(curl -sk -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -H "X-Forwarded-For: 10.1.2.3" \
            -X PUT -d '{}' "https://127.0.0.1:$https_port/api/internal/users/u/videos/v") || c=000
        [ "$c" = "$1" ] && return 0
        sleep 0.1
    done
    fail "after the reload, /api/internal/ via the balancer still answers $c, not $1"
}
via_balancer() { # client_address count: counts of each status, of `count` requests at once
    # (a transfer that got no answer shows as 000: counted, never passed; curl's exit code then
    # says nothing more)
    { curl -sk --no-progress-meter --parallel --parallel-max 25 --interface 127.0.0.2 \
        -H "X-Forwarded-For: 198.51.100.7, $1" -o /dev/null -w '%{http_code}\n' \
        "https://127.0.0.1:$https_port/healthz?n=[1-$2]" 2>/dev/null || true; } | sort | uniq -c |
        awk '{printf "%s%s x %s", (NR > 1 ? ", " : ""), $1, $2}'
}
passed() { tr ',' '\n' <<<"$1" | awk '$3 != 429 && $3 != "000" {s += $1} END {print s + 0}'; }
reload 403   # internal-allow.conf no longer lists loopback; 10.1.2.3 is not believed yet
a=$(via_balancer 203.0.113.1 50)
b=$(via_balancer 203.0.113.2 50)
[ "$(passed "$a")" -ge 40 ] && [ "$(passed "$a")" -le 42 ] || fail "real-ip unset: client A: $a (want 41 passed)"
[ "$(passed "$b")" -le 1 ] || fail "real-ip unset: client B: $b (want all 429: A spent the balancer's budget)"
echo "ok real-ip unset: two clients behind one balancer share its budget (A: $a; B: $b)"
printf '\nset_real_ip_from 127.0.0.2;\n' >>"$tmp/conf/clipapi/real-ip.conf"
nginx -p "$tmp" -c "$tmp/conf/nginx.conf" -t 2>/dev/null || fail "nginx -t after filling real-ip.conf"
reload 502   # 10.1.2.3 is the client now: allowed, and the pool is down
a=$(via_balancer 203.0.113.1 50)
b=$(via_balancer 203.0.113.2 50)
[ "$(passed "$a")" -ge 40 ] && [ "$(passed "$a")" -le 42 ] || fail "real-ip set: client A: $a (want 41 passed)"
[ "$(passed "$b")" -ge 40 ] && [ "$(passed "$b")" -le 42 ] || fail "real-ip set: client B: $b (want 41 passed: a budget of its own)"
# the first X-Forwarded-For entry (198.51.100.7) is the client's own claim: not believed
grep -q '^203\.0\.113\.1 ' "$tmp/logs/access.log" || fail "the access log does not show the real client"
! grep -q '^198\.51\.100\.7 ' "$tmp/logs/access.log" || fail "a client-written X-Forwarded-For entry was believed"
echo "ok real-ip set: each client behind the balancer has its own budget (A: $a; B: $b)"
# an exempt client (clipapi/limit-exempt.conf, by its real address) is never limited
echo '203.0.113.9 1;' >>"$tmp/conf/clipapi/limit-exempt.conf"
kill -HUP "$nginx_pid"
for _ in $(seq 100); do
    e=$(via_balancer 203.0.113.9 60)
    [ "$(passed "$e")" = 60 ] && break
    sleep 0.2
done
[ "$(passed "$e")" = 60 ] || fail "exempt client: $e (want 60 passed)"
echo "ok limit-exempt: 60 requests at once from an exempt client, none limited"

# TLS: 1.2 and 1.3 only.
curl -sk -o /dev/null --tlsv1.2 --tls-max 1.2 "https://127.0.0.1:$https_port/x" || fail "TLS 1.2 refused"
curl -sk -o /dev/null --tlsv1.3 "https://127.0.0.1:$https_port/x" || fail "TLS 1.3 refused"
if curl -sk -o /dev/null --tlsv1.1 --tls-max 1.1 "https://127.0.0.1:$https_port/x" 2>/dev/null; then
    fail "TLS 1.1 accepted"
fi
echo "ok TLS 1.2/1.3 only"

# Plain HTTP is redirected.
loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: api.example.com' \
    "http://127.0.0.1:$http_port/api/videos?x=1")
[ "$loc" = "301 https://api.example.com/api/videos?x=1" ] || fail "http redirect: $loc"
echo "ok http -> https"

# ---- load through the site's FastCGI settings: no 5xx ------------------------------------------
# ARCHITECTURE's pitfall: idle kept FastCGI connections pin prefork workers. The site ships
# fastcgi_keep_conn off (and were it on, its `keepalive 1` x 2 nginx workers could pin at most 2
# of the pool's 3 workers), so 16 concurrent clients must see only 200s. A second nginx serves the same site on another port,
# wrk's address exempt from limit_req (which would answer 429) through clipapi/limit-exempt.conf.
if [ -x "$BUILD/clipapi-fcgi" ] && command -v wrk >/dev/null; then
    NGINX_WORKER_PROCESSES=2 nginx/render-prod "$tmp/n2" "$load_port" "$load_http_port" "$tmp/fcgi.sock" \
        >/dev/null || fail "nginx/render-prod (load copy)"
    # wrk's address is exempt from limit_req the way an operator exempts a client
    echo '127.0.0.1 1;' >>"$tmp/n2/conf/clipapi/limit-exempt.conf"
    env -i PATH=/usr/bin:/bin "$BUILD/clipapi-fcgi" --config "$tmp/clipapi.conf" \
        --listen "unix:$tmp/fcgi.sock" >"$tmp/logs/pool2.log" 2>&1 &
    pool_pid=$!
    up 10 "clipapi-fcgi on $tmp/fcgi.sock" "$tmp/logs/pool2.log" "$pool_pid" test -S "$tmp/fcgi.sock"
    nginx -p "$tmp/n2" -c "$tmp/n2/conf/nginx.conf" -g "daemon off; master_process on;" \
        2>>"$tmp/n2/logs/stderr" &
    nginx2_pid=$!
    up 10 "the load nginx on 127.0.0.1:$load_port" "$tmp/n2/logs/stderr" "$nginx2_pid" \
        poll_http "https://127.0.0.1:$load_port/healthz"
    wrk -t2 -c16 -d3s "https://127.0.0.1:$load_port/healthz" >"$tmp/wrk.out" 2>&1 || true
    cat "$tmp/wrk.out"
    n=$(sed -nE 's/^ *([0-9]+) requests in .*/\1/p' "$tmp/wrk.out")
    [ -n "$n" ] && [ "$n" -ge 200 ] || fail "wrk: too few requests (${n:-none})"
    ! grep -q 'Non-2xx or 3xx responses' "$tmp/wrk.out" || fail "non-2xx answers under load"
    ! grep -q 'Socket errors' "$tmp/wrk.out" || fail "socket errors under load"
    ! grep -qE 'upstream timed out|no live upstreams' "$tmp/n2/logs/error.log" ||
        fail "nginx: $(grep -m1 -E 'upstream timed out|no live upstreams' "$tmp/n2/logs/error.log")"
    kill -TERM "$pool_pid"; wait "$pool_pid" || true; pool_pid=""
    echo "ok load: $n requests through the site to 3 workers, all 200"
else
    echo "note: clipapi-fcgi or wrk missing, the load part is skipped"
fi
echo "nginx-prod-site: all checks passed"
