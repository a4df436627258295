#!/usr/bin/env bash
# presign: presigned URLs per second on one core, C (sig_presign) vs botocore, in the same run.
set -u
cd "$(dirname "$0")/.."
BUILD=${CLIPAPI_BUILD:-$PWD/build}
SECONDS_EACH=${PRESIGN_BENCH_SECONDS:-3}
pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then
    pin=(taskset -c 0)
fi
[ -x "$BUILD/bench/presign_c" ] || { echo "presign: $BUILD/bench/presign_c is missing (make bench builds it)" >&2; exit 1; }
c=$("${pin[@]}" "$BUILD/bench/presign_c" "$SECONDS_EACH" 2>/dev/null) || { echo "presign: presign_c failed" >&2; exit 1; }
py=$("${pin[@]}" /usr/bin/python3 bench/presign_botocore.py "$SECONDS_EACH") || exit 1
echo "presign_per_s_c: $c"
echo "presign_per_s_botocore: $py"
awk -v a="$c" -v b="$py" 'BEGIN { printf "presign_ratio: %.1f\n", (b > 0 ? a / b : 0) }'
