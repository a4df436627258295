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

tmp=$(mktemp -d /tmp/clipapi-units.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
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
    "LoadCredential=internal_keys_file:$tmp/etc/clipapi/secrets/internal_keys_file"
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
echo "systemd-units: all checks passed"
