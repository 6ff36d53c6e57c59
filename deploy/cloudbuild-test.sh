#!/usr/bin/env bash
# Cloud Build's test step: the google-cloud-cli:emulators image has gcloud
# with the Firestore emulator and Java; this adds Go and Node.js, then runs
# exactly what CI runs.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq --no-install-recommends curl ca-certificates make xz-utils >/dev/null
go_version="$(sed -n 's/^go \([0-9.]*\).*/\1/p' go.mod)"
curl -fsSL "https://go.dev/dl/go${go_version}.linux-amd64.tar.gz" | tar -C /usr/local -xz
# firebase-tools 15 needs Node.js 20; Debian 12's is 18.
curl -fsSL https://nodejs.org/dist/v20.20.2/node-v20.20.2-linux-x64.tar.xz | tar -C /usr/local --strip-components=1 -xJ
export PATH="/usr/local/go/bin:/usr/local/bin:$PATH"
exec make test
