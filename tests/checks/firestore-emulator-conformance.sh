#!/usr/bin/env bash
# Google's official Node clients (@google-cloud/firestore 8.7.1 preferRest, firebase 12.19.0
# firestore/lite) run set/get/update/batch/transaction/query/aggregation tests against the
# Firestore emulator; a request the emulator refuses fails the test and is printed.
set -u
cd "$(dirname "$0")/../.."
top=$PWD
conf=tests/emulators/firestore/conformance
if [ ! -f $conf/node_modules/.package-lock.json ]; then
    echo "npm packages missing in $conf: run 'make deps' (npm ci)"
    exit 1
fi
. tests/emulators/firestore/start-emulator.sh
fs_emulator_start --indexes $conf/firestore.indexes.json || exit 1
echo "emulator on $FIRESTORE_EMULATOR_HOST"
echo "node: $(tools/node/run --which) $(tools/node/run node --version)"
(cd $conf && timeout --kill-after=5 240 "$top/tools/node/run" node --test --test-concurrency=1 --test-reporter=spec test/)
rc=$?
if [ $rc -ne 0 ] && [ -s "$FS_EMULATOR_LOG" ]; then
    echo "--- emulator stderr:"; tail -n 40 "$FS_EMULATOR_LOG"
fi
exit $rc
