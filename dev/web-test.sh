#!/usr/bin/env bash
# web-test.sh: the web client's unit tests (node --test, no browser), then
# its browser test: two users in Chromium on two server instances. Needs
# the emulators' environment (with-emulators.sh).
set -euo pipefail
cd "$(dirname "$0")/../web"
node --test src/model.test.js src/outbox.test.js
node --test e2e/chat.e2e.mjs
