#!/usr/bin/env bash
# systemd-units: the units of systemd/ as `make install` writes them pass `systemd-analyze verify`
# (with their ExecStart binaries really present), carry the settings issue 9 asks for, and
# `systemd-analyze security --offline=yes` rates each service at an exposure of 1.5 or lower.
# The install goes to a temp PREFIX/unit dir, so ExecStart= and LoadCredential= point into it.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${CLIPAPI_BUILD:-$PWD/build}
MAX_EXPOSURE=1.5
fail() { echo "systemd-units: FAIL: $*" >&2; exit 1; }
command -v systemd-analyze >/dev/null || fail "systemd-analyze not installed (make deps)"
for b in clipapi-fcgi clipctl; do [ -x "$BUILD/$b" ] || fail "$BUILD/$b not built (make all)"; done

. tests/support/poll.sh
tmp=$(mktemp -d /tmp/clipapi-units.XXXXXX)
tracer="" pool=""
# Stops what the sandbox part started (the pool under strace), also when a check fails.
cleanup() {
    local rc=$? p
    for p in $pool $tracer; do
        kill -TERM "$p" 2>/dev/null || continue
        poll_gone 5 "$p" || kill -KILL "$p" 2>/dev/null || true
    done
    # the pool's workers, if the master was killed before them
    for p in $(pgrep -f -- "--listen unix:$tmp/sandbox.sock" 2>/dev/null || true); do kill -KILL "$p" 2>/dev/null || true; done
    [ -z "$tracer" ] || wait "$tracer" 2>/dev/null || true
    # a failure keeps the logs it names
    [ $rc -eq 0 ] && rm -rf "$tmp" || echo "systemd-units: kept $tmp" >&2
}
trap cleanup EXIT
unset MAKEFLAGS MFLAGS MAKELEVEL
make -s --no-print-directory install-extra PREFIX="$tmp/usr" CLIPAPI_CONFDIR="$tmp/etc/clipapi" \
    SYSTEMD_UNIT_DIR="$tmp/units" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "install"; }
install -d "$tmp/usr/bin"
install -m 0755 "$BUILD/clipapi-fcgi" "$BUILD/clipctl" "$tmp/usr/bin/"
units=("$tmp/units/clipapi.socket" "$tmp/units/clipapi.service" "$tmp/units/clipapi-migrate.service")
for u in "${units[@]}"; do [ -f "$u" ] || fail "not installed: $u"; done

# ---- verify ----------------------------------------------------------------------------------
# verify exits 0 even on unknown keys or unparsable values (it only warns), so any line about our
# units fails the check too; lines about the host's own units are shown, not held against us.
rc=0
out=$(systemd-analyze verify "${units[@]}" 2>&1) || rc=$?
if [ $rc -ne 0 ] || grep -q -e clipapi -e "$tmp" <<<"$out"; then
    echo "$out"; fail "systemd-analyze verify reported problems (exit $rc)"
fi
[ -z "$out" ] || { echo "systemd-analyze verify, about other units:"; echo "$out"; }
echo "ok systemd-analyze verify: ${units[*]##*/}"
# ...and it does catch a broken unit (so the pass above means something).
sed 's|^ExecStart=[^ ]*|ExecStart=/nonexistent/clipapi-fcgi|' "$tmp/units/clipapi.service" \
    >"$tmp/units/broken.service"
if systemd-analyze verify "$tmp/units/broken.service" >/dev/null 2>&1; then
    fail "verify accepted a unit whose ExecStart does not exist"
fi
printf '[Service]\nExecStart=/bin/true\nProtectSystem=bogus\n' >"$tmp/units/clipapi-typo.service"
out=$(systemd-analyze verify "$tmp/units/clipapi-typo.service" 2>&1) || true
grep -q clipapi-typo <<<"$out" || fail "verify did not report an unparsable setting"
rm -f "$tmp/units/broken.service" "$tmp/units/clipapi-typo.service"

# ---- the settings the deployment relies on -----------------------------------------------------
# has FILE LINE...: every LINE is present exactly (one line of the unit)
has() {
    local f=$1; shift
    for l in "$@"; do grep -qxF -- "$l" "$f" || fail "${f##*/} lacks: $l"; done
}
has "$tmp/units/clipapi.socket" "ListenStream=/run/clipapi/fcgi.sock" "SocketGroup=www-data" \
    "SocketMode=0660" "Accept=no" "WantedBy=sockets.target"
