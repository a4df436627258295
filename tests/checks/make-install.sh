#!/usr/bin/env bash
# make-install: `make install DESTDIR=$tmp` installs the full tree (binaries, systemd units, example
# config, nginx site, firestore.indexes.json, README), checked file by file with modes and
# contents; PREFIX moves the binaries and the units' ExecStart with them; an existing
# /etc/clipapi/clipapi.conf is never overwritten; `make uninstall DESTDIR=$tmp` removes every
# installed file and keeps only an edited config. Also: every key of core/config.c is documented in
# etc/clipapi.conf.example.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "make-install: FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d /tmp/clipapi-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
unset MAKEFLAGS MFLAGS MAKELEVEL

# ---- the example config documents every key -------------------------------------------------
keys=$(sed -nE 's/^ *\{"([a-z0-9_]+)", K_[A-Z]+,.*/\1/p' core/config.c)
[ "$(wc -w <<<"$keys")" -ge 20 ] || fail "could not read the key table of core/config.c"
for k in $keys; do
    grep -qE "^# ${k}(_file)? = " etc/clipapi.conf.example || fail "etc/clipapi.conf.example lacks key $k"
done
echo "ok example config documents $(wc -w <<<"$keys") keys"

# ---- install ---------------------------------------------------------------------------------
d=$tmp/root
make --no-print-directory install DESTDIR="$d" >"$tmp/install.log" 2>&1 ||
    { tail -30 "$tmp/install.log"; fail "make install"; }

# want MODE PATH [SOURCE]: installed file with that mode and, given SOURCE, the same content
declare -A wanted
want() {
    local mode=$1 path=$2 src=${3:-}
    [ -f "$d$path" ] || fail "not installed: $path"
    [ "$(stat -c %a "$d$path")" = "$mode" ] || fail "$path: mode $(stat -c %a "$d$path"), want $mode"
    [ -z "$src" ] || cmp -s "$src" "$d$path" || fail "$path differs from $src"
    wanted[$path]=1
}
want 755 /usr/local/bin/clipapi-fcgi build/clipapi-fcgi
want 755 /usr/local/bin/clipctl build/clipctl
for u in clipapi.socket clipapi.service clipapi-migrate.service; do
    want 644 /lib/systemd/system/$u systemd/$u   # PREFIX=/usr/local: nothing to rewrite
done
want 644 /usr/local/share/clipapi/clipapi.conf.example etc/clipapi.conf.example
want 644 /usr/local/share/clipapi/nginx/clipapi.conf nginx/clipapi.conf
for f in nginx/clipapi/*.conf; do
    want 644 "/usr/local/share/clipapi/nginx/clipapi/${f##*/}" "$f"
done
if [ -f firestore.indexes.json ]; then
    want 644 /usr/local/share/clipapi/firestore.indexes.json firestore.indexes.json
else
    echo "note: no firestore.indexes.json in the tree yet, so none installed"
fi
want 644 /usr/local/share/doc/clipapi/README.md README.md
want 644 /etc/clipapi/clipapi.conf etc/clipapi.conf.example
[ "$(stat -c %a "$d/etc/clipapi/secrets")" = 700 ] || fail "/etc/clipapi/secrets is not 0700"
# ...and nothing else.
while IFS= read -r f; do
    [ -n "${wanted[${f#$d}]:-}" ] || fail "unexpected file installed: ${f#$d}"
done < <(find "$d" -type f -o -type l)
echo "ok make install: ${#wanted[@]} files, each with its mode and content"

# The installed config is accepted as it is (every key commented: the defaults) ...
env -i PATH=/usr/bin:/bin "$d/usr/local/bin/clipapi-fcgi" --check --config "$d/etc/clipapi/clipapi.conf" \
    >"$tmp/check1.log" 2>&1 || { cat "$tmp/check1.log"; fail "installed clipapi.conf rejected"; }
# ... and so is the example with every key uncommented (each name known, each value valid), the
# secrets' _file paths pointed at real files.
mkdir -p "$tmp/secrets"
for f in r2_access_key_id r2_secret_access_key r2_session_token internal_keys_file \
         google_credentials_file; do echo "x-$f" >"$tmp/secrets/$f"; done
