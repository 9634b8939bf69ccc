#!/usr/bin/env bash
# Makes sure a Chromium exists for the browser tests: installs Debian's package when running
# as root on Debian/Ubuntu, or says how to. The tests never download a browser.
set -euo pipefail
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
if [[ -x $chromium ]]; then
  exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "installing chromium for the browser tests" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "the browser tests need Chromium at $chromium (or set CHROMIUM_PATH):" >&2
echo "  Debian/Ubuntu: sudo apt-get install -y chromium" >&2
echo "  macOS:         CHROMIUM_PATH=\"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome\"" >&2
exit 1
