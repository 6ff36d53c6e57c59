#!/usr/bin/env bash
# fuzz.sh [SECONDS]: run every fuzz target of the project for SECONDS each
# (default 5), after the tests. Run inside dev/with-emulators.sh: FuzzREST
# drives a real instance. New failing inputs land in testdata/fuzz and fail
# the run; commit them with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"
targets=(
  ".:FuzzValidateID" ".:FuzzPageLimit" ".:FuzzNames" ".:FuzzCleanFileName"
  "./firestore:FuzzCursors"
  "./handlers:FuzzSocketArgs" "./handlers:FuzzDecodeJSON" "./handlers:FuzzREST"
)
for t in "${targets[@]}"; do
  pkg="${t%%:*}" name="${t##*:}"
  echo "fuzz: $name ($pkg) for ${secs}s"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" "$pkg"
done
