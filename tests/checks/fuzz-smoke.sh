#!/usr/bin/env bash
# make test: every libFuzzer target runs briefly from its seed corpus (make fuzz runs longer).
cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SMOKE_SECONDS:-8} exec tests/fuzz/run
