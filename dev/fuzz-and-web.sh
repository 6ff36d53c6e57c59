#!/usr/bin/env bash
# fuzz-and-web.sh [SECONDS]: after the Go tests, every fuzz target
# (dev/fuzz.sh SECONDS) and the web client's tests (dev/web-test.sh) side
# by side: the browser test mostly waits on Chromium, the servers and the
# emulators, the fuzzers mostly compute. The fuzz output follows the web
# test's; either failing fails. Run inside dev/with-emulators.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
dev/fuzz.sh "${1:-5}" >"$out" 2>&1 &
pid=$!
rc=0
dev/web-test.sh || rc=$?
wait "$pid" || rc=$?
grep -v '^fuzz: elapsed' "$out" || true
exit "$rc"
