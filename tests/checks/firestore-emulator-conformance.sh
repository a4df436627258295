#!/usr/bin/env bash
# Google's official Node clients (@google-cloud/firestore 8.7.1 preferRest, firebase 12.19.0
# firestore/lite) run set/get/update/batch/transaction/query/aggregation tests against our Firestore
# emulator (a request it refuses fails the test and is printed), or, in the second pass of tests/run
# (CLIPAPI_GOOGLE_FIRESTORE_HOST set), against Google's, where the tests that need our emulator
# (fault rules, index enforcement) are skipped and listed on one "ours only:" line.
set -u
cd "$(dirname "$0")/../.."
top=$PWD
conf=tests/emulators/firestore/conformance
if [ ! -f $conf/node_modules/.package-lock.json ]; then
    echo "npm packages missing in $conf: run 'make deps' (npm ci)"
    exit 1
fi
if [ -n "${CLIPAPI_GOOGLE_FIRESTORE_HOST:-}" ]; then
    export FIRESTORE_EMULATOR_HOST=$CLIPAPI_GOOGLE_FIRESTORE_HOST
    echo "Google's emulator on $FIRESTORE_EMULATOR_HOST"
    FS_EMULATOR_LOG=
else
    . tests/emulators/firestore/start-emulator.sh
    fs_emulator_start --indexes $conf/firestore.indexes.json || exit 1
    echo "emulator on $FIRESTORE_EMULATOR_HOST"
fi
echo "node: $(tools/node/run --which) $(tools/node/run node --version)"
out=$(mktemp /tmp/clipapi-conformance.XXXXXX)
(cd $conf && timeout --kill-after=5 240 "$top/tools/node/run" node --test --test-concurrency=1 --test-reporter=spec test/) >"$out" 2>&1
rc=$?
cat "$out"
# node's spec reporter: "﹣ NAME (0.1ms) # ours only: WHY"
sed -n 's/^ *[^ ]* \(.*\) ([0-9.]*ms) # ours only: \(.*\)$/\1: \2/p' "$out" | paste -sd ';' - |
    sed 's/;/; /g; s/^./ours only: &/'
rm -f "$out"
if [ $rc -ne 0 ] && [ -n "$FS_EMULATOR_LOG" ] && [ -s "$FS_EMULATOR_LOG" ]; then
    echo "--- emulator stderr:"; tail -n 40 "$FS_EMULATOR_LOG"
fi
exit $rc
