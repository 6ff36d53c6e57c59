#!/usr/bin/env bash
# install-web.sh: the web client's packages from its committed lock file,
# once; re-runs only when web/package-lock.json changes.
set -euo pipefail
cd "$(dirname "$0")/../web"
stamp=node_modules/.installed-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then exit 0; fi
echo "install-web: npm ci in web/ (first run takes about a minute)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
cp package-lock.json "$stamp"
