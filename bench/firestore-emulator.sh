#!/usr/bin/env bash
# Throughput of the Firestore emulator (tests/emulators/firestore) on one core: small document
# GETs and single-document batchGets on one keep-alive HTTP/1.1 connection, ~3 s each.
# *_per_s is wall-clock (depends on what else runs); *_per_cpu_s divides by the emulator's own
# CPU time, i.e. what one core sustains.
set -u
cd "$(dirname "$0")/.."
. tests/emulators/firestore/start-emulator.sh
fs_emulator_start || exit 1
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ]; then
    taskset -a -p -c 0 "$FS_EMULATOR_PID" >/dev/null     # the emulator on core 0 ...
    exec_client() { taskset -c 1 "$@"; }                 # ... the client on core 1
else
    exec_client() { "$@"; }
fi
timeout 60 bash -c "$(declare -f exec_client); exec_client tests/emulators/firestore/bench_client.py $FIRESTORE_EMULATOR_HOST 3 $FS_EMULATOR_PID"
