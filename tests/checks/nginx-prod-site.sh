#!/usr/bin/env bash
# nginx-prod-site: the production site nginx/clipapi.conf passes `nginx -t` with generated
# certificates and paths (a temp prefix, runnable without root), then, served on a free loopback
# port, answers what nginx makes itself in the contract's JSON error shape: 404 for non-API paths,
# 502 when the pool is down, 413 over client_max_body_size, 429 from limit_req, 403 on /api/internal/ and /metrics from
# a non-allowed address; with HSTS, an X-Request-Id equal to the body's request_id, HTTP/2, and
# TLS 1.1 refused; and with the real pool on the socket: /healthz 200 and the pool's own JSON 404
# carrying nginx's request id.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
fail() { echo "nginx-prod-site: FAIL: $*" >&2; exit 1; }

tmp=$(mktemp -d /tmp/clipapi-nginx.XXXXXX)
nginx_pid=""
cleanup() {
    if [ -n "${pool_pid:-}" ]; then kill -KILL "$pool_pid" 2>/dev/null || true; wait "$pool_pid" 2>/dev/null || true; fi
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$nginx_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT

# Two free loopback ports (bound and released by python; nginx binds them a moment later).
read -r https_port http_port < <(python3 -c '
import socket
ss=[socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1",0))
print(*[s.getsockname()[1] for s in ss])')

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=api.example.com \
    -addext "subjectAltName=DNS:api.example.com,IP:127.0.0.1" \
    -keyout "$tmp/privkey.pem" -out "$tmp/fullchain.pem" 2>/dev/null || fail "openssl req"

# The site as an operator installs it (sites-available + clipapi/ includes beside nginx.conf),
# with the certificate paths, the socket and the listen addresses pointed into the temp prefix.
mkdir -p "$tmp/conf/sites-enabled" "$tmp/logs" "$tmp/www"
cp -r nginx/clipapi "$tmp/conf/clipapi"
sed -e "s|/etc/letsencrypt/live/api.example.com/|$tmp/|g" \
    -e "s|unix:/run/clipapi/fcgi.sock|unix:$tmp/fcgi.sock|" \
    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$https_port ssl http2;|" \
    -e "s|listen 80;|listen 127.0.0.1:$http_port;|" \
    -e "/listen \[::\]:/d" \
    -e "s|root /var/www/html;|root $tmp/www;|" \
    nginx/clipapi.conf >"$tmp/conf/sites-enabled/clipapi.conf"
# The sed must have hit every one of them, or the test would not test the real file.
for want in "$tmp/fullchain.pem" "unix:$tmp/fcgi.sock" "127.0.0.1:$https_port ssl http2" \
            "127.0.0.1:$http_port"; do
    grep -qF "$want" "$tmp/conf/sites-enabled/clipapi.conf" || fail "rewrite missed: $want"
done

user_line=""
[ "$(id -u)" = 0 ] && user_line="user root root;"
cat >"$tmp/conf/nginx.conf" <<CONF
$user_line
worker_processes 2;
pid $tmp/nginx.pid;
error_log $tmp/logs/error.log warn;
events { worker_connections 256; }
http {
    default_type application/octet-stream;
    access_log $tmp/logs/access.log;
    client_body_temp_path $tmp/body;
    fastcgi_temp_path $tmp/fastcgi;
    proxy_temp_path $tmp/proxy;
    scgi_temp_path $tmp/scgi;
    uwsgi_temp_path $tmp/uwsgi;
    include sites-enabled/*.conf;
}
CONF

out=$(nginx -p "$tmp" -c "$tmp/conf/nginx.conf" -t 2>&1) || { echo "$out"; fail "nginx -t"; }
echo "$out"
echo "nginx -t: ok"

# ---- served: what nginx answers by itself ----------------------------------------------------
nginx -p "$tmp" -c "$tmp/conf/nginx.conf" -g "daemon off; master_process on;" 2>>"$tmp/logs/stderr" &
nginx_pid=$!
for _ in $(seq 100); do
    curl -sk -o /dev/null "https://127.0.0.1:$https_port/" 2>/dev/null && break
    kill -0 "$nginx_pid" 2>/dev/null || { cat "$tmp/logs/"*; fail "nginx exited"; }
    sleep 0.1
done

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
head -c 1100000 /dev/zero >"$tmp/big"
expect_json_error 413 too_large /api/internal/users/u/videos/v -X PUT \
    -H 'Content-Type: application/json' --data-binary @"$tmp/big"
[ "$(grep -c '^x-request-id:' <<<"$(tr 'A-Z' 'a-z' <<<"$hdrs")")" = 1 ] || fail "X-Request-Id not exactly once"
grep -q '^HTTP/2 ' "$tmp/h" || fail "not HTTP/2: $(head -1 "$tmp/h")"

# ---- the real pool behind the production site --------------------------------------------------
BUILD=${CLIPAPI_BUILD:-$PWD/build}
pool_pid=""
if [ -x "$BUILD/clipapi-fcgi" ]; then
    printf 'workers = 3\nshutdown_timeout = 5\nlog_level = warn\n' >"$tmp/clipapi.conf"
    env -i PATH=/usr/bin:/bin "$BUILD/clipapi-fcgi" --config "$tmp/clipapi.conf" \
        --listen "unix:$tmp/fcgi.sock" >"$tmp/logs/pool.log" 2>&1 &
    pool_pid=$!
    for _ in $(seq 100); do [ -S "$tmp/fcgi.sock" ] && break; sleep 0.1; done
    [ -S "$tmp/fcgi.sock" ] || { cat "$tmp/logs/pool.log"; fail "pool did not create its socket"; }
    request /healthz
    [ "$code" = 200 ] || { cat "$tmp/logs/pool.log" "$tmp/logs/error.log"; fail "/healthz via pool: $code"; }
    [ "$body" = '{"status":"ok"}' ] || fail "/healthz body: $body"
    grep -qi '^strict-transport-security: max-age=' <<<"$hdrs" || fail "/healthz: no HSTS"
    [ "$(grep -ci '^x-request-id:' <<<"$hdrs")" = 1 ] || fail "/healthz: X-Request-Id not exactly once"
    echo "ok 200 /healthz through the pool"
    # The pool's own 404: its JSON passes through untouched, with nginx's $request_id in it.
    expect_json_error 404 not_found /api/no-such-endpoint
    # Connections are reused (fastcgi_keep_conn): a run of requests all answered.
    okc=0
    for _ in $(seq 20); do
        c=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$https_port/healthz")
        [ "$c" = 200 ] && okc=$((okc + 1))
    done
    [ "$okc" = 20 ] || fail "only $okc of 20 /healthz through the pool answered 200"
    echo "ok 20 of 20 /healthz through the pool"
    kill -TERM "$pool_pid"; wait "$pool_pid" || true; pool_pid=""
    expect_json_error 502 bad_gateway /healthz                 # and down again
    sleep 2.1                                                  # let the limit_req bucket drain
else
    echo "note: $BUILD/clipapi-fcgi not built, the pool part is skipped"
fi

# Allow lists: the same site with loopback removed from them must answer 403 JSON.
sed -i -e '/^allow 127.0.0.0\/8;/d' "$tmp/conf/clipapi/internal-allow.conf"
sed -i -e '/allow 127.0.0.1;/d' "$tmp/conf/sites-enabled/clipapi.conf"
nginx -p "$tmp" -c "$tmp/conf/nginx.conf" -t 2>/dev/null || fail "nginx -t after edit"
kill -HUP "$nginx_pid"
for _ in $(seq 50); do
    request /metrics
    [ "$code" = 403 ] && break
    sleep 0.1
done
expect_json_error 403 forbidden /metrics
expect_json_error 403 forbidden /api/internal/users/u/videos/v -X PUT -d '{}'
expect_json_error 502 bad_gateway /api/videos/v1            # the public API is not restricted

# Rate limit: a burst far over 20 r/s + 40 must meet 429 JSON.
n=0
while [ $n -lt 300 ]; do
    n=$((n + 1))
    request /api/videos
    [ "$code" = 429 ] && break
done
[ "$code" = 429 ] || fail "no 429 after $n fast requests"
check_json_error 429 rate_limited /api/videos
echo "ok limit_req: the first 429 came at request $n (20 r/s, burst 40)"

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
echo "nginx-prod-site: all checks passed"