sed -nE 's/^# ([a-z0-9_]+ = .*)$/\1/p' etc/clipapi.conf.example |
    sed -e "s|/etc/clipapi/secrets/|$tmp/secrets/|" >"$tmp/all-keys.conf"
[ "$(grep -c . "$tmp/all-keys.conf")" -ge 24 ] || fail "uncommenting found too few keys"
env -i PATH=/usr/bin:/bin "$d/usr/local/bin/clipapi-fcgi" --check --config "$tmp/all-keys.conf" \
    >"$tmp/check2.log" 2>&1 || { cat "$tmp/check2.log"; fail "the example with every key set is rejected"; }
echo "ok clipapi-fcgi --check accepts the installed config and the example with every key set"

# A second install keeps an edited config.
echo "firestore_project = edited" >>"$d/etc/clipapi/clipapi.conf"
make --no-print-directory install DESTDIR="$d" >"$tmp/install2.log" 2>&1 || fail "second make install"
tail -1 "$d/etc/clipapi/clipapi.conf" | grep -qx "firestore_project = edited" || fail "install overwrote the config"
echo "ok make install keeps an existing /etc/clipapi/clipapi.conf"

# ---- uninstall -----------------------------------------------------------------------------------
echo "secret" >"$d/etc/clipapi/secrets/r2_secret_access_key"
make --no-print-directory uninstall DESTDIR="$d" >"$tmp/uninstall.log" 2>&1 ||
    { cat "$tmp/uninstall.log"; fail "make uninstall"; }
left=$(cd "$d" && find . -type f | sort | tr '\n' ' ')
[ "$left" = "./etc/clipapi/clipapi.conf ./etc/clipapi/secrets/r2_secret_access_key " ] ||
    fail "after uninstall with an edited config and a secret, left: $left"
for dir in usr/local/share/clipapi usr/local/share/doc/clipapi; do
    [ ! -e "$d/$dir" ] || fail "uninstall left $dir"
done
echo "ok make uninstall removes every installed file, keeps the edited config and the secret"
rm -rf "$d"
make --no-print-directory install DESTDIR="$d" >"$tmp/install3.log" 2>&1 || fail "third make install"
make --no-print-directory uninstall DESTDIR="$d" >"$tmp/uninstall3.log" 2>&1 || fail "second uninstall"
left=$(cd "$d" && find . -type f -o -type l | wc -l)
[ "$left" = 0 ] || fail "uninstall of an untouched install left $left files"
[ ! -e "$d/etc/clipapi" ] || fail "uninstall of an untouched install left /etc/clipapi"
echo "ok make uninstall of an untouched install leaves no file"

# ---- PREFIX ----------------------------------------------------------------------------------------
d2=$tmp/prefix
make --no-print-directory install DESTDIR="$d2" PREFIX=/usr SYSTEMD_UNIT_DIR=/usr/lib/systemd/system \
    >"$tmp/install4.log" 2>&1 || { tail -30 "$tmp/install4.log"; fail "make install PREFIX=/usr"; }
for f in /usr/bin/clipapi-fcgi /usr/bin/clipctl /usr/share/clipapi/nginx/clipapi.conf \
         /usr/share/doc/clipapi/README.md; do
    [ -f "$d2$f" ] || fail "PREFIX=/usr: $f not installed"
done
grep -qx "ExecStart=/usr/bin/clipapi-fcgi --config /etc/clipapi/clipapi.conf" \
    "$d2/usr/lib/systemd/system/clipapi.service" || fail "PREFIX=/usr: clipapi.service ExecStart not rewritten"
grep -qx "ExecStart=/usr/bin/clipctl --config /etc/clipapi/clipapi.conf migrate --all" \
    "$d2/usr/lib/systemd/system/clipapi-migrate.service" || fail "PREFIX=/usr: migrate ExecStart not rewritten"
! grep -q /usr/local "$d2"/usr/lib/systemd/system/* || fail "PREFIX=/usr: /usr/local left in a unit"
[ ! -e "$d2/usr/local" ] || fail "PREFIX=/usr still wrote under /usr/local"
echo "ok PREFIX=/usr moves binaries and the units' ExecStart"
echo "make-install: all checks passed"
