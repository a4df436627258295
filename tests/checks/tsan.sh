#!/usr/bin/env bash
# tsan: the code several threads share, under ThreadSanitizer (`make tsan` builds it): the unit
# tests of the process caches and of concurrent HTTP, then the stack's concurrency tests with the
# TSan pool behind nginx. Any report fails the check (the reports are kept in build/tsan/reports).
set -u
cd "$(dirname "$0")/../.."
BUILD=${CLIPAPI_BUILD:-$PWD/build}
T=$BUILD/tsan
out=$T/reports
rm -rf "$out" && mkdir -p "$out"
export TSAN_OPTIONS="log_path=$out/report halt_on_error=0 second_deadlock_stack=1"
units="test_idtoken test_http test_gauth test_sigv4"
integ="test_concurrency_under_latency test_write_answers test_pool_behind_nginx"
rc=0
for t in $units $integ; do
    [ -x "$T/tests/unit/$t" ] && bin=$T/tests/unit/$t || bin=$T/tests/integration/$t
    [ -x "$bin" ] || { echo "tsan: $bin is missing (make tsan builds it)"; exit 1; }
    if STACK_POOL=$T/clipapi-fcgi "$bin" >"$out/$t.log" 2>&1; then
        echo "tsan: $t passed"
    else
        echo "tsan: $t FAILED (see $out/$t.log)"
        tail -20 "$out/$t.log"
        rc=1
    fi
done
reports=$(ls "$out"/report.* 2>/dev/null | wc -l)
if [ "$reports" -gt 0 ]; then
    echo "tsan: $reports ThreadSanitizer report(s):"
    grep -h -A12 "WARNING: ThreadSanitizer" "$out"/report.* | head -80
    rc=1
else
    echo "tsan: no ThreadSanitizer report"
fi
exit $rc
