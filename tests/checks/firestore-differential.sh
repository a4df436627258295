#!/usr/bin/env bash
# firestore-differential: the same requests to our Firestore emulator and to Google's, answers
# compared (tests/checks/firestore_differential.py; corpora in tests/checks/firestore-differential/).
# tests/run runs it in its second pass, with Google's emulator at CLIPAPI_GOOGLE_FIRESTORE_HOST; run
# alone it starts that emulator itself. Where it is not installed it says so and passes.
# Every difference is written to $CLIPAPI_BUILD/test-logs/firestore-differential.report.
set -u
cd "$(dirname "$0")/../.."
BUILD=${CLIPAPI_BUILD:-$PWD/build}
mkdir -p "$BUILD/test-logs"
report=$BUILD/test-logs/firestore-differential.report
host=${CLIPAPI_GOOGLE_FIRESTORE_HOST:-}
if [ -z "$host" ]; then
    . tests/emulators/firestore/google-emulator.sh
    if ! google_fs_find; then
        echo "firestore-differential: skipped: Google's Firestore emulator is not installed ($GOOGLE_FS_EMULATOR)"
        exit 0
    fi
    trap google_fs_stop EXIT
    trap 'exit 130' INT TERM
    google_fs_start "$BUILD/test-logs/firestore-differential.google.log" && google_fs_wait 120 || exit 1
    host=$GOOGLE_FS_HOST
fi
echo "firestore-differential: ours (in process) against Google's emulator on $host"
/usr/bin/python3 tests/checks/firestore_differential.py run "$host" --report "$report" "$@"
rc=$?
echo "firestore-differential: every difference: $report"
exit $rc
