#!/usr/bin/env bash
# install-node-tools.sh: install the pinned Node tools (firebase-tools for the
# Auth emulator, socket.io-client for contract tests) from the committed lock
# file, once. Re-runs only when package-lock.json changes.
set -euo pipefail
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "install-node-tools: npm is missing (apt-get install nodejs npm)" >&2; exit 1; }
stamp=node_modules/.installed-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then exit 0; fi
echo "install-node-tools: npm ci (first run takes about two minutes)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
cp package-lock.json "$stamp"
