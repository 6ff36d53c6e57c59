#!/usr/bin/env bash
# install-go-tools.sh: build the pinned Go tools the emulators need into
# dev/.bin, once: fake-gcs-server stands in for Cloud Storage (the Firebase
# Storage emulator needs Java 21, which these machines lack). Prints the
# directory holding them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$here/.bin"
fake_gcs=github.com/fsouza/fake-gcs-server@v1.56.1
stamp="$bin/.fake-gcs-server-version"
if [ ! -x "$bin/fake-gcs-server" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$fake_gcs" ]; then
  command -v go >/dev/null || { echo "install-go-tools: go is missing" >&2; exit 1; }
  echo "install-go-tools: go install $fake_gcs (first run takes about a minute)" >&2
  GOBIN="$bin" go install "$fake_gcs" >&2
  echo "$fake_gcs" >"$stamp"
fi
echo "$bin"