has "$tmp/units/clipapi.service" "Type=notify" "NotifyAccess=main" "Requires=clipapi.socket" \
    "ExecStart=$tmp/usr/bin/clipapi-fcgi --config $tmp/etc/clipapi/clipapi.conf" \
    "ExecReload=$tmp/usr/bin/clipapi-fcgi --check --config $tmp/etc/clipapi/clipapi.conf" \
    'ExecReload=/bin/kill -HUP $MAINPID' "Restart=on-failure" "WatchdogSec=30s" \
    "LoadCredential=google_credentials_file:$tmp/etc/clipapi/secrets/google_credentials_file" \
    "LoadCredential=r2_access_key_id:$tmp/etc/clipapi/secrets/r2_access_key_id" \
    "LoadCredential=r2_secret_access_key:$tmp/etc/clipapi/secrets/r2_secret_access_key" \
    "LoadCredential=internal_keys_file:$tmp/etc/clipapi/secrets/internal_keys_file" \
    "LoadCredential=events_ticket_key_file:$tmp/etc/clipapi/secrets/events_ticket_key_file"
has "$tmp/units/clipapi-migrate.service" "Type=oneshot" \
    "ExecStart=$tmp/usr/bin/clipctl --config $tmp/etc/clipapi/clipapi.conf migrate --all" \
    "LoadCredential=google_credentials_file:$tmp/etc/clipapi/secrets/google_credentials_file" \
    "LoadCredential=r2_secret_access_key:$tmp/etc/clipapi/secrets/r2_secret_access_key"
for u in clipapi.service clipapi-migrate.service; do
    has "$tmp/units/$u" "DynamicUser=yes" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" \
        "PrivateDevices=yes" "NoNewPrivileges=yes" "ProtectKernelTunables=yes" \
        "ProtectKernelModules=yes" "ProtectKernelLogs=yes" "ProtectControlGroups=yes" \
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK" "RestrictNamespaces=yes" \
        "LockPersonality=yes" "MemoryDenyWriteExecute=yes" "SystemCallFilter=@system-service" \
        "CapabilityBoundingSet=" "UMask=0077"
done
echo "ok unit settings"

# ---- security exposure ---------------------------------------------------------------------------
for u in clipapi.service clipapi-migrate.service; do
    out=$(systemd-analyze security --offline=yes "$tmp/units/$u" 2>&1) || { echo "$out"; fail "security $u"; }
    line=$(grep -F "Overall exposure level for $u:" <<<"$out") || { echo "$out"; fail "no exposure line"; }
    exposure=$(sed -E 's/.*: ([0-9]+\.[0-9]+).*/\1/' <<<"$line")
    echo "$u exposure: $exposure (max $MAX_EXPOSURE)"
    awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e + 0 <= m + 0) }' ||
        { grep -E '^✗' <<<"$out"; fail "$u exposure $exposure is above $MAX_EXPOSURE"; }
done

