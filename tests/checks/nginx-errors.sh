#!/usr/bin/env bash
# nginx-errors: every status nginx makes itself answers the contract's JSON error, on the
# production site (nginx/clipapi.conf, rendered by nginx/render-prod) and on the local template
# (nginx/local.conf.in, by nginx/render-local): 400, 494, 497, 501, 505, 405, 414, 404, 413 (HTTP/1.1,
# HTTP/2, chunked), 403, 500, and 408 (the connection closed, nothing sent); an Authorization
# header of 8 KB (the pool's longest ID token) and three of 12 KB reach the pool.
# tests/checks/nginx_errors.py sends them; this script sets the servers up: the real pool on one
# socket for both, client_body_timeout 1 s (408) and, for the last part, nginx's body temp
# directory removed (nginx's own 500 for a body it must buffer on disk).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${CLIPAPI_BUILD:-$PWD/build}
fail() { echo "nginx-errors: FAIL: $*" >&2; exit 1; }
[ -x "$BUILD/clipapi-fcgi" ] || fail "$BUILD/clipapi-fcgi is not built (make)"

tmp=$(mktemp -d /tmp/clipapi-nginx-errors.XXXXXX)
pids=()
stop_pid() { # pid: TERM, up to 5 s, then KILL
    kill -TERM "$1" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    for p in "${pids[@]}"; do stop_pid "$p"; done
    [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

read -r prod_port prod_http local_port < <(python3 -c '
import socket
ss=[socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1",0))
print(*[s.getsockname()[1] for s in ss])')

printf 'workers = 2\nshutdown_timeout = 5\nlog_level = warn\nauth_project = demo-errors\nauth_keys_url = http://127.0.0.1:9/keys.json\n' \
    >"$tmp/clipapi.conf"
env -i PATH=/usr/bin:/bin "$BUILD/clipapi-fcgi" --config "$tmp/clipapi.conf" \
    --listen "unix:$tmp/fcgi.sock" >"$tmp/pool.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$tmp/fcgi.sock" ] && break; sleep 0.1; done
[ -S "$tmp/fcgi.sock" ] || { cat "$tmp/pool.log"; fail "the pool did not create $tmp/fcgi.sock (log: $tmp/pool.log)"; }

# the production site
nginx/render-prod "$tmp/prod" "$prod_port" "$prod_http" "$tmp/fcgi.sock" >/dev/null
site=$tmp/prod/conf/sites-enabled/clipapi.conf
sed -i -e 's|client_body_timeout 15s;|client_body_timeout 1s;|' \
    -e 's|client_body_buffer_size 1m;|client_body_buffer_size 16k;|' "$site"
grep -q 'client_body_timeout 1s;' "$site" && grep -q 'client_body_buffer_size 16k;' "$site" ||
    fail "the test's rewrite of the production site missed"
nginx -p "$tmp/prod" -c "$tmp/prod/conf/nginx.conf" -g 'daemon off;' 2>"$tmp/prod/logs/stderr" &
pids+=($!)

# the local template (already `daemon off;`)
nginx/render-local "$tmp/local" "$local_port" "$tmp/fcgi.sock" 1m >/dev/null
sed -i 's|^\( *\)client_max_body_size 1m;|&\n\1client_body_timeout 1s;|' "$tmp/local/nginx.conf"
grep -q 'client_body_timeout 1s;' "$tmp/local/nginx.conf" || fail "the test's rewrite of the local template missed"
nginx -p "$tmp/local" -c "$tmp/local/nginx.conf" 2>"$tmp/local/stderr" &
pids+=($!)

up() { curl -sk -o /dev/null "https://127.0.0.1:$1/healthz"; }
for _ in $(seq 100); do up "$prod_port" && up "$local_port" && break; sleep 0.1; done
up "$prod_port" || fail "nginx with the production site did not come up (log: $tmp/prod/logs/error.log)"
up "$local_port" || fail "nginx with the local template did not come up (log: $tmp/local/nginx-error.log)"

rc=0
python3 tests/checks/nginx_errors.py "$prod_port" prod "$tmp" || rc=1
python3 tests/checks/nginx_errors.py "$local_port" local "$tmp" || rc=1
rm -rf "$tmp/prod/tmp/body" "$tmp/local/tmp/body"
python3 tests/checks/nginx_errors.py "$prod_port" prod "$tmp" no-temp || rc=1
python3 tests/checks/nginx_errors.py "$local_port" local "$tmp" no-temp || rc=1
[ $rc = 0 ] || fail "see the FAIL lines above (logs under $tmp with KEEP=1)"
echo "nginx-errors: all checks passed"
