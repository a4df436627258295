#!/usr/bin/env bash
# The Firestore emulator's own tests (Python unittest): value ordering, filters, atomic commits,
# preconditions, index enforcement, limits, fault injection, response stream shapes, process life.
set -u
cd "$(dirname "$0")/../.."
dir=tests/emulators/firestore
. $dir/start-emulator.sh
fs_emulator_start --indexes $dir/tests/indexes.json || exit 1
echo "emulator on $FIRESTORE_EMULATOR_HOST"
timeout --kill-after=5 240 /usr/bin/python3 -m unittest discover -s $dir/tests -t $dir -v 2>&1
rc=$?
if [ $rc -ne 0 ] && [ -s "$FS_EMULATOR_LOG" ]; then
    echo "--- emulator stderr:"; tail -n 40 "$FS_EMULATOR_LOG"
fi
exit $rc
