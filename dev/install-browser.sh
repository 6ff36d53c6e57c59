#!/usr/bin/env bash
# install-browser.sh: Debian's Chromium for the browser test (playwright-core
# drives it; no browser download). Installs it with apt-get when missing.
set -euo pipefail
bin="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$bin" ] && exit 0
echo "install-browser: apt-get install chromium (first run takes a minute or two)" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >&2
[ -x "$bin" ] || { echo "install-browser: $bin still missing after install" >&2; exit 1; }