# ---- the sandbox lets the pool work ----------------------------------------------------------------
# No systemd to run the unit here, so the pool runs under strace instead while it starts, serves
# /healthz, /readyz (libcurl resolving a host name) and /metrics, reloads and stops; every system
# call it made must be in SystemCallFilter=@system-service minus ~@privileged, and every socket
# family in RestrictAddressFamilies=.
if command -v strace >/dev/null && strace -f -o /dev/null true 2>/dev/null; then
    expand() { # the system calls of a filter set, nested sets expanded
        systemd-analyze syscall-filter "$1" 2>/dev/null | sed -e 's/#.*//' -e 's/^ *//' |
            grep -v '^$' | tail -n +2 | while read -r s; do
                case $s in @*) expand "$s" ;; *) echo "$s" ;; esac
            done
    }
    filt=$(sed -nE 's/^SystemCallFilter=(.*)$/\1/p' "$tmp/units/clipapi.service" | tr '\n' ' ')
    [ "$filt" = "@system-service ~@privileged " ] || fail "the filter changed ($filt): update this check"
    expand @system-service | sort -u >"$tmp/allow"
    expand @privileged | sort -u >"$tmp/deny"
    comm -23 "$tmp/allow" "$tmp/deny" >"$tmp/allowed"
    [ "$(wc -l <"$tmp/allowed")" -gt 200 ] || fail "could not expand the syscall filter"

    printf 'workers = 2\nshutdown_timeout = 5\nfirestore_timeout_ms = 300\nfirestore_project = sandbox-test\n%s\n%s\n%s\n' \
        'firestore_emulator_host = localhost:9' 'r2_endpoint = http://localhost:9' 'r2_bucket = b' \
        >"$tmp/sandbox.conf"
    strace -f -qq -o "$tmp/strace.log" env -i PATH=/usr/bin:/bin "$BUILD/clipapi-fcgi" \
        --config "$tmp/sandbox.conf" --listen "unix:$tmp/sandbox.sock" >"$tmp/sandbox.log" 2>&1 &
    tracer=$!
    poll_until 20 "clipapi-fcgi under strace" "$tmp/sandbox.log" "$tracer" poll_log "$tmp/sandbox.log" pool_ready ||
        fail "the pool did not start under strace"
    pool=$(ps -o pid= --ppid "$tracer" | head -1 | tr -d ' ')
    [ -n "$pool" ] || fail "no pool process under strace"
    fcgi_get() { # fcgi_get PATH...: one FastCGI request each, prints the status lines
        python3 - "$tmp/sandbox.sock" "$@" <<'PY'
import socket, struct, sys
def rec(t, rid, body=b""):
    return struct.pack(">BBHHBx", 1, t, rid, len(body), 0) + body
def pair(k, v):
    k, v = k.encode(), v.encode()
    ln = lambda n: bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return ln(len(k)) + ln(len(v)) + k + v
for path in sys.argv[2:]:
    s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1])
    params = b"".join(pair(k, v) for k, v in [("REQUEST_METHOD", "GET"), ("REQUEST_URI", path),
        ("DOCUMENT_URI", path), ("QUERY_STRING", ""), ("CONTENT_LENGTH", "0"),
        ("REMOTE_ADDR", "127.0.0.1"), ("SERVER_PROTOCOL", "HTTP/1.1")])
    s.sendall(rec(1, 1, struct.pack(">HB5x", 1, 0)) + rec(4, 1, params) + rec(4, 1) + rec(5, 1))
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk: break
        data += chunk
    out, i = b"", 0
    while i + 8 <= len(data):
        _, t, _, n, pad = struct.unpack(">BBHHBx", data[i:i + 8])
        if t == 6: out += data[i + 8:i + 8 + n]
        i += 8 + n + pad
    status = b"200"
    for line in out.split(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"status:"): status = line.split()[1]
    print(path, status.decode())
PY
    }
    fcgi_get /healthz /readyz /metrics /healthz >"$tmp/answers" || { cat "$tmp/sandbox.log"; fail "requests under strace"; }
    kill -HUP "$pool"
    poll_until 10 "the reload of clipapi-fcgi under strace" "$tmp/sandbox.log" "$pool" \
        poll_log "$tmp/sandbox.log" '"event":"reload"' || fail "the pool did not reload"
    fcgi_get /healthz /readyz >>"$tmp/answers" || true
    kill -TERM "$pool"
    poll_gone 10 "$pool" || fail "the pool did not stop within 10 s of SIGTERM (log: $tmp/sandbox.log)"
    pool=""
    wait "$tracer" || true
    tracer=""
    tr '\n' ' ' <"$tmp/answers"; echo
    grep -qx '/healthz 200' "$tmp/answers" || fail "/healthz under strace"
    grep -qx '/readyz 503' "$tmp/answers" || fail "/readyz under strace (want 503: no backends)"
    sed -nE 's/^[0-9]+ +(<\.\.\. )?([a-z_0-9]+)[( ].*/\2/p' "$tmp/strace.log" | sort -u >"$tmp/used"
    [ "$(wc -l <"$tmp/used")" -gt 20 ] || fail "strace log unreadable"
    outside=$(comm -23 "$tmp/used" "$tmp/allowed" | { grep -vx -e execve || true; } | tr '\n' ' ')
    [ -z "$outside" ] || fail "the pool made system calls the unit's SystemCallFilter= denies: $outside"
    fams=$(grep -oE 'socket\((AF_[A-Z0-9]+)' "$tmp/strace.log" | sed 's/socket(//' | sort -u | tr '\n' ' ')
    for f in $fams; do
        case $f in AF_UNIX|AF_INET|AF_INET6|AF_NETLINK) ;; *) fail "socket family $f is not in RestrictAddressFamilies=" ;; esac
    done
    echo "system calls made: $(tr '\n' ' ' <"$tmp/used")"
    echo "ok sandbox: $(wc -l <"$tmp/used") distinct system calls, all allowed; socket families: $fams"
else
    echo "note: strace not usable here, the system call audit is skipped"
fi
echo "systemd-units: all checks passed"
